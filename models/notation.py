"""STAR's dashed notation for a genome: the lossless text form of `Genome.to_string`.

One slot per dash, `21211-31112-21221-32112`: a slot's five genes (`SLOT_GENE_NAMES`) as five
digits, or dot-separated when one is above 9 (`12.1.1.1.1`). Non-default width/heads follow
`@` (`@w768h12`), and class genomes that differ from the registry follow `+`
(`+3:1.2.1.2.3.1.3.0.3.2.0`, the class's 11-integer vector). Every number is written in ASCII
digits; the parser takes no other digits (`str.isdigit` would also take "٣" or "²").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from livgym.models.genes import DEFAULT_HEADS, DEFAULT_WIDTH
from livgym.models.registry import ClassGenome
from livgym.models.slot import SLOT_GENE_NAMES, Slot

if TYPE_CHECKING:
    from livgym.models.genome import Genome

_MAX_DIGITS = 18  # longer numbers are out of every gene's range (and near Python's int-parsing limit)


def backbone_string(slots: Iterable[Slot]) -> str:
    """STAR's dashed notation for the backbone alone, e.g. `21211-31112`."""
    return "-".join(_slot_token(s.genes()) for s in slots)


def genome_to_string(genome: Genome) -> str:
    """The backbone, then `@wWhH` and `+id:genes` where not default."""
    text = backbone_string(genome.slots)
    if (genome.width, genome.heads) != (DEFAULT_WIDTH, DEFAULT_HEADS):
        text += f"@w{genome.width}h{genome.heads}"
    for cid, class_genome in genome.class_overrides:
        text += f"+{cid}:" + ".".join(str(v) for v in class_genome.to_vector())
    return text


def genome_from_string(cls: type[Genome], text: str) -> Genome:
    """The `cls` genome of a `genome_to_string` text, or a ValueError naming the part at fault."""
    if not isinstance(text, str):
        raise ValueError(f"a genome string must be text, got {type(text).__name__}: {text!r}")
    text = text.strip()
    if not text:
        raise ValueError("empty genome string")
    body, *override_parts = text.split("+")
    backbone, _, globals_part = body.partition("@")
    width, heads = DEFAULT_WIDTH, DEFAULT_HEADS
    if globals_part:
        width, heads = _parse_globals(globals_part)
    slots = []
    for i, token in enumerate(backbone.split("-")):
        slots.append(Slot(*_parse_slot_token(token, i)))
    overrides = []
    for part in override_parts:
        cid_text, sep, genes = part.partition(":")
        if not sep or not is_ascii_digits(cid_text):
            raise ValueError(f"class override {part!r}: expected '<class id>:<11 dot-separated genes>'")
        cid = digits_int(cid_text, "class override id")
        if not all(is_ascii_digits(v) for v in genes.split(".")):
            raise ValueError(f"class override {part!r}: genes must be integers in ASCII digits")
        values = [digits_int(v, f"class_overrides[{cid}] gene") for v in genes.split(".")]
        overrides.append((cid, ClassGenome.from_vector(values, where=f"class_overrides[{cid}]")))
    return cls(tuple(slots), width=width, heads=heads, class_overrides=tuple(overrides))


def is_ascii_digits(text: str) -> bool:
    """Whether `text` is a non-negative integer in ASCII digits (`str.isdigit` also takes "٣" or "²")."""
    return text.isascii() and text.isdigit()


def digits_int(text: str, where: str) -> int:
    """The integer of ASCII digits `text`; too many digits is an error naming `where`."""
    if len(text) > _MAX_DIGITS:
        raise ValueError(f"{where}={text[:_MAX_DIGITS]}...: a number of {len(text)} digits is out of range")
    return int(text)


def _slot_token(genes: tuple[int, ...]) -> str:
    if all(0 <= g <= 9 for g in genes):
        return "".join(str(g) for g in genes)
    return ".".join(str(g) for g in genes)


def _parse_slot_token(token: str, index: int) -> tuple[int, ...]:
    token = token.strip()
    parts = token.split(".") if "." in token else list(token)
    if len(parts) != 5 or not all(is_ascii_digits(p) for p in parts):
        raise ValueError(f"slots[{index}]={token!r}: expected 5 genes {SLOT_GENE_NAMES}, "
                         "written as 5 digits (21211) or 5 dot-separated integers (12.1.1.1.1)")
    return tuple(digits_int(p, f"slots[{index}].{name}") for name, p in zip(SLOT_GENE_NAMES, parts))


def _parse_globals(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"w([0-9]+)h([0-9]+)", text)
    if not match:
        raise ValueError(f"genome globals {text!r}: expected 'w<width>h<heads>', e.g. 'w768h12'")
    return digits_int(match.group(1), "width"), digits_int(match.group(2), "heads")

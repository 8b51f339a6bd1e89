"""A genome as JSON: an object of its slots, width, heads and class overrides.

`genome_to_dict` also writes the genome's notation (`Genome.to_string`) for people reading the
file; `genome_from_dict` checks it against the slots, so a hand-edited file that disagrees
with itself is an error rather than a silent choice. Numbers may be JSON integers, integral
floats (2.0) or ASCII-digit strings (object keys are strings).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Mapping

import numpy as np

from livgym.known_names import check_known
from livgym.models.genes import DEFAULT_HEADS, DEFAULT_WIDTH
from livgym.models.notation import digits_int, is_ascii_digits
from livgym.models.registry import ClassGenome
from livgym.models.slot import SLOT_GENE_NAMES, Slot

if TYPE_CHECKING:
    from livgym.models.genome import Genome

JSON_FORMAT = "livgym.genome/1"
_KEYS = {"format", "notation", "width", "heads", "slots", "class_overrides"}


def genome_to_dict(genome: Genome) -> dict[str, object]:
    return {
        "format": JSON_FORMAT,
        "notation": genome.to_string(),
        "width": genome.width,
        "heads": genome.heads,
        "slots": [dict(zip(SLOT_GENE_NAMES, s.genes())) for s in genome.slots],
        "class_overrides": {str(c): g.to_dict() for c, g in genome.class_overrides},
    }


def genome_from_dict(cls: type[Genome], data: Mapping[str, object], where: str = "genome JSON") -> Genome:
    """The `cls` genome of a `genome_to_dict` object, or a ValueError naming `where` and the key at fault."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}: {data!r}")
    check_known(data, _KEYS, where)
    if data.get("format", JSON_FORMAT) != JSON_FORMAT:
        raise ValueError(f"{where}: format={data['format']!r}, expected {JSON_FORMAT!r}")
    if "slots" not in data:
        raise ValueError(f"{where}: missing key 'slots'")
    if not isinstance(data["slots"], (list, tuple)):
        raise ValueError(f"{where}: slots={data['slots']!r} must be a list of slots")
    slots = [_slot(entry, i, where) for i, entry in enumerate(data["slots"])]  # type: ignore[arg-type]
    given = data.get("class_overrides") or {}
    if not isinstance(given, Mapping):
        raise ValueError(f"{where}: class_overrides={given!r} must be an object of class id -> class genome")
    overrides = []
    for key, genes in given.items():
        cid = _as_int(key, "class_overrides key")
        if not isinstance(genes, Mapping):
            raise ValueError(f"{where}: class_overrides[{cid}]={genes!r} must be an object of class genes")
        overrides.append((cid, ClassGenome.from_dict(dict(genes), where=f"class_overrides[{cid}]")))
    genome = cls(tuple(slots), width=_as_int(data.get("width", DEFAULT_WIDTH), "width"),
                 heads=_as_int(data.get("heads", DEFAULT_HEADS), "heads"),
                 class_overrides=tuple(overrides))
    notation = data.get("notation")
    if notation is not None and notation != genome.to_string():
        raise ValueError(f"{where}: notation={notation!r} disagrees with the slots, which read {genome.to_string()!r}")
    return genome


def genome_from_json(cls: type[Genome], text: str) -> Genome:
    """The `cls` genome of JSON text, or a ValueError saying why the text is not one."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise ValueError(f"genome JSON must be text, got {type(text).__name__}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:  # JSONDecodeError, bad UTF-8, a number too long
        raise ValueError(f"genome JSON is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError("genome JSON must be an object")
    return genome_from_dict(cls, data)


def _slot(entry: object, index: int, where: str) -> Slot:
    """A slot given as an object of its genes or as a list of its first 1..5 genes."""
    if isinstance(entry, Mapping):
        check_known(entry, SLOT_GENE_NAMES, f"{where}: slots[{index}]", "gene")
        if "liv_class" not in entry:
            raise ValueError(f"{where}: slots[{index}] is missing 'liv_class'")
        return Slot(**{k: _as_int(v, f"slots[{index}].{k}") for k, v in entry.items()})
    if isinstance(entry, (list, tuple)) and 1 <= len(entry) <= len(SLOT_GENE_NAMES):
        return Slot(*(_as_int(v, f"slots[{index}].{name}") for name, v in zip(SLOT_GENE_NAMES, entry)))
    raise ValueError(f"{where}: slots[{index}]={entry!r} must be an object of genes {list(SLOT_GENE_NAMES)} "
                     f"or a list of 1..{len(SLOT_GENE_NAMES)} of them")


def _as_int(value: object, where: str) -> int:
    """An integer from JSON: an int, an integral finite float (2.0) or ASCII digits (an object key)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and is_ascii_digits(value.strip()):
        return digits_int(value.strip(), where)
    raise ValueError(f"{where}={value!r} must be an integer")

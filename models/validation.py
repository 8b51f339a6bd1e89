"""What makes a genome valid, checked once when it is built.

`validate_genome` raises a `ValueError` naming the slot and gene at fault
(`slots[3].liv_class=42: ...`): depth, width and heads in range, every gene an allowed value,
every used class buildable at the genome's width and heads (`width_problem`), and the sharing
rules of `livgym.models.sharing`. `trusted_construction` lets code that has already proved a
result valid skip the check.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Iterator

import numpy as np

from livgym.models.genes import HEADS, MAX_SHARING_GROUP, WIDTHS, ChannelMixing, Nonlinearity, TokenMixing
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, ClassGenome
from livgym.models.sharing import sharing_problem
from livgym.models.slot import SLOT_GENE_NAMES

if TYPE_CHECKING:
    from livgym.models.genome import Genome

HARD_MAX_DEPTH = 512  # a sanity bound on any genome; search spaces use a smaller max_depth

_TRUSTED: ContextVar[bool] = ContextVar("livgym_genome_trusted", default=False)


@contextmanager
def trusted_construction() -> Iterator[None]:
    """Skip `validate_genome` for genomes built inside this block.

    Only for code that has already proved the result valid by other means: the design env
    applies an action its (property-tested) mask allows, which would otherwise pay for a full
    re-validation on every step.
    """
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def construction_is_trusted() -> bool:
    """Whether the caller is inside `trusted_construction`."""
    return _TRUSTED.get()


def validate_genome(genome: Genome) -> None:
    """Raise a ValueError naming the first slot and gene at fault, if any."""
    if not 1 <= genome.depth <= HARD_MAX_DEPTH:
        raise ValueError(f"depth={genome.depth}: a genome has 1..{HARD_MAX_DEPTH} slots")
    if genome.width not in WIDTHS:
        raise ValueError(f"width={genome.width!r} is not one of the allowed values {WIDTHS}")
    if genome.heads not in HEADS:
        raise ValueError(f"heads={genome.heads!r} is not one of the allowed values {HEADS}")
    if genome.width % genome.heads:
        raise ValueError(f"width={genome.width} is not divisible by heads={genome.heads}")
    for cid, cg in genome.class_overrides:
        problems = cg.problems()
        if problems:
            raise ValueError(f"class_overrides[{cid}].{problems[0]}")
    for i, slot in enumerate(genome.slots):
        for name, value in zip(SLOT_GENE_NAMES, slot.genes()):
            if not isinstance(value, (int, np.integer)):
                raise ValueError(f"slots[{i}].{name}={value!r} must be an integer")
        if slot.liv_class not in CLASSES_BY_ID:
            raise ValueError(f"slots[{i}].liv_class={slot.liv_class!r}: unknown LIV class "
                             f"(known: {CLASS_IDS[0]}..{CLASS_IDS[-1]})")
        for name in ("featurizer_strategy", "feature_strategy"):
            if getattr(slot, name) not in (1, 2):
                raise ValueError(f"slots[{i}].{name}={getattr(slot, name)!r} must be 1 (independent) or 2 (shared)")
        for name in ("featurizer_group", "feature_group"):
            if not 1 <= getattr(slot, name) <= MAX_SHARING_GROUP:
                raise ValueError(f"slots[{i}].{name}={getattr(slot, name)!r} is out of range 1..{MAX_SHARING_GROUP}")
    for cid in genome.used_classes():
        problem = width_problem(genome.class_genome(cid), genome.width, genome.heads)
        if problem:
            first = next(i for i, s in enumerate(genome.slots) if s.liv_class == cid)
            raise ValueError(f"slots[{first}].liv_class={cid} ({CLASSES_BY_ID[cid].name}): {problem}")
    problem = sharing_problem(genome.slots, [genome.slot_genome(i) for i in range(genome.depth)])
    if problem:
        raise ValueError(problem)


def width_problem(cg: ClassGenome, width: int, heads: int) -> str | None:
    """Why a class genome cannot be built at this width and head count, or None."""
    if cg.mixing == TokenMixing.LOW_RANK:
        h = heads if cg.channels == ChannelMixing.GROUPED else 1
        inner = cg.expansion * width
        if inner % h:
            return f"expansion={cg.expansion} x width={width} is not divisible by {h} heads"
        if cg.uses_repeat and h % cg.repeat:
            return f"repeat={cg.repeat} does not divide heads={h}"
        if cg.nonlinearity != Nonlinearity.NONE and (inner // h) % 2:
            return f"head dimension {inner // h} is odd; rotary embeddings need an even one"
    if cg.mixing == TokenMixing.SEMI_SEPARABLE and cg.channels == ChannelMixing.GROUPED and width % heads:
        return f"width={width} is not divisible by heads={heads}"
    return None

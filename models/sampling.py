"""Random LIV genomes from one documented distribution, for uniform random search and the
initial populations of evolutionary searches.

The design env's spaces are too large to list, so "uniform" random search means uniform
under `sample_genome`'s distribution (see its docstring), not over designs: a genome is built
slot by slot with the same edits the env's actions make (an independent slot of a class at its
registry genome, then joining an earlier slot's sharing group), and the sharing rules
(`livgym.models.sharing`, through `SharingLayout.may_join`) decide which joins are possible.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from livgym.known_names import check_known
from livgym.models.edits import Insert, ShareWith, apply_edit, buildable_classes
from livgym.models.genome import Genome
from livgym.models.registry import CLASS_IDS
from livgym.models.sharing import SHARING_KINDS, SharingLayout, sharing_key
from livgym.models.slot import Slot
from livgym.models.validation import HARD_MAX_DEPTH

#: probability that a slot tries to join an earlier slot's group, per kind of sharing
SHARE_PROBABILITY = 0.5


def sample_genome(rng: np.random.Generator, classes: Sequence[int], width: int, heads: int,
                  max_depth: int, min_depth: int = 1) -> Genome:
    """A random valid genome of `classes` at `width` and `heads`, with registry class genomes.

    The distribution, drawn in this order from `rng`:
    1. depth uniform in `min_depth..max_depth`;
    2. each slot's class uniform over those of `classes` buildable at this width and heads;
    3. for each slot p > 0 in order, for each kind of sharing in turn (featurizer, then
       features): with probability `SHARE_PROBABILITY`, slot p joins the group of one
       earlier slot drawn uniformly from those the sharing rules let it join (same class
       genome for a featurizer, same feature signature for features, a free group number,
       and no feature consumer that also shares a featurizer); when there is none, nothing
       happens. The candidates are those of the genome as it stands after the earlier slots'
       and kinds' joins, so a slot that joined a featurizer group cannot also become a
       feature consumer (rule 3), and a coin is drawn whether or not any candidate exists.
    Class genomes stay the registry's (no overrides), as insert actions make them.
    """
    for name, value, low in (("min_depth", min_depth, 1), ("max_depth", max_depth, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= HARD_MAX_DEPTH:
            raise ValueError(f"{name}={value!r} must be an integer in {low}..{HARD_MAX_DEPTH}")
    if min_depth > max_depth:
        raise ValueError(f"min_depth={min_depth} must be at most max_depth={max_depth}")
    check_known(classes, list(CLASS_IDS), f"classes={list(classes)}", "LIV class id")
    buildable = set(buildable_classes((), int(width), int(heads)))
    pool = tuple(sorted({int(c) for c in classes} & buildable))
    if not pool:
        raise ValueError(f"classes={list(classes)}: none is buildable at width={width}, heads={heads}")
    depth = int(rng.integers(min_depth, max_depth + 1))
    picks = rng.integers(len(pool), size=depth)
    genome = Genome((Slot(pool[int(picks[0])]),), int(width), int(heads))
    for p in range(1, depth):
        genome = apply_edit(genome, Insert(p, pool[int(picks[p])]), max_depth)
        for kind in SHARING_KINDS:
            if rng.random() >= SHARE_PROBABILITY:
                continue
            candidates = _joinable(genome, p, kind)
            if candidates:
                genome = apply_edit(genome, ShareWith(p, kind, candidates[int(rng.integers(len(candidates)))]),
                                    max_depth)
    return genome


def _joinable(genome: Genome, position: int, kind: str) -> list[int]:
    """Earlier slots whose `kind` group slot `position` may join (the rules `valid_edits` uses)."""
    key = sharing_key(genome.slot_genome(position), kind)
    if key is None:
        return []
    layout = SharingLayout.of(genome.slots)
    return [o for o in range(position)
            if sharing_key(genome.slot_genome(o), kind) == key and layout.may_join(kind, position, o)]

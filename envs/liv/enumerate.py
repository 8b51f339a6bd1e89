"""Every canonical design of a small LIV sub-space: the rows of a tabular benchmark (LIV-Bench).

A sub-space is a set of LIV classes (with their registry genomes: no hyperparameter edits), a
maximum depth, and one width and head count; sharing is allowed wherever the genome rules
allow it. Designs are found by breadth-first search over the design env's own edits from the
one-slot designs, so the table holds exactly what the env can reach, each architecture once
(by canonical hash).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from livgym.envs.liv.space import LIVSearchSpace
from livgym.models.genes import PROXY_HEADS, PROXY_WIDTH
from livgym.models.genome import Genome, Slot


def canonical_designs(classes: Sequence[int], max_depth: int, width: int = PROXY_WIDTH, heads: int = PROXY_HEADS,
                      space: LIVSearchSpace | None = None) -> dict[str, Genome]:
    """{canonical hash: canonical genome} of every design with up to `max_depth` slots of
    `classes`, in breadth-first order (shallower, then in action order): deterministic."""
    classes = tuple(sorted(set(int(c) for c in classes)))
    space = space or LIVSearchSpace(max_depth=max_depth, width=width, heads=heads, classes=classes,
                                    fidelity="analytic")
    if (space.max_depth, space.width, space.heads) != (max_depth, width, heads):
        raise ValueError(f"space has max_depth={space.max_depth}, width={space.width}, heads={space.heads}; "
                         f"expected {max_depth}, {width}, {heads}")
    edits = np.ones(space.n_actions, dtype=bool)
    edits[0] = False  # stop
    edits[space.codec.blocks["hyperparameter"][0]:] = False  # class genomes stay the registry's
    found: dict[str, Genome] = {}
    frontier = []
    for c in classes:
        genome = Genome((Slot(c),), width, heads)
        found.setdefault(genome.canonical_hash(), genome.canonical())
        frontier.append(genome)
    while frontier:
        following = []
        for genome in frontier:
            for action in np.flatnonzero(space.mask(genome) & edits):
                child = space.apply(genome, int(action))
                if child is None:
                    continue
                key = child.canonical_hash()
                if key not in found:
                    found[key] = child.canonical()
                    following.append(child)
        frontier = following
    return found

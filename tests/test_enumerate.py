"""The canonical designs of a small sub-space: breadth-first search over edits finds exactly the
valid genomes, each architecture once."""

from __future__ import annotations

import itertools

import pytest

from livgym.envs.liv.enumerate import canonical_designs
from livgym.models.genome import Genome, Slot


def brute_force(classes, max_depth, groups=(1, 2)):
    """Every gene combination (two group numbers suffice for up to 4 slots), kept if valid."""
    per_slot = [Slot(c, fg, fs, tg, ts) for c in classes for fg in groups for fs in (1, 2)
                for tg in groups for ts in (1, 2)]
    found = {}
    for depth in range(1, max_depth + 1):
        for slots in itertools.product(per_slot, repeat=depth):
            try:
                genome = Genome(slots, 64, 4)
            except ValueError:
                continue
            found[genome.canonical_hash()] = genome
    return found


@pytest.mark.parametrize("classes, max_depth", [((1, 5, 9), 2), ((1, 9), 3), ((5, 7), 3)])
def test_breadth_first_search_finds_exactly_the_valid_designs(classes, max_depth):
    designs = canonical_designs(classes, max_depth)
    assert set(designs) == set(brute_force(classes, max_depth))
    for key, genome in designs.items():
        assert genome.canonical_hash() == key and genome == genome.canonical()
        assert {s.liv_class for s in genome.slots} <= set(classes) and genome.depth <= max_depth


def test_enumeration_is_deterministic_and_counts_sharing():
    first = list(canonical_designs((1, 9), 2))
    assert first == list(canonical_designs((9, 1), 2))
    # depth 1: 2; depth 2 without sharing: 4; plus SA-1 / SA-1 sharing its featurizer or its K/V,
    # and SwiGLU / SwiGLU sharing its featurizer (a memoryless unit has no features to share).
    assert len(first) == 2 + 4 + 3

"""The flat action encoding: its size, and that the mask allows exactly the valid edits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livgym.envs.liv.actions import ActionCodec
from livgym.models import Genome, apply_edit, reference_genome, valid_edits
from strategies import edited_genomes, genomes

CODEC = ActionCodec(max_depth=12)


def test_action_count_is_compact():
    assert ActionCodec().n == 1 + 25 * 19 + 24 * 19 + 24 + 48 + 48 + 24 * 10 == 1292
    assert len({ActionCodec().describe(i) for i in range(ActionCodec().n)}) == ActionCodec().n


@settings(max_examples=40)
@given(edited_genomes(max_depth=12))
def test_mask_allows_exactly_the_valid_encoded_edits(genome: Genome):
    mask = CODEC.mask(genome)
    assert mask[0], "stop is always allowed"
    valid = set(valid_edits(genome, max_depth=12))
    for index in range(CODEC.n):
        edit = CODEC.decode(index, genome)
        if index == 0:
            assert edit is None
        elif mask[index]:
            assert edit in valid, CODEC.describe(index)
            assert apply_edit(genome, edit, max_depth=12) != genome
        else:
            assert edit not in valid, f"{CODEC.describe(index)} decodes to a valid edit but is masked"


@settings(max_examples=150)
@given(st.one_of(edited_genomes(max_depth=12), genomes(max_depth=12, max_group=3)))
def test_rule_based_mask_equals_the_enumerated_mask(genome: Genome):
    assert (CODEC.mask(genome) == CODEC.mask_by_enumeration(genome)).all(), [
        CODEC.describe(i) for i in (CODEC.mask(genome) != CODEC.mask_by_enumeration(genome)).nonzero()[0]]


@settings(max_examples=20)
@given(edited_genomes(max_depth=12), st.randoms(use_true_random=False))
def test_random_masked_walks_stay_valid(genome: Genome, rng):
    for _ in range(15):
        allowed = CODEC.mask(genome).nonzero()[0]
        index = rng.choice(list(allowed))
        if index == 0:
            break
        genome = apply_edit(genome, CODEC.decode(index, genome), max_depth=12)  # raises if invalid
        assert genome.depth <= 12


def test_join_and_step_actions_on_a_transformer():
    genome = reference_genome("transformer++", depth=4, width=64, heads=4)  # SA-1, SwiGLU, SA-1, SwiGLU
    codec = ActionCodec(max_depth=8)
    names = {codec.describe(i) for i in codec.mask(genome).nonzero()[0]}
    assert "slot 2 joins a feature group" in names  # K/V sharing with slot 0
    assert "slot 2 joins a featurizer group" in names
    assert "slot 0 joins a feature group" not in names  # nothing earlier to share with
    assert "expansion of slot 1's class up" in names  # SwiGLU expansion 4 -> 8
    assert "window of slot 0's class up" not in names  # SA-1 is not banded
    shared = apply_edit(genome, codec.decode(next(i for i in range(codec.n)
                                                  if codec.describe(i) == "slot 2 joins a feature group"), genome))
    assert shared.feature_source(2) == 0


def test_out_of_range_action_is_rejected_by_name():
    with pytest.raises(ValueError, match="action 5000 is out of range"):
        CODEC.decode(5000, reference_genome("transformer++", depth=2, width=64, heads=4))

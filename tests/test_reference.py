"""Reference genomes build at any depth and the documented widths, with the documented layout."""

from __future__ import annotations

import pytest

from livgym.models.genome import Genome
from livgym.models.reference import REFERENCE_GENOMES, reference_genome

PATTERNS = {
    "transformer++": (1, 9),
    "gqa-transformer": (3, 9),
    "striped-hybrid": (5, 9, 1, 9),
    "mamba-like": (5, 9),
    "hyena-like": (8, 9),
    "gated-conv": (7, 9),
    "kv-sharing-transformer": (1, 9),
}


def test_every_reference_is_documented_here() -> None:
    assert set(REFERENCE_GENOMES) == set(PATTERNS)


@pytest.mark.parametrize("name", sorted(PATTERNS))
@pytest.mark.parametrize("depth", [1, 2, 7, 24])
@pytest.mark.parametrize("width, heads", [(64, 4), (768, 12)])
def test_builds_with_its_pattern(name: str, depth: int, width: int, heads: int) -> None:
    genome = reference_genome(name, depth=depth, width=width, heads=heads)
    pattern = PATTERNS[name]
    assert isinstance(genome, Genome)
    assert (genome.depth, genome.width, genome.heads) == (depth, width, heads)
    assert [s.liv_class for s in genome.slots] == [pattern[i % len(pattern)] for i in range(depth)]
    assert not genome.class_overrides
    assert Genome.from_string(genome.to_string()) == genome


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_defaults_are_stars_size(name: str) -> None:
    genome = reference_genome(name)
    assert (genome.depth, genome.width, genome.heads) == (24, 768, 12)
    assert genome == REFERENCE_GENOMES[name]()


def test_deeper_than_stars_depth() -> None:
    genome = reference_genome("transformer++", depth=48, width=2048, heads=16)
    assert genome.depth == 48 and sum(s.liv_class == 1 for s in genome.slots) == 24
    assert reference_genome("kv-sharing-transformer", depth=96).feature_source(94) == 92


def test_only_kv_sharing_shares() -> None:
    for name in PATTERNS:
        genome = reference_genome(name)
        shares = any(s.shares_features or s.shares_featurizer for s in genome.slots)
        assert shares == (name == "kv-sharing-transformer"), name


def test_kv_sharing_pairs_consecutive_attention_slots() -> None:
    genome = reference_genome("kv-sharing-transformer", depth=24)
    assert genome.feature_source(2) == 0
    assert genome.feature_source(6) == 4
    assert genome.feature_source(0) == 0 and genome.feature_source(4) == 4
    assert [genome.slots[i].feature_group for i in (0, 2, 4, 6, 20, 22)] == [1, 1, 2, 2, 6, 6]
    assert not any(s.shares_featurizer for s in genome.slots)
    assert genome.backbone_string().startswith("11112-91111-11112-91111-11122")


def test_kv_sharing_leaves_an_unpaired_last_attention_slot_independent() -> None:
    genome = reference_genome("kv-sharing-transformer", depth=5)  # attention at 0, 2, 4
    assert genome.feature_source(2) == 0
    assert not genome.slots[4].shares_features
    single = reference_genome("kv-sharing-transformer", depth=1)
    assert not single.slots[0].shares_features


def test_kv_sharing_depth_is_bounded_by_group_numbers() -> None:
    assert reference_genome("kv-sharing-transformer", depth=98).feature_source(96) == 96  # unpaired
    with pytest.raises(ValueError, match="use depth <= 98"):
        reference_genome("kv-sharing-transformer", depth=99)


def test_unbuildable_width_propagates_the_genome_error() -> None:
    with pytest.raises(ValueError, match=r"slots\[0\]\.liv_class=3 .*repeat=4 does not divide heads=6"):
        reference_genome("gqa-transformer", width=96, heads=6)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: transformer\\+\\+, gqa-transformer"):
        reference_genome("transformer")


def test_depth_zero_is_rejected() -> None:
    with pytest.raises(ValueError, match="depth=0"):
        reference_genome("mamba-like", depth=0)

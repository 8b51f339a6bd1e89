"""The genome: lossless representations, canonical hashing, and validation errors that name
the slot and gene at fault."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import genomes

from livgym.models.genes import MAX_SHARING_GROUP
from livgym.models.genome import Genome, Slot
from livgym.models.registry import CLASSES_BY_ID
from livgym.models.vector import vector_bounds, vector_length

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SA_1 = CLASSES_BY_ID[1].genome


# ---- lossless round trips ------------------------------------------------------------------------


@PROPERTY
@given(genomes(max_depth=12))
def test_string_round_trip(genome: Genome) -> None:
    assert Genome.from_string(genome.to_string()) == genome
    assert str(genome) == genome.to_string()


@PROPERTY
@given(genomes(max_depth=12), st.sampled_from([12, 24]))
def test_vector_round_trip(genome: Genome, max_depth: int) -> None:
    vector = genome.to_vector(max_depth)
    assert vector.shape == (vector_length(max_depth),) and vector.dtype == np.int64
    low, high = vector_bounds(max_depth)
    assert np.all(low <= vector) and np.all(vector <= high)
    assert Genome.from_vector(vector, max_depth) == genome
    assert Genome.from_vector(vector.tolist(), max_depth) == genome


@PROPERTY
@given(genomes(max_depth=12))
def test_json_round_trip(genome: Genome) -> None:
    text = genome.to_json()
    assert Genome.from_json(text) == genome
    assert Genome.from_json(genome.to_json(indent=None)) == genome
    assert json.loads(text)["notation"] == genome.to_string()


def test_round_trips_keep_overrides_and_globals() -> None:
    genome = Genome((Slot(18), Slot(9), Slot(18, 12, 2)), width=256, heads=8,
                    class_overrides=((18, replace(CLASSES_BY_ID[18].genome, window=512)),))
    text = genome.to_string()
    assert "@w256h8" in text and "+18:" in text and "18.12.2.1.1" in text
    assert Genome.from_string(text) == genome
    assert Genome.from_vector(genome.to_vector()) == genome
    assert Genome.from_json(genome.to_json()) == genome


def test_numpy_genes_become_python_ints() -> None:
    genome = Genome((Slot(np.int64(1), np.int64(2), np.int64(2)), Slot(np.int32(1), 2, 2)),
                    width=np.int64(64), heads=np.int64(4))
    assert genome == Genome.from_string("12211-12211@w64h4")
    assert all(type(g) is int for s in genome.slots for g in s.genes())
    assert Genome.from_json(genome.to_json()) == genome


def test_star_notation_example() -> None:
    genome = Genome.from_string("21211-31112-21221-32112")
    assert [s.liv_class for s in genome.slots] == [2, 3, 2, 3]
    assert genome.featurizer_source(2) == 0  # slots 0 and 2 share a featurizer
    assert [genome.featurizer_source(i) for i in (0, 1, 3)] == [0, 1, 3]
    assert genome.feature_source(3) == 1  # slot 3 reads slot 1's feature groups
    assert [genome.feature_source(i) for i in (0, 1, 2)] == [0, 1, 2]
    assert genome.backbone_string() == genome.to_string() == "21211-31112-21221-32112"


def test_vector_length_is_fixed_by_max_depth() -> None:
    short, long = Genome.from_string("91111"), Genome.from_string("-".join(["11111"] * 8))
    assert len(short.to_vector(8)) == len(long.to_vector(8)) == vector_length(8)
    with pytest.raises(ValueError, match="depth=8 exceeds max_depth=4"):
        long.to_vector(4)


# ---- canonical hashing -----------------------------------------------------------------------------


def same_hash(a: str | Genome, b: str | Genome) -> bool:
    def genome(g: str | Genome) -> Genome:
        return Genome.from_string(g) if isinstance(g, str) else g

    return genome(a).canonical_hash() == genome(b).canonical_hash()


def test_hash_ignores_group_numbering() -> None:
    assert same_hash("11211-91111-11211", "13211-91111-13211")
    assert same_hash("11112-11112-11122-11122", "11122-11122-11112-11112")


def test_hash_treats_singleton_groups_as_independent() -> None:
    assert same_hash("11211-91111-11112", "11111-91111-11111")


def test_hash_ignores_unused_genes() -> None:
    windowed = Genome((Slot(1),), class_overrides=((1, replace(SA_1, window=1024)),))
    assert windowed != Genome((Slot(1),))
    assert same_hash(windowed, Genome((Slot(1),)))
    assert same_hash("11111+4:1.2.1.3.3.1.2.0.3.2.0", "11111")  # an override of an unused class


def test_hash_identifies_class_ids_with_one_genome() -> None:
    renamed = Genome((Slot(2), Slot(9)), class_overrides=((2, SA_1),))
    assert same_hash(renamed, "11111-91111")


@pytest.mark.parametrize("a, b", [
    ("11111-91111", "31111-91111"),  # class
    ("11111-91111", "91111-11111"),  # order
    ("11211-11211", "11111-11111"),  # featurizer sharing
    ("11112-11112", "11111-11111"),  # feature sharing
    ("11112-11112-11111", "11112-11111-11112"),  # which slots share
    ("11111-91111", "11111-91111@w1536h12"),  # width
    ("11111-91111", "11111-91111@w768h8"),  # heads
    ("11111", "11111+1:1.2.1.2.3.1.2.0.3.2.0"),  # a used gene (repeat 2)
])
def test_hash_differs(a: str, b: str) -> None:
    assert not same_hash(a, b)


@PROPERTY
@given(genomes(max_depth=12))
def test_canonical_form_keeps_the_hash(genome: Genome) -> None:
    canon = genome.canonical()
    assert canon.canonical_hash() == genome.canonical_hash()
    assert canon.canonical() == canon
    assert len(genome.canonical_hash()) == 16


@PROPERTY
@given(genomes(max_depth=12), st.permutations(range(1, MAX_SHARING_GROUP + 1)))
def test_hash_is_invariant_under_any_renumbering(genome: Genome, permutation: list[int]) -> None:
    renumber = dict(zip(range(1, MAX_SHARING_GROUP + 1), permutation))
    slots = tuple(Slot(s.liv_class, renumber[s.featurizer_group], s.featurizer_strategy,
                       renumber[s.feature_group], s.feature_strategy) for s in genome.slots)
    renumbered = replace(genome, slots=slots)
    assert renumbered.canonical_hash() == genome.canonical_hash()
    assert renumbered.canonical() == genome.canonical()


# ---- validation errors name the slot and gene ----------------------------------------------------


def _vector_with_a_hole() -> list[int]:
    vector = Genome.from_string("11111-91111-11111").to_vector(4).tolist()
    vector[2 + 5: 2 + 10] = [0, 0, 0, 0, 0]  # slot 1 emptied, slot 2 kept
    return vector


def _json_with(**extra: object) -> str:
    data = Genome.from_string("11111").to_dict()
    data.update(extra)
    return json.dumps(data)


def _json_slot_with(**extra: object) -> str:
    data = Genome.from_string("11111").to_dict()
    data["slots"][0].update(extra)  # type: ignore[index]
    return json.dumps(data)


# (case, genome string, what the error must say): mostly "slots[i].gene=value".
INVALID_STRINGS: list[tuple[str, str, str]] = [
    ("unknown class", "11111-42.1.1.1.1", r"slots\[1\]\.liv_class=42"),
    ("featurizer group out of range", "11111-1.25.2.1.1", r"slots\[1\]\.featurizer_group=25"),
    ("featurizer strategy not 1 or 2", "11111-11311", r"slots\[1\]\.featurizer_strategy=3"),
    ("feature strategy not 1 or 2", "11110", r"slots\[0\]\.feature_strategy=0"),
    ("featurizer shared across classes", "11211-51211", r"slots\[1\]\.featurizer_group=1"),
    ("memoryless feature sharing", "11111-91112", r"slots\[1\]\.feature_strategy=2"),
    ("incompatible feature signature", "11112-31112", r"slots\[1\]\.feature_group=1"),
    ("recurrence reads attention", "11112-91111-51112", r"slots\[2\]\.feature_group=1"),
    ("consumer shares a featurizer", "11212-11212", r"slots\[1\]\.featurizer_strategy=2"),
    ("width not in table", "11111@w100h4", r"width=100"),
    ("heads not in table", "11111@w768h5", r"heads=5"),
    ("width not divisible by heads", "11111@w768h20", r"width=768 is not divisible by heads=20"),
    ("GQA repeat does not divide heads", "91111-31111@w96h6",
     r"slots\[1\]\.liv_class=3 \(SA-3\): repeat=4 does not divide heads=6"),
    ("odd head dimension", "11111@w48h16", r"slots\[0\]\.liv_class=1 .*head dimension 3"),
    ("bad notation token", "11111-2121", r"slots\[1\]='2121'"),
    ("non-digit notation token", "1111x", r"slots\[0\]='1111x'"),
    ("bad notation globals", "11111@768", r"globals '768'"),
    ("bad override gene", "11111+1:1.2.1.2.3.1.1.0.0.2.0", r"class_overrides\[1\]: window index 0"),
    ("unbuildable override", "11111+19:1.2.2.1.3.1.1.0.3.2.0", r"class_overrides\[19\]\.sparsity=banded"),
    ("override of an unknown class", "11111+30:1.2.1.2.3.1.1.0.3.2.0", r"class_overrides: unknown LIV class 30"),
]


@pytest.mark.parametrize("text, match", [c[1:] for c in INVALID_STRINGS], ids=[c[0] for c in INVALID_STRINGS])
def test_invalid_strings_are_rejected_with_the_gene_named(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Genome.from_string(text)


def _empty_slot_with_genes() -> list[int]:
    vector = Genome.from_string("11111").to_vector(2).tolist()
    vector[2 + 5: 2 + 10] = [0, 1, 0, 0, 0]
    return vector


def _no_slots() -> list[int]:
    vector = Genome.from_string("11111").to_vector(2).tolist()
    vector[2: 2 + 5] = [0, 0, 0, 0, 0]
    return vector


INVALID_OTHER: list[tuple[str, Callable[[], object], str]] = [
    ("feature group zero", lambda: Genome((Slot(9), Slot(1, 1, 1, 0, 1))), r"slots\[1\]\.feature_group=0"),
    ("depth 0", lambda: Genome(()), r"depth=0"),
    ("depth 0 in a vector", lambda: Genome.from_vector(_no_slots(), 2), r"depth=0"),
    ("bad vector length", lambda: Genome.from_vector([1, 2, 3]), r"vector has length 3"),
    ("non-contiguous slots in vector", lambda: Genome.from_vector(_vector_with_a_hole(), 4),
     r"slots\[2\]: follows an empty slot"),
    ("empty slot with genes", lambda: Genome.from_vector(_empty_slot_with_genes(), 2), r"slots\[1\]: an empty slot"),
    ("unknown JSON key", lambda: Genome.from_json(_json_with(depth=1)), r"unknown key\(s\) \['depth'\]"),
    ("unknown JSON slot gene", lambda: Genome.from_json(_json_slot_with(bogus=1)),
     r"slots\[0\]: unknown gene\(s\) \[.bogus.\]"),
    ("non-integer JSON gene", lambda: Genome.from_json(_json_slot_with(liv_class="one")),
     r"slots\[0\]\.liv_class='one'"),
    ("JSON notation disagrees", lambda: Genome.from_json(_json_with(notation="91111")), r"notation='91111'"),
]


@pytest.mark.parametrize("make, match", [c[1:] for c in INVALID_OTHER], ids=[c[0] for c in INVALID_OTHER])
def test_invalid_vectors_and_json_are_rejected_with_the_gene_named(make: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()

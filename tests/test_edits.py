"""Edits: `valid_edits` lists exactly the edits `apply_edit` accepts, and each yields a valid,
different genome. The reference is a brute force over every candidate edit of every kind."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import edited_genomes, genomes

from livgym.models.edits import (
    Edit,
    Insert,
    Remove,
    Replace,
    SetHyperparameter,
    ShareWith,
    Unshare,
    apply_edit,
    valid_edits,
)
from livgym.models.genes import MAX_SHARING_GROUP
from livgym.models.genome import Genome, Slot
from livgym.models.registry import CLASS_IDS, HYPERPARAMETER_CHOICES, ClassGenome
from livgym.models.sharing import SHARING_KINDS

MAX_DEPTH = 8
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def candidate_edits(genome: Genome) -> list[Edit]:
    """Every edit of every kind with in-range positions, valid or not."""
    d = genome.depth
    edits: list[Edit] = [Insert(p, k) for p in range(d + 1) for k in CLASS_IDS]
    edits += [Replace(p, k) for p in range(d) for k in CLASS_IDS]
    edits += [Remove(p) for p in range(d)]
    edits += [ShareWith(p, kind, o) for p in range(d) for kind in SHARING_KINDS for o in range(d)]
    edits += [Unshare(p, kind) for p in range(d) for kind in SHARING_KINDS]
    edits += [SetHyperparameter(p, gene, value)
              for p in range(d) for gene, table in HYPERPARAMETER_CHOICES.items() for value in table]
    return edits


def brute_force_edits(genome: Genome, max_depth: int) -> set[Edit]:
    """The candidates that `apply_edit` accepts and that change the genome."""
    out = set()
    for edit in candidate_edits(genome):
        try:
            edited = apply_edit(genome, edit, max_depth)
        except ValueError:
            continue
        if edited != genome:
            out.add(edit)
    return out


def rejected(genome: Genome, edit: Edit, max_depth: int = MAX_DEPTH) -> bool:
    try:
        apply_edit(genome, edit, max_depth)
    except ValueError:
        return True
    return False


# ---- properties ------------------------------------------------------------------------------


@PROPERTY
@given(edited_genomes(max_depth=MAX_DEPTH))
def test_every_valid_edit_gives_a_valid_different_genome(genome: Genome) -> None:
    edits = valid_edits(genome, MAX_DEPTH)
    assert len(edits) == len(set(edits)), "no edit is listed twice"
    for edit in edits:
        edited = apply_edit(genome, edit, MAX_DEPTH)
        assert edited != genome
        assert edited.depth <= MAX_DEPTH
        assert Genome.from_string(edited.to_string()) == edited  # rebuilt through the constructor


@PROPERTY
@given(st.one_of(genomes(max_depth=MAX_DEPTH), edited_genomes(max_depth=MAX_DEPTH)))
def test_valid_edits_equals_brute_force(genome: Genome) -> None:
    assert set(valid_edits(genome, MAX_DEPTH)) == brute_force_edits(genome, MAX_DEPTH)


@PROPERTY
@given(genomes(max_depth=MAX_DEPTH))
def test_edits_not_listed_are_rejected(genome: Genome) -> None:
    listed = set(valid_edits(genome, MAX_DEPTH))
    for edit in candidate_edits(genome):
        if edit in listed:
            continue
        try:
            edited = apply_edit(genome, edit, MAX_DEPTH)
        except ValueError as err:
            assert repr(edit) in str(err)
            continue
        pytest.fail(f"{edit!r} is not listed but apply_edit accepted it, giving {edited}")


# ---- the subtle cases, spelled out ---------------------------------------------------------------


def test_feature_share_before_the_producer_makes_the_old_producer_a_consumer() -> None:
    # slots 2 and 4 share feature groups (producer 2); slot 2 also shares a featurizer with 0.
    genome = Genome.from_string("11211-91111-11222-91111-11122")
    assert rejected(genome, ShareWith(4, "feature", 2))  # a no-op: already in one group
    edit = ShareWith(0, "feature", 2)  # slot 0 would produce, slot 2 would consume yet share a featurizer
    assert rejected(genome, edit)
    assert edit not in valid_edits(genome, MAX_DEPTH)
    unshared = apply_edit(genome, Unshare(2, "featurizer"))
    edited = apply_edit(unshared, ShareWith(0, "feature", 2))
    assert edited.feature_source(2) == 0 and edited.feature_source(4) == 0


def test_feature_consumers_cannot_share_featurizers() -> None:
    genome = apply_edit(Genome.from_string("11111-11111-11111"), ShareWith(1, "feature", 0))
    assert genome.feature_source(1) == 0
    for edit in (ShareWith(1, "featurizer", 2), ShareWith(2, "featurizer", 1)):
        assert rejected(genome, edit) and edit not in valid_edits(genome, MAX_DEPTH)
    assert ShareWith(0, "featurizer", 2) in valid_edits(genome, MAX_DEPTH)  # the producer may


def test_share_with_takes_the_smallest_free_group_number() -> None:
    genome = Genome.from_string("11211-11111-11111-13211")  # featurizer groups 1 and 3 in use
    edited = apply_edit(genome, ShareWith(1, "featurizer", 2))
    assert [s.featurizer_group for s in edited.slots[1:3]] == [2, 2]
    assert edited.slots[1].shares_featurizer and edited.slots[2].shares_featurizer


def test_unshare_of_a_singleton_group_is_not_an_edit() -> None:
    genome = Genome.from_string("11211-91111")
    assert rejected(genome, Unshare(0, "featurizer"))
    assert not any(isinstance(e, Unshare) for e in valid_edits(genome, MAX_DEPTH))


def test_set_hyperparameter_changes_every_slot_of_the_class() -> None:
    genome = Genome.from_string("11111-91111-11111")
    edited = apply_edit(genome, SetHyperparameter(2, "repeat", 2))
    assert edited.slot_genome(0).repeat == edited.slot_genome(2).repeat == 2
    assert rejected(genome, SetHyperparameter(0, "window", 128))  # unbanded: window unused
    assert rejected(genome, SetHyperparameter(0, "repeat", 1))  # unchanged


def test_set_hyperparameter_respects_groups_across_class_ids() -> None:
    # class 2 overridden to equal class 1, so slots of both may share a featurizer or features.
    sa1 = Genome.from_string("11111").class_genome(1)
    mixed_featurizer = Genome((Slot(1, 1, 2), Slot(2, 1, 2)), class_overrides=((2, sa1),))
    assert not [e for e in valid_edits(mixed_featurizer, MAX_DEPTH) if isinstance(e, SetHyperparameter)]
    mixed_features = Genome((Slot(1, 1, 1, 1, 2), Slot(2, 1, 1, 1, 2)), class_overrides=((2, sa1),))
    genes = {e.gene for e in valid_edits(mixed_features, MAX_DEPTH) if isinstance(e, SetHyperparameter)}
    assert genes == {"short_conv"}


def test_width_limits_insert_replace_and_hyperparameters() -> None:
    genome = Genome.from_string("91111@w96h6")  # 6 heads: GQA with repeat 4 cannot be built
    edits = valid_edits(genome, MAX_DEPTH)
    assert Insert(0, 3) not in edits and Replace(0, 3) not in edits and Insert(0, 4) in edits
    assert rejected(genome, Insert(0, 3))
    attention = apply_edit(genome, Insert(0, 1))
    repeats = {e.value for e in valid_edits(attention, MAX_DEPTH) if getattr(e, "gene", None) == "repeat"}
    assert repeats == {2}


def test_depth_bounds() -> None:
    full = Genome(tuple(Slot(9) for _ in range(MAX_DEPTH)))
    assert not any(isinstance(e, Insert) for e in valid_edits(full, MAX_DEPTH))
    assert rejected(full, Insert(0, 9))
    single = Genome((Slot(9),))
    assert not any(isinstance(e, Remove) for e in valid_edits(single, MAX_DEPTH))
    assert rejected(single, Remove(0))


def test_group_numbers_can_run_out() -> None:
    # 24 singleton featurizer groups use every number; slots 24 and 25 are independent.
    slots = [Slot(9, g, 2) for g in range(1, MAX_SHARING_GROUP + 1)] + [Slot(9), Slot(9)]
    genome = Genome(tuple(slots))
    depth = genome.depth
    edits = set(valid_edits(genome, depth))
    assert ShareWith(24, "featurizer", 25) not in edits  # no number left for a new group
    with pytest.raises(ValueError, match="no free featurizer group number"):
        apply_edit(genome, ShareWith(24, "featurizer", 25), depth)
    assert ShareWith(0, "featurizer", 24) in edits  # slot 0 frees number 1 as it leaves
    assert ShareWith(24, "featurizer", 0) in edits  # joins an existing group
    assert edits == brute_force_edits(genome, depth)


def test_invalid_arguments_name_the_edit() -> None:
    genome = Genome.from_string("11111-91111")
    bad = [Insert(3, 1), Insert(0, 99), Replace(-1, 1), Remove(2), ShareWith(0, "weights", 1),  # type: ignore[arg-type]
           ShareWith(0, "feature", 0), Unshare(0, "feature"), SetHyperparameter(0, "width", 64),
           SetHyperparameter(0, "expansion", 5)]
    for edit in bad:
        with pytest.raises(ValueError) as info:
            apply_edit(genome, edit)
        assert repr(edit) in str(info.value)
    with pytest.raises(ValueError, match="not an edit"):
        apply_edit(genome, "Insert(0, 1)")  # type: ignore[arg-type]


def test_class_genome_override_keeps_ids_distinct_for_replace() -> None:
    sa1: ClassGenome = Genome.from_string("11111").class_genome(1)
    genome = Genome((Slot(1),), class_overrides=((2, sa1),))
    assert Replace(0, 2) in valid_edits(genome, MAX_DEPTH)  # same operator, another id: still an edit


def test_numpy_arguments_give_plain_genomes() -> None:
    genome = Genome.from_string("11111-91111")
    edited = apply_edit(genome, Insert(np.int64(1), np.int64(5)))
    assert edited == Genome.from_string("11111-51111-91111")
    assert Genome.from_json(edited.to_json()) == edited
    assert ShareWith(np.int64(0), "feature", np.int64(1)) == ShareWith(0, "feature", 1)

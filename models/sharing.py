"""Featurizer and feature-group sharing: which slots may share what, written once.

A slot's sharing genes put it in at most one featurizer group and one feature group (slots
with the same group number and strategy SHARED). A valid genome keeps three rules:
1. Featurizer groups: every member has the same class genome, because the members reuse one
   featurizer's Parameters.
2. Feature groups: every member keeps token-mixing state (no memoryless class) and has the
   same feature signature; `sharing_key` gives what two class genomes must agree on.
3. A feature group's first member is its *producer*; every later member (a *consumer*) reads
   the producer's feature groups instead of computing them, so it has an independent featurizer.

The genome's validation (`sharing_problem`), the edit enumeration (`livgym.models.edits`) and
the design env's fast action mask (`livgym.envs.liv.actions`) all read the rules from here, so the
three cannot disagree on what may share. This module sees slots only through their sharing
genes (`Slot.shares_featurizer`, `featurizer_group`, ...) and their class genomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Sequence

from livgym.models.genes import MAX_SHARING_GROUP
from livgym.models.registry import CLASSES_BY_ID, ClassGenome

if TYPE_CHECKING:
    from livgym.models.slot import Slot

SharingKind = Literal["featurizer", "feature"]
SHARING_KINDS: tuple[SharingKind, ...] = ("featurizer", "feature")


def sharing_key(genome: ClassGenome, kind: str) -> ClassGenome | None:
    """What two slots' class genomes must agree on to share a group of `kind` (rules 1 and 2):
    the whole genome for a featurizer, the feature signature for features; None never shares."""
    return genome if kind == "featurizer" else _feature_key(genome)


@lru_cache(maxsize=4096)
def _feature_key(genome: ClassGenome) -> ClassGenome | None:
    return genome.feature_signature() if genome.shareable_features else None


def group_of(slot: Slot, kind: str) -> int | None:
    """The slot's group number of this kind, or None if it shares none."""
    if kind == "featurizer":
        return slot.featurizer_group if slot.shares_featurizer else None
    return slot.feature_group if slot.shares_features else None


@dataclass(frozen=True)
class Sharing:
    """Membership of one kind of sharing group: per slot its group (or None), per group its
    members in slot order (the first is the group's producer)."""

    group_of: tuple[int | None, ...]
    members: dict[int, tuple[int, ...]]

    @classmethod
    def of(cls, slots: Sequence[Slot], kind: str) -> Sharing:
        groups = tuple(group_of(s, kind) for s in slots)
        members: dict[int, list[int]] = {}
        for i, g in enumerate(groups):
            if g is not None:
                members.setdefault(g, []).append(i)
        return cls(groups, {g: tuple(m) for g, m in members.items()})

    def same_group(self, a: int, b: int) -> bool:
        return self.group_of[b] is not None and self.group_of[a] == self.group_of[b]

    def alone(self, position: int) -> bool:
        """Whether the slot shares this kind with no other slot (in no group, or the only member)."""
        g = self.group_of[position]
        return g is None or len(self.members[g]) == 1

    def producer(self, position: int) -> int:
        """The first member of this slot's group (the slot itself if it is in none)."""
        g = self.group_of[position]
        return position if g is None else self.members[g][0]

    def free_group_after_leaving(self, position: int) -> bool:
        """Whether a new group number is free once `position` leaves its group."""
        used = len(self.members)
        g = self.group_of[position]
        if g is not None and len(self.members[g]) == 1:
            used -= 1
        return used < MAX_SHARING_GROUP

    def free_number(self, leaving: int) -> int | None:
        """The smallest group number no slot but `leaving` uses (None when all are taken)."""
        used = {g for i, g in enumerate(self.group_of) if i != leaving}
        return next((n for n in range(1, MAX_SHARING_GROUP + 1) if n not in used), None)

    def joinable(self, position: int, other: int) -> bool:
        """Whether `position` joining `other`'s group changes anything and has a number to use
        (when `other` is in no group, the two start one under a free number)."""
        if position == other or self.same_group(position, other):
            return False
        return self.group_of[other] is not None or self.free_group_after_leaving(position)

    def mixed_classes(self, classes: Sequence[int]) -> set[int]:
        """Class ids that share a group of this kind with a slot of a different class id."""
        mixed: set[int] = set()
        for members in self.members.values():
            ids = {classes[i] for i in members}
            if len(ids) > 1:
                mixed |= ids
        return mixed


@dataclass(frozen=True)
class SharingLayout:
    """Both kinds of sharing of one genome's slots, and who is a feature consumer (rule 3)."""

    featurizer: Sharing
    feature: Sharing
    consumer: tuple[bool, ...]  # reads its feature groups from an earlier slot
    shares_featurizer: tuple[bool, ...]

    @classmethod
    def of(cls, slots: Sequence[Slot]) -> SharingLayout:
        featurizer = Sharing.of(slots, "featurizer")
        feature = Sharing.of(slots, "feature")
        consumer = tuple(g is not None and feature.members[g][0] != i for i, g in enumerate(feature.group_of))
        return cls(featurizer, feature, consumer, tuple(g is not None for g in featurizer.group_of))

    def kind(self, kind: str) -> Sharing:
        return self.featurizer if kind == "featurizer" else self.feature

    def may_join(self, kind: str, position: int, other: int) -> bool:
        """Whether `position` may join `other`'s group of `kind`, given that their class genomes
        have the same `sharing_key`: the join changes something, a group number is free, and no
        feature consumer ends up sharing a featurizer (rule 3). For a featurizer neither slot may
        be a consumer; for features the slot that becomes one (`position` if it comes after the
        group's producer, else the old producer) must have an independent featurizer."""
        sharing = self.kind(kind)
        if not sharing.joinable(position, other):
            return False
        if kind == "featurizer":
            return not self.consumer[position] and not self.consumer[other]
        producer = sharing.producer(other)
        return not self.shares_featurizer[producer if position < producer else position]


def keeps_sharing(genome: ClassGenome, changed: ClassGenome, featurizer_mixed: bool, feature_mixed: bool) -> bool:
    """Whether a class's genome may become `changed` while its slots stay in their groups: never
    when a featurizer group holds a slot of another class id (rule 1 needs identical genomes),
    and only keeping the feature signature when a feature group does (rule 2)."""
    if featurizer_mixed:
        return False
    return not feature_mixed or sharing_key(changed, "feature") == sharing_key(genome, "feature")


def sharing_problem(slots: Sequence[Slot], genomes: Sequence[ClassGenome]) -> str | None:
    """The first broken sharing rule of slots with these class genomes, as 'slots[i].gene=value:
    why', or None when all three hold."""
    first: dict[str, dict[int, int]] = {kind: {} for kind in SHARING_KINDS}
    for i, slot in enumerate(slots):
        cg = genomes[i]
        if slot.shares_featurizer:
            j = first["featurizer"].setdefault(slot.featurizer_group, i)
            if j != i and genomes[j] != cg:
                return (f"slots[{i}].featurizer_group={slot.featurizer_group}: joins slots[{j}], whose LIV class "
                        f"{_class(slots[j])} has a different featurizer from class {_class(slot)}")
        if slot.shares_features:
            if sharing_key(cg, "feature") is None:
                return (f"slots[{i}].feature_strategy=2: LIV class {_class(slot)} is memoryless and has no "
                        "feature groups to share")
            j = first["feature"].setdefault(slot.feature_group, i)
            if j != i:
                if sharing_key(genomes[j], "feature") != sharing_key(cg, "feature"):
                    return (f"slots[{i}].feature_group={slot.feature_group}: reads feature groups of slots[{j}], "
                            f"whose LIV class {_class(slots[j])} computes incompatible features for class "
                            f"{_class(slot)}")
                if slot.shares_featurizer:
                    return (f"slots[{i}].featurizer_strategy=2: slot {i} reads its feature groups from slots[{j}] "
                            f"(feature_group={slot.feature_group}) and so cannot also share a featurizer")
    return None


def _class(slot: Slot) -> str:
    return f"{slot.liv_class} ({CLASSES_BY_ID[slot.liv_class].name})"

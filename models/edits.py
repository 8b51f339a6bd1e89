"""Edits of a genome: the design environment's moves, and which of them apply to a genome.

An edit is a small frozen dataclass that names slots by 0-based position. `apply_edit` returns
the edited genome (the `Genome` constructor re-checks every invariant) and rejects, with a
ValueError naming the edit, any edit that is invalid or would change nothing. `valid_edits`
lists exactly the edits `apply_edit` accepts; the environment builds its action mask from it
on every step, so it decides validity from the invariants of a valid genome instead of
building each candidate genome.

Why direct rules suffice. A valid genome uses only LIV classes buildable at its width and
heads (`width_problem`) and keeps the three sharing rules of `livgym.models.sharing`. A slot
that leaves a group (Remove, Replace, Unshare, or ShareWith moving it elsewhere) keeps the
sharing rules true for the members left behind: identical genomes stay identical, and when the
producer leaves, the next member (a consumer, so with an independent featurizer) becomes the
producer, which may share a featurizer or not. So only the slot that joins a group, the slot
that becomes a consumer, and the class whose genome changes need checking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Hashable

import numpy as np

from livgym.models.genes import DEFAULT_MAX_DEPTH, MAX_SHARING_GROUP, SharingStrategy
from livgym.models.genome import Genome
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, HYPERPARAMETER_CHOICES, ClassGenome
from livgym.models.sharing import (
    SHARING_KINDS,
    Sharing,
    SharingKind,
    SharingLayout,
    group_of,
    keeps_sharing,
    sharing_key,
)
from livgym.models.slot import Slot
from livgym.models.validation import HARD_MAX_DEPTH, trusted_construction, width_problem

_SHARED = SharingStrategy.SHARED
_INDEPENDENT = SharingStrategy.INDEPENDENT


@dataclass(frozen=True)
class Insert:
    """Insert an independent slot of `liv_class` before `position` (0..depth; depth appends)."""

    position: int
    liv_class: int


@dataclass(frozen=True)
class Replace:
    """Give slot `position` another LIV class; the slot leaves its sharing groups."""

    position: int
    liv_class: int


@dataclass(frozen=True)
class Remove:
    """Delete slot `position`; later slots move up by one."""

    position: int


@dataclass(frozen=True)
class ShareWith:
    """Slot `position` joins the `kind` sharing group of slot `other` (leaving its own).

    If `other` is in no such group, the two start a new one under the smallest free number.
    """

    position: int
    kind: SharingKind
    other: int


@dataclass(frozen=True)
class Unshare:
    """Slot `position` leaves its `kind` sharing group and becomes independent."""

    position: int
    kind: SharingKind


@dataclass(frozen=True)
class SetHyperparameter:
    """Set `gene` of the class genome of slot `position`'s LIV class, so of every slot of it.

    Operator genomes are per class, as in STAR; `value` is the gene's real value (an
    expansion of 4, a window of 64, short_conv 0 or 1), not a choice index.
    """

    position: int
    gene: str
    value: int


# Any one edit; `EDIT_TYPES` lists the same classes for isinstance checks and messages.
Edit = Insert | Replace | Remove | ShareWith | Unshare | SetHyperparameter
EDIT_TYPES: tuple[type, ...] = (Insert, Replace, Remove, ShareWith, Unshare, SetHyperparameter)


# ---- applying one edit ---------------------------------------------------------------------


def apply_edit(genome: Genome, edit: Edit, max_depth: int = DEFAULT_MAX_DEPTH, known_valid: bool = False) -> Genome:
    """The genome after `edit`, or a ValueError naming the edit and why it does not apply.

    `known_valid=True` skips re-validating the result; pass it only for an edit taken from
    `valid_edits(genome)` (or a mask proven equal to it).
    """
    apply = _APPLY.get(type(edit))
    if apply is None:
        names = ", ".join(t.__name__ for t in EDIT_TYPES)
        raise ValueError(f"{edit!r} is not an edit; expected one of {names}")
    try:
        if known_valid:
            with trusted_construction():
                return apply(genome, edit, max_depth)
        return apply(genome, edit, max_depth)
    except ValueError as err:
        raise ValueError(f"{edit!r} does not apply: {err}") from None


def _apply_insert(genome: Genome, edit: Insert, max_depth: int) -> Genome:
    _check_position(genome, edit.position, allow_end=True)
    _check_class(edit.liv_class)
    limit = _depth_limit(max_depth)
    if genome.depth >= limit:
        raise ValueError(f"depth={genome.depth} has reached max_depth={limit}")
    p = edit.position
    return replace(genome, slots=genome.slots[:p] + (Slot(int(edit.liv_class)),) + genome.slots[p:])


def _apply_replace(genome: Genome, edit: Replace, max_depth: int) -> Genome:
    _check_position(genome, edit.position)
    _check_class(edit.liv_class)
    if genome.slots[edit.position].liv_class == edit.liv_class:
        raise ValueError(f"slots[{edit.position}].liv_class is already {edit.liv_class}")
    return _with_slot(genome, edit.position, Slot(int(edit.liv_class)))


def _apply_remove(genome: Genome, edit: Remove, max_depth: int) -> Genome:
    _check_position(genome, edit.position)
    if genome.depth == 1:
        raise ValueError("the only slot of a genome cannot be removed")
    p = edit.position
    return replace(genome, slots=genome.slots[:p] + genome.slots[p + 1:])


def _apply_share_with(genome: Genome, edit: ShareWith, max_depth: int) -> Genome:
    _check_position(genome, edit.position)
    _check_position(genome, edit.other, name="other")
    _check_kind(edit.kind)
    p, o, kind = edit.position, edit.other, edit.kind
    if p == o:
        raise ValueError("a slot cannot share with itself")
    slots = list(genome.slots)
    group_p, group_o = group_of(slots[p], kind), group_of(slots[o], kind)
    if group_o is not None and group_p == group_o:
        raise ValueError(f"slots {p} and {o} already share {kind} group {group_o}")
    if group_o is None:
        group_o = Sharing.of(slots, kind).free_number(leaving=p)
        if group_o is None:
            raise ValueError(f"no free {kind} group number: all of 1..{MAX_SHARING_GROUP} are in use")
        slots[o] = _with_sharing(slots[o], kind, group_o, _SHARED)
    slots[p] = _with_sharing(slots[p], kind, group_o, _SHARED)
    return replace(genome, slots=tuple(slots))


def _apply_unshare(genome: Genome, edit: Unshare, max_depth: int) -> Genome:
    _check_position(genome, edit.position)
    _check_kind(edit.kind)
    p, kind = edit.position, edit.kind
    group = group_of(genome.slots[p], kind)
    if group is None:
        raise ValueError(f"slots[{p}] shares no {kind} group")
    if sum(group_of(s, kind) == group for s in genome.slots) < 2:
        raise ValueError(f"slots[{p}] is alone in {kind} group {group}; leaving it changes nothing")
    return _with_slot(genome, p, _with_sharing(genome.slots[p], kind, 1, _INDEPENDENT))


def _apply_set_hyperparameter(genome: Genome, edit: SetHyperparameter, max_depth: int) -> Genome:
    _check_position(genome, edit.position)
    gene, value = edit.gene, edit.value
    table = HYPERPARAMETER_CHOICES.get(gene)
    if table is None:
        raise ValueError(f"gene={gene!r} is not a hyperparameter gene; known: {list(HYPERPARAMETER_CHOICES)}")
    if not isinstance(value, (int, np.integer)) or value not in table:
        raise ValueError(f"{gene}={value!r} is not one of the allowed values {table}")
    class_id = genome.slots[edit.position].liv_class
    current = genome.class_genome(class_id)
    if gene not in current.used_genes():
        raise ValueError(f"LIV class {class_id} ({CLASSES_BY_ID[class_id].name}) does not use gene {gene!r}")
    if int(getattr(current, gene)) == value:
        raise ValueError(f"LIV class {class_id} already has {gene}={value}")
    return genome.with_class_genome(class_id, _with_gene(current, gene, int(value)))


_APPLY = {
    Insert: _apply_insert,
    Replace: _apply_replace,
    Remove: _apply_remove,
    ShareWith: _apply_share_with,
    Unshare: _apply_unshare,
    SetHyperparameter: _apply_set_hyperparameter,
}


def _check_position(genome: Genome, position: object, name: str = "position", allow_end: bool = False) -> None:
    end = genome.depth + 1 if allow_end else genome.depth
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)) or not 0 <= position < end:
        raise ValueError(f"{name}={position!r} is not a position 0..{end - 1} of a genome of depth {genome.depth}")


def _check_class(liv_class: object) -> None:
    if isinstance(liv_class, bool) or liv_class not in CLASSES_BY_ID:
        raise ValueError(f"liv_class={liv_class!r}: unknown LIV class (known: {CLASS_IDS[0]}..{CLASS_IDS[-1]})")


def _check_kind(kind: object) -> None:
    if kind not in SHARING_KINDS:
        raise ValueError(f"kind={kind!r} is not one of {SHARING_KINDS}")


def _depth_limit(max_depth: int) -> int:
    return min(max_depth, HARD_MAX_DEPTH)


def _with_slot(genome: Genome, position: int, slot: Slot) -> Genome:
    return replace(genome, slots=genome.slots[:position] + (slot,) + genome.slots[position + 1:])


def _with_sharing(slot: Slot, kind: str, group: int, strategy: SharingStrategy) -> Slot:
    if kind == "featurizer":
        return replace(slot, featurizer_group=group, featurizer_strategy=strategy)
    return replace(slot, feature_group=group, feature_strategy=strategy)


@lru_cache(maxsize=4096)
def _with_gene(genome: ClassGenome, gene: str, value: int) -> ClassGenome:
    return replace(genome, **{gene: bool(value) if gene == "short_conv" else value})


# ---- listing the valid edits ---------------------------------------------------------------


def valid_edits(genome: Genome, max_depth: int = DEFAULT_MAX_DEPTH) -> list[Edit]:
    """Every edit that `apply_edit(genome, edit, max_depth)` accepts, each changing the genome.

    Ordered by kind (Insert, Replace, Remove, ShareWith featurizer, ShareWith feature,
    Unshare, SetHyperparameter), then by position.
    """
    buildable = buildable_classes(genome.class_overrides, genome.width, genome.heads)
    classes = tuple(s.liv_class for s in genome.slots)
    layout = SharingLayout.of(genome.slots)
    edits: list[Edit] = []
    if genome.depth < _depth_limit(max_depth):
        edits.extend(_inserts(genome.depth, buildable))
    for p, class_id in enumerate(classes):
        edits.extend(_replaces(p, class_id, buildable))
    if genome.depth > 1:
        edits.extend(_removes(genome.depth))
    for kind in SHARING_KINDS:
        edits.extend(_shares(genome, layout, kind))
    edits.extend(_unshares(layout))
    edits.extend(_hyperparameter_edits(genome, layout))
    return edits


def _shares(genome: Genome, layout: SharingLayout, kind: SharingKind) -> list[Edit]:
    """ShareWith(p, kind, o) for every pair of slots whose class genomes have the same
    `sharing_key` and that `layout.may_join` allows, by position."""
    out: list[Edit] = [ShareWith(p, kind, o)
                       for bucket in _buckets(genome, lambda cg: sharing_key(cg, kind))
                       for p in bucket for o in bucket if layout.may_join(kind, p, o)]
    out.sort(key=_by_positions)
    return out


def _by_positions(edit: ShareWith) -> tuple[int, int]:
    return edit.position, edit.other


def _unshares(layout: SharingLayout) -> list[Edit]:
    """Unshare(p, kind) for every slot in a group of that kind with another member."""
    out: list[Edit] = []
    for kind in SHARING_KINDS:
        sharing = layout.kind(kind)
        out.extend(Unshare(p, kind) for p in range(len(sharing.group_of)) if not sharing.alone(p))
    out.sort(key=lambda e: e.position)
    return out


def _hyperparameter_edits(genome: Genome, layout: SharingLayout) -> list[Edit]:
    """SetHyperparameter for every used class: a used gene set to another value that keeps the
    class buildable and keeps its sharing groups valid (`gene_changes`)."""
    classes = [s.liv_class for s in genome.slots]
    fz_mixed = layout.featurizer.mixed_classes(classes)
    ft_mixed = layout.feature.mixed_classes(classes)
    out: list[Edit] = []
    for class_id in sorted(set(classes)):
        changes = gene_changes(genome.class_genome(class_id), genome.width, genome.heads,
                               class_id in fz_mixed, class_id in ft_mixed)
        positions = [p for p, c in enumerate(classes) if c == class_id]
        out.extend(SetHyperparameter(p, gene, value) for p in positions for gene, value in changes)
    out.sort(key=lambda e: e.position)
    return out


def _buckets(genome: Genome, key: Callable[[ClassGenome], Hashable | None]) -> list[list[int]]:
    """Slot positions grouped by `key(class genome)`, skipping slots whose key is None."""
    key_of_class = {c: key(genome.class_genome(c)) for c in genome.used_classes()}
    buckets: dict[object, list[int]] = {}
    for i, slot in enumerate(genome.slots):
        k = key_of_class[slot.liv_class]
        if k is not None:
            buckets.setdefault(k, []).append(i)
    return [b for b in buckets.values() if len(b) > 1]


# ---- cached pieces (edits are immutable values, so lists of them can be reused) ---------------


@lru_cache(maxsize=1024)
def buildable_classes(overrides: tuple[tuple[int, ClassGenome], ...], width: int, heads: int) -> tuple[int, ...]:
    """The class ids a slot may take at this width and heads, given the genome's overrides."""
    table = dict(overrides)
    return tuple(c for c in CLASS_IDS if _buildable(table.get(c, CLASSES_BY_ID[c].genome), width, heads))


@lru_cache(maxsize=4096)
def _buildable(genome: ClassGenome, width: int, heads: int) -> bool:
    return not genome.problems() and width_problem(genome, width, heads) is None


@lru_cache(maxsize=4096)
def gene_changes(genome: ClassGenome, width: int, heads: int, featurizer_mixed: bool = False,
                 feature_mixed: bool = False) -> tuple[tuple[str, int], ...]:
    """(gene, value) pairs that change a used hyperparameter gene of a class, keep it buildable
    and keep its slots' sharing groups valid (`keeps_sharing`; `featurizer_mixed` /
    `feature_mixed`: the class shares a group of that kind with a slot of another class id)."""
    changes = []
    for gene in genome.used_genes():
        table = HYPERPARAMETER_CHOICES.get(gene)
        if table is None:
            continue
        current = int(getattr(genome, gene))
        for value in table:
            if value == current:
                continue
            changed = _with_gene(genome, gene, value)
            if _buildable(changed, width, heads) and keeps_sharing(genome, changed, featurizer_mixed, feature_mixed):
                changes.append((gene, value))
    return tuple(changes)


@lru_cache(maxsize=HARD_MAX_DEPTH + 1)
def _inserts(depth: int, buildable: tuple[int, ...]) -> tuple[Insert, ...]:
    return tuple(Insert(p, k) for p in range(depth + 1) for k in buildable)


@lru_cache(maxsize=8192)
def _replaces(position: int, liv_class: int, buildable: tuple[int, ...]) -> tuple[Replace, ...]:
    return tuple(Replace(position, k) for k in buildable if k != liv_class)


@lru_cache(maxsize=HARD_MAX_DEPTH + 1)
def _removes(depth: int) -> tuple[Remove, ...]:
    return tuple(Remove(p) for p in range(depth))

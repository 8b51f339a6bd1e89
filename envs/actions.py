"""The design environment's flat action space: one `Discrete(n)` index per genome edit, plus stop.

Kept compact (1,292 actions at max depth 24 with 19 LIV classes) because masked PPO grows
unstable with thousands of actions (rl_ecosystem.md). Positions are 0-based slots.

| block        | actions                                      | count                   |
|--------------|----------------------------------------------|-------------------------|
| stop         | end the episode                              | 1                       |
| insert       | insert a slot of class k before position p   | (max_depth + 1) x K     |
| replace      | give slot p class k                          | max_depth x K           |
| remove       | delete slot p                                | max_depth               |
| join         | slot p joins the sharing group (featurizer or feature) of the nearest earlier slot it may share with | max_depth x 2 |
| leave        | slot p leaves its featurizer / feature group | max_depth x 2           |
| hyperparameter | move gene g of slot p's class one step down / up its choice table (expansion, repeat, window, kernel, short_conv) | max_depth x 5 x 2 |

`ActionCodec.decode(index, genome)` gives the `Edit` (None for stop); `mask(genome)` is True
exactly where the decoded edit is in `valid_edits(genome)` (stop always True), so masked
agents can only reach valid genomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from livgym.models.edits import (
    SHARING_KINDS,
    Edit,
    Insert,
    Remove,
    Replace,
    SetHyperparameter,
    ShareWith,
    Unshare,
    valid_edits,
)
from livgym.models.genes import DEFAULT_MAX_DEPTH
from livgym.models.genome import Genome
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, HYPERPARAMETER_CHOICES

HYPERPARAMETER_GENES: tuple[str, ...] = tuple(HYPERPARAMETER_CHOICES)
STEPS: tuple[int, ...] = (-1, +1)


@dataclass(frozen=True)
class ActionCodec:
    """Maps flat action indices to edits of a genome, for one max depth and class list."""

    max_depth: int = DEFAULT_MAX_DEPTH
    classes: tuple[int, ...] = CLASS_IDS

    @cached_property
    def blocks(self) -> dict[str, tuple[int, int]]:
        """Each block's (first index, size), in the order of the table above."""
        d, k = self.max_depth, len(self.classes)
        sizes = {"stop": 1, "insert": (d + 1) * k, "replace": d * k, "remove": d, "join": d * 2,
                 "leave": d * 2, "hyperparameter": d * len(HYPERPARAMETER_GENES) * len(STEPS)}
        out, start = {}, 0
        for name, size in sizes.items():
            out[name] = (start, size)
            start += size
        return out

    @property
    def n(self) -> int:
        start, size = self.blocks["hyperparameter"]
        return start + size

    def block_of(self, index: int) -> tuple[str, int]:
        """The block an index falls in and its offset inside the block."""
        if not 0 <= index < self.n:
            raise ValueError(f"action {index!r} is out of range 0..{self.n - 1}")
        for name, (start, size) in self.blocks.items():
            if index < start + size:
                return name, index - start
        raise AssertionError("unreachable")

    def describe(self, index: int) -> str:
        """A human-readable name of an action, independent of any genome."""
        block, i = self.block_of(index)
        k = len(self.classes)
        if block == "stop":
            return "stop"
        if block in ("insert", "replace"):
            p, c = divmod(i, k)
            return f"{block} {CLASSES_BY_ID[self.classes[c]].name} at {p}"
        if block == "remove":
            return f"remove {i}"
        if block in ("join", "leave"):
            p, kind = divmod(i, 2)
            return f"slot {p} {block}s {'a' if block == 'join' else 'its'} {SHARING_KINDS[kind]} group"
        p, rest = divmod(i, len(HYPERPARAMETER_GENES) * len(STEPS))
        gene, step = divmod(rest, len(STEPS))
        return f"{HYPERPARAMETER_GENES[gene]} of slot {p}'s class {'down' if STEPS[step] < 0 else 'up'}"

    def decode(self, index: int, genome: Genome) -> Edit | None:
        """The edit action `index` means for `genome` (None: stop). The edit may be invalid
        for this genome (an unmasked agent can pick it); `mask` says which are valid."""
        block, i = self.block_of(index)
        k = len(self.classes)
        if block == "stop":
            return None
        if block == "insert":
            p, c = divmod(i, k)
            return Insert(p, self.classes[c])
        if block == "replace":
            p, c = divmod(i, k)
            return Replace(p, self.classes[c])
        if block == "remove":
            return Remove(i)
        if block in ("join", "leave"):
            p, kind_index = divmod(i, 2)
            kind = SHARING_KINDS[kind_index]
            if block == "leave":
                return Unshare(p, kind)
            return ShareWith(p, kind, _nearest_partner(genome, p, kind))
        p, rest = divmod(i, len(HYPERPARAMETER_GENES) * len(STEPS))
        gene_index, step_index = divmod(rest, len(STEPS))
        gene = HYPERPARAMETER_GENES[gene_index]
        table = HYPERPARAMETER_CHOICES[gene]
        current = int(getattr(genome.slot_genome(p), gene)) if p < genome.depth else table[0]
        j = table.index(current) + STEPS[step_index] if current in table else -1
        value = table[j] if 0 <= j < len(table) else current  # off the table: a no-op, never valid
        return SetHyperparameter(p, gene, value)

    def mask(self, genome: Genome) -> np.ndarray:
        """Boolean mask over all actions: True where the decoded edit is valid (stop always)."""
        mask = np.zeros(self.n, dtype=bool)
        mask[0] = True
        index_of = self._index_of_edit(genome)
        for edit in valid_edits(genome, self.max_depth):
            index = index_of(edit)
            if index is not None:
                mask[index] = True
        return mask

    def _index_of_edit(self, genome: Genome):
        """A function from a valid edit to its action index, or None if no action encodes it
        (a ShareWith to a slot other than the nearest partner, a hyperparameter jump of more
        than one step)."""
        k = len(self.classes)
        class_pos = {c: i for i, c in enumerate(self.classes)}
        partners = {(p, kind): _nearest_partner(genome, p, kind)
                    for p in range(genome.depth) for kind in SHARING_KINDS}

        def index_of(edit: Edit) -> int | None:
            if isinstance(edit, (Insert, Replace)):
                if edit.liv_class not in class_pos:
                    return None
                start = self.blocks["insert" if isinstance(edit, Insert) else "replace"][0]
                return start + edit.position * k + class_pos[edit.liv_class]
            if isinstance(edit, Remove):
                return self.blocks["remove"][0] + edit.position
            if isinstance(edit, ShareWith):
                if partners[(edit.position, edit.kind)] != edit.other:
                    return None
                return self.blocks["join"][0] + 2 * edit.position + SHARING_KINDS.index(edit.kind)
            if isinstance(edit, Unshare):
                return self.blocks["leave"][0] + 2 * edit.position + SHARING_KINDS.index(edit.kind)
            if isinstance(edit, SetHyperparameter):
                table = HYPERPARAMETER_CHOICES[edit.gene]
                current = int(getattr(genome.slot_genome(edit.position), edit.gene))
                step = table.index(edit.value) - table.index(current)
                if step not in STEPS:
                    return None
                per_slot = len(HYPERPARAMETER_GENES) * len(STEPS)
                return (self.blocks["hyperparameter"][0] + edit.position * per_slot
                        + HYPERPARAMETER_GENES.index(edit.gene) * len(STEPS) + STEPS.index(step))
            return None

        return index_of


def _nearest_partner(genome: Genome, position: int, kind: str) -> int:
    """The nearest earlier slot whose class genome allows sharing of this kind with `position`
    (identical genome for featurizers, equal feature signature for features); `position`
    itself when there is none, which makes the join a no-op that is never valid."""
    if position >= genome.depth:
        return position
    mine = genome.slot_genome(position)
    for q in range(position - 1, -1, -1):
        other = genome.slot_genome(q)
        if kind == "featurizer" and other == mine:
            return q
        if kind == "feature" and mine.shareable_features and other.shareable_features \
                and other.feature_signature() == mine.feature_signature():
            return q
    return position

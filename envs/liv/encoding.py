"""The LIV spaces' flat integer encoding (NSGA-II's genome, Optuna's trial parameters), made dense.

`Genome.to_vector` is lossless but sparse: an empty slot must have every other gene 0, a
strategy or group gene of 0 is no genome, the class gene runs over every registered class id,
and any two slots with the same group number must have compatible classes. Of 20,000 uniform
vectors within its bounds none decoded on LIV-Bench, so a model of which vectors are good
(Optuna's TPE) learnt nothing. This encoding keeps the genome's information but gives most
vectors a meaning.

Layout, for a space of `max_depth` D with classes (c_1, ..., c_K) in the space's order:

- genes 0, 1: width and heads choice indices, pinned to the space's;
- per slot p = 0..D-1, three genes at `2 + 3p`:
  - class: 0 = empty, k = c_k (1..K). Slot 0 is never empty (low 1). The first empty slot
    ends the genome: the genes of every later slot, and the label genes of an empty slot,
    are ignored (don't care);
  - featurizer label, 0..G: 0 = the slot has its own featurizer; slots whose class genomes are
    identical (what featurizer sharing needs, `sharing_key`) and carry the same label l >= 1
    share one featurizer. A label is a name *within* one class genome, so slots of different
    class genomes never share by accident (sharing rule 1 cannot break), and a label no other
    slot of that genome carries means the same as 0;
  - feature label, 0..G: the same within one feature signature (rule 2 cannot break); the
    group's first slot produces the feature groups, the later ones consume them. A memoryless
    class has no feature groups, so the gene is ignored on its slots;
  with G = min(MAX_SHARING_GROUP, max(1, D // 2)), the most groups D slots can form;
- per registered class id (`CLASS_IDS` order), its 11 class genes (`ClassGenome.to_vector`):
  pinned where the space pins them (structure genes, genes the class ignores, classes outside
  the space; on LIV-Bench every one), free hyperparameter genes narrowed to the values that
  build at the space's width and heads. Only the classes a present slot uses are read; the
  genes of the others are ignored.

A vector decodes to None only where it encodes no design: a feature consumer whose featurizer
label joins another slot (rule 3: a consumer computes only its own C features, so it cannot
share a featurizer), more than MAX_SHARING_GROUP groups of one kind (only possible for D > 49),
a used class genome that is not buildable (an invalid combination of hyperparameters), or,
for a space that holds fewer designs (LIV-Bench's rows), a genome outside it. Nothing is
repaired beyond ignoring the don't-care genes above.

`decode` is many-to-one (labels are names; don't-care genes; distinct class ids whose genomes
coincide), and `encode` gives one canonical vector per key: class ids by an assignment that
depends only on the slots' normalised class genomes (each genome's registry class where it has
one), labels numbered by first appearance within their class genome or signature, every
ignored gene at the registry's value or 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from livgym.models.genes import HEADS, MAX_SHARING_GROUP, WIDTHS, SharingStrategy
from livgym.models.genome import Genome, Slot, width_problem
from livgym.models.registry import CLASS_GENE_NAMES, CLASS_IDS, CLASSES_BY_ID, HYPERPARAMETER_CHOICES, ClassGenome
from livgym.models.sharing import SHARING_KINDS, group_of, sharing_key

SLOT_GENES = 3  # (class, featurizer label, feature label)
CLASS_GENES = len(CLASS_GENE_NAMES)
#: positions, in a class genome's 11-gene vector, of its structure (genes no edit changes)
STRUCTURE_GENES: tuple[int, ...] = tuple(i for i, n in enumerate(CLASS_GENE_NAMES) if n not in HYPERPARAMETER_CHOICES)
_INFEASIBLE = 1e9  # assignment cost of a class that cannot hold a genome


@dataclass(frozen=True)
class LIVEncoding:
    """The dense flat encoding of LIV genomes of up to `max_depth` slots of `classes` at `width`
    and `heads` (see the module docstring); `free_hyperparameters=False` pins the whole
    class-genome table to the registry's (a space of registry class genomes only)."""

    max_depth: int
    classes: tuple[int, ...]
    width: int
    heads: int
    free_hyperparameters: bool = True

    def __post_init__(self) -> None:
        if not self.classes or any(c not in CLASSES_BY_ID for c in self.classes):
            raise ValueError(f"classes={list(self.classes)} must be known LIV class ids")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes={list(self.classes)} lists a class twice")

    # -- layout --------------------------------------------------------------------------------

    @property
    def labels(self) -> int:
        """G: the largest label gene value (the most groups `max_depth` slots can form)."""
        return min(MAX_SHARING_GROUP, max(1, self.max_depth // 2))

    @property
    def length(self) -> int:
        return 2 + SLOT_GENES * self.max_depth + CLASS_GENES * len(CLASS_IDS)

    def _table(self, k: int) -> slice:
        """Genes of the k-th registered class (`CLASS_IDS[k]`)."""
        start = 2 + SLOT_GENES * self.max_depth + CLASS_GENES * k
        return slice(start, start + CLASS_GENES)

    def crossover_points(self) -> np.ndarray:
        """Slot boundaries: before slots 1..max_depth-1, and between the last slot and the table."""
        return 2 + SLOT_GENES * np.arange(1, self.max_depth + 1)

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Inclusive (low, high) of every gene (read-only arrays)."""
        low = np.zeros(self.length, dtype=np.int64)
        high = np.zeros_like(low)
        low[0] = high[0] = WIDTHS.index(self.width) + 1
        low[1] = high[1] = HEADS.index(self.heads) + 1
        slots = 2 + SLOT_GENES * np.arange(self.max_depth)
        high[slots] = len(self.classes)
        low[slots[0]] = 1  # a genome has at least one slot
        high[slots + 1] = high[slots + 2] = self.labels
        for k, cid in enumerate(CLASS_IDS):
            genes = self._table(k)
            low[genes] = high[genes] = CLASSES_BY_ID[cid].genome.to_vector()
            for i, (a, b) in self._free[cid].items():
                low[genes.start + i], high[genes.start + i] = a, b
        low.flags.writeable = high.flags.writeable = False
        return low, high

    @cached_property
    def _free(self) -> dict[int, dict[int, tuple[int, int]]]:
        """Per registered class id, `_free_ranges` (worked out once)."""
        return {cid: self._free_ranges(cid) for cid in CLASS_IDS}

    def _free_ranges(self, cid: int) -> dict[int, tuple[int, int]]:
        """Class `cid`'s free genes (position -> inclusive range of choice indices): the
        hyperparameter genes its class uses, each narrowed to the smallest range that holds
        every value it builds with at this width and heads (the others at the registry's).
        For the registry's classes the values that build form such a range, so only a
        combination of genes can still be unbuildable (decode says None)."""
        if not self.free_hyperparameters or cid not in self.classes:
            return {}
        genome = CLASSES_BY_ID[cid].genome
        base = genome.to_vector()
        used = genome.used_genes()
        out: dict[int, tuple[int, int]] = {}
        for i, name in enumerate(CLASS_GENE_NAMES):
            if i in STRUCTURE_GENES or name not in used:
                continue
            table = HYPERPARAMETER_CHOICES[name]
            values = range(0, 2) if name == "short_conv" else range(1, len(table) + 1)
            ok = [v for v in values if _buildable(_with_gene(base, i, v), self.width, self.heads)]
            if ok and (ok[0], ok[-1]) != (base[i], base[i]):
                out[i] = (ok[0], ok[-1])
        return out

    # -- decode --------------------------------------------------------------------------------

    def decode(self, vector: Sequence[int]) -> Genome | None:
        """The genome a vector within `bounds` encodes, or None (see the module docstring)."""
        low, high = self.bounds
        try:
            x = np.asarray(vector)
        except (TypeError, ValueError):
            return None
        if x.shape != low.shape or x.dtype.kind not in "iuf" or (x.dtype.kind == "f" and not np.all(x == np.round(x))):
            return None
        x = x.astype(np.int64)
        if np.any(x < low) or np.any(x > high):
            return None
        class_ids: list[int] = []
        for p in range(self.max_depth):
            gene = int(x[2 + SLOT_GENES * p])
            if gene == 0:
                break
            class_ids.append(self.classes[gene - 1])
        genomes: dict[int, ClassGenome] = {}
        for cid in set(class_ids):
            try:
                genomes[cid] = ClassGenome.from_vector(x[self._table(CLASS_IDS.index(cid))].tolist(),
                                                       where=f"class_overrides[{cid}]")
            except ValueError:
                return None
        numbers = {kind: self._groups(x, class_ids, genomes, offset)
                   for offset, kind in enumerate(SHARING_KINDS, start=1)}
        if any(max(n, default=0) > MAX_SHARING_GROUP for n in numbers.values()):
            return None
        shared, independent = SharingStrategy.SHARED, SharingStrategy.INDEPENDENT
        slots = tuple(Slot(cid,
                           numbers["featurizer"][p] or 1, shared if numbers["featurizer"][p] else independent,
                           numbers["feature"][p] or 1, shared if numbers["feature"][p] else independent)
                      for p, cid in enumerate(class_ids))
        try:
            return Genome(slots, self.width, self.heads, tuple(genomes.items()))
        except ValueError:  # rule 3, or a combination of hyperparameters that does not build
            return None

    def _groups(self, x: np.ndarray, class_ids: list[int], genomes: dict[int, ClassGenome],
                offset: int) -> list[int]:
        """Per present slot, its group number of one kind (0: in none), numbered by first
        appearance: slots with the same label and sharing key form a group, if more than one."""
        kind = SHARING_KINDS[offset - 1]
        members: dict[tuple[object, int], list[int]] = {}
        for p, cid in enumerate(class_ids):
            label = int(x[2 + SLOT_GENES * p + offset])
            key = sharing_key(genomes[cid], kind)
            if label and key is not None:
                members.setdefault((key, label), []).append(p)
        out = [0] * len(class_ids)
        groups = sorted((m for m in members.values() if len(m) > 1), key=lambda m: m[0])
        for number, group in enumerate(groups, start=1):
            for p in group:
                out[p] = number
        return out

    # -- encode --------------------------------------------------------------------------------

    def encode(self, genome: Genome) -> np.ndarray:
        """The canonical vector of `genome`'s key (a ValueError when no vector encodes it)."""
        if (genome.width, genome.heads) != (self.width, self.heads) or not 1 <= genome.depth <= self.max_depth:
            raise ValueError(f"genome {genome.to_string()!r} is not at width={self.width}, heads={self.heads} with "
                             f"1..{self.max_depth} slots")
        canon = genome.canonical()
        normal = [canon.slot_genome(p).normalized() for p in range(canon.depth)]
        distinct = list(dict.fromkeys(normal))
        assigned = self._assign(distinct, genome)
        low, high = self.bounds
        vector = low.copy()
        for k, cid in enumerate(CLASS_IDS):  # unused classes: the registry's genes (as near as the bounds allow)
            genes = self._table(k)
            vector[genes] = np.clip(CLASSES_BY_ID[cid].genome.to_vector(), low[genes], high[genes])
        for n, (cid, table) in zip(distinct, assigned):
            vector[self._table(CLASS_IDS.index(cid))] = table
        class_of = {n: cid for n, (cid, _) in zip(distinct, assigned)}
        for p, n in enumerate(normal):
            vector[2 + SLOT_GENES * p] = self.classes.index(class_of[n]) + 1
        for offset, kind in enumerate(SHARING_KINDS, start=1):
            labels: dict[int, int] = {}  # canonical group number -> label
            per_key: dict[object, int] = {}  # sharing key -> labels used
            for p, slot in enumerate(canon.slots):
                group = group_of(slot, kind)
                if group is None:
                    continue
                if group not in labels:
                    key = sharing_key(normal[p], kind)
                    labels[group] = per_key[key] = per_key.get(key, 0) + 1
                vector[2 + SLOT_GENES * p + offset] = labels[group]
        if np.any(vector < low) or np.any(vector > high):
            gene = int(np.flatnonzero((vector < low) | (vector > high))[0])
            raise ValueError(f"genome {genome.to_string()!r}: gene {gene}={vector[gene]} is outside the encoding's "
                             f"bounds {low[gene]}..{high[gene]}")
        return vector

    def _assign(self, distinct: list[ClassGenome], genome: Genome) -> list[tuple[int, np.ndarray]]:
        """A class id of the space and its 11 table genes for each distinct normalised class
        genome of a design, one id per genome: each genome's own registry class where the
        space has it, else any class whose free genes can make it (scipy's assignment, a
        deterministic function of the genomes in their order)."""
        cost = np.full((len(distinct), len(self.classes)), _INFEASIBLE)
        tables: dict[tuple[int, int], np.ndarray] = {}
        for i, n in enumerate(distinct):
            for j, cid in enumerate(self.classes):
                table = self._table_for(cid, n)
                if table is not None:
                    tables[i, j] = table
                    cost[i, j] = 0.0 if CLASSES_BY_ID[cid].genome.normalized() == n else 1.0 + j / len(self.classes)
        from scipy.optimize import linear_sum_assignment  # here: scipy costs the CLI's start-up a second

        rows, columns = linear_sum_assignment(cost)
        if len(rows) < len(distinct) or np.any(cost[rows, columns] >= _INFEASIBLE):
            raise ValueError(f"genome {genome.to_string()!r} uses class genomes that no assignment of this space's "
                             f"classes {list(self.classes)} can hold")
        by_row = dict(zip(rows.tolist(), columns.tolist()))
        return [(self.classes[by_row[i]], tables[i, by_row[i]]) for i in range(len(distinct))]

    def _table_for(self, cid: int, normal: ClassGenome) -> np.ndarray | None:
        """Class `cid`'s table genes that make the normalised genome `normal`, or None."""
        genes = np.asarray(CLASSES_BY_ID[cid].genome.to_vector(), dtype=np.int64)
        target = normal.to_vector()
        if any(genes[i] != target[i] for i in STRUCTURE_GENES):
            return None
        for i, (a, b) in self._free[cid].items():
            if not a <= target[i] <= b:
                return None
            genes[i] = target[i]
        try:
            made = ClassGenome.from_vector(genes.tolist())
        except ValueError:
            return None
        return genes if made.normalized() == normal else None


def _with_gene(vector: tuple[int, ...], position: int, value: int) -> ClassGenome | None:
    try:
        return ClassGenome.from_vector(vector[:position] + (value,) + vector[position + 1:])
    except ValueError:
        return None


def _buildable(genome: ClassGenome | None, width: int, heads: int) -> bool:
    return genome is not None and not genome.problems() and width_problem(genome, width, heads) is None

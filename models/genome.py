"""The architecture genome: STAR's hierarchy of backbone, operator and featurizer genomes.

A `Genome` is immutable and always valid: the constructor raises a `ValueError` naming the
slot and gene at fault (`slots[3].liv_class=42: ...`; the rules are `livgym.models.validation`).
Depth is variable (1..max_depth); the search space's `max_depth` is checked where a fixed size
is needed (`to_vector`, edits).

A genome is a backbone of `Slot`s (`livgym.models.slot`), each a LIV class and its sharing
genes, plus width, heads and the class genomes that differ from the registry. Representations,
all lossless, each written in its own module:
- STAR's dashed notation, one slot per dash, then non-default width/heads and class genomes
  (`21211-31112@w64h4+3:1.2.1.2.3.1.3.0.3.2.0`; `to_string` / `from_string`,
  `livgym.models.notation`).
- A fixed-length integer vector, padded with zero slots, for observations and pymoo
  (`to_vector` / `from_vector`, `livgym.models.vector`).
- JSON (`to_json` / `from_json`, `livgym.models.genome_json`).

Sharing semantics: slots with the same group number and strategy `SHARED` share. Featurizer
sharing reuses the same featurizer Parameters (the slots' class genomes must be identical).
Feature-group sharing makes every later member of a group (a *consumer*) read the feature
groups an operator caches (K/V, recurrence inputs, convolution inputs) from the group's first
member (its *producer*), so they are computed and cached once; a consumer computes only its own
C (query) features, and so may not also share a featurizer.
Which slots may share what is decided in one place, `livgym.models.sharing`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

import numpy as np

from livgym.models.genes import DEFAULT_HEADS, DEFAULT_MAX_DEPTH, DEFAULT_WIDTH, SharingStrategy
from livgym.models.genome_json import genome_from_dict, genome_from_json, genome_to_dict
from livgym.models.notation import backbone_string, genome_from_string, genome_to_string
from livgym.models.registry import CLASS_IDS, CLASSES_BY_ID, ClassGenome
from livgym.models.sharing import group_of
from livgym.models.slot import SLOT_GENE_NAMES, Slot
from livgym.models.validation import HARD_MAX_DEPTH, construction_is_trusted, validate_genome, width_problem
from livgym.models.vector import genome_from_vector, genome_to_vector, vector_length

# The genome and its slot, plus the names other packages import from here with them.
__all__ = ["HARD_MAX_DEPTH", "SLOT_GENE_NAMES", "Genome", "Slot", "vector_length", "width_problem"]

_SHARED = SharingStrategy.SHARED


@dataclass(frozen=True)
class Genome:
    """A backbone of slots plus global hyperparameters and per-class genome overrides.

    `class_overrides` holds the operator/featurizer genomes that differ from the registry's
    rows, as sorted (class id, ClassGenome) pairs; entries equal to the registry are dropped,
    so two genomes that mean the same thing compare equal.
    """

    slots: tuple[Slot, ...]
    width: int = DEFAULT_WIDTH
    heads: int = DEFAULT_HEADS
    class_overrides: tuple[tuple[int, ClassGenome], ...] = ()
    _class_table: dict[int, ClassGenome] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.slots, (tuple, list)):
            raise ValueError(f"slots={self.slots!r} must be a sequence of slots")
        slots = tuple(_python_ints(s if isinstance(s, Slot) else _as_slot(s, i)) for i, s in enumerate(self.slots))
        object.__setattr__(self, "slots", slots)
        object.__setattr__(self, "width", _python_int(self.width))
        object.__setattr__(self, "heads", _python_int(self.heads))
        overrides = _as_overrides(self.class_overrides)
        for cid in overrides:
            if cid not in CLASSES_BY_ID:
                raise ValueError(f"class_overrides: unknown LIV class {cid!r} (known: {CLASS_IDS[0]}..{CLASS_IDS[-1]})")
        kept = tuple(sorted((c, g) for c, g in overrides.items() if g != CLASSES_BY_ID[c].genome))
        object.__setattr__(self, "class_overrides", kept)
        table = {c: row.genome for c, row in CLASSES_BY_ID.items()}
        table.update(kept)
        object.__setattr__(self, "_class_table", table)
        if not construction_is_trusted():
            validate_genome(self)

    # ---- queries -------------------------------------------------------------------------

    def __hash__(self) -> int:
        # Computed once: the design env looks genomes up in several memos on every step.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.slots, self.width, self.heads, self.class_overrides))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    @property
    def depth(self) -> int:
        return len(self.slots)

    def class_genome(self, class_id: int) -> ClassGenome:
        """The operator/featurizer genome of a LIV class in this genome (override or registry)."""
        return self._class_table[class_id]

    def slot_genome(self, position: int) -> ClassGenome:
        return self._class_table[self.slots[position].liv_class]

    def used_classes(self) -> tuple[int, ...]:
        return tuple(sorted({s.liv_class for s in self.slots}))

    def featurizer_source(self, position: int) -> int:
        """The first slot whose featurizer this slot uses (itself if it shares none)."""
        return self._group_source(position, "featurizer")

    def feature_source(self, position: int) -> int:
        """The producer whose feature groups this slot reads (itself if it is not a consumer)."""
        return self._group_source(position, "feature")

    def _group_source(self, position: int, kind: str) -> int:
        """The first member of the slot's group of `kind` (the slot itself if it is in none)."""
        group = group_of(self.slots[position], kind)
        if group is None:
            return position
        return next(i for i, other in enumerate(self.slots) if group_of(other, kind) == group)

    def with_width(self, width: int, heads: int | None = None) -> Genome:
        """The same architecture at another width (and optionally head count)."""
        return replace(self, width=width, heads=self.heads if heads is None else heads)

    def with_class_genome(self, class_id: int, genome: ClassGenome) -> Genome:
        overrides = dict(self.class_overrides)
        overrides[class_id] = genome
        return replace(self, class_overrides=tuple(overrides.items()))

    # ---- canonical form ------------------------------------------------------------------

    def canonical(self) -> Genome:
        """Sharing groups renumbered by first appearance, singleton groups made independent,
        unused group genes set to 1: a genome that builds the same network as this one."""
        fz = _canonical_groups([group_of(s, "featurizer") for s in self.slots])
        ft = _canonical_groups([group_of(s, "feature") for s in self.slots])
        slots = tuple(
            Slot(s.liv_class,
                 fz[i] or 1, _SHARED if fz[i] else SharingStrategy.INDEPENDENT,
                 ft[i] or 1, _SHARED if ft[i] else SharingStrategy.INDEPENDENT)
            for i, s in enumerate(self.slots))
        used = set(self.used_classes())
        overrides = tuple((c, g) for c, g in self.class_overrides if c in used)
        return replace(self, slots=slots, class_overrides=overrides)

    def canonical_hash(self) -> str:
        """A 16-hex-digit key, equal for genomes that build the same network.

        Slots are described by their normalised class genome (not the class id), so two class
        ids with identical genomes hash alike; unused genes and group numbering are ignored.
        """
        canon = self.canonical()
        body = {
            "w": self.width,
            "h": self.heads,
            "s": [[list(canon.slot_genome(i).normalized().to_vector()),
                   group_of(s, "featurizer") or 0,
                   group_of(s, "feature") or 0]
                  for i, s in enumerate(canon.slots)],
        }
        return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()[:16]

    # ---- representations -----------------------------------------------------------------

    def backbone_string(self) -> str:
        """STAR's dashed notation for the backbone alone, e.g. `21211-31112`."""
        return backbone_string(self.slots)

    def to_string(self) -> str:
        """Lossless text form: the backbone, then `@wWhH` and `+id:genes` where not default."""
        return genome_to_string(self)

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> Genome:
        """The genome of a `to_string` text; every number in it is written in ASCII digits."""
        return genome_from_string(cls, text)

    def to_vector(self, max_depth: int = DEFAULT_MAX_DEPTH) -> np.ndarray:
        """`[width index, heads index] + 5 genes x max_depth slots (zero-padded) + 11 genes x
        every registered class`, as int64. Fixed length for a given max_depth."""
        return genome_to_vector(self, max_depth)

    @classmethod
    def from_vector(cls, vector: Iterable[int], max_depth: int = DEFAULT_MAX_DEPTH) -> Genome:
        """The genome of a `to_vector` vector; a gene that is not an integer (NaN, inf, 2.5, text)
        is an error naming its position and gene."""
        return genome_from_vector(cls, vector, max_depth)

    def to_dict(self) -> dict[str, object]:
        return genome_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], where: str = "genome JSON") -> Genome:
        return genome_from_dict(cls, data, where)

    @classmethod
    def from_json(cls, text: str) -> Genome:
        return genome_from_json(cls, text)


# ---- construction helpers ------------------------------------------------------------------


def _canonical_groups(groups: list[int | None]) -> list[int | None]:
    counts: dict[int, int] = {}
    for g in groups:
        if g is not None:
            counts[g] = counts.get(g, 0) + 1
    renumber: dict[int, int] = {}
    out: list[int | None] = []
    for g in groups:
        if g is None or counts[g] < 2:
            out.append(None)
        else:
            out.append(renumber.setdefault(g, len(renumber) + 1))
    return out


def _python_int(value: object) -> object:
    """A numpy integer as a Python int (anything else unchanged, for validation to judge):
    numpy genes, as from an action array, would otherwise break `to_json`."""
    return int(value) if isinstance(value, np.integer) else value


_PLAIN_INTS = (int, SharingStrategy)


def _python_ints(slot: Slot) -> Slot:
    genes = (slot.liv_class, slot.featurizer_group, slot.featurizer_strategy, slot.feature_group, slot.feature_strategy)
    if all(type(g) in _PLAIN_INTS for g in genes):  # the common case, checked cheaply: this runs per slot per genome
        return slot
    if not any(isinstance(g, np.integer) for g in genes):
        return slot
    return Slot(*(_python_int(g) for g in genes))  # type: ignore[arg-type]


def _as_slot(genes: object, index: int) -> Slot:
    """A slot given as a sequence of its genes."""
    if not isinstance(genes, (tuple, list)) or not 1 <= len(genes) <= len(SLOT_GENE_NAMES):
        raise ValueError(f"slots[{index}]={genes!r} must be a Slot or 1..{len(SLOT_GENE_NAMES)} genes "
                         f"{SLOT_GENE_NAMES}")
    return Slot(*genes)


def _as_overrides(pairs: object) -> dict[int, ClassGenome]:
    """Class overrides given as (class id, ClassGenome) pairs (or a mapping of them)."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    try:
        overrides = dict(items)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"class_overrides={pairs!r} must be (class id, class genome) pairs") from None
    for cid, genome in overrides.items():
        if not isinstance(genome, ClassGenome):
            raise ValueError(f"class_overrides[{cid!r}]={genome!r} must be a ClassGenome")
    return overrides

"""The architecture genome: STAR's hierarchy of backbone, operator and featurizer genomes.

A `Genome` is immutable and always valid: the constructor raises a `ValueError` naming the
slot and gene at fault (`slots[3].liv_class=42: ...`). Depth is variable (1..max_depth); the
search space's `max_depth` is checked where a fixed size is needed (`to_vector`, edits).

Representations, all lossless:
- STAR's dashed notation, one slot per dash: `21211-31112-21221-32112`. A slot's five genes are
  (LIV class, featurizer-sharing group, featurizer-sharing strategy, feature-group-sharing group,
  feature-group-sharing strategy); a slot with a value above 9 is written with dots (`12.1.1.1.1`).
  Non-default width/heads follow `@` (`@w768h12`), and class genomes that differ from the
  registry follow `+` (`+3:1.2.1.2.3.1.3.0.3.2.0`, the class's 11-integer vector).
- A fixed-length integer vector (`to_vector`), padded with zero slots, for observations and pymoo.
- JSON (`to_json` / `from_json`).

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
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

import numpy as np

from livgym.models.genes import (
    DEFAULT_HEADS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_WIDTH,
    HEADS,
    MAX_SHARING_GROUP,
    WIDTHS,
    ChannelMixing,
    Nonlinearity,
    SharingStrategy,
    TokenMixing,
    choice_index,
    choice_value,
)
from livgym.models.registry import CLASS_GENE_NAMES, CLASS_IDS, CLASSES_BY_ID, ClassGenome
from livgym.models.sharing import group_of, sharing_problem

SLOT_GENE_NAMES: tuple[str, ...] = (
    "liv_class", "featurizer_group", "featurizer_strategy", "feature_group", "feature_strategy",
)
HARD_MAX_DEPTH = 512  # a sanity bound on any genome; search spaces use a smaller max_depth
JSON_FORMAT = "livgym.genome/1"
_SHARED = SharingStrategy.SHARED


@dataclass(frozen=True)
class Slot:
    """One backbone slot: a LIV class and its two sharing (group, strategy) gene pairs."""

    liv_class: int
    featurizer_group: int = 1
    featurizer_strategy: int = SharingStrategy.INDEPENDENT
    feature_group: int = 1
    feature_strategy: int = SharingStrategy.INDEPENDENT

    @property
    def shares_featurizer(self) -> bool:
        return self.featurizer_strategy == _SHARED

    @property
    def shares_features(self) -> bool:
        return self.feature_strategy == _SHARED

    def genes(self) -> tuple[int, int, int, int, int]:
        return (self.liv_class, self.featurizer_group, int(self.featurizer_strategy),
                self.feature_group, int(self.feature_strategy))

    def independent(self) -> Slot:
        """The same class with both sharing pairs reset to independent."""
        return Slot(self.liv_class)


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
        if not _TRUSTED.get():
            _validate(self)

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

    # ---- STAR notation -------------------------------------------------------------------

    def backbone_string(self) -> str:
        """STAR's dashed notation for the backbone alone, e.g. `21211-31112`."""
        return "-".join(_slot_token(s.genes()) for s in self.slots)

    def to_string(self) -> str:
        """Lossless text form: the backbone, then `@wWhH` and `+id:genes` where not default."""
        text = self.backbone_string()
        if (self.width, self.heads) != (DEFAULT_WIDTH, DEFAULT_HEADS):
            text += f"@w{self.width}h{self.heads}"
        for cid, genome in self.class_overrides:
            text += f"+{cid}:" + ".".join(str(v) for v in genome.to_vector())
        return text

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> Genome:
        """The genome of a `to_string` text; every number in it is written in ASCII digits."""
        if not isinstance(text, str):
            raise ValueError(f"a genome string must be text, got {type(text).__name__}: {text!r}")
        text = text.strip()
        if not text:
            raise ValueError("empty genome string")
        body, *override_parts = text.split("+")
        backbone, _, globals_part = body.partition("@")
        width, heads = DEFAULT_WIDTH, DEFAULT_HEADS
        if globals_part:
            width, heads = _parse_globals(globals_part)
        slots = []
        for i, token in enumerate(backbone.split("-")):
            slots.append(Slot(*_parse_slot_token(token, i)))
        overrides = []
        for part in override_parts:
            cid_text, sep, genes = part.partition(":")
            if not sep or not _is_digits(cid_text):
                raise ValueError(f"class override {part!r}: expected '<class id>:<11 dot-separated genes>'")
            cid = _digits_int(cid_text, "class override id")
            if not all(_is_digits(v) for v in genes.split(".")):
                raise ValueError(f"class override {part!r}: genes must be integers in ASCII digits")
            values = [_digits_int(v, f"class_overrides[{cid}] gene") for v in genes.split(".")]
            overrides.append((cid, ClassGenome.from_vector(values, where=f"class_overrides[{cid}]")))
        return cls(tuple(slots), width=width, heads=heads, class_overrides=tuple(overrides))

    # ---- flat integer vector ---------------------------------------------------------------

    def to_vector(self, max_depth: int = DEFAULT_MAX_DEPTH) -> np.ndarray:
        """`[width index, heads index] + 5 genes x max_depth slots (zero-padded) + 11 genes x
        every registered class`, as int64. Fixed length for a given max_depth."""
        if self.depth > max_depth:
            raise ValueError(f"depth={self.depth} exceeds max_depth={max_depth}")
        vec = np.zeros(vector_length(max_depth), dtype=np.int64)
        vec[0] = choice_index(WIDTHS, self.width, "width")
        vec[1] = choice_index(HEADS, self.heads, "heads")
        for i, slot in enumerate(self.slots):
            vec[2 + 5 * i: 7 + 5 * i] = slot.genes()
        base = 2 + 5 * max_depth
        for k, cid in enumerate(CLASS_IDS):
            vec[base + 11 * k: base + 11 * (k + 1)] = self._class_table[cid].to_vector()
        return vec

    @classmethod
    def from_vector(cls, vector: Iterable[int], max_depth: int = DEFAULT_MAX_DEPTH) -> Genome:
        """The genome of a `to_vector` vector; a gene that is not an integer (NaN, inf, 2.5, text)
        is an error naming its position and gene."""
        if isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)) or max_depth < 1:
            raise ValueError(f"max_depth={max_depth!r} must be a positive integer")
        vec = _vector_ints(vector, int(max_depth))
        if len(vec) != vector_length(max_depth):
            raise ValueError(f"vector has length {len(vec)}, expected {vector_length(max_depth)} for max_depth={max_depth}")
        width = choice_value(WIDTHS, vec[0], "width")
        heads = choice_value(HEADS, vec[1], "heads")
        slots = []
        for i in range(max_depth):
            genes = vec[2 + 5 * i: 7 + 5 * i]
            if genes[0] == 0:
                if any(genes):
                    raise ValueError(f"slots[{i}]: an empty slot (liv_class=0) must have all genes 0, got {genes}")
                continue
            if len(slots) != i:
                raise ValueError(f"slots[{i}]: follows an empty slot; slots must be contiguous from 0")
            slots.append(Slot(*genes))
        base = 2 + 5 * max_depth
        overrides = [(cid, ClassGenome.from_vector(vec[base + 11 * k: base + 11 * (k + 1)],
                                                   where=f"class_overrides[{cid}]"))
                     for k, cid in enumerate(CLASS_IDS)]
        return cls(tuple(slots), width=width, heads=heads, class_overrides=tuple(overrides))

    # ---- JSON ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        return {
            "format": JSON_FORMAT,
            "notation": self.to_string(),
            "width": self.width,
            "heads": self.heads,
            "slots": [dict(zip(SLOT_GENE_NAMES, s.genes())) for s in self.slots],
            "class_overrides": {str(c): g.to_dict() for c, g in self.class_overrides},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], where: str = "genome JSON") -> Genome:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}: {data!r}")
        known = {"format", "notation", "width", "heads", "slots", "class_overrides"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
        if data.get("format", JSON_FORMAT) != JSON_FORMAT:
            raise ValueError(f"{where}: format={data['format']!r}, expected {JSON_FORMAT!r}")
        if "slots" not in data:
            raise ValueError(f"{where}: missing key 'slots'")
        if not isinstance(data["slots"], (list, tuple)):
            raise ValueError(f"{where}: slots={data['slots']!r} must be a list of slots")
        slots = []
        for i, entry in enumerate(data["slots"]):  # type: ignore[union-attr]
            if isinstance(entry, Mapping):
                extra = set(entry) - set(SLOT_GENE_NAMES)
                if extra:
                    raise ValueError(f"{where}: slots[{i}] has unknown gene(s) {sorted(extra)}; known: {list(SLOT_GENE_NAMES)}")
                if "liv_class" not in entry:
                    raise ValueError(f"{where}: slots[{i}] is missing 'liv_class'")
                slots.append(Slot(**{k: _as_int(v, f"slots[{i}].{k}") for k, v in entry.items()}))
            elif isinstance(entry, (list, tuple)) and 1 <= len(entry) <= len(SLOT_GENE_NAMES):
                slots.append(Slot(*(_as_int(v, f"slots[{i}].{name}") for name, v in zip(SLOT_GENE_NAMES, entry))))
            else:
                raise ValueError(f"{where}: slots[{i}]={entry!r} must be an object of genes {list(SLOT_GENE_NAMES)} "
                                 f"or a list of 1..{len(SLOT_GENE_NAMES)} of them")
        given = data.get("class_overrides") or {}
        if not isinstance(given, Mapping):
            raise ValueError(f"{where}: class_overrides={given!r} must be an object of class id -> class genome")
        overrides = []
        for key, genes in given.items():
            cid = _as_int(key, "class_overrides key")
            if not isinstance(genes, Mapping):
                raise ValueError(f"{where}: class_overrides[{cid}]={genes!r} must be an object of class genes")
            overrides.append((cid, ClassGenome.from_dict(dict(genes), where=f"class_overrides[{cid}]")))
        genome = cls(tuple(slots), width=_as_int(data.get("width", DEFAULT_WIDTH), "width"),
                     heads=_as_int(data.get("heads", DEFAULT_HEADS), "heads"),
                     class_overrides=tuple(overrides))
        notation = data.get("notation")
        if notation is not None and notation != genome.to_string():
            raise ValueError(f"{where}: notation={notation!r} disagrees with the slots, which read {genome.to_string()!r}")
        return genome

    @classmethod
    def from_json(cls, text: str) -> Genome:
        if not isinstance(text, (str, bytes, bytearray)):
            raise ValueError(f"genome JSON must be text, got {type(text).__name__}")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, bad UTF-8, a number too long
            raise ValueError(f"genome JSON is not valid JSON: {err}") from None
        if not isinstance(data, dict):
            raise ValueError("genome JSON must be an object")
        return cls.from_dict(data)


def vector_length(max_depth: int = DEFAULT_MAX_DEPTH) -> int:
    return 2 + 5 * max_depth + len(CLASS_GENE_NAMES) * len(CLASS_IDS)


def vector_bounds(max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive per-gene (low, high) of the flat vector, e.g. for pymoo's integer variables."""
    from livgym.models.genes import EXPANSIONS, KERNELS, REPEATS, WINDOWS

    low = np.zeros(vector_length(max_depth), dtype=np.int64)
    high = np.zeros_like(low)
    low[:2] = 1
    high[:2] = (len(WIDTHS), len(HEADS))
    for i in range(max_depth):
        high[2 + 5 * i: 7 + 5 * i] = (len(CLASS_IDS), MAX_SHARING_GROUP, 2, MAX_SHARING_GROUP, 2)
    class_low = (1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0)
    class_high = (3, 4, 2, 4, 3, len(EXPANSIONS), len(REPEATS), 1, len(WINDOWS), len(KERNELS), 1)
    base = 2 + 5 * max_depth
    for k in range(len(CLASS_IDS)):
        low[base + 11 * k: base + 11 * (k + 1)] = class_low
        high[base + 11 * k: base + 11 * (k + 1)] = class_high
    return low, high


# ---- validation ----------------------------------------------------------------------------

_TRUSTED: ContextVar[bool] = ContextVar("livgym_genome_trusted", default=False)


@contextmanager
def trusted_construction():
    """Skip `_validate` for genomes built inside this block.

    Only for code that has already proved the result valid by other means: the design env
    applies an action its (property-tested) mask allows, which would otherwise pay for a full
    re-validation on every step.
    """
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)



def _validate(genome: Genome) -> None:
    if not 1 <= genome.depth <= HARD_MAX_DEPTH:
        raise ValueError(f"depth={genome.depth}: a genome has 1..{HARD_MAX_DEPTH} slots")
    if genome.width not in WIDTHS:
        raise ValueError(f"width={genome.width!r} is not one of the allowed values {WIDTHS}")
    if genome.heads not in HEADS:
        raise ValueError(f"heads={genome.heads!r} is not one of the allowed values {HEADS}")
    if genome.width % genome.heads:
        raise ValueError(f"width={genome.width} is not divisible by heads={genome.heads}")
    for cid, cg in genome.class_overrides:
        problems = cg.problems()
        if problems:
            raise ValueError(f"class_overrides[{cid}].{problems[0]}")
    for i, slot in enumerate(genome.slots):
        for name, value in zip(SLOT_GENE_NAMES, slot.genes()):
            if not isinstance(value, (int, np.integer)):
                raise ValueError(f"slots[{i}].{name}={value!r} must be an integer")
        if slot.liv_class not in CLASSES_BY_ID:
            raise ValueError(f"slots[{i}].liv_class={slot.liv_class!r}: unknown LIV class "
                             f"(known: {CLASS_IDS[0]}..{CLASS_IDS[-1]})")
        for name in ("featurizer_strategy", "feature_strategy"):
            if getattr(slot, name) not in (1, 2):
                raise ValueError(f"slots[{i}].{name}={getattr(slot, name)!r} must be 1 (independent) or 2 (shared)")
        for name in ("featurizer_group", "feature_group"):
            if not 1 <= getattr(slot, name) <= MAX_SHARING_GROUP:
                raise ValueError(f"slots[{i}].{name}={getattr(slot, name)!r} is out of range 1..{MAX_SHARING_GROUP}")
    for cid in genome.used_classes():
        problem = width_problem(genome.class_genome(cid), genome.width, genome.heads)
        if problem:
            first = next(i for i, s in enumerate(genome.slots) if s.liv_class == cid)
            raise ValueError(f"slots[{first}].liv_class={cid} ({CLASSES_BY_ID[cid].name}): {problem}")
    problem = sharing_problem(genome.slots, [genome.slot_genome(i) for i in range(genome.depth)])
    if problem:
        raise ValueError(problem)


def width_problem(cg: ClassGenome, width: int, heads: int) -> str | None:
    """Why a class genome cannot be built at this width and head count, or None."""
    if cg.mixing == TokenMixing.LOW_RANK:
        h = heads if cg.channels == ChannelMixing.GROUPED else 1
        inner = cg.expansion * width
        if inner % h:
            return f"expansion={cg.expansion} x width={width} is not divisible by {h} heads"
        if cg.uses_repeat and h % cg.repeat:
            return f"repeat={cg.repeat} does not divide heads={h}"
        if cg.nonlinearity != Nonlinearity.NONE and (inner // h) % 2:
            return f"head dimension {inner // h} is odd; rotary embeddings need an even one"
    if cg.mixing == TokenMixing.SEMI_SEPARABLE and cg.channels == ChannelMixing.GROUPED and width % heads:
        return f"width={width} is not divisible by heads={heads}"
    return None


# ---- notation helpers ----------------------------------------------------------------------


def _slot_token(genes: tuple[int, ...]) -> str:
    if all(0 <= g <= 9 for g in genes):
        return "".join(str(g) for g in genes)
    return ".".join(str(g) for g in genes)


def _parse_slot_token(token: str, index: int) -> tuple[int, ...]:
    token = token.strip()
    parts = token.split(".") if "." in token else list(token)
    if len(parts) != 5 or not all(_is_digits(p) for p in parts):
        raise ValueError(f"slots[{index}]={token!r}: expected 5 genes {SLOT_GENE_NAMES}, "
                         "written as 5 digits (21211) or 5 dot-separated integers (12.1.1.1.1)")
    return tuple(_digits_int(p, f"slots[{index}].{name}") for name, p in zip(SLOT_GENE_NAMES, parts))


def _parse_globals(text: str) -> tuple[int, int]:
    import re

    match = re.fullmatch(r"w([0-9]+)h([0-9]+)", text)
    if not match:
        raise ValueError(f"genome globals {text!r}: expected 'w<width>h<heads>', e.g. 'w768h12'")
    return _digits_int(match.group(1), "width"), _digits_int(match.group(2), "heads")


_MAX_DIGITS = 18  # longer numbers are out of every gene's range (and near Python's int-parsing limit)


def _is_digits(text: str) -> bool:
    """Whether `text` is a non-negative integer in ASCII digits (`str.isdigit` also takes "٣" or "²")."""
    return text.isascii() and text.isdigit()


def _digits_int(text: str, where: str) -> int:
    if len(text) > _MAX_DIGITS:
        raise ValueError(f"{where}={text[:_MAX_DIGITS]}...: a number of {len(text)} digits is out of range")
    return int(text)


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


def _as_int(value: object, where: str) -> int:
    """An integer from JSON: an int, an integral finite float (2.0) or ASCII digits (an object key)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _is_digits(value.strip()):
        return _digits_int(value.strip(), where)
    raise ValueError(f"{where}={value!r} must be an integer")


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


def _vector_gene(index: int, max_depth: int) -> str:
    """The name of a flat vector's entry (see `Genome.to_vector`)."""
    if index < 2:
        return ("width index", "heads index")[index]
    if index < 2 + 5 * max_depth:
        slot, gene = divmod(index - 2, 5)
        return f"slots[{slot}].{SLOT_GENE_NAMES[gene]}"
    k, gene = divmod(index - 2 - 5 * max_depth, len(CLASS_GENE_NAMES))
    cid = CLASS_IDS[k] if k < len(CLASS_IDS) else "?"
    return f"class_overrides[{cid}].{CLASS_GENE_NAMES[gene]}"


def _vector_ints(vector: Iterable[int], max_depth: int) -> list[int]:
    """A flat vector's genes as Python ints; an entry that is not an integer is named."""
    if isinstance(vector, np.ndarray) and vector.dtype.kind in "iu":  # the common case: no entry to check
        return [int(v) for v in vector.reshape(-1)]
    if isinstance(vector, (str, bytes, Mapping)) or not isinstance(vector, Iterable):
        raise ValueError(f"a genome vector must be a sequence of integers, got {type(vector).__name__}")
    out = []
    for i, value in enumerate(vector):
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            out.append(int(value))
        elif isinstance(value, (float, np.floating)) and float(value).is_integer():
            out.append(int(value))
        else:
            raise ValueError(f"vector[{i}] ({_vector_gene(i, max_depth)})={value!r} must be an integer")
    return out

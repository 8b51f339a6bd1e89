"""The LIV class table: each class is a row of data, an operator genome plus a featurizer genome.

A class that combines supported structures is a new row in `LIV_CLASSES`, not new code: the
compiler builds any `ClassGenome` that `ClassGenome.problems()` accepts.

Meaning of the featurizer genes, per token-mixing structure:

| structure      | `expansion` means                            | `repeat` means                  |
|----------------|----------------------------------------------|---------------------------------|
| diagonal       | hidden width / model width (SwiGLU: 4)       | unused                          |
| low-rank       | Q/K/V width / model width                    | K/V shared by `repeat` heads    |
| Toeplitz       | convolved feature width / model width        | unused                          |
| semi-separable | state size per channel (Rec-1: 16, Rec-2: 2) | unused                          |

`short_conv` adds a causal depthwise convolution (FEATURIZER_CONV_KERNEL taps) to every feature
group the featurizer computes; `window` is used only with banded sparsity, `kernel` only with
the explicit short-filter featurizer; `differential` makes y = op_a(x) - lambda * op_b(x).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from livgym.known_names import check_known
from livgym.models.genes import (
    EXPANSIONS,
    KERNELS,
    REPEATS,
    WINDOWS,
    ChannelMixing,
    FeaturizerClass,
    Nonlinearity,
    Sparsity,
    TokenMixing,
    choice_index,
    choice_value,
)

# Field order of a class genome, as it appears in the flat vector and in class-override strings.
CLASS_GENE_NAMES: tuple[str, ...] = (
    "featurizer", "mixing", "sparsity", "nonlinearity", "channels",
    "expansion", "repeat", "short_conv", "window", "kernel", "differential",
)
# Hyperparameter genes an edit may change, with their choice tables.
HYPERPARAMETER_CHOICES: dict[str, tuple[int, ...]] = {
    "expansion": EXPANSIONS,
    "repeat": REPEATS,
    "window": WINDOWS,
    "kernel": KERNELS,
    "short_conv": (0, 1),
}
_ENUMS = {
    "featurizer": FeaturizerClass,
    "mixing": TokenMixing,
    "sparsity": Sparsity,
    "nonlinearity": Nonlinearity,
    "channels": ChannelMixing,
}


@lru_cache(maxsize=65536)
def _class_genome_from_vector(cls: type, values: tuple[int, ...], where: str) -> ClassGenome:
    return cls._from_vector(values, where)


@dataclass(frozen=True)
class ClassGenome:
    """STAR's operator genome (first five genes) and featurizer genome (the rest) of one LIV class."""

    featurizer: FeaturizerClass
    mixing: TokenMixing
    sparsity: Sparsity = Sparsity.NONE
    nonlinearity: Nonlinearity = Nonlinearity.NONE
    channels: ChannelMixing = ChannelMixing.GROUPED
    expansion: int = 1
    repeat: int = 1
    short_conv: bool = False
    window: int = 64
    kernel: int = 3
    differential: bool = False

    def __post_init__(self) -> None:
        # Accept plain integers for the structural genes (as parsed from JSON or a vector);
        # a value no enum knows is kept as is and reported by `problems()`.
        for name, enum in _ENUMS.items():
            value = getattr(self, name)
            if not isinstance(value, enum):
                try:
                    object.__setattr__(self, name, enum(value))
                except ValueError:
                    pass
        for name in ("short_conv", "differential"):
            value = getattr(self, name)
            if not isinstance(value, bool) and value in (0, 1):
                object.__setattr__(self, name, bool(value))

    def problems(self) -> list[str]:
        """Every reason this combination of structures is not buildable, as 'gene=value: why'."""
        out: list[str] = []
        for name, enum in _ENUMS.items():
            value = getattr(self, name)
            if not isinstance(value, enum):
                try:
                    enum(value)
                except ValueError:
                    out.append(f"{name}={value!r}: not one of {[int(e) for e in enum]}")
        if out:
            return out
        for name, table in HYPERPARAMETER_CHOICES.items():
            if int(getattr(self, name)) not in table:
                out.append(f"{name}={getattr(self, name)!r}: not one of {table}")
        m = self.mixing
        allowed = _ALLOWED[m]
        for name in ("featurizer", "sparsity", "nonlinearity", "channels"):
            value = getattr(self, name)
            if value not in allowed[name]:
                ok = ", ".join(v.name.lower() for v in allowed[name])
                out.append(f"{name}={value.name.lower()}: {m.name.lower()} mixing allows {ok}")
        if m == TokenMixing.LOW_RANK and self.nonlinearity == Nonlinearity.NONE and self.sparsity != Sparsity.NONE:
            out.append("sparsity=banded: linear attention (nonlinearity none) is supported unbanded only")
        if m == TokenMixing.DIAGONAL and self.differential:
            out.append("differential=1: a memoryless unit has no differential variant")
        return out

    @property
    def uses_window(self) -> bool:
        return self.sparsity == Sparsity.BANDED

    @property
    def uses_kernel(self) -> bool:
        return self.featurizer == FeaturizerClass.SHORT_FILTER

    @property
    def uses_repeat(self) -> bool:
        return self.mixing == TokenMixing.LOW_RANK and self.channels == ChannelMixing.GROUPED

    @property
    def has_cache(self) -> bool:
        """Whether decoding keeps any state: only memoryless units without a featurizer conv do not."""
        return self.mixing != TokenMixing.DIAGONAL or self.short_conv

    @property
    def shareable_features(self) -> bool:
        """Whether feature-group sharing means anything: memoryless units keep no token-mixing state."""
        return self.mixing != TokenMixing.DIAGONAL

    def used_genes(self) -> tuple[str, ...]:
        """The genes that change the built network; the rest are ignored by canonical hashing."""
        skip = set()
        if not self.uses_window:
            skip.add("window")
        if not self.uses_kernel:
            skip.add("kernel")
        if not self.uses_repeat:
            skip.add("repeat")
        return tuple(n for n in CLASS_GENE_NAMES if n not in skip)

    def normalized(self) -> ClassGenome:
        """The same operator with unused genes set to fixed values (for canonical hashing)."""
        return _normalized(self)

    def feature_signature(self) -> ClassGenome:
        """What must match for two slots to share feature groups: everything but `short_conv`,
        which only changes how a slot computes its own (unshared) C features."""
        return replace(self.normalized(), short_conv=False)

    def to_vector(self) -> tuple[int, ...]:
        """The 11 integers of this class genome (hyperparameters as 1-based choice indices)."""
        return (
            int(self.featurizer), int(self.mixing), int(self.sparsity), int(self.nonlinearity),
            int(self.channels),
            choice_index(EXPANSIONS, self.expansion, "expansion"),
            choice_index(REPEATS, self.repeat, "repeat"),
            int(bool(self.short_conv)),
            choice_index(WINDOWS, self.window, "window"),
            choice_index(KERNELS, self.kernel, "kernel"),
            int(bool(self.differential)),
        )

    @classmethod
    def from_vector(cls, values: tuple[int, ...] | list[int], where: str = "class genome") -> ClassGenome:
        # Class genomes are immutable and a search decodes the same few vectors constantly
        # (NSGA-II decodes every genome's 19 class tables per comparison): memoise them.
        return _class_genome_from_vector(cls, tuple(int(x) for x in values), where)

    @classmethod
    def _from_vector(cls, values: tuple[int, ...], where: str) -> ClassGenome:
        if len(values) != len(CLASS_GENE_NAMES):
            raise ValueError(f"{where}: expected {len(CLASS_GENE_NAMES)} genes {CLASS_GENE_NAMES}, got {len(values)}")
        v = [int(x) for x in values]
        try:
            genome = cls(
                featurizer=FeaturizerClass(v[0]), mixing=TokenMixing(v[1]), sparsity=Sparsity(v[2]),
                nonlinearity=Nonlinearity(v[3]), channels=ChannelMixing(v[4]),
                expansion=choice_value(EXPANSIONS, v[5], "expansion"),
                repeat=choice_value(REPEATS, v[6], "repeat"),
                short_conv=_flag(v[7], "short_conv"),
                window=choice_value(WINDOWS, v[8], "window"),
                kernel=choice_value(KERNELS, v[9], "kernel"),
                differential=_flag(v[10], "differential"),
            )
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        return genome

    def to_dict(self) -> dict[str, object]:
        """Named, human-readable genes (enum names in lower case) for JSON."""
        out: dict[str, object] = {}
        for name in CLASS_GENE_NAMES:
            value = getattr(self, name)
            out[name] = value.name.lower() if name in _ENUMS else (bool(value) if isinstance(value, bool) else int(value))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object], where: str = "class genome") -> ClassGenome:
        check_known(data, CLASS_GENE_NAMES, where, "gene")
        missing = set(CLASS_GENE_NAMES) - set(data)
        if missing:
            raise ValueError(f"{where}: missing gene(s) {sorted(missing)}")
        kwargs: dict[str, object] = {}
        for name in CLASS_GENE_NAMES:
            value = data[name]
            if name in _ENUMS:
                enum = _ENUMS[name]
                try:  # a name, or the enum's integer (not a float or bool, which int() would cut)
                    if isinstance(value, bool) or not isinstance(value, (str, int)):
                        raise ValueError
                    kwargs[name] = enum[value.upper()] if isinstance(value, str) else enum(value)
                except (KeyError, ValueError):
                    names = [e.name.lower() for e in enum]
                    raise ValueError(f"{where}: {name}={value!r} is not one of {names}") from None
            elif name in ("short_conv", "differential"):
                if not isinstance(value, (bool, int)) or int(value) not in (0, 1):
                    raise ValueError(f"{where}: {name}={value!r} must be true or false")
                kwargs[name] = bool(value)
            else:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{where}: {name}={value!r} must be an integer")
                kwargs[name] = value
        return cls(**kwargs)  # type: ignore[arg-type]


def _flag(value: int, gene: str) -> bool:
    if value not in (0, 1):
        raise ValueError(f"{gene}={value!r} must be 0 or 1")
    return bool(value)


_ALLOWED: dict[TokenMixing, dict[str, tuple]] = {
    TokenMixing.DIAGONAL: {
        "featurizer": (FeaturizerClass.LINEAR,),
        "sparsity": (Sparsity.NONE,),
        "nonlinearity": (Nonlinearity.NONE, Nonlinearity.RELU, Nonlinearity.SWISH),
        "channels": (ChannelMixing.DIAGONAL,),
    },
    TokenMixing.LOW_RANK: {
        "featurizer": (FeaturizerClass.LINEAR,),
        "sparsity": (Sparsity.NONE, Sparsity.BANDED),
        "nonlinearity": tuple(Nonlinearity),
        "channels": (ChannelMixing.DENSE, ChannelMixing.GROUPED),
    },
    TokenMixing.TOEPLITZ: {
        "featurizer": (FeaturizerClass.SHORT_FILTER, FeaturizerClass.IMPLICIT_FILTER),
        "sparsity": (Sparsity.NONE,),
        "nonlinearity": (Nonlinearity.NONE,),
        "channels": (ChannelMixing.DIAGONAL,),
    },
    TokenMixing.SEMI_SEPARABLE: {
        "featurizer": (FeaturizerClass.LINEAR,),
        "sparsity": (Sparsity.NONE,),
        "nonlinearity": (Nonlinearity.NONE,),
        "channels": (ChannelMixing.DIAGONAL, ChannelMixing.GROUPED),
    },
}


@lru_cache(maxsize=None)
def _normalized(genome: ClassGenome) -> ClassGenome:
    changes: dict[str, object] = {}
    if not genome.uses_window:
        changes["window"] = WINDOWS[0]
    if not genome.uses_kernel:
        changes["kernel"] = KERNELS[0]
    if not genome.uses_repeat:
        changes["repeat"] = REPEATS[0]
    return replace(genome, **changes) if changes else genome


@dataclass(frozen=True)
class LIVClass:
    """A row of the class table: STAR's class number, a short name and its genome."""

    id: int
    name: str
    genome: ClassGenome
    summary: str


def _diff(row: LIVClass, new_id: int) -> LIVClass:
    return LIVClass(new_id, f"{row.name}-Diff", replace(row.genome, differential=True),
                    f"differential {row.summary}: op_a(x) - lambda * op_b(x)")


_F, _M, _S, _N, _C = FeaturizerClass, TokenMixing, Sparsity, Nonlinearity, ChannelMixing
_BASE = (
    LIVClass(1, "SA-1", ClassGenome(_F.LINEAR, _M.LOW_RANK, nonlinearity=_N.SOFTMAX),
             "multi-head softmax attention"),
    LIVClass(2, "SA-2", ClassGenome(_F.LINEAR, _M.LOW_RANK, nonlinearity=_N.SOFTMAX, short_conv=True),
             "softmax attention whose Q/K/V featurizer has a short depthwise convolution"),
    LIVClass(3, "SA-3", ClassGenome(_F.LINEAR, _M.LOW_RANK, nonlinearity=_N.SOFTMAX, repeat=4),
             "grouped-query attention, K/V repeat factor 4"),
    LIVClass(4, "SA-4", ClassGenome(_F.LINEAR, _M.LOW_RANK, nonlinearity=_N.SOFTMAX, repeat=2),
             "grouped-query attention, K/V repeat factor 2"),
    LIVClass(5, "Rec-1", ClassGenome(_F.LINEAR, _M.SEMI_SEPARABLE, channels=_C.DIAGONAL, expansion=16),
             "input-varying diagonal recurrence, state expansion 16 (Mamba-like)"),
    LIVClass(6, "Rec-2", ClassGenome(_F.LINEAR, _M.SEMI_SEPARABLE, channels=_C.DIAGONAL, expansion=2),
             "input-varying diagonal recurrence, state expansion 2"),
    LIVClass(7, "GConv-1", ClassGenome(_F.SHORT_FILTER, _M.TOEPLITZ, channels=_C.DIAGONAL, kernel=3),
             "gated short convolution, kernel 3"),
    LIVClass(8, "GConv-2", ClassGenome(_F.IMPLICIT_FILTER, _M.TOEPLITZ, channels=_C.DIAGONAL),
             "gated long convolution with an implicit (Hyena-like) kernel"),
    LIVClass(9, "GMemless", ClassGenome(_F.LINEAR, _M.DIAGONAL, nonlinearity=_N.SWISH, channels=_C.DIAGONAL,
                                        expansion=4),
             "SwiGLU, expansion 4"),
)
LIV_CLASSES: tuple[LIVClass, ...] = (
    *_BASE,
    *(_diff(row, row.id + 9) for row in _BASE[:8]),  # STAR's classes 10-17
    LIVClass(18, "SWA", ClassGenome(_F.LINEAR, _M.LOW_RANK, _S.BANDED, _N.SOFTMAX, window=64),
             "sliding-window softmax attention (banded sparsity), window 64"),
    LIVClass(19, "LinAttn", ClassGenome(_F.LINEAR, _M.LOW_RANK, nonlinearity=_N.NONE),
             "multi-head linear attention (low-rank, no nonlinearity)"),
)
CLASSES_BY_ID: dict[int, LIVClass] = {row.id: row for row in LIV_CLASSES}
CLASSES_BY_NAME: dict[str, LIVClass] = {row.name.lower(): row for row in LIV_CLASSES}
CLASS_IDS: tuple[int, ...] = tuple(sorted(CLASSES_BY_ID))

assert CLASS_IDS == tuple(range(1, len(CLASS_IDS) + 1)), "class ids must run 1..n: the flat vector relies on it"
for _row in LIV_CLASSES:
    assert not _row.genome.problems(), (_row.name, _row.genome.problems())


def liv_class(key: int | str) -> LIVClass:
    """Look a class up by id or (case-insensitive) name, with an error listing what exists."""
    if isinstance(key, str) and not key.isdigit():
        row = CLASSES_BY_NAME.get(key.lower())
    else:
        row = CLASSES_BY_ID.get(int(key))
    if row is None:
        known = ", ".join(f"{r.id}={r.name}" for r in LIV_CLASSES)
        raise ValueError(f"unknown LIV class {key!r}; known classes: {known}")
    return row

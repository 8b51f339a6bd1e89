"""Reference genomes: the hand-designed baselines a search is compared against.

Each builder returns a `Genome` of any depth (number of slots, >= 1) at the given width and
heads, by repeating a slot pattern of LIV class ids (see `registry.LIV_CLASSES`) and cutting
it to `depth`. A width/heads pair some class cannot be built at (GQA's repeat factor 4 needs a
head count divisible by 4) raises the `Genome` constructor's ValueError, which names the slot.

| name                     | slot pattern      | what it is                                        |
|--------------------------|-------------------|---------------------------------------------------|
| transformer++            | SA-1, SwiGLU      | multi-head attention + SwiGLU (STAR's baseline)   |
| gqa-transformer          | SA-3, SwiGLU      | grouped-query attention (K/V repeat 4) + SwiGLU   |
| striped-hybrid           | Rec-1, SwiGLU, SA-1, SwiGLU | recurrence and attention stripes (StripedMamba-like) |
| mamba-like               | Rec-1, SwiGLU     | input-varying diagonal recurrence + SwiGLU        |
| hyena-like               | GConv-2, SwiGLU   | implicit long convolution + SwiGLU                |
| gated-conv               | GConv-1, SwiGLU   | gated short convolution only (Zoology's recall-weak baseline) |
| kv-sharing-transformer   | SA-1, SwiGLU      | transformer++ with K/V shared by consecutive attention pairs |
"""

from __future__ import annotations

from typing import Callable

from livgym.models.genes import DEFAULT_HEADS, DEFAULT_WIDTH, MAX_SHARING_GROUP, SharingStrategy
from livgym.models.genome import Genome
from livgym.models.registry import CLASSES_BY_NAME
from livgym.models.slot import Slot

SA_1 = CLASSES_BY_NAME["sa-1"].id
SA_3 = CLASSES_BY_NAME["sa-3"].id
REC_1 = CLASSES_BY_NAME["rec-1"].id
GCONV_1 = CLASSES_BY_NAME["gconv-1"].id
GCONV_2 = CLASSES_BY_NAME["gconv-2"].id
SWIGLU = CLASSES_BY_NAME["gmemless"].id
DEFAULT_DEPTH = 24  # STAR's depth


def striped(pattern: tuple[int, ...], depth: int, width: int, heads: int) -> Genome:
    """Independent slots whose classes repeat `pattern`, cut to `depth` slots."""
    slots = tuple(Slot(pattern[i % len(pattern)]) for i in range(depth))
    return Genome(slots, width=width, heads=heads)


def transformer_pp(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, heads: int = DEFAULT_HEADS) -> Genome:
    """Transformer++: multi-head softmax attention alternating with SwiGLU."""
    return striped((SA_1, SWIGLU), depth, width, heads)


def gqa_transformer(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, heads: int = DEFAULT_HEADS) -> Genome:
    """Transformer++ with grouped-query attention (K/V repeat factor 4): a 4x smaller K/V cache."""
    return striped((SA_3, SWIGLU), depth, width, heads)


def striped_hybrid(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, heads: int = DEFAULT_HEADS) -> Genome:
    """StripedMamba-like hybrid: recurrence and attention stripes, each followed by SwiGLU."""
    return striped((REC_1, SWIGLU, SA_1, SWIGLU), depth, width, heads)


def mamba_like(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, heads: int = DEFAULT_HEADS) -> Genome:
    """Input-varying diagonal recurrence (state expansion 16) alternating with SwiGLU."""
    return striped((REC_1, SWIGLU), depth, width, heads)


def hyena_like(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, heads: int = DEFAULT_HEADS) -> Genome:
    """Gated long convolution with an implicit (Hyena-like) kernel alternating with SwiGLU."""
    return striped((GCONV_2, SWIGLU), depth, width, heads)


def gated_conv(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, heads: int = DEFAULT_HEADS) -> Genome:
    """Gated short convolution (kernel 3) alternating with SwiGLU: no attention at all, the
    recall-weak baseline of Zoology that a recall probe should expose."""
    return striped((GCONV_1, SWIGLU), depth, width, heads)


def kv_sharing_transformer(depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH,
                           heads: int = DEFAULT_HEADS) -> Genome:
    """Transformer++ with cross-layer K/V sharing: attention slots pair up in order (the 1st
    and 2nd, the 3rd and 4th, ...), and the pair's second slot reads the first's K/V from
    feature group n (n = 1, 2, ...), so each pair caches K/V once. An unpaired last attention
    slot stays independent. Each pair needs its own group number, so depth is at most
    4 * MAX_SHARING_GROUP + 2 (98)."""
    slots = list(transformer_pp(depth, width, heads).slots)
    attention = [i for i, slot in enumerate(slots) if slot.liv_class == SA_1]
    pairs = len(attention) // 2
    if pairs > MAX_SHARING_GROUP:
        raise ValueError(f"kv-sharing-transformer: depth={depth} has {pairs} attention pairs, more than the "
                         f"{MAX_SHARING_GROUP} feature-group numbers; use depth <= {4 * MAX_SHARING_GROUP + 2}")
    for rank, position in enumerate(attention[: 2 * pairs]):
        slots[position] = Slot(SA_1, feature_group=rank // 2 + 1, feature_strategy=SharingStrategy.SHARED)
    return Genome(tuple(slots), width=width, heads=heads)


REFERENCE_GENOMES: dict[str, Callable[..., Genome]] = {
    "transformer++": transformer_pp,
    "gqa-transformer": gqa_transformer,
    "striped-hybrid": striped_hybrid,
    "mamba-like": mamba_like,
    "hyena-like": hyena_like,
    "gated-conv": gated_conv,
    "kv-sharing-transformer": kv_sharing_transformer,
}


def reference_genome(name: str, depth: int = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH,
                     heads: int = DEFAULT_HEADS) -> Genome:
    """The named reference genome at this depth, width and heads."""
    builder = REFERENCE_GENOMES.get(name)
    if builder is None:
        raise ValueError(f"unknown reference genome {name!r}; known: {', '.join(REFERENCE_GENOMES)}")
    return builder(depth=depth, width=width, heads=heads)

"""Tensor shapes of one LIV operator at a given width: read by the modules and the cost model alike.

Keeping the shapes in one place is what lets `efficiency()` count parameters and cache bytes
analytically and still agree exactly with the built modules (the tests check that it does).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from livgym.models.genes import ChannelMixing, FeaturizerClass, TokenMixing
from livgym.models.registry import ClassGenome

IMPLICIT_FILTER_FEATURES = 8  # sin/cos positional features of the implicit long-filter MLP
IMPLICIT_FILTER_HIDDEN = 16  # hidden width of that MLP


@dataclass(frozen=True)
class OperatorLayout:
    """Widths of one operator branch (a differential operator has two identical branches).

    `groups` maps each feature group a producer's featurizer projects to its width; a
    consumer of shared feature groups projects only `c`.
    """

    genome: ClassGenome
    width: int
    inner: int  # width of the mixed features, projected back to `width` by the output projection
    heads: int  # heads of the token mixer (1 for dense channel mixing)
    head_dim: int
    kv_heads: int  # heads of the K/V groups (GQA); equals `heads` unless `repeat` > 1
    state: int  # recurrence state size per channel (semi-separable only)
    b_groups: int  # groups sharing B/C in a recurrence: 1 (diagonal) or heads (grouped)
    decay_groups: int  # channels or heads with their own decay in a recurrence
    groups: tuple[tuple[str, int], ...]

    @property
    def branches(self) -> int:
        return 2 if self.genome.differential else 1

    def projected_groups(self, consumer: bool) -> tuple[tuple[str, int], ...]:
        return tuple(g for g in self.groups if g[0] == "c") if consumer else self.groups

    def featurizer_extra_params(self) -> int:
        """Parameters a producer's featurizer holds besides its projections and convolutions."""
        g = self.genome
        if g.mixing == TokenMixing.SEMI_SEPARABLE:
            return 2 * self.decay_groups  # a_log and dt_bias
        if g.featurizer == FeaturizerClass.SHORT_FILTER:
            return self.inner * g.kernel
        if g.featurizer == FeaturizerClass.IMPLICIT_FILTER:
            f, h = IMPLICIT_FILTER_FEATURES, IMPLICIT_FILTER_HIDDEN
            return (f * h + h) + (h * self.inner + self.inner)
        return 0


@lru_cache(maxsize=4096)
def operator_layout(genome: ClassGenome, width: int, heads: int) -> OperatorLayout:
    """The layout of `genome` at `width` / `heads` (the genome must be buildable there)."""
    e = genome.expansion
    if genome.mixing == TokenMixing.LOW_RANK:
        h = heads if genome.channels == ChannelMixing.GROUPED else 1
        inner = e * width
        head_dim = inner // h
        kv_heads = h // genome.repeat if genome.uses_repeat else h
        kv = kv_heads * head_dim
        groups = (("c", inner), ("b", kv), ("v", kv))
        return OperatorLayout(genome, width, inner, h, head_dim, kv_heads, 0, 0, 0, groups)
    if genome.mixing == TokenMixing.SEMI_SEPARABLE:
        grouped = genome.channels == ChannelMixing.GROUPED
        b_groups = heads if grouped else 1
        decay_groups = heads if grouped else width
        groups = (("c", b_groups * e), ("b", b_groups * e), ("v", width), ("dt", decay_groups))
        return OperatorLayout(genome, width, width, b_groups, width // b_groups, b_groups, e,
                              b_groups, decay_groups, groups)
    inner = e * width
    if genome.mixing == TokenMixing.TOEPLITZ:
        groups = (("c", inner), ("b", inner), ("v", inner))
    else:  # diagonal: a gated memoryless unit
        groups = (("c", inner), ("v", inner))
    return OperatorLayout(genome, width, inner, 1, inner, 1, 0, 0, 0, groups)

"""One LIV operator as it sits in a slot: featurizer(s), a token mixer, an output projection.

A differential operator has two branches, each with its own featurizer, and computes
out(y_a - lambda * y_b) with a learned scalar lambda. Slots that share a featurizer are handed
the same `Featurizer` objects, so they hold the same Parameters.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from livgym.models.genes import Nonlinearity, TokenMixing
from livgym.models.layout import OperatorLayout
from livgym.models.operators.attention import Attention, LinearAttention
from livgym.models.operators.convolution import GatedConvolution
from livgym.models.operators.featurizer import Featurizer
from livgym.models.operators.memoryless import GatedUnit
from livgym.models.operators.recurrence import Recurrence

LAMBDA_INIT = 0.5

Exports = list[dict[str, Tensor]]  # one dict of shared feature groups per branch


def make_mixer(layout: OperatorLayout) -> nn.Module:
    """The parameter-free token mixer for a layout's token-mixing structure."""
    mixing = layout.genome.mixing
    if mixing == TokenMixing.LOW_RANK:
        return LinearAttention(layout) if layout.genome.nonlinearity == Nonlinearity.NONE else Attention(layout)
    if mixing == TokenMixing.SEMI_SEPARABLE:
        return Recurrence(layout)
    if mixing == TokenMixing.TOEPLITZ:
        return GatedConvolution(layout)
    return GatedUnit(layout)


class LIVOperator(nn.Module):
    """x (B, L, width) -> y (B, L, width), plus the feature groups it exports to consumers."""

    def __init__(self, layout: OperatorLayout, consumer: bool = False,
                 featurizers: list[Featurizer] | None = None) -> None:
        super().__init__()
        self.layout = layout
        self.consumer = consumer
        if featurizers is None:
            featurizers = [Featurizer(layout, consumer) for _ in range(layout.branches)]
        self.featurizers = nn.ModuleList(featurizers)
        self.mixer = make_mixer(layout)
        self.lam = nn.Parameter(torch.tensor(LAMBDA_INIT)) if layout.genome.differential else None
        self.out = nn.Linear(layout.inner, layout.width, bias=False)

    def _combine(self, ys: list[Tensor]) -> Tensor:
        return ys[0] if self.lam is None else ys[0] - self.lam * ys[1]

    def forward(self, x: Tensor, source: Exports | None = None) -> tuple[Tensor, Exports]:
        """x (B, L, width), or (T, B, L, width) in a task stack, whose mixers see (T * B, L, .)."""
        ys, exports = [], []
        for i, featurizer in enumerate(self.featurizers):
            y, shared = self.mixer(featurizer(x), None if source is None else source[i])
            ys.append(y.view(*x.shape[:-1], -1))  # a task stack's (T * B, L, .) back to (T, B, L, .)
            exports.append(shared)
        return self.out(self._combine(ys)), exports

    def init_cache(self, batch: int, like: Tensor) -> list[dict[str, dict[str, Tensor]]]:
        return [{"featurizer": f.init_cache(batch, like), "mixer": self.mixer.init_cache(batch, like, self.consumer)}
                for f in self.featurizers]

    def step(self, x: Tensor, cache: list[dict[str, dict[str, Tensor]]], source: Exports | None,
             position: int) -> tuple[Tensor, Exports]:
        ys, exports = [], []
        for i, featurizer in enumerate(self.featurizers):
            feats = featurizer.step(x, cache[i]["featurizer"], position)
            y, shared = self.mixer.step(feats, cache[i]["mixer"], None if source is None else source[i], position)
            ys.append(y)
            exports.append(shared)
        return self.out(self._combine(ys)), exports

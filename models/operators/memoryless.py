"""Diagonal token mixing: a gated memoryless unit, y_t = sigma(c_t) * v_t (SwiGLU for swish).

No decoding state of its own (only the featurizer's convolution state, if it has one), and no
feature groups worth sharing.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from livgym.models.genes import Nonlinearity
from livgym.models.layout import OperatorLayout


class GatedUnit(nn.Module):
    """Parameter-free mixer: the featurizer's two projections are the gate c and the value v."""

    def __init__(self, layout: OperatorLayout) -> None:
        super().__init__()
        self.nonlinearity = layout.genome.nonlinearity

    def _gate(self, c: Tensor) -> Tensor:
        if self.nonlinearity == Nonlinearity.SWISH:
            return F.silu(c)
        if self.nonlinearity == Nonlinearity.RELU:
            return F.relu(c)
        return c

    def forward(self, f: dict[str, Tensor], source: dict[str, Tensor] | None) -> tuple[Tensor, dict[str, Tensor]]:
        return self._gate(f["c"]) * f["v"], {}

    def init_cache(self, batch: int, like: Tensor, consumer: bool) -> dict[str, Tensor]:
        return {}

    def step(self, f: dict[str, Tensor], cache: dict[str, Tensor], source: dict[str, Tensor] | None,
             position: int) -> tuple[Tensor, dict[str, Tensor]]:
        return self._gate(f["c"]) * f["v"], {}

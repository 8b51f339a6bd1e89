"""Scaled-Toeplitz token mixing: a gated convolution, y_t = c_t * sum_s K_(t-s) (b_s * v_s).

The kernel K comes from the featurizer: an explicit short filter (`kernel` taps, GConv-1) or an
implicit long filter as long as the sequence (Hyena-like, GConv-2). The long convolution runs
as an FFT in the parallel form and as a direct sum while decoding.

Decoding cache per layer, of u = b * v: the last kernel - 1 inputs, (B, inner, kernel - 1),
for a short filter; every input so far, (B, n, inner), for a long filter.
A producer exports z = K * u; a consumer that shares its feature groups gates z with its own c.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from livgym.models.genes import FeaturizerClass
from livgym.models.layout import OperatorLayout
from livgym.models.operators.featurizer import causal_depthwise_conv, causal_depthwise_step


def fft_causal_conv(u: Tensor, k: Tensor) -> Tensor:
    """z_t = sum_(s <= t) k_(t-s) u_s for u (B, L, C) and k (L, C), in O(L log L).

    A task stack's kernel is (T, L, C); then u is (T * B, L, C) task-major and each task's
    rows are convolved with its own kernel.
    """
    length, channels = u.shape[-2:]
    n = 2 * length
    uu = u.view(k.shape[0], -1, length, channels) if k.dim() == 3 else u
    spectrum = torch.fft.rfft(uu, n=n, dim=-2) * torch.fft.rfft(k, n=n, dim=-2).unsqueeze(-3)
    return torch.fft.irfft(spectrum, n=n, dim=-2)[..., :length, :].reshape(u.shape)


class GatedConvolution(nn.Module):
    """Parameter-free mixer for both filter kinds (see module docstring)."""

    def __init__(self, layout: OperatorLayout) -> None:
        super().__init__()
        self.long = layout.genome.featurizer == FeaturizerClass.IMPLICIT_FILTER
        self.inner = layout.inner
        self.kernel = layout.genome.kernel

    def forward(self, f: dict[str, Tensor], source: dict[str, Tensor] | None) -> tuple[Tensor, dict[str, Tensor]]:
        if source is None:
            u = f["b"] * f["v"]  # (B, L, inner); a task stack's k has a task dimension (both functions take it)
            z = fft_causal_conv(u, f["k"]) if self.long else causal_depthwise_conv(u, f["k"])
            source = {"z": z}
        return f["c"] * source["z"], source

    def init_cache(self, batch: int, like: Tensor, consumer: bool) -> dict[str, Tensor]:
        if consumer:
            return {}
        if self.long:
            return {"u": like.new_zeros(batch, 0, self.inner)}
        return {"u": like.new_zeros(batch, self.inner, self.kernel - 1)}

    def step(self, f: dict[str, Tensor], cache: dict[str, Tensor], source: dict[str, Tensor] | None,
             position: int) -> tuple[Tensor, dict[str, Tensor]]:
        if source is None:
            u = f["b"] * f["v"]
            if self.long:
                cache["u"] = torch.cat([cache["u"], u[:, None]], dim=1)  # (B, t + 1, inner)
                z = (cache["u"] * f["k"].flip(0)).sum(1)
            else:
                z, cache["u"] = causal_depthwise_step(u, cache["u"], f["k"])
            source = {"z": z}
        return f["c"] * source["z"], source

"""Featurizers: the part of a LIV operator that turns the input into feature groups.

Feature groups: `c` (the output-side features: queries, gates, read-outs), `b` and `v` (keys
and values, or recurrence/convolution inputs), `dt` (a recurrence's step sizes). A producer's
featurizer also computes the input-independent parts of T: the recurrence decay (`log_a`, from
`dt`) and the Toeplitz kernel (`k`). A consumer of shared feature groups projects only `c`.

Every featurizer works in two modes with identical results: `forward` over a whole sequence
(B, L, width) and `step` over one token (B, width) with an explicit cache dict.

Task stacks (`models.operators.stacked`): a stack of T same-architecture models, one per
task, runs as one model whose parameters carry a leading task dimension. Its `forward` takes
(T, B, L, width) and returns the per-token feature groups flattened task-major to
(T * B, L, ...), so the parameter-free mixers run unchanged; the kernel `k` keeps its task
dimension, (T, inner, kernel) or (T, L, inner).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livgym.models.genes import FEATURIZER_CONV_KERNEL, FeaturizerClass, TokenMixing
from livgym.models.layout import IMPLICIT_FILTER_FEATURES, IMPLICIT_FILTER_HIDDEN, OperatorLayout


class CausalDepthwiseConv(nn.Module):
    """y_t = sum_j weight[:, j] * x_(t - k + 1 + j): a per-channel causal convolution.

    Decoding keeps the last k - 1 inputs: a (B, channels, k - 1) state.
    """

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.kernel = kernel
        self.weight = nn.Parameter(torch.empty(channels, kernel))
        nn.init.uniform_(self.weight, -1 / math.sqrt(kernel), 1 / math.sqrt(kernel))

    def forward(self, x: Tensor) -> Tensor:  # (B, L, C) -> (B, L, C)
        return causal_depthwise_conv(x, self.weight)

    def init_state(self, batch: int, like: Tensor) -> Tensor:
        return like.new_zeros(batch, self.weight.shape[0], self.kernel - 1)

    def step(self, x: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:  # (B, C), (B, C, k-1)
        return causal_depthwise_step(x, state, self.weight)


def causal_depthwise_conv(x: Tensor, weight: Tensor) -> Tensor:
    """(B, L, C) convolved causally with a (C, k) kernel.

    A task stack's kernel is (T, C, k); then x is (T, B, L, C), or (T * B, L, C) task-major,
    and each task's rows are convolved with its own kernel (one grouped convolution).
    """
    if weight.dim() == 3:
        tasks, channels, kernel = weight.shape
        length = x.shape[-2]
        xs = x.reshape(tasks, -1, length, channels).permute(1, 0, 3, 2).reshape(-1, tasks * channels, length)
        y = F.conv1d(F.pad(xs, (kernel - 1, 0)), weight.reshape(tasks * channels, 1, kernel), groups=tasks * channels)
        return y.view(-1, tasks, channels, length).permute(1, 0, 3, 2).reshape(x.shape)
    channels, kernel = weight.shape
    xt = F.pad(x.transpose(1, 2), (kernel - 1, 0))
    return F.conv1d(xt, weight.unsqueeze(1), groups=channels).transpose(1, 2)


def causal_depthwise_step(x: Tensor, state: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """One decoding step of `causal_depthwise_conv`; returns (y_t, new state)."""
    window = torch.cat([state, x.unsqueeze(-1)], dim=-1)  # (B, C, k)
    return (window * weight).sum(-1), window[..., 1:]


class ImplicitFilter(nn.Module):
    """Hyena-style implicit long filter: K_t = MLP(pos(t)) * exp(-rate * t), for any length.

    Positions enter as sin/cos at fixed frequencies of the absolute index t, so the kernel does
    not depend on the sequence length and decoding sees the same K as the parallel form.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        f, h = IMPLICIT_FILTER_FEATURES, IMPLICIT_FILTER_HIDDEN
        self.hidden = nn.Linear(f, h)
        self.out = nn.Linear(h, channels)
        self.register_buffer("freqs", torch.logspace(0, -3, f // 2), persistent=False)
        self.register_buffer("rates", torch.logspace(-0.5, -2.5, channels), persistent=False)

    def forward(self, length: int) -> Tensor:  # -> (length, channels)
        t = torch.arange(length, device=self.freqs.device, dtype=self.freqs.dtype)
        angles = t[:, None] * self.freqs[None, :]
        z = torch.cat([angles.sin(), angles.cos()], dim=-1)
        return self.out(torch.sin(self.hidden(z))) * torch.exp(-t[:, None] * self.rates[None, :])


class Featurizer(nn.Module):
    """Computes one operator branch's feature groups from its input (see the module docstring)."""

    def __init__(self, layout: OperatorLayout, consumer: bool) -> None:
        super().__init__()
        g = layout.genome
        self.layout = layout
        self.consumer = consumer
        self.names = tuple(name for name, _ in layout.projected_groups(consumer))
        self.proj = nn.ModuleDict({n: nn.Linear(layout.width, w, bias=False)
                                   for n, w in layout.projected_groups(consumer)})
        self.conv = nn.ModuleDict({n: CausalDepthwiseConv(w, FEATURIZER_CONV_KERNEL)
                                   for n, w in layout.projected_groups(consumer)}) if g.short_conv else None
        self.mixing = g.mixing
        if consumer:
            return
        if g.mixing == TokenMixing.SEMI_SEPARABLE:
            n = layout.decay_groups
            # Mamba's initialisation: decay rates 1..16, step sizes log-uniform in [1e-3, 1e-1].
            self.a_log = nn.Parameter(torch.log(torch.linspace(1.0, 16.0, n)))
            dt = torch.exp(torch.linspace(math.log(1e-3), math.log(1e-1), n))
            self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        elif g.featurizer == FeaturizerClass.SHORT_FILTER:
            self.filter = CausalDepthwiseConv(layout.inner, g.kernel)
        elif g.featurizer == FeaturizerClass.IMPLICIT_FILTER:
            self.implicit = ImplicitFilter(layout.inner)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        feats = {n: self.proj[n](x) for n in self.names}
        if self.conv is not None:
            feats = {n: self.conv[n](f) for n, f in feats.items()}
        feats = self._derived(feats, length=x.shape[-2])
        if x.dim() == 4:  # a task stack: (T, B, L, .) -> (T * B, L, .); `k` is per task, not per token
            feats = {n: f if n == "k" else f.flatten(0, 1) for n, f in feats.items()}
        return feats

    def init_cache(self, batch: int, like: Tensor) -> dict[str, Tensor]:
        if self.conv is None:
            return {}
        return {n: self.conv[n].init_state(batch, like) for n in self.names}

    def step(self, x: Tensor, cache: dict[str, Tensor], position: int) -> dict[str, Tensor]:
        feats = {n: self.proj[n](x) for n in self.names}
        if self.conv is not None:
            for n in self.names:
                feats[n], cache[n] = self.conv[n].step(feats[n], cache[n])
        return self._derived(feats, length=position + 1)

    def _derived(self, feats: dict[str, Tensor], length: int) -> dict[str, Tensor]:
        """Add the decay (`log_a`, per recurrence channel) and the Toeplitz kernel (`k`)."""
        if self.consumer:
            return feats
        if self.mixing == TokenMixing.SEMI_SEPARABLE:
            dt = F.softplus(feats["dt"] + self.dt_bias)
            feats["dt"] = dt
            feats["log_a"] = -torch.exp(self.a_log) * dt
        elif hasattr(self, "filter"):
            feats["k"] = self.filter.weight  # (inner, kernel)
        elif hasattr(self, "implicit"):
            feats["k"] = self.implicit(length)  # (length, inner)
        return feats

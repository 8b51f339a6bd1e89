"""Semi-separable token mixing: an input-varying diagonal linear recurrence (Mamba-like).

Per channel c (width d) and state index n (state size N = the class's expansion):

    h_t[c, n] = a_t[c] * h_(t-1)[c, n] + u_t[c] * b_t[g(c), n]      u_t = dt_t * v_t
    y_t[c]    = sum_n c_t[g(c), n] * h_t[c, n]                      a_t = exp(-exp(a_log) * dt_t)

B and C are shared by all channels (diagonal channel mixing, g(c) = 0) or per head (grouped);
the decay is a scalar per channel (diagonal) or per head (grouped, as in Mamba-2),
which keeps the chunked parallel scan below exact and stable with T x T decay matrices
(one per channel, or one per head shared by its channels). Decoding cache per layer: h, (B, d, N).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livgym.models.layout import OperatorLayout

# Per-channel decays need a T x T decay matrix per channel, so small chunks win: at batch 32,
# width 64, state 16, chunks of 4 trained (forward + backward) 1.6-2x faster than chunks of 8
# at 33-128 steps (benchmarks/scan.py), and the chunk loop outgrows the saving past 256 steps.
CHUNK_PER_CHANNEL = 4
CHUNK_PER_CHANNEL_LONG = 8  # from LONG_SEQUENCE steps on
LONG_SEQUENCE = 256
CHUNK_PER_GROUP = 32  # per-head decays share one T x T matrix per head: a real matmul


def chunked_scan(log_a: Tensor, u: Tensor, b: Tensor, c: Tensor, chunk: int | None = None) -> Tensor:
    """y of the recurrence above for a whole sequence, parallel within chunks of `chunk` steps.

    log_a: (B, L, D) per-channel decays or (B, L, G) per-group decays; u: (B, L, D);
    b, c: (B, L, G, N) with D divisible by G. Returns y: (B, L, D).
    Within a chunk, y is a masked T x T product with decays exp(cumsum(log_a)_t - cumsum_s)
    (always <= 1, so stable); a (B, G, P, N) state crosses chunks in a loop of L / chunk steps.
    """
    bsz, length, d = u.shape
    groups, n = b.shape[2], b.shape[3]
    per_group = log_a.shape[-1] == groups and groups != d
    chunk = chunk or default_chunk(length, per_group)
    pad = (-length) % chunk
    if pad:  # trailing zeros (no decay, no input) do not change earlier outputs
        log_a, u = F.pad(log_a, (0, 0, 0, pad)), F.pad(u, (0, 0, 0, pad))
        b, c = F.pad(b, (0, 0, 0, 0, 0, pad)), F.pad(c, (0, 0, 0, 0, 0, pad))
    nc, p = (length + pad) // chunk, d // groups
    uu = u.view(bsz, nc, chunk, groups, p).transpose(2, 3)  # (B, nc, G, T, P)
    bb = b.view(bsz, nc, chunk, groups, n).transpose(2, 3)  # (B, nc, G, T, N)
    cc = c.view(bsz, nc, chunk, groups, n).transpose(2, 3)
    gram = cc @ bb.transpose(-1, -2)  # (B, nc, G, T, S): c_t . b_s
    causal = torch.ones(chunk, chunk, dtype=torch.bool, device=u.device).tril()
    if per_group:
        cum = log_a.view(bsz, nc, chunk, groups).transpose(2, 3).cumsum(-1)  # (B, nc, G, T)
        seg = torch.where(causal, cum[..., :, None] - cum[..., None, :], float("-inf"))
        y = (seg.exp() * gram) @ uu  # (B, nc, G, T, P)
        to_end = (cum[..., -1:] - cum).exp()[..., None]  # (B, nc, G, T, 1)
        end_decay = cum[..., -1].exp()[..., None, None]  # (B, nc, G, 1, 1)
        cum_exp = cum.exp()[..., None]  # (B, nc, G, T, 1)
    else:
        # Channels last, and the sum over s as a multiply-and-reduce: as a batched matmul it was
        # a T x T by T x 1 product per channel, which batched matmul kernels run slowly.
        cum = log_a.view(bsz, nc, chunk, groups, p).transpose(2, 3).cumsum(-2)  # (B, nc, G, T, P)
        seg = (cum[..., :, None, :] - cum[..., None, :, :]).masked_fill(~causal[..., None], float("-inf"))
        y = (seg.exp() * (gram[..., None] * uu[..., None, :, :])).sum(-2)  # (B, nc, G, T, S, P) -> (B, nc, G, T, P)
        last = cum[..., -1:, :]  # (B, nc, G, 1, P)
        to_end = (last - cum).exp()  # (B, nc, G, T, P)
        end_decay = last.exp().transpose(-1, -2)  # (B, nc, G, P, 1)
        cum_exp = cum.exp()  # (B, nc, G, T, P)
    states = (to_end * uu).transpose(-1, -2) @ bb  # (B, nc, G, P, N): each chunk's own contribution
    h = u.new_zeros(bsz, groups, p, n)
    entering = []
    for i in range(nc):
        entering.append(h)
        h = end_decay[:, i] * h + states[:, i]
    h_before = torch.stack(entering, dim=1)  # (B, nc, G, P, N)
    y = y + (cc @ h_before.transpose(-1, -2)) * cum_exp
    return y.transpose(2, 3).reshape(bsz, nc * chunk, d)[:, :length]


def default_chunk(length: int, per_group: bool) -> int:
    """The chunk `chunked_scan` uses for a sequence of `length` steps (see the constants above)."""
    if per_group:
        return CHUNK_PER_GROUP
    return CHUNK_PER_CHANNEL if length < LONG_SEQUENCE else CHUNK_PER_CHANNEL_LONG


def sequential_scan(log_a: Tensor, u: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """The same recurrence as a plain loop over time steps (the reference and the benchmark's baseline)."""
    bsz, length, d = u.shape
    groups = b.shape[2]
    h = u.new_zeros(bsz, d, b.shape[3])
    ys = []
    for t in range(length):
        y_t, h = recurrence_step(log_a[:, t], u[:, t], b[:, t], c[:, t], h, groups)
        ys.append(y_t)
    return torch.stack(ys, dim=1)


def recurrence_step(log_a: Tensor, u: Tensor, b: Tensor, c: Tensor, h: Tensor, groups: int) -> tuple[Tensor, Tensor]:
    """One step: log_a (B, D) or (B, G); u (B, D); b, c (B, G, N); h (B, D, N). Returns (y, new h)."""
    rep = u.shape[1] // groups
    if log_a.shape[1] != u.shape[1]:
        log_a = log_a.repeat_interleave(rep, dim=1)
    b_ch, c_ch = b.repeat_interleave(rep, dim=1), c.repeat_interleave(rep, dim=1)
    h = log_a.exp()[..., None] * h + u[..., None] * b_ch
    return torch.einsum("bdn,bdn->bd", c_ch, h), h


class Recurrence(nn.Module):
    """Parameter-free mixer; the featurizer supplies c, b, v, dt and log_a (see module docstring)."""

    def __init__(self, layout: OperatorLayout, chunk: int | None = None) -> None:
        super().__init__()
        self.width, self.state, self.groups = layout.width, layout.state, layout.b_groups
        self.decay_groups = layout.decay_groups
        self.chunk = chunk

    def _per_channel(self, x: Tensor) -> Tensor:
        """Expand a per-head quantity (..., heads) to per-channel (..., width)."""
        return x.repeat_interleave(self.width // self.decay_groups, dim=-1)

    def forward(self, f: dict[str, Tensor], source: dict[str, Tensor] | None) -> tuple[Tensor, dict[str, Tensor]]:
        bsz, length, _ = f["c"].shape
        if source is None:
            source = {
                "log_a": f["log_a"],  # per channel, or per head: the scan shares it across the head
                "u": self._per_channel(f["dt"]) * f["v"],
                "b": f["b"].view(bsz, length, self.groups, self.state),
            }
        c = f["c"].view(bsz, length, self.groups, self.state)
        return chunked_scan(source["log_a"], source["u"], source["b"], c, self.chunk), source

    def init_cache(self, batch: int, like: Tensor, consumer: bool) -> dict[str, Tensor]:
        return {} if consumer else {"h": like.new_zeros(batch, self.width, self.state)}

    def step(self, f: dict[str, Tensor], cache: dict[str, Tensor], source: dict[str, Tensor] | None,
             position: int) -> tuple[Tensor, dict[str, Tensor]]:
        bsz = f["c"].shape[0]
        c = f["c"].view(bsz, self.groups, self.state)
        if source is None:
            u = self._per_channel(f["dt"]) * f["v"]
            b = f["b"].view(bsz, self.groups, self.state)
            y, cache["h"] = recurrence_step(f["log_a"], u, b, c, cache["h"], self.groups)
            return y, {"h": cache["h"]}
        c_ch = c.repeat_interleave(self.width // self.groups, dim=1)
        return torch.einsum("bdn,bdn->bd", c_ch, source["h"]), source

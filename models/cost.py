"""Analytic cost model: exact parameters, inference-cache bytes and FLOPs, with no model built.

Conventions (the tests check the first two against built models, and FLOPs against PyTorch's
FLOP counter on attention/SwiGLU models):
- parameters: unique tensors, so shared featurizers count once; "without embeddings" leaves out
  the token embedding and an untied head.
- cache: what decoding keeps to produce the next token after `context_length` tokens, batch 1,
  `bytes_per_value` each (2: 16-bit); shared feature groups are kept by their producer only.
- FLOPs: 2 per multiply-add of every contraction (projections, attention scores and mixing,
  state updates and read-outs, convolution taps), elementwise work excluded; `forward_flops`
  is the total to process `context_length` tokens causally (attention at position i sees its
  i + 1 visible tokens, long convolutions counted in direct form), and `flops_per_token` its
  mean per token.

`analytic_metrics` is the form every evaluator reports and the design env masks and observes
with: params, params without embeddings, cache bytes and FLOPs per token. They come from the
additive part of the cost (`AdditiveCost`), which sums over slots exactly, so the env can
predict an edit's metrics from one slot's contribution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from livgym.models.genes import FEATURIZER_CONV_KERNEL, FeaturizerClass, Nonlinearity, Sparsity, TokenMixing
from livgym.models.genome import Genome
from livgym.models.layout import OperatorLayout, operator_layout
from livgym.models.registry import ClassGenome
from livgym.models.validation import width_problem

DEFAULT_VOCAB_SIZE = 256  # byte-level, the quality proxies' vocabulary
DEFAULT_CONTEXT_LENGTH = 4096  # where cache bytes and FLOPs per token are measured unless told otherwise
#: the cost metrics known of a design before it is trained (`Efficiency.metrics`' headline keys):
#: what an env observes, and what it can enforce by masking
COST_METRICS: tuple[str, ...] = ("params", "cache_bytes", "flops")


@dataclass(frozen=True)
class Efficiency:
    """Cost of one genome at one width and context length (see the module docstring)."""

    params: int
    params_without_embeddings: int
    cache_bytes: int
    forward_flops: int
    flops_per_token: float
    width: int
    heads: int
    context_length: int
    bytes_per_value: int
    vocab_size: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def additive(self) -> AdditiveCost:
        return AdditiveCost(self.params, self.params_without_embeddings, self.cache_bytes, self.forward_flops,
                            self.context_length)


@dataclass(frozen=True)
class AdditiveCost:
    """The parts of a cost that add over slots (exact integers), at one context length.

    The difference of two genomes' costs is what the slots they differ in contribute, so a
    slot's contribution can be added to or taken from another genome's cost exactly.
    """

    params: int
    params_without_embeddings: int
    cache_bytes: int
    forward_flops: int
    context_length: int

    def __add__(self, other: AdditiveCost) -> AdditiveCost:
        return self._combine(other, 1)

    def __sub__(self, other: AdditiveCost) -> AdditiveCost:
        return self._combine(other, -1)

    def _combine(self, other: AdditiveCost, sign: int) -> AdditiveCost:
        if other.context_length != self.context_length:
            raise ValueError(f"cannot combine costs at context_length={self.context_length} "
                             f"and {other.context_length}")
        return AdditiveCost(self.params + sign * other.params,
                            self.params_without_embeddings + sign * other.params_without_embeddings,
                            self.cache_bytes + sign * other.cache_bytes,
                            self.forward_flops + sign * other.forward_flops, self.context_length)

    def metrics(self) -> dict[str, float]:
        """The analytic metrics: parameters, cache bytes and FLOPs per token."""
        return {
            "params": float(self.params),
            "params_without_embeddings": float(self.params_without_embeddings),
            "cache_bytes": float(self.cache_bytes),
            "flops": self.forward_flops / self.context_length,
        }


@dataclass(frozen=True)
class _SlotCost:
    """Costs of one slot that do not depend on the context length, and the per-token slopes."""

    params_featurizers: int  # skipped when the featurizer is shared from an earlier slot
    params_own: int  # norm, output projection, lambda
    cache_fixed: int  # values
    cache_per_token: int  # values per context token (K/V, long-convolution inputs)
    cache_window: int | None  # cap on cached tokens (sliding window)
    flops_fixed: int  # per token
    attention_flops: int  # per visible token, per position
    attention_window: int | None
    long_conv_flops: int  # per visible token, per position


def efficiency(genome: Genome, width: int | None = None, heads: int | None = None,
               context_length: int = DEFAULT_CONTEXT_LENGTH, bytes_per_value: int = 2,
               vocab_size: int = DEFAULT_VOCAB_SIZE, tie_embeddings: bool = True) -> Efficiency:
    """Exact cost of `genome` at `width`/`heads` (default: the genome's own) and `context_length`."""
    width = genome.width if width is None else width
    heads = genome.heads if heads is None else heads
    if context_length < 1:
        raise ValueError(f"context_length={context_length} must be at least 1")
    if bytes_per_value < 1:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be at least 1")
    if (width, heads) != (genome.width, genome.heads):
        genome.with_width(width, heads)  # validates the genome at that width, naming the slot at fault
    L = context_length
    params = width  # final norm
    cache = 0
    flops = 0
    for i, slot in enumerate(genome.slots):
        consumer = genome.feature_source(i) != i
        c = _slot_cost(genome.slot_genome(i), width, heads, consumer)
        params += c.params_own + (c.params_featurizers if genome.featurizer_source(i) == i else 0)
        cached_tokens = L if c.cache_window is None else min(L, c.cache_window)
        cache += c.cache_fixed + c.cache_per_token * cached_tokens
        flops += c.flops_fixed * L + c.attention_flops * _visible_sum(L, c.attention_window)
        flops += c.long_conv_flops * L * (L + 1) // 2
    embedding = vocab_size * width
    head = 0 if tie_embeddings else width * vocab_size
    flops += 2 * width * vocab_size * L
    return Efficiency(
        params=params + embedding + head, params_without_embeddings=params, cache_bytes=cache * bytes_per_value,
        forward_flops=flops, flops_per_token=flops / L, width=width, heads=heads, context_length=L,
        bytes_per_value=bytes_per_value, vocab_size=vocab_size)


def analytic_metrics(genome: Genome, context_length: int = DEFAULT_CONTEXT_LENGTH,
                     vocab_size: int = DEFAULT_VOCAB_SIZE, long_context_length: int | None = None
                     ) -> dict[str, float]:
    """`AdditiveCost.metrics` of the genome at its own width (16-bit cache), and the cache at a
    second, longer context as `cache_bytes_long` when given: rankings flip as L grows."""
    metrics = efficiency(genome, context_length=context_length, vocab_size=vocab_size).additive().metrics()
    if long_context_length is not None:
        long = efficiency(genome, context_length=long_context_length, vocab_size=vocab_size)
        metrics["cache_bytes_long"] = float(long.cache_bytes)
    return metrics


def _visible_sum(length: int, window: int | None) -> int:
    """Sum over positions i < length of the tokens position i attends to: min(i + 1, window + 1)."""
    if window is None or length <= window + 1:
        return length * (length + 1) // 2
    span = window + 1
    return span * (span + 1) // 2 + (length - span) * span


@lru_cache(maxsize=8192)
def _slot_cost(cg: ClassGenome, width: int, heads: int, consumer: bool) -> _SlotCost:
    problem = width_problem(cg, width, heads)
    if problem:
        raise ValueError(problem)
    lay = operator_layout(cg, width, heads)
    groups = lay.projected_groups(consumer)
    conv = FEATURIZER_CONV_KERNEL if cg.short_conv else 0
    featurizer = sum(width * w + conv * w for _, w in groups) + (0 if consumer else lay.featurizer_extra_params())
    featurizer_flops = sum(2 * width * w + 2 * conv * w for _, w in groups)
    featurizer_cache = sum(w * (conv - 1) for _, w in groups) if conv else 0
    mixer = _mixer_cost(lay, consumer)
    n = lay.branches
    return _SlotCost(
        params_featurizers=n * featurizer,
        params_own=width + lay.inner * width + (1 if cg.differential else 0),
        cache_fixed=n * (featurizer_cache + mixer["cache_fixed"]),
        cache_per_token=n * mixer["cache_per_token"],
        cache_window=mixer["window"],
        flops_fixed=n * (featurizer_flops + mixer["flops_fixed"]) + 2 * lay.inner * width,
        attention_flops=n * mixer["attention_flops"],
        attention_window=mixer["window"],
        long_conv_flops=n * mixer["long_conv_flops"],
    )


def _mixer_cost(lay: OperatorLayout, consumer: bool) -> dict:
    """Cache values and FLOPs of one branch's token mixer (its featurizer excluded)."""
    g = lay.genome
    out = {"cache_fixed": 0, "cache_per_token": 0, "window": None, "flops_fixed": 0,
           "attention_flops": 0, "long_conv_flops": 0}
    if g.mixing == TokenMixing.LOW_RANK and g.nonlinearity != Nonlinearity.NONE:
        out["window"] = g.window if g.sparsity == Sparsity.BANDED else None
        out["cache_per_token"] = 0 if consumer else 2 * lay.kv_heads * lay.head_dim
        out["attention_flops"] = 4 * lay.heads * lay.head_dim  # q.k and weights @ v
    elif g.mixing == TokenMixing.LOW_RANK:  # linear attention: a kv_heads x d x d state
        state = lay.kv_heads * lay.head_dim * lay.head_dim
        out["cache_fixed"] = 0 if consumer else state
        out["flops_fixed"] = 2 * lay.heads * lay.head_dim ** 2 + (0 if consumer else 2 * state)
    elif g.mixing == TokenMixing.SEMI_SEPARABLE:
        state = lay.width * lay.state
        out["cache_fixed"] = 0 if consumer else state
        out["flops_fixed"] = 2 * state + (0 if consumer else 2 * state)  # read-out, input outer product
    elif g.mixing == TokenMixing.TOEPLITZ and not consumer:
        if g.featurizer == FeaturizerClass.SHORT_FILTER:
            out["cache_fixed"] = lay.inner * (g.kernel - 1)
            out["flops_fixed"] = 2 * lay.inner * g.kernel
        else:
            out["cache_per_token"] = lay.inner
            out["long_conv_flops"] = 2 * lay.inner
    return out

"""The `efficiency` fidelity: the analytic cost model plus measured CPU latency per generated token.

The analytic metrics are the cost model's (`livgym.models.cost.analytic_metrics`); every other
evaluator reports them too (they cost tens of microseconds), so any result carries what the
efficiency objectives need. What this fidelity adds is the measured decode latency.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from livgym.models.compiler import build_model
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE, analytic_metrics
from livgym.models.genes import PROXY_HEADS, PROXY_WIDTH
from livgym.models.genome import Genome
from livgym.rewards.evaluation.evaluator import Evaluator, replace_config
from livgym.rewards.training.seeding import seeded

@dataclass(frozen=True)
class EfficiencyConfig:
    """Settings of the efficiency fidelity (one line each)."""

    context_length: int = DEFAULT_CONTEXT_LENGTH  # context of the analytic cache and FLOPs
    long_context_length: int = 32768  # a second context for the cache
    vocab_size: int = DEFAULT_VOCAB_SIZE  # vocabulary of the costed model
    latency: bool = True  # measure decode latency (else analytic metrics only)
    latency_width: int | None = PROXY_WIDTH  # width of the timed model (None: the genome's own)
    latency_heads: int | None = PROXY_HEADS  # heads of the timed model (None: the genome's own)
    latency_prefix: int = 64  # tokens decoded before timing starts (cache warm, not timed)
    latency_tokens: int = 32  # timed decoding steps; the metric is their median
    threads: int = 1  # torch threads while timing


class EfficiencyEvaluator(Evaluator):
    """Analytic params / cache / FLOPs and the median seconds to decode one token (batch 1)."""

    name = "efficiency"

    def _measure(self, genome: Genome, seed: int) -> dict[str, float]:
        c = self.config
        metrics = analytic_metrics(genome, c.context_length, c.vocab_size, c.long_context_length)
        if c.latency:
            metrics["latency"] = decode_latency(genome, c, seed)
        return metrics


def decode_latency(genome: Genome, config: EfficiencyConfig, seed: int) -> float:
    """Median wall time of one decoding step after `latency_prefix` tokens, warm-up excluded."""
    width = config.latency_width or genome.width
    heads = config.latency_heads or genome.heads
    timed = genome if (width, heads) == (genome.width, genome.heads) else genome.with_width(width, heads)
    with seeded(seed, config.threads), torch.inference_mode():
        model = build_model(timed, config.vocab_size).eval()
        tokens = torch.randint(0, config.vocab_size, (config.latency_prefix + config.latency_tokens,))
        cache = model.init_cache(1)
        for token in tokens[: config.latency_prefix]:
            model.step(token.view(1), cache)
        times = []
        for token in tokens[config.latency_prefix:]:
            start = time.perf_counter()
            model.step(token.view(1), cache)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_efficiency(**overrides) -> EfficiencyEvaluator:
    return EfficiencyEvaluator(replace_config(EfficiencyConfig(), overrides, "efficiency"), "efficiency")


def make_analytic(**overrides) -> EfficiencyEvaluator:
    config = replace_config(EfficiencyConfig(latency=False), overrides, "analytic")
    return EfficiencyEvaluator(config, "analytic")

"""The `zero-cost` fidelity: zero-cost proxies (`livgym.rewards.zero_cost_proxies`) of the
untrained model on one MAD-lite mixture batch.

`quality` is log10 of the configured proxy (default snip); which proxy tracks trained quality
best in this space is measured by `benchmarks/proxy_fidelity.py`, not assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from livgym.models.compiler import build_model
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE, analytic_metrics
from livgym.models.genes import PROXY_HEADS, PROXY_WIDTH
from livgym.models.genome import Genome
from livgym.rewards import tasks as mad
from livgym.rewards.base import Evaluator, register_fidelity, replace_config
from livgym.rewards.evaluators.mad_lite import MadLiteConfig, task_configs
from livgym.rewards.seeding import seeded
from livgym.rewards.zero_cost_proxies import ZERO_COST_PROXIES, gradient_scores, synflow_score


@dataclass(frozen=True)
class ZeroCostConfig:
    """Settings of the zero-cost fidelity (one line each)."""

    width: int = PROXY_WIDTH  # proxy width
    heads: int = PROXY_HEADS  # proxy heads
    batch_size: int = 32  # mixture sequences in the one batch
    quality_proxy: str = "snip"  # which score becomes `quality` (as log10)
    threads: int = 1  # torch threads
    context_length: int = DEFAULT_CONTEXT_LENGTH  # of the analytic efficiency metrics reported alongside

    def __post_init__(self) -> None:
        if self.quality_proxy not in ZERO_COST_PROXIES:
            raise ValueError(f"quality_proxy={self.quality_proxy!r} is not one of {ZERO_COST_PROXIES}")


class ZeroCostEvaluator(Evaluator):
    name = "zero-cost"

    def _measure(self, genome: Genome, seed: int) -> dict[str, float]:
        c = self.config
        configs = task_configs(MadLiteConfig())  # the data mad-lite trains on
        batch, _ = mad.make_mixture_batch(configs, c.batch_size, torch.Generator().manual_seed(seed))
        with seeded(seed, c.threads):
            model = build_model(genome.with_width(c.width, c.heads), mad.mixture_vocab_size(configs))
            metrics = gradient_scores(model, batch.inputs, batch.targets)
            metrics["synflow"] = synflow_score(model, batch.inputs.shape[1])
        score = metrics[c.quality_proxy]
        metrics["quality"] = math.log10(score) if score > 0 else -math.inf
        metrics.update(analytic_metrics(genome, c.context_length, DEFAULT_VOCAB_SIZE))
        return metrics


def make_zero_cost(**overrides) -> ZeroCostEvaluator:
    return ZeroCostEvaluator(replace_config(ZeroCostConfig(), overrides, "zero-cost"), "zero-cost")


register_fidelity("zero-cost", make_zero_cost)

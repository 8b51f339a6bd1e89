"""The `byte-lm` fidelity: next-byte prediction on real text, scored in held-out bits per byte.

The default corpus is the Python standard library's own source, present on every machine
with no download (`rewards.training.corpus`); its content hash enters the evaluator config, so results
from a different corpus never answer for this one. `quality` = 1 - bits_per_byte / 8 (8 bits
per byte is a uniform guess), higher is better like every quality metric.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from livgym.models.compiler import build_model
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE, analytic_metrics
from livgym.models.genes import PROXY_HEADS, PROXY_WIDTH
from livgym.models.genome import Genome
from livgym.rewards.evaluation.evaluator import replace_config
from livgym.rewards.training.corpus import CorpusConfig, load_corpus
from livgym.rewards.training.device import exact_numerics
from livgym.rewards.training.seeding import seeded
from livgym.rewards.training.loop import TrainConfig, TrainedEvaluator, lm_loss, train

VOCAB = DEFAULT_VOCAB_SIZE  # one token per byte


@dataclass(frozen=True)
class ByteLMConfig:
    """Settings of a byte-level LM evaluation (one line each)."""

    corpus: CorpusConfig = field(default_factory=CorpusConfig)  # which text, held-out split by file
    width: int = PROXY_WIDTH  # proxy width
    heads: int = PROXY_HEADS  # proxy heads
    seq_len: int = 128  # bytes per training window
    eval_batches: int = 8  # held-out batches (of train.batch_size windows) for bits per byte
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=400, batch_size=16, eval_every=100, early_stop_accuracy=2.0))  # no early stop
    context_length: int = DEFAULT_CONTEXT_LENGTH  # of the analytic efficiency metrics reported alongside


class ByteLMEvaluator(TrainedEvaluator):
    name = "byte-lm"

    def config_dict(self) -> dict[str, Any]:
        corpus = load_corpus(self.config.corpus)
        return {"evaluator": self.name, **asdict(self.config), "corpus_hash": corpus.content_hash,
                "corpus_record": corpus.record()}

    def _measure(self, genome: Genome, seed: int) -> dict[str, float]:
        c = self.config
        corpus = load_corpus(c.corpus)
        data = torch.Generator().manual_seed(seed)
        heldout = torch.Generator().manual_seed(seed + 7_777_777)
        device = self.device()
        eval_set = [tuple(t.to(device) for t in corpus.sample("heldout", c.train.batch_size, c.seq_len, heldout))
                    for _ in range(c.eval_batches)]
        best_bpb = math.inf

        def next_batch(step: int):
            return corpus.sample("train", c.train.batch_size, c.seq_len, data)

        def evaluate(model) -> float:
            nonlocal best_bpb
            model.eval()
            with torch.no_grad():
                nats = sum(lm_loss(model, x, y).item() for x, y in eval_set) / len(eval_set)
            best_bpb = min(best_bpb, nats / math.log(2))
            return 0.0  # no early stop on a language model

        with seeded(seed, c.train.threads), exact_numerics(device):
            model = build_model(genome.with_width(c.width, c.heads), VOCAB).to(device)
            outcome = train(model, next_batch, evaluate, c.train)
        metrics = {"bits_per_byte": best_bpb, "quality": 1.0 - best_bpb / 8.0, "train_steps": float(outcome.steps),
                   "train_loss": outcome.final_loss}
        metrics.update(analytic_metrics(genome, c.context_length, VOCAB))
        return metrics


def make_byte_lm(**overrides) -> ByteLMEvaluator:
    return ByteLMEvaluator(replace_config(ByteLMConfig(), overrides, "byte-lm"), "byte-lm")

"""Compile a genome into a causal language model (embedding, pre-norm LIV blocks, norm, head).

    >>> from livgym.models import build_model, reference_genome
    >>> model = build_model(reference_genome("striped-hybrid", depth=8, width=64, heads=4), vocab_size=256)

Featurizer sharing hands later slots the same Featurizer objects (the same Parameters);
feature-group sharing passes a producer's exported feature groups to its consumers, in the
parallel forward and while decoding token by token with `init_cache` / `step`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from livgym.models.genome import Genome
from livgym.models.layout import operator_layout
from livgym.models.operators.operator import Exports, LIVOperator

INIT_STD = 0.02
NORM_EPS = 1e-6


class RMSNorm(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + NORM_EPS) * self.weight


class Block(nn.Module):
    """x + op(norm(x)): the pre-norm residual block every slot sits in."""

    def __init__(self, op: LIVOperator) -> None:
        super().__init__()
        self.norm = RMSNorm(op.layout.width)
        self.op = op


@dataclass
class ModelCache:
    """Everything the model keeps between decoding steps: per-slot tensors and the position.

    Consumers of shared feature groups keep none of the shared tensors themselves, so the
    cache's size is the inference cache as the cost model defines it.
    """

    layers: list[list[dict[str, dict[str, Tensor]]]]
    position: int = 0

    def tensors(self) -> list[Tensor]:
        """Every distinct tensor held, each once."""
        seen: dict[int, Tensor] = {}
        for layer in self.layers:
            for branch in layer:
                for part in branch.values():
                    for t in part.values():
                        seen.setdefault(id(t), t)
        return list(seen.values())

    def num_values(self) -> int:
        return sum(t.numel() for t in self.tensors())

    def nbytes(self, bytes_per_value: int = 2) -> int:
        """Cache size counted at `bytes_per_value` per value (2: 16-bit inference), batch included."""
        return self.num_values() * bytes_per_value


class LIVModel(nn.Module):
    """A causal LM over `vocab_size` tokens whose backbone is the genome's slots."""

    def __init__(self, genome: Genome, vocab_size: int, tie_embeddings: bool = True) -> None:
        super().__init__()
        self.genome = genome
        self.vocab_size = vocab_size
        width = genome.width
        self.embedding = nn.Embedding(vocab_size, width)
        self.feature_sources = [genome.feature_source(i) for i in range(genome.depth)]
        blocks: list[Block] = []
        for i in range(genome.depth):
            layout = operator_layout(genome.slot_genome(i), width, genome.heads)
            src = genome.featurizer_source(i)
            shared = list(blocks[src].op.featurizers) if src != i else None
            blocks.append(Block(LIVOperator(layout, consumer=self.feature_sources[i] != i, featurizers=shared)))
        self.blocks = nn.ModuleList(blocks)
        self.norm = RMSNorm(width)
        self.head = nn.Linear(width, vocab_size, bias=False)
        self._init_weights()
        if tie_embeddings:
            self.head.weight = self.embedding.weight

    def _init_weights(self) -> None:
        """nanoGPT's scheme: N(0, 0.02), output projections scaled by 1/sqrt(2 * depth).
        Featurizer extras (decays, filters, conv taps) keep the init their modules chose."""
        nn.init.normal_(self.embedding.weight, std=INIT_STD)
        nn.init.normal_(self.head.weight, std=INIT_STD)
        for block in self.blocks:
            for featurizer in block.op.featurizers:
                for proj in featurizer.proj.values():
                    nn.init.normal_(proj.weight, std=INIT_STD)
            nn.init.normal_(block.op.out.weight, std=INIT_STD / math.sqrt(2 * len(self.blocks)))

    def forward(self, tokens: Tensor) -> Tensor:
        """tokens (B, L) int64 -> logits (B, L, vocab_size)."""
        x = self.embedding(tokens)
        exports: list[Exports] = []
        for i, block in enumerate(self.blocks):
            src = self.feature_sources[i]
            y, shared = block.op(block.norm(x), exports[src] if src != i else None)
            exports.append(shared)
            x = x + y
        return self.head(self.norm(x))

    def init_cache(self, batch_size: int = 1) -> ModelCache:
        like = self.embedding.weight
        return ModelCache([block.op.init_cache(batch_size, like) for block in self.blocks])

    def step(self, tokens: Tensor, cache: ModelCache) -> Tensor:
        """Decode one token per sequence: tokens (B,) -> logits (B, vocab_size); updates `cache`."""
        x = self.embedding(tokens)
        exports: list[Exports] = []
        for i, block in enumerate(self.blocks):
            src = self.feature_sources[i]
            y, shared = block.op.step(block.norm(x), cache.layers[i], exports[src] if src != i else None,
                                      cache.position)
            exports.append(shared)
            x = x + y
        cache.position += 1
        return self.head(self.norm(x))

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        """Unique parameters (shared tensors once); optionally without embedding and head."""
        params = {id(p): p for p in self.parameters()}
        if exclude_embeddings:
            params.pop(id(self.embedding.weight), None)
            params.pop(id(self.head.weight), None)
        return sum(p.numel() for p in params.values())


def build_model(genome: Genome, vocab_size: int, tie_embeddings: bool = True) -> LIVModel:
    """A runnable PyTorch causal LM for `genome` at the genome's width and heads."""
    return LIVModel(genome, vocab_size, tie_embeddings=tie_embeddings)

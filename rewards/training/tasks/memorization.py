"""The memorization task: facts fixed by the config, learned into the weights."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from livgym.rewards.training.tasks.batch import IGNORE_INDEX, TaskBatch, require


@dataclass(frozen=True)
class MemorizationConfig:
    """Recall facts learned in training: a fixed global key -> value map (MAD's memorization).

    Vocabulary (`vocab_size` = num_keys + num_values):
        keys    [0, num_keys)
        values  [num_keys, num_keys + num_values)
    Facts: each key's value is drawn once, uniformly, from a generator seeded with
    `facts_seed` (see `memorization_facts`), never from the batch generator: every batch of
    one config shares the same facts, so they can only be learned into the weights.
    Sequence: seq_len / 2 pairs `k fact(k)`, keys uniform with replacement.
    Probes: every key; target = its fact value (also the next input).
    mad-lab baseline: vocab 256 (127 keys, 127 values, an insert token), seq 32, map seed 12345.
    Here: 64 keys and 64 values (vocab 128) at seq 32, the same seed.
    """

    seq_len: int = 32  # tokens per sequence, even
    num_keys: int = 64  # key tokens (facts)
    num_values: int = 64  # value tokens
    facts_seed: int = 12345  # seeds the key -> value map

    def __post_init__(self) -> None:
        require(self.num_keys >= 1 and self.num_values >= 1, self, "num_keys and num_values must be >= 1")
        require(self.seq_len >= 2 and self.seq_len % 2 == 0, self, f"seq_len={self.seq_len} must be even and >= 2")

    @property
    def keys(self) -> range:
        return range(0, self.num_keys)

    @property
    def values(self) -> range:
        return range(self.num_keys, self.num_keys + self.num_values)

    @property
    def vocab_size(self) -> int:
        return self.num_keys + self.num_values


@lru_cache(maxsize=64)
def _facts(num_keys: int, num_values: int, facts_seed: int) -> tuple[int, ...]:
    generator = torch.Generator().manual_seed(facts_seed)
    return tuple((torch.randint(num_values, (num_keys,), generator=generator) + num_keys).tolist())


def memorization_facts(config: MemorizationConfig) -> Tensor:
    """(num_keys,) int64: the value token of each key; a function of the config alone."""
    return torch.tensor(_facts(config.num_keys, config.num_values, config.facts_seed), dtype=torch.long)


def make_memorization_batch(config: MemorizationConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """Memorization sequences over the config's fixed facts; see `MemorizationConfig`."""
    n, c = num_sequences, config
    keys = torch.randint(c.num_keys, (n, c.seq_len // 2), generator=generator)
    values = memorization_facts(c)[keys]
    inputs = torch.stack([keys, values], dim=2).reshape(n, c.seq_len)
    targets = torch.stack([values, torch.full_like(values, IGNORE_INDEX)], dim=2).reshape(n, c.seq_len)
    return TaskBatch(inputs, targets)

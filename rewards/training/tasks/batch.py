"""A task batch, the shared conventions of its tokens and probes, and how probes are scored."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

IGNORE_INDEX = -100  # target of every position that is not probed


@dataclass(frozen=True, eq=False)
class TaskBatch:
    """Token sequences and their probe targets, both int64 of shape (N, L)."""

    inputs: Tensor  # (N, L) token ids
    targets: Tensor  # (N, L) token ids at probe positions, IGNORE_INDEX elsewhere

    def __post_init__(self) -> None:
        if self.inputs.dim() != 2 or self.inputs.shape != self.targets.shape:
            raise ValueError(f"inputs {tuple(self.inputs.shape)} and targets {tuple(self.targets.shape)} "
                             "must both be (num_sequences, seq_len)")

    @property
    def probes(self) -> Tensor:
        """(N, L) bool: where a target is set."""
        return self.targets != IGNORE_INDEX


def require(condition: bool, config: object, message: str) -> None:
    """A task config's check: a ValueError naming the config class unless `condition` holds."""
    if not condition:
        raise ValueError(f"{type(config).__name__}: {message}")


def stack_rows(rows: list[tuple[list[int], list[int]]], seq_len: int) -> TaskBatch:
    """A batch of (tokens, targets) rows built one sequence at a time, each `seq_len` long."""
    if not rows:
        return TaskBatch(torch.zeros(0, seq_len, dtype=torch.long), torch.zeros(0, seq_len, dtype=torch.long))
    tokens, targets = zip(*rows)
    return TaskBatch(torch.tensor(tokens, dtype=torch.long), torch.tensor(targets, dtype=torch.long))


def probe_accuracy(logits: Tensor, targets: Tensor) -> float:
    """Fraction of probe positions (targets != IGNORE_INDEX) where argmax(logits) is the target.

    logits: (N, L, V); targets: (N, L). MAD's per-task score is this accuracy.
    """
    correct, probes = _probe_hits(logits, targets)
    return correct[probes].float().mean().item()


def sequence_accuracy(logits: Tensor, targets: Tensor) -> float:
    """Fraction of sequences with at least one probe whose probes are all right."""
    correct, probes = _probe_hits(logits, targets)
    probed = probes.any(dim=1)
    all_right = (correct | ~probes).all(dim=1)
    return all_right[probed].float().mean().item()


def _probe_hits(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} must be (N, L, V) over targets {tuple(targets.shape)}")
    probes = targets != IGNORE_INDEX
    if not probes.any():
        raise ValueError("targets hold no probe positions (all are IGNORE_INDEX)")
    return logits.argmax(dim=-1) == targets, probes

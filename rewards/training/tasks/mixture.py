"""Mixtures: several tasks interleaved in one batch over a shared vocabulary, and split again."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from livgym.rewards.training.tasks.batch import IGNORE_INDEX, TaskBatch
from livgym.rewards.training.tasks.registry import TASKS, TaskConfig, make_batch


@dataclass(frozen=True)
class MixtureLayout:
    """How several tasks share one vocabulary and one sequence length.

    Tasks are numbered in the order of the `configs` dict given (`task_ids` index `names`).
    Shared vocabulary:
        tag of task i   i                      for i in [0, T)
        pad             T
        task i's ids    offsets[i] + [0, vocab_size(config_i)), blocks back to back after pad
    Sequence: the tag, the task's sequence with its ids shifted by its offset (targets too),
    then pad to `seq_len` = 1 + the longest task sequence. Tag and pad are never probed.
    """

    names: tuple[str, ...]
    offsets: tuple[int, ...]
    task_lengths: tuple[int, ...]  # seq_len of each task
    seq_len: int
    vocab_size: int

    @property
    def pad(self) -> int:
        return len(self.names)


def mixture_layout(configs: dict[str, TaskConfig]) -> MixtureLayout:
    """The shared layout of `configs` (task name -> its config); see `MixtureLayout`."""
    if not configs:
        raise ValueError("a mixture needs at least one task config")
    offsets, next_id = [], len(configs) + 1  # tags, then pad
    for name, config in configs.items():
        if name not in TASKS or type(config) is not TASKS[name].config_class:
            raise ValueError(f"mixture entry {name!r}: {type(config).__name__} is not the config of a known task; "
                             f"known: {', '.join(f'{n} ({t.config_class.__name__})' for n, t in TASKS.items())}")
        offsets.append(next_id)
        next_id += config.vocab_size
    lengths = tuple(config.seq_len for config in configs.values())
    return MixtureLayout(names=tuple(configs), offsets=tuple(offsets), task_lengths=lengths,
                         seq_len=1 + max(lengths), vocab_size=next_id)


def mixture_vocab_size(configs: dict[str, TaskConfig]) -> int:
    """Size of the shared vocabulary of a mixture of `configs`."""
    return mixture_layout(configs).vocab_size


def make_mixture_batch(configs: dict[str, TaskConfig], num_sequences: int, generator: torch.Generator,
                       weights: dict[str, float] | None = None) -> tuple[TaskBatch, Tensor]:
    """A batch mixing the tasks of `configs`, and each sequence's task id (N,).

    Shares are equal, or proportional to `weights` (task name -> weight; missing names weigh
    1): each task gets floor(N * share) rows and the rows left over go to the largest
    remainders, ties to the earlier task. Draws, in this order: a permutation of the N rows
    (with equal shares, task ids are `arange(N) % T` permuted, so shares differ by at most
    one), then for each task in `configs` order the batch of its rows
    (`make_batch(config, count, generator)`), placed in increasing row order.
    """
    if num_sequences < 1:
        raise ValueError(f"num_sequences={num_sequences} must be >= 1")
    layout = mixture_layout(configs)
    if weights is None:
        ids = torch.arange(num_sequences) % len(configs)
    else:
        ids = torch.repeat_interleave(torch.arange(len(configs)), _weighted_counts(configs, weights, num_sequences))
    task_ids = ids[torch.randperm(num_sequences, generator=generator)]
    inputs = torch.full((num_sequences, layout.seq_len), layout.pad, dtype=torch.long)
    targets = torch.full((num_sequences, layout.seq_len), IGNORE_INDEX, dtype=torch.long)
    inputs[:, 0] = task_ids
    for i, config in enumerate(configs.values()):
        rows = (task_ids == i).nonzero().flatten()
        if len(rows) == 0:
            continue
        batch = make_batch(config, len(rows), generator)
        span = slice(1, 1 + config.seq_len)
        inputs[rows, span] = batch.inputs + layout.offsets[i]
        targets[rows, span] = torch.where(batch.probes, batch.targets + layout.offsets[i], IGNORE_INDEX)
    return TaskBatch(inputs, targets), task_ids


def _weighted_counts(configs: dict[str, TaskConfig], weights: dict[str, float], total: int) -> Tensor:
    """Rows per task in `configs` order, proportional to `weights` and summing to `total`."""
    unknown = set(weights) - set(configs)
    if unknown:
        raise ValueError(f"weights name task(s) {sorted(unknown)} that are not in the mixture {list(configs)}")
    raw = [float(weights.get(name, 1.0)) for name in configs]
    if any(w < 0 or not math.isfinite(w) for w in raw) or sum(raw) <= 0:
        raise ValueError(f"weights={weights!r} must be finite, >= 0 and not all 0")
    exact = [total * w / sum(raw) for w in raw]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(raw)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return torch.tensor(counts)


def split_mixture_batch(batch: TaskBatch, task_ids: Tensor, configs: dict[str, TaskConfig]) -> dict[str, TaskBatch]:
    """Undo `make_mixture_batch`: each task's rows, tag and pad dropped, in the task's own ids."""
    layout = mixture_layout(configs)
    split = {}
    for i, name in enumerate(layout.names):
        rows = task_ids == i
        span = slice(1, 1 + layout.task_lengths[i])
        inputs, targets = batch.inputs[rows, span], batch.targets[rows, span]
        split[name] = TaskBatch(inputs - layout.offsets[i],
                                torch.where(targets != IGNORE_INDEX, targets - layout.offsets[i], IGNORE_INDEX))
    return split

"""The registry of tasks: each name's config class and batch function, the only list of tasks."""

from __future__ import annotations

from typing import Callable, NamedTuple, Union

import torch

from livgym.rewards.training.tasks.batch import TaskBatch
from livgym.rewards.training.tasks.copying import (
    CompressionConfig,
    SelectiveCopyingConfig,
    make_compression_batch,
    make_selective_copying_batch,
)
from livgym.rewards.training.tasks.memorization import MemorizationConfig, make_memorization_batch
from livgym.rewards.training.tasks.recall import (
    FuzzyRecallConfig,
    InContextRecallConfig,
    NoisyRecallConfig,
    make_fuzzy_recall_batch,
    make_in_context_recall_batch,
    make_noisy_recall_batch,
)

TaskConfig = Union[InContextRecallConfig, FuzzyRecallConfig, NoisyRecallConfig, SelectiveCopyingConfig,
                   CompressionConfig, MemorizationConfig]


class Task(NamedTuple):
    """A task's config class and batch function; unpacks as `config_class, make_batch`."""

    config_class: type
    make_batch: Callable[..., TaskBatch]


TASKS: dict[str, Task] = {
    "in_context_recall": Task(InContextRecallConfig, make_in_context_recall_batch),
    "fuzzy_recall": Task(FuzzyRecallConfig, make_fuzzy_recall_batch),
    "noisy_recall": Task(NoisyRecallConfig, make_noisy_recall_batch),
    "selective_copying": Task(SelectiveCopyingConfig, make_selective_copying_batch),
    "compression": Task(CompressionConfig, make_compression_batch),
    "memorization": Task(MemorizationConfig, make_memorization_batch),
}


def task_name(config: TaskConfig) -> str:
    """The registry name of a task config."""
    for name, task in TASKS.items():
        if type(config) is task.config_class:
            return name
    raise TypeError(f"{type(config).__name__} is not a task config; known: "
                    f"{', '.join(t.config_class.__name__ for t in TASKS.values())}")


def make_batch(config: TaskConfig, num_sequences: int, generator: torch.Generator) -> TaskBatch:
    """`num_sequences` sequences of the task `config` belongs to, drawn from `generator`."""
    if num_sequences < 0:
        raise ValueError(f"num_sequences={num_sequences} must be >= 0")
    return TASKS[task_name(config)].make_batch(config, num_sequences, generator)


def vocab_size(config: TaskConfig) -> int:
    """Token ids of the task are in [0, vocab_size(config))."""
    return config.vocab_size

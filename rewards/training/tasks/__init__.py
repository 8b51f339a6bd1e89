"""MAD's six synthetic token tasks, generated in-process from a seed, at CPU-proxy scale.

MAD (Poli et al., ICML 2024, arXiv 2403.17844; code: mad-lab) scores an architecture by its
probe accuracy on six small tasks; those scores rank architectures like their compute-optimal
perplexity at scale. mad-lab generates its data ahead of time with NumPy; here every batch is
drawn on the fly from a caller's `torch.Generator`, on CPU, with nothing read or downloaded.

Conventions shared by every task:
- `make_batch(config, num_sequences, generator) -> TaskBatch` with `inputs` and `targets`,
  both int64 of shape (num_sequences, config.seq_len). The model reads `inputs[:, :t + 1]`
  and must predict `targets[:, t]`; `targets` is `IGNORE_INDEX` (-100, the default
  `ignore_index` of `torch.nn.functional.cross_entropy`) everywhere except the probe positions.
- Every random draw comes from the passed generator, with shapes that depend on the config
  only, so the same config and generator seed give identical tensors. (mad-lab's selective
  copying draws its positions from NumPy's global generator instead: not copied here.)
- Token ids of each task start at 0; each config documents its vocabulary layout and exposes
  the id ranges as properties (`keys`, `values`, `noise`, ...) and `vocab_size`.
- Defaults are smaller than mad-lab's (sequence 64 instead of 128-256) so that a proxy
  trains in minutes on a CPU core; each config's docstring names the mad-lab baseline it reduces.

The registry `TASKS` maps each task name to its config class and batch function;
`make_mixture_batch` interleaves several tasks in one batch over a shared vocabulary, each
sequence opened by a task-tag token (see `MixtureLayout`).

The modules: `batch` (a batch, its probes, scoring), one per task family (`recall`, `copying`,
`memorization`), `registry` (`TASKS`, `make_batch`) and `mixture`.

    >>> import torch
    >>> from livgym.rewards.training import tasks
    >>> batch = tasks.make_batch(tasks.InContextRecallConfig(), 4, torch.Generator().manual_seed(0))
    >>> batch.inputs.shape, int((batch.targets != tasks.IGNORE_INDEX).sum()) > 0
    (torch.Size([4, 64]), True)
"""

from livgym.rewards.training.tasks.batch import IGNORE_INDEX, TaskBatch, probe_accuracy, sequence_accuracy
from livgym.rewards.training.tasks.copying import (
    CompressionConfig,
    SelectiveCopyingConfig,
    make_compression_batch,
    make_selective_copying_batch,
)
from livgym.rewards.training.tasks.memorization import (
    MemorizationConfig,
    make_memorization_batch,
    memorization_facts,
)
from livgym.rewards.training.tasks.mixture import (
    MixtureLayout,
    make_mixture_batch,
    mixture_layout,
    mixture_vocab_size,
    split_mixture_batch,
)
from livgym.rewards.training.tasks.recall import (
    FuzzyRecallConfig,
    InContextRecallConfig,
    NoisyRecallConfig,
    make_fuzzy_recall_batch,
    make_in_context_recall_batch,
    make_noisy_recall_batch,
)
from livgym.rewards.training.tasks.registry import TASKS, Task, TaskConfig, make_batch, task_name, vocab_size

__all__ = [
    "IGNORE_INDEX",
    "TASKS",
    "CompressionConfig",
    "FuzzyRecallConfig",
    "InContextRecallConfig",
    "MemorizationConfig",
    "MixtureLayout",
    "NoisyRecallConfig",
    "SelectiveCopyingConfig",
    "Task",
    "TaskBatch",
    "TaskConfig",
    "make_batch",
    "make_compression_batch",
    "make_fuzzy_recall_batch",
    "make_in_context_recall_batch",
    "make_memorization_batch",
    "make_mixture_batch",
    "make_noisy_recall_batch",
    "make_selective_copying_batch",
    "memorization_facts",
    "mixture_layout",
    "mixture_vocab_size",
    "probe_accuracy",
    "sequence_accuracy",
    "split_mixture_batch",
    "task_name",
    "vocab_size",
]

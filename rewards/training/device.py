"""Where trained quality proxies run: `auto` (a GPU when present, else the CPU), or a named device.

The device is part of how a result is computed, not of what it measures, so it stays out of
the evaluator's config hash (its field is marked `hashed: False`): a result trained on a GPU
answers the same query on a CPU machine, just as a result from one CPU answers for another.
The device a result actually ran on is recorded with it (`EvaluationResult.config["ran_on"]`). Models are
initialised on the CPU and data is drawn from CPU generators on every device, so a GPU run
starts from the same weights and sees the same batches; only floating-point rounding differs.
On CUDA, evaluations run in full float32 (no TF32) with deterministic algorithms, so that the
same seed gives the same metrics on the same GPU (not yet checked on a real GPU).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch

AUTO = "auto"


def resolve_device(name: str) -> torch.device:
    """The torch device for setting `name`; an error naming the value if it cannot be used here.

    `auto` is CUDA when `torch.cuda.is_available()`, else the CPU. Any other name is a torch
    device string (`cpu`, `cuda`, `cuda:1`, ...) that must work on this machine.
    """
    if name == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device={name!r} is not a device name (auto, cpu, cuda, cuda:N): {err}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r}: this machine has no usable CUDA device "
                         f"(torch {torch.__version__}); use device='auto' or 'cpu'")
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as err:
        raise ValueError(f"device={name!r} cannot be used on this machine: {err}") from None
    return device


def describe(device: torch.device) -> str:
    """A short record of a device for stored results, e.g. `cuda:0 (NVIDIA H100 80GB HBM3)`."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(device)


@contextlib.contextmanager
def exact_numerics(device: torch.device) -> Iterator[None]:
    """On CUDA: full float32 and deterministic kernels for the block, restoring the old settings.

    TF32 would change what a float32 recipe computes (cuDNN convolutions use it by default),
    and atomics-based kernels would make a seed's metrics vary run to run. Elsewhere a no-op.
    """
    if device.type != "cuda":
        yield
        return
    # cuBLAS reads this when it creates its handle; it is required for deterministic matmuls.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
             torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    # warn_only: an op with no deterministic CUDA kernel warns instead of failing the evaluation.
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, enabled, warn_only) = saved
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)

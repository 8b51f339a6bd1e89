"""A fake accelerator for CPU-only machines: tensors on device `fakegpu` that compute on the CPU.

CI has no GPU, yet the GPU path must not rot. Code that forgets to move a tensor (a batch, an
evaluation set, a mask built inside `forward`) fails on CUDA with "expected all tensors to be on
the same device". This device fails the same way, so the whole evaluation path, training
included, runs here on a device that is not the CPU. Its numbers are the CPU's, so a result on it
must equal the CPU result exactly.

How: torch's Python backend registration (`_setup_privateuseone_for_python_backend`, which gives
autograd a device guard) names the PrivateUse1 device `fakegpu`; a wrapper tensor subclass keeps
the real CPU tensor, and a dispatch mode runs every op that touches the device on the unwrapped
tensors, after checking that no ordinary CPU tensor takes part. Torch allows the renaming once
per process, so importing this module does it once.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves, tree_map

NAME = "fakegpu"
if torch._C._get_privateuse1_backend_name() != NAME:
    torch.utils.backend_registration._setup_privateuseone_for_python_backend(NAME)
FAKE_DEVICE = torch.device(NAME, 0)

# Ops that may move data between the CPU and the device, as `.to()` and `copy_` may on CUDA.
_CROSSING = {torch.ops.aten._to_copy.default, torch.ops.aten.copy_.default}


class FakeDeviceTensor(torch.Tensor):
    """A tensor on `fakegpu` whose data is the CPU tensor `elem`."""

    elem: torch.Tensor

    @staticmethod
    def __new__(cls, elem: torch.Tensor) -> "FakeDeviceTensor":
        return torch.Tensor._make_wrapper_subclass(  # type: ignore[attr-defined]
            cls, elem.size(), strides=elem.stride(), storage_offset=elem.storage_offset(), dtype=elem.dtype,
            device=FAKE_DEVICE, requires_grad=elem.requires_grad)

    def __init__(self, elem: torch.Tensor) -> None:
        self.elem = elem
        # Lazy conjugation and negation are bits on the tensor (FFT backward uses them).
        torch._C._set_conj(self, elem.is_conj())
        torch._C._set_neg(self, elem.is_neg())

    def __repr__(self) -> str:
        return f"FakeDeviceTensor({self.elem!r})"

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return _run(func, args, kwargs or {})


def _on_fake(device: Any) -> bool:
    return device is not None and torch.device(device).type == NAME


def _run(func, args: tuple, kwargs: dict) -> Any:
    fake_inputs = [x for x in tree_leaves((args, kwargs)) if isinstance(x, FakeDeviceTensor)]
    cpu_inputs = [x for x in tree_leaves((args, kwargs))
                  if isinstance(x, torch.Tensor) and not isinstance(x, FakeDeviceTensor) and x.dim() > 0]
    if fake_inputs and cpu_inputs and func not in _CROSSING:
        shapes = [tuple(x.shape) for x in cpu_inputs]
        raise RuntimeError(f"{func}: expected all tensors to be on the same device, "
                           f"but found at least two devices, {NAME}:0 and cpu (CPU tensors of shape {shapes})")
    unwrap = lambda x: x.elem if isinstance(x, FakeDeviceTensor) else x  # noqa: E731
    args, kwargs = tree_map(unwrap, args), tree_map(unwrap, kwargs)
    if "device" in kwargs and kwargs["device"] is not None:
        to_fake = _on_fake(kwargs["device"])
        if to_fake:
            kwargs["device"] = torch.device("cpu")
    else:
        to_fake = bool(fake_inputs)
    out = func(*args, **kwargs)
    if not to_fake:
        return out
    # An in-place op returns its input: hand back that input's wrapper, not a new one.
    wrappers = {id(x.elem): x for x in fake_inputs}

    def wrap(x: Any) -> Any:
        if not isinstance(x, torch.Tensor):
            return x
        return wrappers[id(x)] if id(x) in wrappers else FakeDeviceTensor(x)

    return tree_map(wrap, out)


class _FakeDeviceMode(TorchDispatchMode):
    """Routes factory calls with `device=fakegpu` (no tensor argument to dispatch on) to `_run`."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _on_fake(kwargs.get("device")) or any(isinstance(x, FakeDeviceTensor) for x in tree_leaves((args, kwargs))):
            return _run(func, args, kwargs)
        return func(*args, **kwargs)


def _empty_strided(size, stride, dtype=None, layout=None, device=None, pin_memory=None):
    return FakeDeviceTensor(torch.empty_strided(size, stride, dtype=dtype))


def _empty(size, dtype=None, layout=None, device=None, pin_memory=None, memory_format=None):
    return FakeDeviceTensor(torch.empty(size, dtype=dtype, memory_format=memory_format))


def _copy_from(src, dst, non_blocking=False):
    unwrap = lambda x: x.elem if isinstance(x, FakeDeviceTensor) else x  # noqa: E731
    unwrap(dst).copy_(unwrap(src))
    return dst


# `torch.tensor(data, device=...)` allocates and copies below the dispatch mode: give the
# backend the kernels it calls there; everything else reaches the mode or the subclass.
_KERNELS = torch.library.Library("aten", "IMPL")
_KERNELS.impl("empty_strided", _empty_strided, "PrivateUse1")
_KERNELS.impl("empty.memory_format", _empty, "PrivateUse1")
_KERNELS.impl("_copy_from", _copy_from, "PrivateUse1")


@contextlib.contextmanager
def fake_device() -> Iterator[torch.device]:
    """A block in which `FAKE_DEVICE` works like an accelerator; yields the device.

    `Module.to` swaps each parameter in place here, as it does for CUDA tensors, so tied
    weights stay tied (by default it would make a new parameter per module for a subclass).
    """
    swap = torch.__future__.get_swap_module_params_on_conversion()
    torch.__future__.set_swap_module_params_on_conversion(True)
    try:
        with _FakeDeviceMode():
            yield FAKE_DEVICE
    finally:
        torch.__future__.set_swap_module_params_on_conversion(swap)

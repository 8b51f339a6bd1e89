"""What runs a job, wherever a backend runs it: the worker's set-up, one evaluation, `imports`.

The worker entry points are module-level functions, so that a spawned process or a Ray task
finds them by module path.
"""

from __future__ import annotations

import importlib
import traceback
from typing import Any, Sequence

from livgym.rewards.backends.faults import record
from livgym.rewards.backends.jobs import EvaluationJob
from livgym.rewards.evaluation.result import EvaluationResult


def import_modules(imports: Sequence[str]) -> None:
    """Import a backend's `imports` in this process (a no-op for those already imported),
    naming the module that fails."""
    for name in imports:
        if not isinstance(name, str) or not name:
            raise ValueError(f"imports: {name!r} is not a module name")
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - any error importing a user's module is a config error
            raise ValueError(f"imports: cannot import {name!r}: {type(err).__name__}: {err}") from None


_STARTUP_ERROR: str | None = None  # in a worker: why its `imports` failed, reported for every job it gets
_STARTS: Any = None  # in a pool worker: the queue its job starts are announced on


def initialise_worker(imports: tuple[str, ...], starts: Any = None) -> None:
    """Set a worker up; an import that fails is kept and reported, not raised (which would
    kill the worker and make each of its jobs look like one that killed it)."""
    global _STARTUP_ERROR, _STARTS
    _STARTS = starts
    import torch

    torch.set_num_threads(1)  # one evaluation per core
    for name in imports:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - reported with every job this worker is given
            _STARTUP_ERROR = (f"importing {name!r} (backend imports) failed: {type(err).__name__}: {err}\n"
                              f"{traceback.format_exc(limit=4)}")
            return


def startup_error() -> str | None:
    """In a worker: why it could not start, or None (sent first to a fresh worker, as a probe)."""
    return _STARTUP_ERROR


def run_in_worker(job: EvaluationJob, backend: str, token: int | None = None) -> EvaluationResult:
    """A worker's evaluation of one job (a `lost` record if the worker could not start);
    `token` is announced on the pool's start queue first."""
    if _STARTS is not None and token is not None:
        _STARTS.put(token)
    if _STARTUP_ERROR is not None:
        return record(job, "lost", f"the worker process could not start: {_STARTUP_ERROR}", backend)
    return evaluate_job(job, backend)


def evaluate_job(job: EvaluationJob, backend: str = "inline") -> EvaluationResult:
    """Evaluate one job (no store) in this process, whichever process the backend chose, with
    the one evaluator built for it; the result records who computed it."""
    from livgym.models.genome import Genome
    from livgym.rewards.evaluation.evaluator import make_evaluator

    evaluator = make_evaluator(job.fidelity, **dict(job.overrides))
    return evaluator.evaluate(Genome.from_string(job.genome), job.seed).computed_here(backend)

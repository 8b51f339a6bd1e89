"""Evaluation backends: where evaluations run, behind one interface.

A backend takes `EvaluationJob`s (fidelity, config overrides, genome text, seed, and the store
key its result goes under) and returns each job's stored result, in job order. Every job
carries everything that determines its result, so a result does not depend on the backend that
ran it; each result records who computed it (`EvaluationResult.computed_by`). The calling
process owns the evaluation store: it answers what the store already holds, sends only the rest
to workers (which never open the store, so a cluster needs no shared file system), and stores
each result the moment it comes back.

- `InlineBackend` (`inline`): one job after another, in this process; with `timeout_s`, in one
  child process instead, so that a hung evaluation can be killed (as on the pool, with one worker).
- `ProcessPoolBackend` (`pool`): a local pool of spawned worker processes, one torch thread each;
  a job that kills or hangs its worker is retried alone, then stored as `failed` / `timeout`.
- `RayBackend` (`ray`): Ray tasks on a local or an existing cluster; Ray retries a task whose
  worker died, a hung task is cancelled and retried. Needs the `ray` extra.

The modules: `jobs` (what goes in and comes out), `base` (the submit / collect bookkeeping
every backend shares), one module per backend, `worker` (what runs a job inside a worker),
`faults` (what is recorded for jobs whose workers died, hung or never started), and `config`
(`make_backend`, from a search config's `backend` section).
"""

from livgym.rewards.backends.base import EvaluationBackend
from livgym.rewards.backends.config import BACKEND_KINDS, BackendConfig, make_backend
from livgym.rewards.backends.faults import record
from livgym.rewards.backends.inline import InlineBackend
from livgym.rewards.backends.jobs import (
    COST_HINT_CONTEXT,
    EvaluationJob,
    EvaluatorIdentity,
    JobOutcome,
    StoreKey,
    Ticket,
)
from livgym.rewards.backends.pool import ProcessPoolBackend
from livgym.rewards.backends.ray import RayBackend
from livgym.rewards.backends.worker import evaluate_job, import_modules

__all__ = [
    "BACKEND_KINDS",
    "COST_HINT_CONTEXT",
    "BackendConfig",
    "EvaluationBackend",
    "EvaluationJob",
    "EvaluatorIdentity",
    "InlineBackend",
    "JobOutcome",
    "ProcessPoolBackend",
    "RayBackend",
    "StoreKey",
    "Ticket",
    "evaluate_job",
    "import_modules",
    "make_backend",
    "record",
]

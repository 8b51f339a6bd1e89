"""Evaluation backends: where evaluations run, behind one interface (issue 7, first part).

A backend takes `EvaluationJob`s (fidelity, config overrides, genome text, seed) and returns
each job's stored result, in job order. Every job carries everything that determines its
result, so a result does not depend on the backend that ran it. The calling process owns the
evaluation store: it answers what the store already holds, sends only the rest to workers
(which never open the store, so a cluster needs no shared file system), and stores each
result the moment it comes back.

- `InlineBackend`: in this process, one job after another.
- `ProcessPoolBackend`: a local pool of spawned worker processes, one torch thread each. A
  worker that dies takes the pool down with it; the jobs it left unfinished are then run again
  one at a time in a fresh single-worker pool, so the job that kills its worker is found, and
  after `retries` deaths it is stored as a `failed` result instead of stopping the batch.
- `RayBackend`: Ray tasks on a local cluster (`ray.init()`) or an existing one
  (`address=...`); Ray retries a task whose worker died `retries` times, then the job is
  stored as `failed`. Needs the `ray` extra.
The searches' use of backends (parallel envs, whole generations) comes next (issue 7).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from abc import ABC, abstractmethod
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from livgym.rewards.result import EvaluationResult
from livgym.rewards.store import EvaluationStore


@dataclass(frozen=True)
class EvaluationJob:
    """One evaluation, fully specified: which fidelity, with which overrides, of which genome."""

    fidelity: str
    genome: str  # the genome's string form (`Genome.to_string()`)
    seed: int = 0
    overrides: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, fidelity: str, genome: str, seed: int = 0, **overrides: Any) -> EvaluationJob:
        return cls(fidelity, genome, seed, tuple(sorted(overrides.items())))


@dataclass(frozen=True)
class JobOutcome:
    result: EvaluationResult
    from_store: bool  # answered by the store (evaluated earlier, by anyone)


class EvaluationBackend(ABC):
    """Runs jobs against one evaluation store and returns their outcomes in job order."""

    def __init__(self, store: str | Path) -> None:
        self.store = EvaluationStore(store)

    def run(self, jobs: Sequence[EvaluationJob]) -> list[JobOutcome]:
        """Every job's outcome, in order; a failure inside an evaluation is a result, not an error.
        Jobs the store already answers are not sent anywhere."""
        outcomes: dict[int, JobOutcome] = {}
        missing: dict[int, EvaluationJob] = {}
        for i, job in enumerate(jobs):
            stored = self.store.get(*_key(job))
            if stored is not None:
                outcomes[i] = JobOutcome(stored, True)
            else:
                missing[i] = job
        for i, result in self._evaluate(missing):
            outcomes[i] = self._keep(result)
        return [outcomes[i] for i in range(len(jobs))]

    @abstractmethod
    def _evaluate(self, jobs: dict[int, EvaluationJob]) -> Iterator[tuple[int, EvaluationResult]]:
        """Evaluate the jobs (keyed by position) somewhere, yielding each result as it finishes."""

    def _keep(self, result: EvaluationResult) -> JobOutcome:
        """Store a fresh result; if another process stored the same key first, use theirs."""
        if self.store.put(result):
            return JobOutcome(result, False)
        stored = self.store.get(*result.key)
        return JobOutcome(stored, True) if stored is not None else JobOutcome(result, False)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> EvaluationBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineBackend(EvaluationBackend):
    """Evaluations in this process, one after another."""

    def _evaluate(self, jobs: dict[int, EvaluationJob]) -> Iterator[tuple[int, EvaluationResult]]:
        for i, job in jobs.items():
            yield i, evaluate_job(job)


class ProcessPoolBackend(EvaluationBackend):
    """Evaluations in `workers` spawned processes; a dying worker is retried, then recorded."""

    def __init__(self, store: str | Path, workers: int = 2, retries: int = 1, imports: Sequence[str] = ()) -> None:
        """`imports`: modules each worker imports first, e.g. a user's module that registers its
        own fidelity with `register_fidelity` (spawned workers start with a fresh registry);
        this process imports them too, to record a failure under the right evaluator."""
        if workers < 1:
            raise ValueError(f"workers={workers} must be at least 1")
        if retries < 0:
            raise ValueError(f"retries={retries} must not be negative")
        super().__init__(store)
        self.workers, self.retries, self.imports = workers, retries, tuple(imports)
        for name in self.imports:
            importlib.import_module(name)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _new_pool(self.workers, self.imports)
        return self._pool

    def _evaluate(self, jobs: dict[int, EvaluationJob]) -> Iterator[tuple[int, EvaluationResult]]:
        position = {self._executor().submit(evaluate_job, job): i for i, job in jobs.items()}
        unfinished = []
        for future in as_completed(position):
            try:
                yield position[future], future.result()
            except BrokenProcessPool:
                unfinished.append(position[future])
        if unfinished:  # a worker died: find the job that kills it by running each alone
            self._shutdown()
            for i in sorted(unfinished):
                yield i, self._run_alone(jobs[i])

    def _run_alone(self, job: EvaluationJob) -> EvaluationResult:
        for _ in range(self.retries + 1):
            with _new_pool(1, self.imports) as pool:
                try:
                    return pool.submit(evaluate_job, job).result()
                except BrokenProcessPool:
                    pass
        return died(job, self.retries + 1)

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        self._shutdown()
        super().close()


class RayBackend(EvaluationBackend):
    """Evaluations as Ray tasks (one CPU each) on a local or existing Ray cluster."""

    def __init__(self, store: str | Path, address: str | None = None, num_cpus: int | None = None,
                 retries: int = 1, imports: Sequence[str] = ()) -> None:
        """`address`: an existing cluster (`ray.init(address=...)`), else a local one with
        `num_cpus`; `imports`: modules each worker imports first (custom fidelities)."""
        try:
            import ray
        except ImportError:
            raise ValueError('the Ray backend needs Ray: pip install -e ".[ray]"') from None
        if retries < 0:
            raise ValueError(f"retries={retries} must not be negative")
        super().__init__(store)
        self.retries, self.imports = retries, tuple(imports)
        for name in self.imports:
            importlib.import_module(name)
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster needs no token
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        self._task = ray.remote(num_cpus=1, max_retries=retries)(_ray_task)

    def _evaluate(self, jobs: dict[int, EvaluationJob]) -> Iterator[tuple[int, EvaluationResult]]:
        import ray

        position = {self._task.remote(job, self.imports): i for i, job in jobs.items()}
        pending = list(position)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            ref = done[0]
            try:
                yield position[ref], ray.get(ref)
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as err:
                if isinstance(err, ray.exceptions.RayTaskError) and not _died(err):
                    raise
                yield position[ref], died(jobs[position[ref]], self.retries + 1)


def _died(err: Exception) -> bool:
    """Whether a Ray task error means the worker process died (not a bug in livgym)."""
    return "WorkerCrashedError" in type(err).__name__ or "worker died" in str(err).lower()


def _ray_task(job: EvaluationJob, imports: tuple[str, ...]) -> EvaluationResult:
    _initialise_worker(imports)
    return evaluate_job(job)


def _new_pool(workers: int, imports: tuple[str, ...]) -> ProcessPoolExecutor:
    # spawn, not fork: a forked child would inherit torch's threads and the store's SQLite handle.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_initialise_worker, initargs=(imports,))


def _initialise_worker(imports: tuple[str, ...]) -> None:
    import torch

    torch.set_num_threads(1)  # one evaluation per core
    for name in imports:
        importlib.import_module(name)


def _key(job: EvaluationJob) -> tuple[str, str, str, int]:
    from livgym.models.genome import Genome
    from livgym.rewards.base import make_evaluator

    evaluator = make_evaluator(job.fidelity, **dict(job.overrides))
    return Genome.from_string(job.genome).canonical_hash(), evaluator.name, evaluator.config_hash(), job.seed


def evaluate_job(job: EvaluationJob) -> EvaluationResult:
    """Evaluate one job (no store); runs in whichever process the backend chose."""
    from livgym.models.genome import Genome
    from livgym.rewards.base import make_evaluator

    return make_evaluator(job.fidelity, **dict(job.overrides)).evaluate(Genome.from_string(job.genome), job.seed)


def died(job: EvaluationJob, deaths: int) -> EvaluationResult:
    """The `failed` result of a job whose worker died every time (stored, so no search retries it)."""
    from livgym.models.genome import Genome
    from livgym.rewards.base import make_evaluator

    evaluator = make_evaluator(job.fidelity, **dict(job.overrides))
    genome = Genome.from_string(job.genome)
    return EvaluationResult(
        genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=evaluator.name,
        fidelity=evaluator.fidelity, config_hash=evaluator.config_hash(), seed=job.seed, status="failed",
        config=evaluator.config_dict(), error=f"the worker process died {deaths} time(s) while evaluating")

"""Evaluation backends: where evaluations run, behind one interface (issue 7, first part).

A backend takes `EvaluationJob`s (fidelity, config overrides, genome text, seed) and returns
each job's stored result, in job order. Every job carries everything that determines its
result, and each runs `EvaluationStore.evaluate_cached` against the same store file, so a
result does not depend on the backend that ran it, and a finished evaluation is in the store
the moment it finishes.

- `InlineBackend`: in this process, one job after another.
- `ProcessPoolBackend`: a local pool of spawned worker processes, one torch thread each. A
  worker that dies takes the pool down with it; the jobs it left unfinished are then run again
  one at a time in a fresh single-worker pool, so the job that kills its worker is found, and
  after `retries` deaths it is stored as a `failed` result instead of stopping the batch.
A Ray backend, and the searches' use of backends, come later (issue 7).
"""

from __future__ import annotations

import importlib
import multiprocessing
from abc import ABC, abstractmethod
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

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
        self.store_path = str(store)

    @abstractmethod
    def run(self, jobs: Sequence[EvaluationJob]) -> list[JobOutcome]:
        """Every job's outcome, in order; a failure inside an evaluation is a result, not an error."""

    def close(self) -> None:
        """Release workers (a no-op for backends without any)."""

    def __enter__(self) -> EvaluationBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineBackend(EvaluationBackend):
    """Evaluations in this process, one after another."""

    def run(self, jobs: Sequence[EvaluationJob]) -> list[JobOutcome]:
        return [_run_job(self.store_path, job) for job in jobs]


class ProcessPoolBackend(EvaluationBackend):
    """Evaluations in `workers` spawned processes; a dying worker is retried, then recorded."""

    def __init__(self, store: str | Path, workers: int = 2, retries: int = 1, imports: Sequence[str] = ()) -> None:
        """`imports`: modules each worker imports first, e.g. a user's module that registers its
        own fidelity with `register_fidelity` (spawned workers start with a fresh registry);
        this process imports them too, to record a failure under the right evaluator."""
        super().__init__(store)
        if workers < 1:
            raise ValueError(f"workers={workers} must be at least 1")
        if retries < 0:
            raise ValueError(f"retries={retries} must not be negative")
        self.workers, self.retries, self.imports = workers, retries, tuple(imports)
        for name in self.imports:
            importlib.import_module(name)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _new_pool(self.workers, self.imports)
        return self._pool

    def run(self, jobs: Sequence[EvaluationJob]) -> list[JobOutcome]:
        outcomes: list[JobOutcome | None] = [None] * len(jobs)
        futures = {i: self._executor().submit(_run_job, self.store_path, job) for i, job in enumerate(jobs)}
        unfinished = []
        for i, future in futures.items():
            try:
                outcomes[i] = future.result()
            except BrokenProcessPool:
                unfinished.append(i)
        if unfinished:  # a worker died: find the job that kills it by running each alone
            self.close()
            for i in unfinished:
                outcomes[i] = self._run_alone(jobs[i])
        return [outcome for outcome in outcomes if outcome is not None]

    def _run_alone(self, job: EvaluationJob) -> JobOutcome:
        deaths = 0
        while True:
            with _new_pool(1, self.imports) as pool:
                try:
                    return pool.submit(_run_job, self.store_path, job).result()
                except BrokenProcessPool:
                    deaths += 1
            if deaths > self.retries:
                return _record_death(self.store_path, job, deaths)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _new_pool(workers: int, imports: tuple[str, ...]) -> ProcessPoolExecutor:
    # spawn, not fork: a forked child would inherit torch's threads and any open SQLite handle.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_initialise_worker, initargs=(imports,))


def _initialise_worker(imports: tuple[str, ...]) -> None:
    import torch

    torch.set_num_threads(1)  # one evaluation per core
    for name in imports:
        importlib.import_module(name)


_STORES: dict[str, EvaluationStore] = {}  # one open store per file per process


def _store(path: str) -> EvaluationStore:
    if path not in _STORES:
        _STORES[path] = EvaluationStore(path)
    return _STORES[path]


def _run_job(store_path: str, job: EvaluationJob) -> JobOutcome:
    """Evaluate (or read) one job; runs in whichever process the backend chose."""
    from livgym.models.genome import Genome
    from livgym.rewards.base import make_evaluator

    evaluator = make_evaluator(job.fidelity, **dict(job.overrides))
    result, cached = _store(store_path).evaluate_cached(evaluator, Genome.from_string(job.genome), job.seed)
    return JobOutcome(result, cached)


def _record_death(store_path: str, job: EvaluationJob, deaths: int) -> JobOutcome:
    """Store a `failed` result for a job whose worker died every time, so no search retries it."""
    from livgym.models.genome import Genome
    from livgym.rewards.base import make_evaluator

    evaluator = make_evaluator(job.fidelity, **dict(job.overrides))
    genome = Genome.from_string(job.genome)
    result = EvaluationResult(
        genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=evaluator.name,
        fidelity=evaluator.fidelity, config_hash=evaluator.config_hash(), seed=job.seed, status="failed",
        config=evaluator.config_dict(), error=f"the worker process died {deaths} time(s) while evaluating")
    store = _store(store_path)
    if store.put(result):
        return JobOutcome(result, False)
    stored = store.get(*result.key)
    return JobOutcome(stored if stored is not None else result, stored is not None)

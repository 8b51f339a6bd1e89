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
  after `retries` deaths it is stored as a `failed` result instead of stopping the batch. A
  job that runs past `timeout_s` is hung: the pool is killed, the other jobs requeued, and the
  hung one retried alone, then stored as `timeout`.
- `RayBackend`: Ray tasks on a local cluster (`ray.init()`) or an existing one
  (`address=...`); Ray retries a task whose worker died `retries` times, then the job is
  stored as `failed`; a task past `timeout_s` is cancelled and retried likewise, then stored as
  `timeout`. Needs the `ray` extra.
`make_backend` builds one from a search config's `backend` section.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
from abc import ABC, abstractmethod
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

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

    def __init__(self, store: str | Path | EvaluationStore) -> None:
        """`store`: a path, or an open store (then the caller keeps ownership: `close` leaves it open)."""
        self._owns_store = not isinstance(store, EvaluationStore)
        self.store = EvaluationStore(store) if self._owns_store else store

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
        if self._owns_store:
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
    """Evaluations in `workers` spawned processes; a dying or hung worker is retried, then recorded."""

    def __init__(self, store: str | Path | EvaluationStore, workers: int = 2, retries: int = 1,
                 imports: Sequence[str] = (), timeout_s: float | None = None) -> None:
        """`imports`: modules each worker imports first, e.g. a user's module that registers its
        own fidelity with `register_fidelity` (spawned workers start with a fresh registry);
        this process imports them too, to record a failure under the right evaluator.
        `timeout_s`: a job running longer is taken as hung; its worker is killed (None: no limit;
        the evaluators' own time limits still apply)."""
        if workers < 1:
            raise ValueError(f"workers={workers} must be at least 1")
        _check_retries_and_timeout(retries, timeout_s)
        super().__init__(store)
        self.workers, self.retries, self.imports, self.timeout_s = workers, retries, tuple(imports), timeout_s
        for name in self.imports:
            importlib.import_module(name)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _new_pool(self.workers, self.imports)
        return self._pool

    def _evaluate(self, jobs: dict[int, EvaluationJob]) -> Iterator[tuple[int, EvaluationResult]]:
        # At most `workers` jobs are in flight, so a job's submission time is its start time and
        # a hang is measured from when the job began running.
        queue = deque(jobs.items())
        in_flight: dict[Future, tuple[int, float]] = {}
        while queue or in_flight:
            while queue and len(in_flight) < self.workers:
                i, job = queue.popleft()
                in_flight[self._executor().submit(evaluate_job, job)] = (i, time.monotonic())
            done, _ = wait(in_flight, timeout=self._wait_time(in_flight.values()), return_when=FIRST_COMPLETED)
            suspects = []  # jobs that may have killed or hung their worker
            for future in done:
                i, _ = in_flight.pop(future)
                try:
                    yield i, future.result()
                except BrokenProcessPool:
                    suspects.append(i)
            if not done:  # a timeout: the overdue jobs are hung, the others are innocent
                now = time.monotonic()
                suspects = [i for i, started in in_flight.values() if now - started >= self.timeout_s]
                queue.extendleft(sorted(((i, jobs[i]) for i, _ in in_flight.values() if i not in suspects),
                                        reverse=True))
                in_flight.clear()
                self._kill()
            elif suspects:  # a worker died: every job still in flight died with the pool
                suspects += [i for i, _ in in_flight.values()]
                in_flight.clear()
                self._kill()
            for i in sorted(suspects):  # run each alone, so the culprit is found
                yield i, self._run_alone(jobs[i])

    def _wait_time(self, in_flight) -> float | None:
        if self.timeout_s is None:
            return None
        oldest = min(started for _, started in in_flight)
        return max(0.0, oldest + self.timeout_s - time.monotonic())

    def _run_alone(self, job: EvaluationJob) -> EvaluationResult:
        hangs = 0
        for _ in range(self.retries + 1):
            pool = _new_pool(1, self.imports)
            try:
                return pool.submit(evaluate_job, job).result(timeout=self.timeout_s)
            except BrokenProcessPool:
                pass
            except FuturesTimeout:
                hangs += 1
            finally:
                _kill_pool(pool)
        return died(job, self.retries + 1, hangs, self.timeout_s)

    def _kill(self) -> None:
        if self._pool is not None:
            _kill_pool(self._pool)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        super().close()


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, hung workers included (`shutdown` alone would wait for them)."""
    # ProcessPoolExecutor has no public way to kill its workers; `_processes` has held them
    # since Python 3.2.
    for process in list((pool._processes or {}).values()):  # type: ignore[attr-defined]
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


class RayBackend(EvaluationBackend):
    """Evaluations as Ray tasks (one CPU each) on a local or existing Ray cluster."""

    def __init__(self, store: str | Path | EvaluationStore, address: str | None = None, num_cpus: int | None = None,
                 retries: int = 1, imports: Sequence[str] = (), timeout_s: float | None = None) -> None:
        """`address`: an existing cluster (`ray.init(address=...)`), else a local one with
        `num_cpus`; `imports`: modules each worker imports first (custom fidelities);
        `timeout_s`: a task running longer is cancelled (its worker killed) and retried."""
        try:
            import ray
        except ImportError:
            raise ValueError('the Ray backend needs Ray: pip install -e ".[ray]"') from None
        _check_retries_and_timeout(retries, timeout_s)
        super().__init__(store)
        self.retries, self.imports, self.timeout_s = retries, tuple(imports), timeout_s
        for name in self.imports:
            importlib.import_module(name)
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster needs no token
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        self._task = ray.remote(num_cpus=1, max_retries=retries)(_ray_task)

    def _evaluate(self, jobs: dict[int, EvaluationJob]) -> Iterator[tuple[int, EvaluationResult]]:
        import ray

        # As many tasks in flight as the cluster has CPUs, so a task's submission is its start
        # and a hang is timed from when it began running.
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue = deque(jobs.items())
        in_flight: dict[Any, tuple[int, float]] = {}
        hangs: dict[int, int] = {}
        while queue or in_flight:
            while queue and len(in_flight) < slots:
                i, job = queue.popleft()
                in_flight[self._task.remote(job, self.imports)] = (i, time.monotonic())
            oldest = min(started for _, started in in_flight.values())
            timeout = None if self.timeout_s is None else max(0.0, oldest + self.timeout_s - time.monotonic())
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=timeout)
            if not done:  # hung: cancel (killing the worker) and retry, up to `retries` times
                now = time.monotonic()
                for ref, (i, started) in list(in_flight.items()):
                    if now - started >= self.timeout_s:
                        ray.cancel(ref, force=True)
                        del in_flight[ref]
                        hangs[i] = hangs.get(i, 0) + 1
                        if hangs[i] > self.retries:
                            yield i, died(jobs[i], hangs[i], hangs[i], self.timeout_s)
                        else:
                            queue.appendleft((i, jobs[i]))
                continue
            ref = done[0]
            i, _ = in_flight.pop(ref)
            try:
                yield i, ray.get(ref)
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as err:
                if isinstance(err, ray.exceptions.RayTaskError) and not _died(err):
                    raise
                yield i, died(jobs[i], self.retries + 1)


def _check_retries_and_timeout(retries: int, timeout_s: float | None) -> None:
    if retries < 0:
        raise ValueError(f"retries={retries} must not be negative")
    if timeout_s is not None and not timeout_s > 0:
        raise ValueError(f"timeout_s={timeout_s} must be positive (or None for no limit)")


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


def died(job: EvaluationJob, attempts: int, hangs: int = 0, timeout_s: float | None = None) -> EvaluationResult:
    """The result of a job whose worker died or hung on every attempt: `timeout` when every
    attempt hung, else `failed` (stored, so no search retries it)."""
    from livgym.models.genome import Genome
    from livgym.rewards.base import make_evaluator

    evaluator = make_evaluator(job.fidelity, **dict(job.overrides))
    genome = Genome.from_string(job.genome)
    return EvaluationResult(
        genome_hash=genome.canonical_hash(), genome=genome.to_string(), evaluator=evaluator.name,
        fidelity=evaluator.fidelity, config_hash=evaluator.config_hash(), seed=job.seed,
        status="timeout" if hangs == attempts else "failed", config=evaluator.config_dict(),
        error=_death_note(attempts, hangs, timeout_s))


def _death_note(attempts: int, hangs: int, timeout_s: float | None) -> str:
    parts = []
    if attempts - hangs:
        parts.append(f"the worker process died {attempts - hangs} time(s) while evaluating")
    if hangs:
        parts.append(f"the evaluation hung {hangs} time(s) (no result within timeout_s={timeout_s} s; "
                     f"the worker was killed)")
    return "; ".join(parts)


BACKEND_KINDS: tuple[str, ...] = ("inline", "pool", "ray")


@dataclass(frozen=True)
class BackendConfig:
    """Where a search's evaluations run (the config file's `backend` section; one line each)."""

    kind: str = "inline"  # inline | pool (local processes) | ray (local or existing cluster)
    workers: int = 2  # pool: worker processes; ray without address: the local cluster's CPUs
    address: str | None = None  # ray: an existing cluster to join ("auto", "ray://host:10001", ...)
    retries: int = 1  # attempts after a worker died or hung, before the job is recorded as failed
    # a job running longer is hung; timed from dispatch, so a fresh worker's start-up (a few
    # seconds: spawn, import torch) counts (None: no limit beyond the evaluator's own)
    timeout_s: float | None = None
    imports: tuple[str, ...] = ()  # modules workers import first (a user's own fidelities)

    def __post_init__(self) -> None:
        if self.kind not in BACKEND_KINDS:
            raise ValueError(f"backend kind={self.kind!r} is not one of {BACKEND_KINDS}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"backend workers={self.workers!r} must be a positive integer")
        if self.address is not None and self.kind != "ray":
            raise ValueError(f"backend address={self.address!r} applies to kind 'ray' only (kind is {self.kind!r})")
        _check_retries_and_timeout(self.retries, self.timeout_s)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackendConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"backend: unknown key(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "imports" in values:
            values["imports"] = tuple(values["imports"])
        return cls(**values)


def make_backend(config: BackendConfig | Mapping[str, Any], store: str | Path | EvaluationStore) -> EvaluationBackend:
    """The backend a config describes, answering from and writing to `store`."""
    if not isinstance(config, BackendConfig):
        config = BackendConfig.from_dict(config)
    if config.kind == "inline":
        return InlineBackend(store)
    if config.kind == "pool":
        return ProcessPoolBackend(store, config.workers, config.retries, config.imports, config.timeout_s)
    return RayBackend(store, config.address, None if config.address else config.workers, config.retries,
                      config.imports, config.timeout_s)

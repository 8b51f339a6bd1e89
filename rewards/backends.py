"""Evaluation backends: where evaluations run, behind one interface.

A backend takes `EvaluationJob`s (fidelity, config overrides, genome text, seed, and the store
key its result goes under) and returns each job's stored result, in job order. Every job
carries everything that determines its result, so a result does not depend on the backend that
ran it; each result records who computed it (`EvaluationResult.computed_by`). The calling
process owns the evaluation store: it answers what the store already holds, sends only the rest
to workers (which never open the store, so a cluster needs no shared file system), and stores
each result the moment it comes back.

- `InlineBackend`: one job after another, in this process; with `timeout_s`, in one child
  process instead, so that a hung evaluation can be killed (as on the pool, with one worker).
- `ProcessPoolBackend`: a local pool of spawned worker processes, one torch thread each. A
  worker that dies takes the pool down with it, whenever that happens (even while this process
  is storing a result); the jobs it left unfinished are then run again one at a time in a fresh
  single-worker pool, so the job that kills its worker is found, and after `retries` deaths it
  is stored as `failed` instead of stopping the batch. A job that runs past `timeout_s` is
  hung: the pool is killed, the other jobs requeued, and the hung one retried alone, then
  stored as `timeout`.
- `RayBackend`: Ray tasks on a local cluster (`ray.init()`) or an existing one
  (`address=...`); Ray retries a task whose worker died `retries` times, then the job is
  stored as `failed`; a task past `timeout_s` is cancelled and retried likewise, then stored as
  `timeout`. Needs the `ray` extra.

A failure that is not the design's is stored as `lost`, which a later run evaluates again:
a job whose worker never ran it (the worker could not import `imports`, or died or hung while
starting), and every job of a batch of two or more that all killed their workers the same way
(a fault of the workers' environment, such as a broken device, rather than of each design).

`make_backend` builds one from a search config's `backend` section.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from pathlib import Path
from queue import Empty
from typing import Any, Iterator, Mapping, Sequence

from livgym.rewards.evaluation.result import EvaluationResult, this_process
from livgym.rewards.evaluation.store import EvaluationStore

StoreKey = tuple[str, str, str, int]  # (genome hash, evaluator name, config hash, seed)

# A broken pool fails its unfinished futures at once; this only bounds the wait for that.
_BROKEN_POOL_GRACE_S = 10.0
# A fresh worker (spawn, import torch and `imports`) that has not started after this long, or
# after timeout_s if that is longer, is taken as one that cannot start. Generous: start-up is
# not the job, and a loaded machine starts workers slowly.
_STARTUP_LIMIT_S = 120.0
_START_POLL_S = 0.2  # how often a pool with jobs not yet started looks for their start
# Context of `EvaluationJob.cost_hint`: mad-lite's task length, where `benchmarks/cost_predictor.py`
# measured how well the analytic FLOPs rank evaluation seconds (Spearman 0.7-0.8).
COST_HINT_CONTEXT = 32


@dataclass(frozen=True)
class EvaluatorIdentity:
    """What a result records about its evaluator, taken once from the evaluator a job is made for."""

    name: str
    fidelity: str
    config_hash: str
    config: Mapping[str, Any]

    @classmethod
    def of(cls, evaluator: Any) -> EvaluatorIdentity:
        return cls(evaluator.name, evaluator.fidelity, evaluator.config_hash(), evaluator.config_dict())


@dataclass(frozen=True)
class EvaluationJob:
    """One evaluation, fully specified: which fidelity, with which overrides, of which genome.

    `genome_hash` and `evaluator` (and so `key`) are worked out once: given by a caller that
    already has them (the search space), else from the fields above when first needed (in the
    calling process, which looks the key up in the store before sending the job anywhere, so
    a custom fidelity's module need only be imported by then).
    """

    fidelity: str
    genome: str  # the genome's string form (`Genome.to_string()`)
    seed: int = 0
    overrides: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    genome_hash: str | None = field(default=None, compare=False)
    evaluator: EvaluatorIdentity | None = field(default=None, compare=False)

    @classmethod
    def of(cls, fidelity: str, genome: str, seed: int = 0, **overrides: Any) -> EvaluationJob:
        return cls(fidelity, genome, seed, tuple(sorted(overrides.items())))

    @property
    def key(self) -> StoreKey:
        """The store key of this job's result."""
        return (self.canonical_hash, self.identity.name, self.identity.config_hash, self.seed)

    @property
    def canonical_hash(self) -> str:
        if self.genome_hash is None:
            from livgym.models.genome import Genome

            object.__setattr__(self, "genome_hash", Genome.from_string(self.genome).canonical_hash())
        return self.genome_hash  # type: ignore[return-value]

    @property
    def cost_hint(self) -> float:
        """The genome's analytic forward FLOPs at `COST_HINT_CONTEXT` tokens: a guess of how long
        the job runs, good only for ordering a batch (see `EvaluationBackend.run`)."""
        from livgym.models.cost import efficiency
        from livgym.models.genome import Genome

        return efficiency(Genome.from_string(self.genome), context_length=COST_HINT_CONTEXT).forward_flops

    @property
    def identity(self) -> EvaluatorIdentity:
        if self.evaluator is None:
            from livgym.rewards.evaluation.evaluator import make_evaluator

            made = make_evaluator(self.fidelity, **dict(self.overrides))
            object.__setattr__(self, "evaluator", EvaluatorIdentity.of(made))
        return self.evaluator  # type: ignore[return-value]


@dataclass(frozen=True)
class JobOutcome:
    result: EvaluationResult
    from_store: bool  # answered by the store (evaluated earlier, by anyone)


@dataclass(frozen=True)
class Ticket:
    """A submitted batch (`EvaluationBackend.submit`): its jobs' ids, in job order."""

    ids: tuple[int, ...]


class EvaluationBackend(ABC):
    """Runs jobs against one evaluation store and returns their outcomes in job order."""

    kind: str  # recorded in each result's `computed_by`

    def __init__(self, store: str | Path | EvaluationStore) -> None:
        """`store`: a path, or an open store (then the caller keeps ownership: `close` leaves it open)."""
        self._owns_store = not isinstance(store, EvaluationStore)
        self.store = EvaluationStore(store) if self._owns_store else store
        self._next_id = 0  # ids of submitted jobs, in submission order
        self._jobs: dict[int, EvaluationJob] = {}  # the current stream's jobs by id
        self._queue: deque[tuple[int, EvaluationJob]] = deque()  # submitted, not yet started
        self._outcomes: dict[int, JobOutcome] = {}  # finished, not yet collected
        self._running: dict[StoreKey, int] = {}  # key -> id of the job queued or running for it
        self._aliases: dict[int, list[int]] = {}  # id -> ids of later jobs with its key, answered by it
        self._stream: Iterator[tuple[int, EvaluationResult]] | None = None

    def run(self, jobs: Sequence[EvaluationJob]) -> list[JobOutcome]:
        """Every job's outcome, in order; a failure inside an evaluation is a result, not an error.
        Jobs the store already answers are not sent anywhere. The rest start dearest first by
        their `cost_hint` (longest-processing-time-first): on workers, the cheap jobs then fill
        the gaps at a batch's end, where a dear job started last would leave the others idle.
        Each job's result depends only on the job, so the order changes no result."""
        return self.collect(self.submit(jobs))

    def submit(self, jobs: Sequence[EvaluationJob]) -> Ticket:
        """Queue a batch behind the batches submitted before it and return at once; `collect`
        returns its outcomes. Batches queued together keep the workers busy across their
        boundaries: a worker that finishes the last job of one starts on the next's (within a
        batch, dearest first as in `run`). Jobs start only while some `collect` runs (inline:
        one after another, in it), so a caller submits the next batch before collecting this one."""
        ticket = Ticket(tuple(range(self._next_id, self._next_id + len(jobs))))
        self._next_id += len(jobs)
        missing: dict[int, EvaluationJob] = {}
        for i, job in zip(ticket.ids, jobs):
            stored = self.store.get(*job.key)
            if stored is not None:
                self._outcomes[i] = JobOutcome(stored, True)
            elif job.key in self._running:  # an earlier batch's job evaluates it: each evaluation once
                self._aliases.setdefault(self._running[job.key], []).append(i)
            else:
                missing[i] = job
                self._running[job.key] = i
        if len(missing) > 1:
            missing = dict(sorted(missing.items(), key=lambda item: -item[1].cost_hint))  # stable: ties keep job order
        self._jobs.update(missing)
        self._queue.extend(missing.items())
        return ticket

    def collect(self, ticket: Ticket) -> list[JobOutcome]:
        """The outcomes of a submitted batch, in its job order, once all are done (jobs of
        batches submitted after it may start meanwhile)."""
        while any(i not in self._outcomes for i in ticket.ids):
            if self._stream is None:
                if not self._queue:
                    raise RuntimeError(f"{type(self).__name__}: a batch was collected twice or never submitted")
                self._stream = self._evaluate(self._jobs, self._queue)
            try:
                i, result = next(self._stream)
            except StopIteration:  # nothing queued or running: the next collect starts afresh
                self._stream, self._jobs = None, {}
                continue
            outcome = self._outcomes[i] = self._keep(_checked(self._jobs[i], result))
            self._running.pop(self._jobs[i].key, None)
            for alias in self._aliases.pop(i, ()):
                self._outcomes[alias] = JobOutcome(outcome.result, True)
        return [self._outcomes.pop(i) for i in ticket.ids]

    @abstractmethod
    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        """Evaluate the (id, job) pairs of `queue`, in its order, somewhere, yielding each result
        as it finishes. The caller may append to `queue` (and to `jobs`, every job by id) between
        results; the stream ends once nothing is queued or running."""

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


def _checked(job: EvaluationJob, result: EvaluationResult) -> EvaluationResult:
    """`result`, or a `lost` record when a worker computed another key than the job's: it runs
    other code or settings than this process, which is no fault of the design."""
    if result.key == job.key:
        return result
    return record(job, "lost", f"the worker computed key {result.key} for this job's key {job.key}: it runs "
                               "other code or settings than this process (another livgym version or fidelity "
                               "registry?)", result.computed_by.get("backend", "unknown"))


class InlineBackend(EvaluationBackend):
    """Evaluations one after another: in this process, or in a child process when `timeout_s` is set."""

    kind = "inline"

    def __init__(self, store: str | Path | EvaluationStore, imports: Sequence[str] = (),
                 timeout_s: float | None = None, retries: int = 1) -> None:
        """`imports`: modules to import first (e.g. a user's module that registers its own
        fidelity). `timeout_s`: a job running longer is taken as hung; then each job runs in
        one child process (this one could not stop a hung evaluation), which is killed, the job
        retried `retries` times and then stored as `timeout`, exactly as on a one-worker pool.
        Without it (the default) jobs run here, and a job that kills its process ends the search."""
        _check_retries_and_timeout(retries, timeout_s)
        import_modules(imports)
        super().__init__(store)
        self.imports, self.timeout_s, self.retries = tuple(imports), timeout_s, retries
        self._child = None if timeout_s is None else ProcessPoolBackend(self.store, 1, retries, imports, timeout_s)
        if self._child is not None:
            self._child.kind = "inline-child"

    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        if self._child is not None:
            yield from self._child._evaluate(jobs, queue)
            return
        while queue:
            i, job = queue.popleft()
            yield i, evaluate_job(job, self.kind)

    def close(self) -> None:
        if self._child is not None:
            self._child.close()  # leaves the shared store open
        super().close()


@dataclass
class _Deaths:
    """How one job's attempts alone ended when none returned a result."""

    died: list[str] = field(default_factory=list)  # attempts that ran the job and lost the worker: how
    hangs: int = 0  # attempts that ran the job past timeout_s
    unstarted: list[str] = field(default_factory=list)  # attempts whose worker never ran the job: why

    @property
    def ran(self) -> bool:
        return bool(self.died or self.hangs)


class ProcessPoolBackend(EvaluationBackend):
    """Evaluations in `workers` spawned processes; a dying or hung worker is retried, then recorded."""

    kind = "pool"

    def __init__(self, store: str | Path | EvaluationStore, workers: int = 2, retries: int = 1,
                 imports: Sequence[str] = (), timeout_s: float | None = None) -> None:
        """`imports`: modules each worker imports first, e.g. a user's module that registers its
        own fidelity with `register_fidelity` (spawned workers start with a fresh registry);
        this process imports them too, so a job can be made for that fidelity.
        `timeout_s`: a job running longer is taken as hung; its worker is killed (None: no limit;
        the evaluators' own time limits still apply)."""
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r} must be a positive integer")
        _check_retries_and_timeout(retries, timeout_s)
        import_modules(imports)
        super().__init__(store)
        self.workers, self.retries, self.imports, self.timeout_s = workers, retries, tuple(imports), timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._starts: Any = None  # the pool's queue of job starts (see `_evaluate`)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._starts = multiprocessing.get_context("spawn").Queue()
            self._pool = _new_pool(self.workers, self.imports, self._starts)
        return self._pool

    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        # A job's time limit runs from when its worker starts it (each worker says so on
        # `self._starts`), so a worker's start-up (spawn, import torch: seconds, more on a loaded
        # machine) is never taken for a hang; a worker that does not start at all is caught
        # by the start-up limit.
        in_flight: dict[Future, tuple[int, float]] = {}  # -> (job, when it was submitted)
        started: dict[int, float] = {}  # job -> when its worker started it
        deaths: dict[int, _Deaths] = {}  # jobs that never finished, recorded once the stream is done
        unstartable: str | None = None  # why workers cannot start, once a job alone has shown it
        while queue or in_flight:
            broken = self._submit(queue, in_flight)
            if in_flight and not broken:
                done, _ = wait(in_flight, timeout=self._wait_time(in_flight, started), return_when=FIRST_COMPLETED)
            elif in_flight:  # the pool broke: it fails every unfinished future at once
                done, _ = wait(in_flight, timeout=_BROKEN_POOL_GRACE_S, return_when=ALL_COMPLETED)
            else:
                done = set()
            self._note_starts(started)
            suspects = []  # jobs that may have killed or hung their worker
            for future in done:
                i, _ = in_flight.pop(future)
                started.pop(i, None)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    suspects.append(i)
                    continue
                if not suspects:  # the freed worker starts its next job while the caller takes this result
                    broken = self._submit(queue, in_flight) or broken
                yield i, result  # while this is stored, the pool may break: the next submit knows
            overdue = [] if done or broken else self._overdue(in_flight, started)
            if overdue:  # hung: the overdue jobs are suspects, the others are innocent
                suspects = overdue
                queue.extendleft(sorted(((i, jobs[i]) for i, _ in in_flight.values() if i not in suspects),
                                        reverse=True))
                in_flight.clear()
                self._kill()
            elif suspects or broken:  # a worker died: every job still in flight died with the pool
                suspects += [i for i, _ in in_flight.values()]
                in_flight.clear()
                self._kill()
            if not in_flight:
                started.clear()  # the next pool's workers report afresh
            for i in sorted(suspects):  # run each alone, so the culprit is found
                if unstartable is not None:
                    deaths[i] = _Deaths(unstarted=[unstartable])
                    continue
                outcome = self._run_alone(jobs[i])
                if isinstance(outcome, EvaluationResult):
                    yield i, outcome
                    continue
                deaths[i] = outcome
                if not outcome.ran:  # workers cannot start: nothing else in this batch can run either
                    unstartable = outcome.unstarted[-1]
                    deaths.update((j, _Deaths(unstarted=[unstartable])) for j, _ in queue)
                    queue.clear()
        yield from _record_deaths(jobs, deaths, self.retries + 1, self.timeout_s, self.kind)

    def _submit(self, queue: deque, in_flight: dict[Future, tuple[int, float]]) -> bool:
        """Fill the free workers from `queue`; True when the pool turned out to be broken (the
        job that could not be submitted goes back to the front of the queue)."""
        while queue and len(in_flight) < self.workers:
            i, job = queue.popleft()
            try:
                future = self._executor().submit(_work, job, self.kind, i)
            except BrokenProcessPool:
                queue.appendleft((i, job))
                return True
            in_flight[future] = (i, time.monotonic())
        return False

    def _note_starts(self, started: dict[int, float]) -> None:
        """Record the jobs whose workers have said they started them."""
        while self._pool is not None:
            try:
                started.setdefault(self._starts.get_nowait(), time.monotonic())
            except Empty:
                return

    def _deadlines(self, in_flight: dict[Future, tuple[int, float]], started: dict[int, float]) -> dict[int, float]:
        """When each job in flight is overdue: timeout_s after it started, or the start-up limit
        after it was submitted while no worker has started it."""
        assert self.timeout_s is not None
        startup = max(self.timeout_s, _STARTUP_LIMIT_S)
        return {i: started[i] + self.timeout_s if i in started else submitted + startup
                for i, submitted in in_flight.values()}

    def _overdue(self, in_flight: dict[Future, tuple[int, float]], started: dict[int, float]) -> list[int]:
        if self.timeout_s is None:
            return []
        now = time.monotonic()
        return [i for i, deadline in self._deadlines(in_flight, started).items() if now >= deadline]

    def _wait_time(self, in_flight: dict[Future, tuple[int, float]], started: dict[int, float]) -> float | None:
        if self.timeout_s is None:
            return None
        deadlines = self._deadlines(in_flight, started)
        first = min(deadlines.values()) - time.monotonic()
        if any(i not in started for i in deadlines):  # a start not heard of yet: look again soon
            first = min(first, _START_POLL_S)
        return max(0.0, first)

    def _run_alone(self, job: EvaluationJob) -> EvaluationResult | _Deaths:
        """The job's result from fresh one-worker pools, or how every attempt ended. Each attempt
        first waits for the worker to start, so that a worker that cannot start is not blamed
        on the job, and the job's time limit counts from when it began running."""
        deaths = _Deaths()
        for _ in range(self.retries + 1):
            pool = _new_pool(1, self.imports)
            try:
                ready = pool.submit(_startup_error)
                process = next(iter(pool._processes.values()))  # type: ignore[attr-defined]  # see _kill_pool
                limit = None if self.timeout_s is None else max(self.timeout_s, _STARTUP_LIMIT_S)
                try:
                    error = ready.result(timeout=limit)
                except BrokenProcessPool:
                    deaths.unstarted.append(f"the worker process died while starting ({_exit_of(pool, process)})")
                    continue
                except FuturesTimeout:
                    deaths.unstarted.append(f"the worker process did not start within {limit:g} s")
                    continue
                if error is not None:  # an import error: the same on every attempt
                    deaths.unstarted.append(f"the worker process could not start: {error}")
                    return deaths
                try:
                    return pool.submit(_work, job, self.kind).result(timeout=self.timeout_s)
                except BrokenProcessPool:
                    deaths.died.append(_exit_of(pool, process))
                except FuturesTimeout:
                    deaths.hangs += 1
            finally:
                _kill_pool(pool)
        return deaths

    def _kill(self) -> None:
        if self._pool is not None:
            _kill_pool(self._pool)
            self._pool = None
            self._starts.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._starts.close()
        super().close()


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, hung workers included (`shutdown` alone would wait for them)."""
    # ProcessPoolExecutor has no public way to kill its workers; `_processes` has held them
    # since Python 3.2.
    for process in list((pool._processes or {}).values()):  # type: ignore[attr-defined]
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _exit_of(pool: ProcessPoolExecutor, process: multiprocessing.process.BaseProcess) -> str:
    """How a dead worker process of a broken `pool` ended, in words ("exit code 3", "killed by SIGKILL")."""
    # The pool's manager thread reaps its dead workers. Joining the process here at the same
    # time would race it for the one exit status (the loser's waitpid gets ECHILD, and the
    # status would read as unknown, more often on a loaded machine), so wait for that thread
    # first: stopping the broken pool joins it, and it has joined its workers by then.
    _kill_pool(pool)
    process.join(timeout=5)
    code = process.exitcode
    if code is None:
        return "its exit status is unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class RayBackend(EvaluationBackend):
    """Evaluations as Ray tasks (one CPU each) on a local or existing Ray cluster."""

    kind = "ray"

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
        import_modules(imports)
        super().__init__(store)
        self.retries, self.imports, self.timeout_s = retries, tuple(imports), timeout_s
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster needs no token
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        self._task = ray.remote(num_cpus=1, max_retries=retries)(_ray_task)

    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        import ray

        # As many tasks in flight as the cluster has CPUs, so a task's submission is its start
        # and a hang is timed from when it began running.
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        in_flight: dict[Any, tuple[int, float]] = {}
        hangs: dict[int, int] = {}
        deaths: dict[int, _Deaths] = {}
        def fill() -> None:
            while queue and len(in_flight) < slots:
                i, job = queue.popleft()
                in_flight[self._task.remote(job, self.imports)] = (i, time.monotonic())

        while queue or in_flight:
            fill()
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
                            deaths[i] = _Deaths(hangs=hangs[i])
                        else:
                            queue.appendleft((i, jobs[i]))
                continue
            ref = done[0]
            i, _ = in_flight.pop(ref)
            try:
                result = ray.get(ref)
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as err:
                if isinstance(err, ray.exceptions.RayTaskError) and not _died(err):
                    raise
                # Ray retried the task `retries` times; a hang before the deaths counts as one attempt
                deaths[i] = _Deaths(died=["the worker crashed"] * (self.retries + 1 - hangs.get(i, 0)),
                                    hangs=hangs.get(i, 0))
                continue
            fill()  # the freed CPU starts its next job while the caller takes this result
            yield i, result
        yield from _record_deaths(jobs, deaths, self.retries + 1, self.timeout_s, self.kind)


def _record_deaths(jobs: Mapping[int, EvaluationJob], deaths: Mapping[int, _Deaths], attempts: int,
                   timeout_s: float | None, backend: str) -> Iterator[tuple[int, EvaluationResult]]:
    """The results of a batch's jobs that never finished: `failed` / `timeout` when the design
    killed or hung its worker, `lost` when the fault was not the design's."""
    same_death = (len(jobs) >= 2 and len(deaths) == len(jobs)
                  and all(d.died and not d.hangs for d in deaths.values())
                  and len({tuple(d.died) for d in deaths.values()}) == 1)
    for i in sorted(deaths):
        d = deaths[i]
        if not d.ran:
            why = "; ".join(dict.fromkeys(d.unstarted))
            yield i, record(jobs[i], "lost", f"{why}, so it never ran this job (not the design's failure; "
                                             f"a later run evaluates it again)", backend)
        elif same_death:
            yield i, record(jobs[i], "lost", f"all {len(jobs)} jobs of the batch killed their worker process "
                                             f"the same way ({d.died[0]}): taken as a fault of the workers, not "
                                             f"of the designs (a later run evaluates them again)", backend)
        else:
            yield i, record(jobs[i], "timeout" if d.hangs == attempts else "failed",
                            _death_note(d, timeout_s), backend)


def _death_note(deaths: _Deaths, timeout_s: float | None) -> str:
    parts = []
    if deaths.died:
        how = ", ".join(dict.fromkeys(deaths.died))
        parts.append(f"the worker process died {len(deaths.died)} time(s) while evaluating ({how})")
    if deaths.hangs:
        parts.append(f"the evaluation hung {deaths.hangs} time(s) (no result within timeout_s={timeout_s} s; "
                     f"the worker was killed)")
    if deaths.unstarted:
        why = "; ".join(dict.fromkeys(deaths.unstarted))
        parts.append(f"{len(deaths.unstarted)} other attempt(s) never ran it ({why})")
    return "; ".join(parts)


def _check_retries_and_timeout(retries: int, timeout_s: float | None) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries={retries!r} must be a non-negative integer")
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                  or not 0 < timeout_s < float("inf")):
        raise ValueError(f"timeout_s={timeout_s!r} must be a positive number of seconds (or None for no limit)")


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


def _died(err: Exception) -> bool:
    """Whether a Ray task error means the worker process died (not a bug in livgym)."""
    return "WorkerCrashedError" in type(err).__name__ or "worker died" in str(err).lower()


def _ray_task(job: EvaluationJob, imports: tuple[str, ...]) -> EvaluationResult:
    _initialise_worker(imports)
    return _work(job, RayBackend.kind)


def _new_pool(workers: int, imports: tuple[str, ...], starts: Any = None) -> ProcessPoolExecutor:
    """`starts`: a queue on which the workers put each job's token as they start it (or None)."""
    # spawn, not fork: a forked child would inherit torch's threads and the store's SQLite handle.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_initialise_worker, initargs=(imports, starts))


_STARTUP_ERROR: str | None = None  # in a worker: why its `imports` failed, reported for every job it gets
_STARTS: Any = None  # in a pool worker: the queue its job starts are announced on


def _initialise_worker(imports: tuple[str, ...], starts: Any = None) -> None:
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


def _startup_error() -> str | None:
    """In a worker: why it could not start, or None (sent first to a fresh worker, as a probe)."""
    return _STARTUP_ERROR


def _work(job: EvaluationJob, backend: str, token: int | None = None) -> EvaluationResult:
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


def record(job: EvaluationJob, status: str, error: str, backend: str) -> EvaluationResult:
    """The result of a job that no evaluator returned (its worker died, hung or never ran it),
    made from what the job carries; recorded by this process."""
    identity = job.identity
    return EvaluationResult(
        genome_hash=job.canonical_hash, genome=job.genome, evaluator=identity.name,
        fidelity=identity.fidelity, config_hash=identity.config_hash, seed=job.seed,
        status=status, config=dict(identity.config), error=error,  # type: ignore[arg-type]
        computed_by=this_process(backend))


BACKEND_KINDS: tuple[str, ...] = ("inline", "pool", "ray")


@dataclass(frozen=True)
class BackendConfig:
    """Where a search's evaluations run (the config file's `backend` section; one line each)."""

    kind: str = "inline"  # inline | pool (local processes) | ray (local or existing cluster)
    workers: int = 2  # pool: worker processes; ray without address: the local cluster's CPUs
    address: str | None = None  # ray: an existing cluster to join ("auto", "ray://host:10001", ...)
    retries: int = 1  # attempts after a worker died or hung, before the job is recorded as failed
    # a job running longer is hung (inline: then each job runs in a child process, to be killable);
    # pool and inline time it from when its worker starts it, ray from dispatch, so there a fresh
    # worker's start-up counts (None: no limit beyond the evaluator's own)
    timeout_s: float | None = None
    imports: tuple[str, ...] = ()  # modules to import first, on every backend (a user's own fidelities)

    def __post_init__(self) -> None:
        if self.kind not in BACKEND_KINDS:
            raise ValueError(f"backend kind={self.kind!r} is not one of {BACKEND_KINDS}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"backend workers={self.workers!r} must be a positive integer")
        if self.address is not None and (self.kind != "ray" or not isinstance(self.address, str)):
            raise ValueError(f"backend address={self.address!r} applies to kind 'ray' only, as a string "
                             f"(kind is {self.kind!r})")
        if not isinstance(self.imports, (list, tuple)) or not all(isinstance(n, str) and n for n in self.imports):
            raise ValueError(f"backend imports={list(self.imports)!r} must be a list of module names")
        try:
            _check_retries_and_timeout(self.retries, self.timeout_s)
        except ValueError as err:
            raise ValueError(f"backend {err}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackendConfig:
        if not isinstance(data, Mapping):
            raise ValueError(f"backend: expected a mapping of backend settings, got {type(data).__name__}: {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known, key=str)
        if unknown:
            raise ValueError(f"backend: unknown key(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "imports" in values:
            imports = values["imports"]
            if isinstance(imports, str) or not isinstance(imports, (list, tuple)):
                raise ValueError(f"backend imports={imports!r} must be a list of module names")
            values["imports"] = tuple(imports)
        return cls(**values)


def make_backend(config: BackendConfig | Mapping[str, Any], store: str | Path | EvaluationStore) -> EvaluationBackend:
    """The backend a config describes, answering from and writing to `store`."""
    if not isinstance(config, BackendConfig):
        config = BackendConfig.from_dict(config)
    if config.kind == "inline":
        return InlineBackend(store, config.imports, config.timeout_s, config.retries)
    if config.kind == "pool":
        return ProcessPoolBackend(store, config.workers, config.retries, config.imports, config.timeout_s)
    return RayBackend(store, config.address, None if config.address else config.workers, config.retries,
                      config.imports, config.timeout_s)

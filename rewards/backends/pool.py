"""`ProcessPoolBackend`: a local pool of spawned worker processes, and its workers' lifecycle.

A worker that dies takes the pool down with it, whenever that happens (even while the calling
process is storing a result); the jobs it left unfinished are then run again one at a time in a
fresh single-worker pool, so the job that kills its worker is found, and after `retries` deaths
it is stored as `failed` instead of stopping the batch. A job that runs past `timeout_s` is
hung: the pool is killed, the other jobs requeued, and the hung one retried alone, then stored
as `timeout`.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections import deque
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from queue import Empty
from typing import Any, Iterator, Mapping, Sequence

from livgym.rewards.backends.base import EvaluationBackend
from livgym.rewards.backends.faults import Deaths, check_retries_and_timeout, record_deaths
from livgym.rewards.backends.jobs import EvaluationJob
from livgym.rewards.backends.worker import import_modules, initialise_worker, run_in_worker, startup_error
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore

# spawn, not fork: a forked child would inherit torch's threads and the store's SQLite handle.
WORKER_START_METHOD = "spawn"
# A broken pool fails its unfinished futures at once; this only bounds the wait for that.
_BROKEN_POOL_GRACE_S = 10.0
# A fresh worker (spawn, import torch and `imports`) that has not started after this long, or
# after timeout_s if that is longer, is taken as one that cannot start. Generous: start-up is
# not the job, and a loaded machine starts workers slowly.
_STARTUP_LIMIT_S = 120.0
_START_POLL_S = 0.2  # how often a pool with jobs not yet started looks for their start


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
        check_retries_and_timeout(retries, timeout_s)
        import_modules(imports)
        super().__init__(store)
        self.workers, self.retries, self.imports, self.timeout_s = workers, retries, tuple(imports), timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._starts: Any = None  # the pool's queue of job starts (see `_evaluate`)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._starts = multiprocessing.get_context(WORKER_START_METHOD).Queue()
            self._pool = _new_pool(self.workers, self.imports, self._starts)
        return self._pool

    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        # A job's time limit runs from when its worker starts it (each worker says so on
        # `self._starts`), so a worker's start-up (spawn, import torch: seconds, more on a loaded
        # machine) is never taken for a hang; a worker that does not start at all is caught
        # by the start-up limit.
        in_flight: dict[Future, tuple[int, float]] = {}  # -> (job, when it was submitted)
        started: dict[int, float] = {}  # job -> when its worker started it
        deaths: dict[int, Deaths] = {}  # jobs that never finished, recorded once the stream is done
        finished = 0  # jobs that did
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
                finished += 1
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
                    deaths[i] = Deaths(unstarted=[unstartable])
                    continue
                outcome = self._run_alone(jobs[i])
                if isinstance(outcome, EvaluationResult):
                    finished += 1
                    yield i, outcome
                    continue
                deaths[i] = outcome
                if not outcome.ran:  # workers cannot start: nothing else in this batch can run either
                    unstartable = outcome.unstarted[-1]
                    deaths.update((j, Deaths(unstarted=[unstartable])) for j, _ in queue)
                    queue.clear()
        yield from record_deaths(jobs, deaths, finished, self.retries + 1, self.timeout_s, self.kind)

    def _submit(self, queue: deque, in_flight: dict[Future, tuple[int, float]]) -> bool:
        """Fill the free workers from `queue`; True when the pool turned out to be broken (the
        job that could not be submitted goes back to the front of the queue)."""
        while queue and len(in_flight) < self.workers:
            i, job = queue.popleft()
            try:
                future = self._executor().submit(run_in_worker, job, self.kind, i)
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

    def _run_alone(self, job: EvaluationJob) -> EvaluationResult | Deaths:
        """The job's result from fresh one-worker pools, or how every attempt ended. Each attempt
        first waits for the worker to start, so that a worker that cannot start is not blamed
        on the job, and the job's time limit counts from when it began running."""
        deaths = Deaths()
        for _ in range(self.retries + 1):
            pool = _new_pool(1, self.imports)
            try:
                ready = pool.submit(startup_error)
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
                    return pool.submit(run_in_worker, job, self.kind).result(timeout=self.timeout_s)
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


def _new_pool(workers: int, imports: tuple[str, ...], starts: Any = None) -> ProcessPoolExecutor:
    """`starts`: a queue on which the workers put each job's token as they start it (or None)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(WORKER_START_METHOD),
                               initializer=initialise_worker, initargs=(imports, starts))

"""`RayBackend`: Ray tasks on a local cluster (`ray.init()`) or an existing one (`address=...`).

Ray retries a task whose worker died `retries` times, then the job is stored as `failed`; a task
past `timeout_s` is cancelled and retried likewise, then stored as `timeout`. Needs the `ray`
extra, imported only when a Ray backend is made.
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from livgym.rewards.backends.base import EvaluationBackend
from livgym.rewards.backends.faults import Deaths, check_retries_and_timeout, record_deaths
from livgym.rewards.backends.jobs import EvaluationJob
from livgym.rewards.backends.worker import import_modules, initialise_worker, run_in_worker
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore


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
        check_retries_and_timeout(retries, timeout_s)
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
        deaths: dict[int, Deaths] = {}
        finished = 0
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
                            deaths[i] = Deaths(hangs=hangs[i])
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
                deaths[i] = Deaths(died=["the worker crashed"] * (self.retries + 1 - hangs.get(i, 0)),
                                   hangs=hangs.get(i, 0))
                continue
            fill()  # the freed CPU starts its next job while the caller takes this result
            finished += 1
            yield i, result
        yield from record_deaths(jobs, deaths, finished, self.retries + 1, self.timeout_s, self.kind)


def _died(err: Exception) -> bool:
    """Whether a Ray task error means the worker process died (not a bug in livgym)."""
    return "WorkerCrashedError" in type(err).__name__ or "worker died" in str(err).lower()


def _ray_task(job: EvaluationJob, imports: tuple[str, ...]) -> EvaluationResult:
    initialise_worker(imports)
    return run_in_worker(job, RayBackend.kind)

"""`InlineBackend`: one job after another, in this process or, with a time limit, in one child."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from livgym.rewards.backends.base import EvaluationBackend
from livgym.rewards.backends.faults import check_retries_and_timeout
from livgym.rewards.backends.jobs import EvaluationJob
from livgym.rewards.backends.pool import ProcessPoolBackend
from livgym.rewards.backends.worker import evaluate_job, import_modules
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore


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
        check_retries_and_timeout(retries, timeout_s)
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

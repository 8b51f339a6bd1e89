"""`EvaluationBackend`: the bookkeeping every backend shares, from submitted batches to outcomes.

The calling process owns the evaluation store: it answers what the store already holds, sends
only the rest to a backend's stream of evaluations (`_evaluate`), and stores each result the
moment it comes back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from livgym.rewards.backends.faults import record
from livgym.rewards.backends.jobs import EvaluationJob, JobOutcome, StoreKey, Ticket
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore


class EvaluationBackend(ABC):
    """Runs jobs against one evaluation store and returns their outcomes in job order."""

    kind: str  # recorded in each result's `computed_by`

    def __init__(self, store: str | Path | EvaluationStore) -> None:
        """`store`: a path, or an open store (then the caller keeps ownership: `close` leaves it open)."""
        self._owns_store = not isinstance(store, EvaluationStore)
        self.store = EvaluationStore(store) if self._owns_store else store
        self._next_id = 0  # ids of submitted jobs, in submission order
        # Every job sent to be evaluated and not answered yet (queued, or running in a stream), by id:
        # a job leaves it only with its outcome, so none is forgotten whichever stream it is in.
        self._pending: dict[int, EvaluationJob] = {}
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
        self._pending.update(missing)
        self._queue.extend(missing.items())
        return ticket

    def collect(self, ticket: Ticket) -> list[JobOutcome]:
        """The outcomes of a submitted batch, in its job order, once all are done (jobs of
        batches submitted after it may start meanwhile).

        A stream may still owe results when this returns (the pool and Ray answer the jobs
        that killed or hung their workers after all the others), and jobs submitted meanwhile
        wait in the queue for the stream after it; every pending job keeps its place in
        `_pending` until its outcome comes, whichever stream that is."""
        while any(i not in self._outcomes for i in ticket.ids):
            if self._stream is None:
                if not self._queue:
                    raise RuntimeError(f"{type(self).__name__}: a batch was collected twice or never submitted")
                self._stream = self._evaluate(self._pending, self._queue)
            try:
                i, result = next(self._stream)
            except StopIteration:  # nothing queued or running: the next stream starts afresh
                self._stream = None
                self._answer_dropped()
                continue
            except BaseException:  # the caller gets the error; the stream's unanswered jobs run again
                self._stream = None
                self._requeue_unanswered()
                raise
            self._answer(i, result)
        return [self._outcomes.pop(i) for i in ticket.ids]

    def _answer(self, i: int, result: EvaluationResult) -> None:
        """Store job `i`'s result as its outcome and its aliases'."""
        job = self._pending[i]
        outcome = self._outcomes[i] = self._keep(_checked(job, result))
        for alias in self._aliases.pop(i, ()):
            self._outcomes[alias] = JobOutcome(outcome.result, True)
        self._running.pop(job.key, None)
        del self._pending[i]  # last: interrupted before this, the job is still owed (`_answer_dropped`)

    def _unanswered(self) -> list[int]:
        """Pending jobs that are not queued: those the stream took and has not answered."""
        queued = {i for i, _ in self._queue}
        return [i for i in self._pending if i not in queued]

    def _requeue_unanswered(self) -> None:
        self._queue.extendleft(reversed([(i, self._pending[i]) for i in self._unanswered()]))

    def _answer_dropped(self) -> None:
        """A stream that ended without answering a job it took (a bug in its backend) leaves the
        job `lost`, to be evaluated again later, rather than owed forever."""
        for i in self._unanswered():
            self._answer(i, record(self._pending[i], "lost", f"the {self.kind} backend's stream ended without a "
                                                             "result for this job (a later run evaluates it again)",
                                   self.kind))

    @abstractmethod
    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        """Evaluate the (id, job) pairs of `queue`, in its order, somewhere, yielding each result
        as it finishes, one for every job taken from the queue. The caller may append to `queue`
        (and to `jobs`, which holds every job not answered yet by id) between results; the
        stream ends once nothing is queued or running."""

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

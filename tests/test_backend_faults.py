"""Backend bookkeeping under faults: every submitted job gets exactly one outcome, whichever job
of whichever batch kills or hangs its worker, however batches are submitted and collected.

The matrix runs each fault (a worker death, a hang) at each place (first, middle, last job of
the first, middle, last batch) of a three-batch run, on the pool and on the inline backend with
a time limit, through the backend API. The property tests submit and collect at random, with
random jobs that kill their worker: on the pool, and on an in-process backend whose stream
answers its dead jobs after all its results, as the pool's and Ray's streams do (so Ray's
bookkeeping, the same base class, is covered here without starting a cluster).

Pool workers start here from a fork server that has imported livgym and torch once (the start
method is patched for this module): a worker (re)start then costs milliseconds instead of the
seconds of a spawned one, which tests/test_backends.py covers.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections import deque
from pathlib import Path
from typing import Iterator, Mapping

import crash_fidelity  # noqa: F401 - registers the fault-injecting fidelities in this process
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import livgym.rewards.backends.pool as pool_module
from livgym.rewards.backends import (
    EvaluationBackend,
    EvaluationJob,
    InlineBackend,
    ProcessPoolBackend,
    evaluate_job,
    record,
)
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore

# fault-test kills its worker for a genome with SWA (class 18) and hangs it for one with GConv-2-Diff (17)
FAULTY = {"death": "18.1.1.1.1@w64h4", "hang": "17.1.1.1.1@w64h4"}
STATUS = {"death": "failed", "hang": "timeout"}
CAUSE = {"death": "died 1 time(s) while evaluating (exit code 3)", "hang": "hung 1 time(s)"}
# A batch starts dearest first (by analytic FLOPs): these start before either faulty genome,
# these after it, so the faulty job's place in the batch is its place in the start order too.
DEARER = ("91111-91111@w64h4", "11111-91111@w64h4")
CHEAPER = ("71111@w64h4", "31111@w64h4")
# Healthy jobs take milliseconds from their start, so this is ample (and a healthy job that a
# loaded machine makes overdue is retried alone, where it finishes); a hang costs two of it
# (the hang, then the retry alone).
TIMEOUT_S = 0.25
PLACES = {"first": 0, "middle": 1, "last": 2}


@pytest.fixture(scope="module", autouse=True)
def forked_workers():
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["livgym.rewards.backends", "livgym.rewards.evaluators"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool_module, "WORKER_START_METHOD", "forkserver")
        yield


def batch_of(seed: int, faulty: str | None = None, place: int = 0) -> list[EvaluationJob]:
    """Three jobs, `faulty` (if any) at `place`; the seed keeps each batch's keys apart."""
    genomes = [*DEARER[:place], faulty, *CHEAPER[:2 - place]] if faulty else [*DEARER, CHEAPER[0]]
    return [EvaluationJob.of("fault-test", genome, seed=seed) for genome in genomes]


def make(kind: str, fault: str, store: Path) -> EvaluationBackend:
    if kind == "pool":
        return ProcessPoolBackend(store, workers=2, retries=0, imports=["crash_fidelity"],
                                  timeout_s=TIMEOUT_S if fault == "hang" else None)
    return InlineBackend(store, imports=["crash_fidelity"], timeout_s=TIMEOUT_S, retries=0)


def assert_settled(backend: EvaluationBackend) -> None:
    """Nothing queued, running or answered but not collected: no job left without its one outcome."""
    assert not backend._queue and not backend._outcomes and not backend._running and not backend._aliases


@pytest.mark.parametrize("batch_place", PLACES, ids=lambda p: f"{p}-batch")
@pytest.mark.parametrize("job_place", PLACES, ids=lambda p: f"{p}-job")
@pytest.mark.parametrize("fault", ["death", "hang"])
@pytest.mark.parametrize("kind", ["pool", "inline"])
def test_a_faulty_job_anywhere_in_a_run_gets_its_status_and_every_other_job_its_result(
        kind, fault, job_place, batch_place, tmp_path):
    faulty_batch, place = PLACES[batch_place], PLACES[job_place]
    batches = [batch_of(b, FAULTY[fault] if b == faulty_batch else None, place) for b in range(3)]
    with make(kind, fault, tmp_path / "s.sqlite") as backend:
        runs = [backend.run(jobs) for jobs in batches]  # submit, collect; submit, collect; ...
        assert_settled(backend)
    for b, (jobs, outcomes) in enumerate(zip(batches, runs)):
        expected = ["ok"] * 3
        if b == faulty_batch:
            expected[place] = STATUS[fault]
            assert CAUSE[fault] in outcomes[place].result.error
        assert [o.result.status for o in outcomes] == expected, f"batch {b}"
        assert [o.result.key for o in outcomes] == [job.key for job in jobs], "each job's own result, in job order"
        assert not any(o.from_store for o in outcomes)
    with EvaluationStore(tmp_path / "s.sqlite", readonly=True) as store:
        assert len(store) == 9, "every result is stored, once"


def test_batches_queued_behind_a_faulty_one_are_answered_too(tmp_path):
    """The next batch is submitted before the faulty one is collected (as a search with lag does)."""
    batches = [batch_of(0, FAULTY["death"], 1), batch_of(1), batch_of(2, FAULTY["death"], 0), batch_of(3)]
    with make("pool", "death", tmp_path / "s.sqlite") as backend:
        tickets = [backend.submit(batches[0]), backend.submit(batches[1])]
        first = backend.collect(tickets[0])
        tickets.append(backend.submit(batches[2]))
        second = backend.collect(tickets[1])
        tickets.append(backend.submit(batches[3]))
        fourth, third = backend.collect(tickets[3]), backend.collect(tickets[2])
        assert_settled(backend)
    assert [o.result.status for o in first] == ["ok", "failed", "ok"]
    assert [o.result.status for o in second] == ["ok"] * 3 == [o.result.status for o in fourth]
    assert [o.result.status for o in third] == ["failed", "ok", "ok"]


# -- random submits and collects ----------------------------------------------------------------

# crash-test kills its worker for the faulty genome, half of all jobs; seeds repeat some jobs
genomes_st = st.one_of(st.just(FAULTY["death"]), st.sampled_from((*DEARER, *CHEAPER)))
jobs_st = st.lists(st.builds(lambda genome, seed: EvaluationJob.of("crash-test", genome, seed=seed),
                             genomes_st, st.integers(0, 2)), max_size=4)
operations_st = st.lists(st.one_of(st.tuples(st.just("submit"), jobs_st),
                                   st.tuples(st.just("collect"), st.integers(0, 7))), max_size=8)


def drive(backend: EvaluationBackend, operations: list) -> None:
    """Submit and collect as `operations` say, then collect what is left; check every outcome."""
    outstanding: list = []

    def collect(ticket, jobs) -> None:
        outcomes = backend.collect(ticket)
        assert len(outcomes) == len(jobs), "one outcome per job"
        for job, outcome in zip(jobs, outcomes):
            assert outcome.result.key == job.key, "each job's own outcome, in job order"
            expected = {"failed", "lost"} if job.genome == FAULTY["death"] else {"ok"}
            assert outcome.result.status in expected, (job.genome, outcome.result.error)

    for operation, argument in operations:
        if operation == "submit":
            outstanding.append((backend.submit(argument), argument))
        elif outstanding:
            collect(*outstanding.pop(argument % len(outstanding)))
    for ticket, jobs in outstanding:
        collect(ticket, jobs)
    assert_settled(backend)


@settings(max_examples=12)
@given(operations=operations_st)
def test_random_submits_and_collects_on_a_pool_with_deadly_jobs_answer_every_job_once(operations):
    with tempfile.TemporaryDirectory() as folder, \
            ProcessPoolBackend(Path(folder) / "s.sqlite", workers=2, retries=0, imports=["crash_fidelity"]) as pool:
        drive(pool, operations)


class TailDeaths(EvaluationBackend):
    """In this process; a deadly job "kills its worker", and such jobs are answered after every
    other job of the stream, as the pool's and Ray's streams answer their dead jobs."""

    kind = "tail-deaths"

    def _evaluate(self, jobs: Mapping[int, EvaluationJob], queue: deque) -> Iterator[tuple[int, EvaluationResult]]:
        dead = []
        while queue:
            i, job = queue.popleft()
            if job.genome == FAULTY["death"]:
                dead.append(i)
            else:
                yield i, evaluate_job(job, self.kind)
        for i in dead:
            yield i, record(jobs[i], "failed", "the worker process died", self.kind)


@settings(max_examples=60)
@given(operations=operations_st)
def test_random_submits_and_collects_whose_streams_answer_dead_jobs_last_answer_every_job_once(operations):
    with tempfile.TemporaryDirectory() as folder, TailDeaths(Path(folder) / "s.sqlite") as backend:
        drive(backend, operations)


class Broken(InlineBackend):
    """An inline backend whose stream fails once at a chosen job, or ends without answering it."""

    def __init__(self, store: Path, fail_at: str, how: str) -> None:
        super().__init__(store)
        self.fail_at, self.how = fail_at, how

    def _evaluate(self, jobs, queue):
        while queue:
            i, job = queue.popleft()
            if job.genome == self.fail_at:
                self.fail_at = None
                if self.how == "raise":
                    raise OSError("the stream broke")
                return
            yield i, evaluate_job(job, self.kind)


def test_a_stream_that_raises_loses_no_job_and_one_that_drops_a_job_records_it_as_lost(tmp_path):
    jobs = batch_of(0)
    with Broken(tmp_path / "raise.sqlite", jobs[1].genome, "raise") as backend:
        ticket = backend.submit(jobs)
        with pytest.raises(OSError, match="the stream broke"):
            backend.collect(ticket)
        outcomes = backend.collect(ticket)  # the error reached the caller; the jobs are still owed
        assert [o.result.status for o in outcomes] == ["ok"] * 3
        assert_settled(backend)
    with Broken(tmp_path / "drop.sqlite", jobs[1].genome, "drop") as backend:
        outcomes = backend.run(jobs)
        assert [o.result.status for o in outcomes] == ["ok", "lost", "ok"]
        assert "without a result" in outcomes[1].result.error
        assert backend.run(jobs[1:2])[0].result.status == "ok", "a lost job is evaluated again"
        assert_settled(backend)

"""Evaluation backends: the same results whichever backend runs a job; a dying worker is
retried and then recorded as failed, without losing the rest of the batch, whenever it dies; a
failure that is not the design's is recorded as lost and evaluated again by the next run."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from livgym.models import reference_genome
from livgym.models.genome import Genome
from livgym.rewards.backends import EvaluationJob, InlineBackend, ProcessPoolBackend, RayBackend
from livgym.rewards.evaluation.store import EvaluationStore

GENOMES = [reference_genome(name, depth=4, width=64, heads=4).to_string()
           for name in ("transformer++", "mamba-like", "gated-conv", "striped-hybrid")]
DEADLY = "11111-18.1.1.1.1@w64h4"  # contains SWA: crash_fidelity kills the worker, hang_test never returns


def test_process_pool_results_equal_inline_results(tmp_path):
    jobs = [EvaluationJob.of("zero-cost", genome, seed=1) for genome in GENOMES]
    with InlineBackend(tmp_path / "inline.sqlite") as inline, ProcessPoolBackend(tmp_path / "pool.sqlite", 2) as pool:
        here, there = inline.run(jobs), pool.run(jobs)
        again = pool.run(jobs)
    assert [o.result.metrics for o in here] == [o.result.metrics for o in there], "same numbers on either backend"
    assert [o.result.genome for o in there] == GENOMES, "outcomes in job order"
    assert not any(o.from_store for o in there) and all(o.from_store for o in again)
    with EvaluationStore(tmp_path / "pool.sqlite", readonly=True) as store:
        assert len(store) == len(GENOMES), "each finished evaluation is in the store, once"


class Recording(InlineBackend):
    """An inline backend that records the job ids queued when each stream of jobs starts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started: list[list[int]] = []

    def _evaluate(self, jobs, queue):
        self.started.append([i for i, _ in queue])
        yield from super()._evaluate(jobs, queue)


def test_a_batch_starts_its_dearest_jobs_first_and_answers_in_job_order(tmp_path):
    texts = [reference_genome("transformer++", depth=d, width=64, heads=4).to_string() for d in (2, 8, 4)]
    jobs = [EvaluationJob.of("zero-cost", t) for t in texts]
    jobs.append(EvaluationJob.of("zero-cost", texts[1], seed=1))  # the same cost as job 1: a tie
    texts.append(texts[1])
    with Recording(tmp_path / "s.sqlite") as backend:
        outcomes = backend.run(jobs)
    assert backend.started == [[1, 3, 2, 0]], "deepest first, shallowest last; the tie keeps job order"
    assert [o.result.genome for o in outcomes] == texts, "outcomes in job order"


def test_batches_submitted_together_form_one_queue_and_are_collected_in_any_order(tmp_path):
    first = [EvaluationJob.of("zero-cost", g) for g in GENOMES[:2]]
    second = [EvaluationJob.of("zero-cost", g) for g in GENOMES[2:]] + [first[0]]
    with Recording(tmp_path / "s.sqlite") as backend:
        tickets = backend.submit(first), backend.submit(second)
        later = backend.collect(tickets[1])
        earlier = backend.collect(tickets[0])
        with pytest.raises(RuntimeError, match="collected twice"):
            backend.collect(tickets[0])
    assert len(backend.started) == 1 and sorted(backend.started[0]) == [0, 1, 2, 3], "one stream, each evaluation once"
    assert [o.result.genome for o in earlier] == GENOMES[:2]
    assert [o.result.genome for o in later] == [*GENOMES[2:], GENOMES[0]], "each batch in its job order"
    assert later[2].result == earlier[0].result and later[2].from_store, "the repeat is answered by the first"


def test_a_pool_worker_that_finishes_a_batch_starts_on_the_next_one_before_it_is_collected(tmp_path):
    first = [EvaluationJob.of("zero-cost", g) for g in GENOMES[:2]]
    second = [EvaluationJob.of("zero-cost", g) for g in GENOMES[2:]]
    with ProcessPoolBackend(tmp_path / "pool.sqlite", 2) as pool, InlineBackend(tmp_path / "inline.sqlite") as inline:
        tickets = pool.submit(first), pool.submit(second)
        earlier = pool.collect(tickets[0])
        assert not pool._queue, "each job of the first batch that finished handed its worker a job of the second"
        later = pool.collect(tickets[1])
        here = inline.run(first + second)
    assert [o.result.metrics for o in earlier + later] == [o.result.metrics for o in here]


def test_a_job_that_kills_its_worker_is_retried_then_recorded_as_failed(tmp_path):
    jobs = [EvaluationJob.of("crash-test", g) for g in (GENOMES[0], DEADLY, GENOMES[1])]
    with ProcessPoolBackend(tmp_path / "s.sqlite", workers=2, retries=1, imports=["crash_fidelity"]) as pool:
        outcomes = pool.run(jobs)
        assert [o.result.status for o in outcomes] == ["ok", "failed", "ok"]
        assert "died 2 time(s)" in outcomes[1].result.error
        assert pool.run(jobs[1:2])[0].from_store, "the failure is stored: nothing retries it again"


def test_bad_backend_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="workers=0"):
        ProcessPoolBackend(tmp_path / "s.sqlite", workers=0)
    with pytest.raises(ValueError, match="retries=-1"):
        ProcessPoolBackend(tmp_path / "s.sqlite", retries=-1)


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster (two CPUs) for every Ray check: starting one takes seconds."""
    ray = pytest.importorskip("ray")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "disabled")  # Ray 2.60 writes an auth token by default
        # Ray's socket paths must stay under 108 bytes: a short temporary folder, not tmp_path.
        # Workers find crash_fidelity (a user's own fidelity module) through the runtime env.
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=tempfile.mkdtemp(prefix="ray"),
                 runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}})
        try:
            yield ray
        finally:
            ray.shutdown()


def test_a_search_on_a_local_ray_cluster_finds_what_it_finds_inline(ray_cluster, tmp_path):
    from livgym.controllers.config import SearchConfig
    from livgym.controllers.search import run_search
    from test_parallel_search import SMALL, records

    # First of the Ray checks: the workers it starts (and their torch import) serve the next one.
    config = SearchConfig(name="small", method="nsga2", budget=10, seed=1, **SMALL)
    inline = run_search(config, None, store=tmp_path / "inline.sqlite")
    on_ray = run_search(config.with_overrides(backend={"kind": "ray"}), None, store=tmp_path / "ray.sqlite")
    assert records(on_ray) == records(inline)


def test_ray_results_equal_inline_and_a_dying_worker_is_retried_then_recorded(ray_cluster, tmp_path):
    # No time limit here: Ray times a task from its dispatch, so a fresh worker's start-up (seconds,
    # more on a loaded machine) would count against it; the hung task is the last Ray test's.
    jobs = [EvaluationJob.of("zero-cost", genome, seed=1) for genome in GENOMES[:2]]
    deadly = EvaluationJob.of("crash-test", DEADLY)
    with RayBackend(tmp_path / "ray.sqlite", retries=1, imports=["crash_fidelity"]) as backend, \
            InlineBackend(tmp_path / "inline.sqlite") as inline:
        there, here = backend.run(jobs + [deadly]), inline.run(jobs)
        # The death was answered last, after the batch's loop: the next batch must not miss it.
        after = backend.run([EvaluationJob.of("zero-cost", GENOMES[2], seed=1)])
    assert [o.result.metrics for o in there[:2]] == [o.result.metrics for o in here]
    assert there[2].result.status == "failed" and "died 2 time(s)" in there[2].result.error
    assert after[0].result.status == "ok"


def test_a_hung_ray_task_is_cancelled_retried_then_recorded_as_timeout(ray_cluster, tmp_path):
    # Last of the Ray checks, should a cancelled task linger. The task never returns, so however
    # slowly its worker starts, each attempt is a hang.
    hung = EvaluationJob.of("hang-test", DEADLY)
    with RayBackend(tmp_path / "ray.sqlite", retries=1, imports=["crash_fidelity"], timeout_s=1) as backend:
        outcome = backend.run([hung])[0]
    assert outcome.result.status == "timeout" and "hung 2 time(s)" in outcome.result.error


def test_a_hung_job_is_killed_retried_then_recorded_as_timeout_and_the_others_finish(tmp_path):
    # A pool times a job from when its worker starts it (start-up is not counted), and the other
    # jobs take microseconds: 1 s is ample margin, while the hung one would sleep for an hour.
    jobs = [EvaluationJob.of("hang-test", g) for g in (GENOMES[0], DEADLY, GENOMES[1], GENOMES[2])]
    with ProcessPoolBackend(tmp_path / "s.sqlite", workers=2, retries=1, imports=["crash_fidelity"],
                            timeout_s=1) as pool:
        outcomes = pool.run(jobs)
    assert [o.result.status for o in outcomes] == ["ok", "timeout", "ok", "ok"]
    assert "hung 2 time(s)" in outcomes[1].result.error and "timeout_s=1" in outcomes[1].result.error


def test_backend_config_builds_each_backend_and_names_bad_keys(tmp_path):
    from livgym.rewards.backends import BackendConfig, make_backend

    with make_backend({"kind": "pool", "workers": 1}, tmp_path / "s.sqlite") as backend:
        assert isinstance(backend, ProcessPoolBackend) and backend.workers == 1
    with make_backend({}, tmp_path / "s.sqlite") as backend:
        assert isinstance(backend, InlineBackend)
    with pytest.raises(ValueError, match="unknown key.*'worker'"):
        BackendConfig.from_dict({"worker": 2})
    with pytest.raises(ValueError, match="kind='cluster'"):
        BackendConfig(kind="cluster")
    with pytest.raises(ValueError, match="timeout_s=0"):
        BackendConfig(kind="pool", timeout_s=0)
    with pytest.raises(ValueError, match="address.*kind 'ray' only"):
        BackendConfig(kind="pool", address="auto")


def test_a_worker_that_dies_while_a_result_is_being_stored_loses_no_job(tmp_path, monkeypatch):
    """The pool breaks while the caller stores the first result (the store's write blocks until
    the executor has seen the worker die), so the next submit meets a broken pool."""
    go = tmp_path / "die-now"
    monkeypatch.setenv("LIVGYM_TEST_DIE_AFTER", str(go))  # the deadly job dies once this file exists
    holder: dict[str, ProcessPoolBackend] = {}

    class StoreThatWaitsForTheDeath(EvaluationStore):
        def put(self, result):
            if not go.exists():
                go.touch()
                pool = holder["backend"]._pool
                deadline = time.monotonic() + 60
                while not pool._broken and time.monotonic() < deadline:  # the executor's own flag
                    time.sleep(0.01)
                assert pool._broken, "premise: the pool broke while the first result was being stored"
            return super().put(result)

    # The deadly genome is the dearest (depth 8 against 4), so it starts first, alongside GENOMES[0].
    deadly = "-".join(["11111", "18.1.1.1.1"] * 4) + "@w64h4"
    jobs = [EvaluationJob.of("crash-test", g) for g in (GENOMES[0], deadly, GENOMES[1], GENOMES[2])]
    with StoreThatWaitsForTheDeath(tmp_path / "s.sqlite") as store, \
            ProcessPoolBackend(store, workers=2, retries=0, imports=["crash_fidelity"]) as pool:
        holder["backend"] = pool
        outcomes = pool.run(jobs)
        assert [o.result.status for o in outcomes] == ["ok", "failed", "ok", "ok"]
        assert "died 1 time(s) while evaluating (exit code 3)" in outcomes[1].result.error
        assert len(store) == 4, "every job is stored: none was lost with the broken pool"


def test_the_inline_backend_honours_timeout_s_and_imports(tmp_path):
    from livgym.rewards.backends import make_backend

    jobs = [EvaluationJob.of("hang-test", g) for g in (GENOMES[0], DEADLY)]
    config = {"kind": "inline", "timeout_s": 1, "retries": 0, "imports": ["crash_fidelity"]}  # timed from the start
    with make_backend(config, tmp_path / "s.sqlite") as backend:
        assert isinstance(backend, InlineBackend)
        outcomes = backend.run(jobs)  # would hang forever if the time limit were ignored
    assert [o.result.status for o in outcomes] == ["ok", "timeout"]
    assert "timeout_s=1" in outcomes[1].result.error
    ran_in = outcomes[0].result.computed_by
    assert ran_in["backend"] == "inline-child" and ran_in["pid"] != os.getpid(), "a killable child ran it"
    with pytest.raises(ValueError, match="imports: cannot import 'no_such_module_h3'"):
        make_backend({"kind": "inline", "imports": ["no_such_module_h3"]}, tmp_path / "s.sqlite")
    with InlineBackend(tmp_path / "plain.sqlite") as plain:
        here = plain.run([EvaluationJob.of("analytic", GENOMES[0])])[0].result.computed_by
    assert here["backend"] == "inline" and here["pid"] == os.getpid(), "without a time limit: this process"


def test_a_batch_whose_every_job_killed_its_worker_the_same_way_is_lost_not_failed(tmp_path):
    both_deadly = [EvaluationJob.of("crash-test", g) for g in (DEADLY, "18.1.1.1.1-91111@w64h4")]
    with ProcessPoolBackend(tmp_path / "s.sqlite", workers=2, retries=0, imports=["crash_fidelity"]) as pool:
        outcomes = pool.run(both_deadly)
        assert [o.result.status for o in outcomes] == ["lost", "lost"]
        assert "all 2 jobs of the batch killed their worker process the same way (exit code 3)" in \
            outcomes[0].result.error
        assert outcomes[0].result.computed_by["backend"] == "pool"


def test_jobs_carry_their_store_key_and_results_record_who_computed_them(tmp_path):
    from livgym.models.genome import Genome
    from livgym.rewards.evaluation.evaluator import make_evaluator

    job = EvaluationJob.of("analytic", GENOMES[0], seed=3)
    evaluator = make_evaluator("analytic")
    assert job.key == (Genome.from_string(GENOMES[0]).canonical_hash(), evaluator.name,
                       evaluator.config_hash(), 3)
    with ProcessPoolBackend(tmp_path / "s.sqlite", workers=1) as pool:
        outcome = pool.run([job])[0]
    assert outcome.result.key == job.key
    assert outcome.result.computed_by["backend"] == "pool" and outcome.result.computed_by["pid"] != os.getpid()
    with EvaluationStore(tmp_path / "s.sqlite", readonly=True) as store:
        assert store.get(*job.key).computed_by == outcome.result.computed_by, "the store keeps who computed it"


def test_a_pool_search_whose_workers_die_and_hang_records_every_design_and_a_rerun_retries_only_lost_ones(
        tmp_path, monkeypatch):
    """Run 1: every worker dies at start-up, so each design is stored as `lost`. Run 2 (the
    rerun, workers healthy) evaluates them again: SWA designs kill their worker (`failed`),
    GConv-2-Diff ones hang it (`timeout`), the rest are `ok`. Run 3 evaluates nothing."""
    from livgym.controllers.config import SearchConfig
    from livgym.controllers.search import run_search

    # seed 0 proposes two plain designs, one that hangs and one that dies; one batch of four on two workers
    config = SearchConfig(name="faults", method="random", budget=4, seed=0,
                          space={"max_depth": 2, "fidelity": "fault-test", "classes": [9, 17, 18]},
                          env={"max_edits": 2, "objectives": ["params", "cache_bytes"]},
                          methods={"random": {"batch": 4}},
                          backend={"kind": "pool", "workers": 2, "retries": 0, "timeout_s": 1,  # from the start
                                   "imports": ["crash_fidelity"]})
    store_path = tmp_path / "s.sqlite"

    def stored() -> dict[str, object]:
        with EvaluationStore(store_path, readonly=True) as store:
            return {r.genome_hash: r for r in store.results()}

    monkeypatch.setenv("LIVGYM_TEST_DIE_AT_STARTUP", "1")  # every spawned worker dies importing crash_fidelity
    first = run_search(config, None, store=store_path)
    assert [r.status for r in first.tracker.records] == ["lost"] * 4, "not stored as the designs' failures"
    assert all("died while starting (exit code 4)" in stored()[r.genome_hash].error
               and "never ran" in stored()[r.genome_hash].error for r in first.tracker.records)
    with EvaluationStore(store_path, readonly=True) as store:
        assert all(store.get(r.genome_hash, r.evaluator, r.config_hash, r.seed) is None
                   for r in store.results()), "a lost result is recorded but answers no lookup"

    monkeypatch.delenv("LIVGYM_TEST_DIE_AT_STARTUP")
    second = run_search(config, None, store=store_path)
    assert [r.genome for r in second.tracker.records] == [r.genome for r in first.tracker.records]
    assert not any(r.from_store for r in second.tracker.records), "every lost design was evaluated again"
    results = stored()
    seen = set()
    for record in second.tracker.records:
        classes = {slot.liv_class for slot in Genome.from_string(record.genome).slots}
        result = results[record.genome_hash]
        if 18 in classes:
            expected, cause = "failed", "died 1 time(s) while evaluating (exit code 3)"
        elif 17 in classes:
            expected, cause = "timeout", "hung 1 time(s)"
        else:
            expected, cause = "ok", None
        assert (record.status, result.status) == (expected, expected), record.genome
        assert cause is None or cause in result.error
        seen.add(expected)
    assert seen == {"ok", "failed", "timeout"}, "premise: the search met a death and a hang"

    assert len(results) == 4, "the lost rows were replaced, not added to"

    third = run_search(config, None, store=store_path)
    assert all(r.from_store for r in third.tracker.records), "the designs' own failures are not retried"

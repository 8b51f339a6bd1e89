"""Evaluation backends: the same results whichever backend runs a job; a dying worker is
retried and then recorded as failed, without losing the rest of the batch."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from livgym.models import reference_genome
from livgym.rewards.backends import EvaluationJob, InlineBackend, ProcessPoolBackend, RayBackend
from livgym.rewards.store import EvaluationStore

GENOMES = [reference_genome(name, depth=4, width=64, heads=4).to_string()
           for name in ("transformer++", "mamba-like", "gated-conv", "striped-hybrid")]


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


def test_a_job_that_kills_its_worker_is_retried_then_recorded_as_failed(tmp_path):
    deadly = "11111-18.1.1.1.1@w64h4"  # contains SWA: crash_fidelity kills the worker
    jobs = [EvaluationJob.of("crash-test", g) for g in (GENOMES[0], deadly, GENOMES[1])]
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


def test_ray_results_equal_inline_and_dying_or_hung_workers_are_recorded(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # Ray 2.60 writes an auth token by default
    jobs = [EvaluationJob.of("zero-cost", genome, seed=1) for genome in GENOMES[:2]]
    deadly = EvaluationJob.of("crash-test", "11111-18.1.1.1.1@w64h4")
    hung = EvaluationJob.of("hang-test", "11111-18.1.1.1.1@w64h4")
    try:
        # Ray's socket paths must stay under 108 bytes: a short temporary folder, not tmp_path.
        # Workers find crash_fidelity (a user's own fidelity module) through the runtime env.
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=tempfile.mkdtemp(prefix="ray"),
                 runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}})
        with RayBackend(tmp_path / "ray.sqlite", retries=1, imports=["crash_fidelity"], timeout_s=15) as backend, \
                InlineBackend(tmp_path / "inline.sqlite") as inline:
            there, here = backend.run(jobs + [deadly, hung]), inline.run(jobs)
        assert [o.result.metrics for o in there[:2]] == [o.result.metrics for o in here]
        assert there[2].result.status == "failed" and "died" in there[2].result.error
        assert there[3].result.status == "timeout" and "hung 2 time(s)" in there[3].result.error
    finally:
        ray.shutdown()


def test_a_hung_job_is_killed_retried_then_recorded_as_timeout_and_the_others_finish(tmp_path):
    hung = "11111-18.1.1.1.1@w64h4"  # contains SWA: hang_test never returns
    jobs = [EvaluationJob.of("hang-test", g) for g in (GENOMES[0], hung, GENOMES[1], GENOMES[2])]
    with ProcessPoolBackend(tmp_path / "s.sqlite", workers=2, retries=1, imports=["crash_fidelity"],
                            timeout_s=8) as pool:
        outcomes = pool.run(jobs)
    assert [o.result.status for o in outcomes] == ["ok", "timeout", "ok", "ok"]
    assert "hung 2 time(s)" in outcomes[1].result.error and "timeout_s=8" in outcomes[1].result.error


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

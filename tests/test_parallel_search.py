"""Searches on evaluation backends: a method evaluates designs together on a process
pool and finds exactly what it finds inline (on Ray too: tests/test_backends.py, which starts
one Ray cluster for every Ray check); a search killed with SIGKILL and resumed loses no finished
evaluation and repeats none."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from livgym.controllers.config import SearchConfig
from livgym.controllers.search import run_search
from livgym.rewards.evaluation.store import EvaluationStore

# zero-cost: a real (trained-at-init) fidelity at a tenth of a second per design
SMALL = {"space": {"max_depth": 4, "fidelity": "zero-cost"},
         "env": {"max_edits": 4, "objectives": ["quality", "params", "cache_bytes"]},
         "methods": {"maskable_ppo": {"n_steps": 8, "batch_size": 16, "n_envs": 2},
                     "evolution": {"population": 4, "sample": 2, "batch": 2},
                     "random": {"batch": 3}, "nsga2": {"population": 6}}}


def records(result) -> list[tuple[str, float]]:
    return [(r.genome, r.reward) for r in result.tracker.records]


# plain MaskablePPO (its envs' episodes that end together are evaluated together), then
# model-based (each round's batch of designs is evaluated together)
SURROGATES = {"maskable_ppo": {"enabled": False}, "mb_maskable_ppo": {"n_initial": 4, "batch": 3, "episodes": 8},
              "lag_maskable_ppo": {"n_initial": 4, "batch": 2, "episodes": 8, "lag": 1}}


@pytest.mark.parametrize("method", ["random", "evolution", "nsga2", "maskable_ppo", "mb_maskable_ppo",
                                    "lag_maskable_ppo"])
def test_a_search_on_the_process_pool_finds_what_it_finds_inline(method, tmp_path):
    config = SearchConfig(name="small", method=method.removeprefix("mb_").removeprefix("lag_"), budget=10, seed=1,
                          surrogate=SURROGATES.get(method, {}), **SMALL)
    inline = run_search(config, None, store=tmp_path / "inline.sqlite")
    pooled = run_search(config.with_overrides(backend={"kind": "pool", "workers": 2}), None,
                        store=tmp_path / "pool.sqlite")
    assert records(pooled) == records(inline), "same designs, same rewards, in the same order"
    assert not any(r.from_store for r in pooled.tracker.records), "fresh evaluations are reported as fresh"
    with EvaluationStore(tmp_path / "pool.sqlite", readonly=True) as store:
        assert {r.genome_hash for r in store} >= {r.genome_hash for r in pooled.tracker.records}


def test_batches_only_change_what_is_evaluated_together_not_what_is_found(tmp_path):
    one = SearchConfig(name="small", method="random", budget=10, seed=2,
                       **{**SMALL, "methods": {"random": {"batch": 1}}})
    five = one.with_overrides(methods={"random": {"batch": 5}})
    assert records(run_search(one, None)) == records(run_search(five, None))


def stored_hashes(path: Path) -> list[str]:
    with EvaluationStore(path, readonly=True) as store:
        return [r.genome_hash for r in store]


def test_a_search_killed_with_sigkill_and_resumed_loses_and_repeats_no_evaluation(tmp_path):
    # killed once 12 of 24 evaluations are stored: a dozen more (seconds) remain to be lost or repeated
    config = {"name": "killed", "method": "evolution", "budget": 24, "seed": 0, **SMALL}
    (tmp_path / "killed.yaml").write_text(yaml.safe_dump(config))
    store, out = tmp_path / "store.sqlite", tmp_path / "run"
    command = [sys.executable, "-m", "livgym.cli", "search", str(tmp_path / "killed.yaml"), "--out", str(out),
               "--store", str(store), "--wandb", "disabled"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if store.exists() and len(stored_hashes(store)) >= 12:
            break
        time.sleep(0.05)
    assert process.poll() is None, f"the search ended before it could be killed: {process.stderr.read().decode()}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = stored_hashes(store)
    assert len(before) >= 12 and not (out / "evaluations.csv").exists(), "killed mid-search, outputs unwritten"

    resumed = subprocess.run([sys.executable, "-m", "livgym.cli", "search", "--resume", str(out),
                              "--wandb", "disabled"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    after = stored_hashes(store)
    assert len(after) == len(set(after)), "each evaluation is stored once"
    assert set(before) <= set(after), "no finished evaluation was lost"
    with (out / "evaluations.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 24 and len({r["genome_hash"] for r in rows}) == 24
    evaluated_again = [r["genome_hash"] for r in rows if r["from_store"] == "0" and r["genome_hash"] in before]
    assert evaluated_again == [], "the resumed search repeats no evaluation finished before the kill"
    assert sum(r["from_store"] == "1" for r in rows) >= len(before), "answered by the store instead"


def test_final_design_names_exactly_the_design_a_step_evaluates():
    import numpy as np

    from livgym.envs.build import build_env

    env = build_env("livgym/Design-v0", {"max_depth": 4, "fidelity": "analytic"}, {
        "max_edits": 3, "objectives": ["params", "cache_bytes"], "constraints": {"max_cache_bytes": 3e6}})
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(400):
        action = int(rng.integers(env.action_space.n)) if rng.random() < 0.3 else \
            int(rng.choice(np.flatnonzero(env.action_masks())))
        final = env.final_design(action)
        _, _, terminated, truncated, info = env.step(action)
        assert (final is not None) == terminated
        if terminated:
            assert env.space.key(final) == info["genome_hash"]
        if terminated or truncated:
            env.reset()

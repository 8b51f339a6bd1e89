"""LIV-Bench: the env over a table passes both checkers, reaches only the table's designs,
scores them as the table says, and its known optima are exact (checked by brute force)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import livgym  # noqa: F401  (registers the ids)
from livgym.controllers.config import SearchConfig
from livgym.controllers.search import run_search
from livgym.envs.liv.enumerate import canonical_designs
from livgym.envs.build import make_registered_env
from livgym.envs.livbench.bench import known_optima, table_index
from livgym.envs.livbench.table import COST_COLUMNS, LIVBENCH_V0, QUALITY_COLUMNS, load_table, write_table
from livgym.models.cost import analytic_metrics
from livgym.models.genome import Genome
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.pareto import dominates


def bench_env(**kwargs):
    """`livgym/LIVBench-v0` without Gymnasium's wrappers."""
    return make_registered_env("livgym/LIVBench-v0", **kwargs)


CLASSES, DEPTH = (1, 7, 9), 3
FAILED = "71111-71111-71111@w64h4"


def synthetic_table(path, drop: set[str] = frozenset()) -> str:
    """A small table in the shipped format: quality made up from the design (attention helps,
    depth a little), the real analytic costs, one failed row."""
    designs = canonical_designs(CLASSES, DEPTH)
    rows = []
    for genome in designs.values():
        text = genome.to_string()
        if text in drop:
            continue
        cost = analytic_metrics(genome, 4096, 256, 32768)
        attention = sum(s.liv_class == 1 for s in genome.slots)
        quality = 0.1 + 0.2 * attention / genome.depth + 0.01 * genome.depth
        status = "failed" if text == FAILED else "ok"
        accuracies = [quality] * (len(QUALITY_COLUMNS) - 1)
        rows.append([text, status, "ok", *([quality, *accuracies] if status == "ok" else [math.nan] * 4),
                     cost["params"], cost["cache_bytes"], cost["cache_bytes_long"], cost["flops"], 1e-4, 0.1])
    spec = {**LIVBENCH_V0.__dict__, "name": "synthetic", "classes": list(CLASSES), "max_depth": DEPTH}
    write_table({"name": "synthetic", "spec": spec, "columns": ["genome", "status", "cost_status", *QUALITY_COLUMNS,
                                                                 *COST_COLUMNS, "quality_seconds"], "rows": rows}, path)
    return str(path)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return synthetic_table(tmp_path_factory.mktemp("bench") / "synthetic.json.gz")


def test_both_checkers_pass_on_the_shipped_table():
    check_env(gym.make("livgym/LIVBench-v0").unwrapped, skip_render_check=True)
    sb3_check_env(gym.make("livgym/LIVBench-v0").unwrapped)


def test_both_checkers_pass_on_both_ids(table):
    check_env(gym.make("livgym/LIVBench-v0", table=table).unwrapped, skip_render_check=True)
    # MO-Gymnasium's convention: a vector reward, which Gymnasium's checker warns of (other warnings still show)
    with pytest.warns(UserWarning, match="reward returned by `step\\(\\)` must be a float"):
        check_env(gym.make("livgym/LIVBenchMO-v0", table=table).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make("livgym/LIVBench-v0", table=table).unwrapped)
    sb3_check_env(gym.make("livgym/LIVBench-v0", table=table, observation="flat").unwrapped)


def test_masked_episodes_reach_only_table_designs_and_get_the_table_score(table):
    env = bench_env(table=table, mode="build")
    index = table_index(table)
    rng = np.random.default_rng(0)
    seen = set()
    for episode in range(300):
        env.reset(seed=episode)
        while True:
            mask = env.action_masks()
            assert not mask[env.space.first_hyperparameter_action:].any(), "hyperparameter steps are masked"
            action = int(rng.choice(np.flatnonzero(mask)))
            _, reward, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        key = info["genome_hash"]
        assert key in index.genomes
        seen.add(key)
        if info["genome"] == FAILED or index.status[key] != "ok":
            assert reward == env.failure_penalty
        else:
            assert info["metrics"]["quality"] == index.metrics[key]["quality"]
            assert info["cache_hit"], "a table answers every evaluation"
    assert len(seen) > len(index.genomes) // 3, "random masked episodes cover much of the table"


def test_designs_missing_from_the_table_are_masked_and_named(tmp_path):
    dropped = {"11111-11111@w64h4", "11111-91111@w64h4"}
    path = synthetic_table(tmp_path / "partial.json.gz", drop=dropped)
    env = bench_env(table=path)
    env.reset(options={"mode": "edit", "start": "11111@w64h4"})
    reachable = {env.space.describe(env.space.apply(env.design, int(a)).canonical())
                 for a in np.flatnonzero(env.action_masks()[1:]) + 1}
    assert reachable and not reachable & dropped
    with pytest.raises(ValueError, match="'11111-11111@w64h4' is not a design of the LIV-Bench table"):
        env.reset(options={"mode": "edit", "start": "11111-11111@w64h4"})


def test_known_optima_are_exact(table):
    optima = known_optima(table=table)
    env = bench_env(table=table)
    index = table_index(table)
    rewards, utilities = {}, {}
    for key, text in index.genomes.items():
        env.reset(options={"mode": "edit", "start": text})
        _, reward, _, _, info = env.step(0)
        if index.status[key] == "ok":
            rewards[text], utilities[text] = reward, np.asarray(info["utilities"], dtype=np.float64)
    best = max(rewards, key=rewards.get)
    assert optima.best_genome == best and optima.best_reward == pytest.approx(rewards[best])
    assert FAILED not in optima.front and optima.front
    for text, u in utilities.items():
        on_front = not any(dominates(v, u) for v in utilities.values())
        assert on_front == (text in optima.front), text
    assert optima.regret(optima.best_reward) == 0.0


def test_a_search_on_the_bench_spends_its_budget_and_regret_is_never_negative(table):
    config = SearchConfig(name="bench", method="random", budget=20, seed=0, env_id="livgym/LIVBench-v0",
                          space={"table": table}, env={"max_edits": 4})
    result = run_search(config, None)
    optima = known_optima(table=table)
    assert result.tracker.used == 20
    assert 0.0 <= optima.regret(result.tracker.best_reward)
    assert 0.0 < optima.hypervolume_ratio(result.tracker.archive.hypervolume()) <= 1.0 + 1e-9


def test_unknown_bench_arguments_are_named(table):
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['max_depth'\]"):
        bench_env(table=table, max_depth=8)
    with pytest.raises(ValueError, match="unknown key"):
        SearchConfig(env_id="livgym/LIVBench-v0", space={"max_depth": 8})
    with pytest.raises(FileNotFoundError, match="nowhere.json.gz is missing"):
        bench_env(table="nowhere.json.gz")


def test_the_shipped_table_covers_the_sub_space_and_matches_its_generating_config():
    from dataclasses import asdict
    import json

    from livgym.envs.livbench.table import designs

    document = load_table()
    assert document["spec"] == json.loads(json.dumps(asdict(LIVBENCH_V0)))
    index = table_index()
    expected = {g.canonical_hash() for g in designs(LIVBENCH_V0)}
    assert set(index.genomes) == expected and len(expected) == 1558, "every canonical design, once"
    assert document["complete"], "complete: the env skips per-edit lookups (every edit of a row is a row)"
    assert document["quality_config_hash"] == make_evaluator(LIVBENCH_V0.fidelity).config_hash(), \
        "the livbench fidelity changed since the table was made: regenerate it"
    assert document["cost_config_hash"] == make_evaluator(LIVBENCH_V0.latency_fidelity).config_hash()
    assert set(index.status.values()) <= {"ok", "failed", "diverged", "timeout"}
    assert sum(s == "ok" for s in index.status.values()) >= 0.99 * len(expected)


def test_a_shipped_row_is_reproduced_by_evaluating_it_again():
    index = table_index()
    text = "71111@w64h4"  # the cheapest design to train (about a second)
    key = Genome.from_string(text).canonical_hash()
    result = make_evaluator(LIVBENCH_V0.fidelity).evaluate(Genome.from_string(text), LIVBENCH_V0.seed)
    # Same seed and config; bit-identical on the generating machine type, so only a different
    # CPU's floating point can move an accuracy by a probe or two.
    assert result.metrics["quality"] == pytest.approx(index.metrics[key]["quality"], abs=0.02)
    assert result.metrics["params"] == index.metrics[key]["params"]


@pytest.mark.parametrize("which", ["synthetic", "shipped"])
def test_every_table_design_is_reachable_in_a_build_episode(table, which):
    """Breadth-first over build episodes (stop or max_edits end them): every row is a final design."""
    table = table if which == "synthetic" else None
    env = bench_env(table=table)
    space, index = env.space, table_index(table)
    frontier, finals = [space.build_start], {space.key(space.build_start)}
    seen = set(finals)
    for edit in range(env.max_edits):
        following = []
        for design in frontier:
            for action in np.flatnonzero(env.masks_for(design)[1:]) + 1:
                child = space.apply(design, int(action))
                finals.add(space.key(child))
                if space.key(child) not in seen and edit + 1 < env.max_edits:
                    seen.add(space.key(child))
                    following.append(child)
        frontier = following
    assert finals == set(index.genomes)

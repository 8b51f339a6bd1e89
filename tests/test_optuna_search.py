"""The Optuna search method on a synthetic table space: budget, determinism, invalid vectors,
revisits, samplers and batches; it should beat Optuna's own random sampler on the table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from livgym.controllers.budget import SearchTracker
from livgym.controllers.methods.contract import SearchContext
from livgym.controllers.methods.registry import get_method
from livgym.controllers.methods.optuna_search import MAX_INVALID_IN_A_ROW, OptunaParams, optuna_search
from livgym.envs.design_env import DesignEnv
from livgym.envs.tables.space import TableSearchSpace

POSITIONS, CHOICES = 5, 4


def landscape(seed: int = 0, missing: float = 0.15) -> dict[tuple[int, ...], dict[str, float]]:
    """An additive landscape with pairwise interactions of neighbours, scaled to [0, 1]; a
    `missing` fraction of rows is left out, so some vectors decode to no design."""
    rng = np.random.default_rng(seed)
    main = rng.normal(size=(POSITIONS, CHOICES))
    pairs = 0.3 * rng.normal(size=(POSITIONS - 1, CHOICES, CHOICES))
    raw = {d: sum(main[i, c] for i, c in enumerate(d)) + sum(pairs[i, d[i], d[i + 1]] for i in range(POSITIONS - 1))
           for d in itertools.product(range(CHOICES), repeat=POSITIONS)}
    low, high = min(raw.values()), max(raw.values())
    kept = [d for d in raw if rng.random() >= missing]
    return {d: {"quality": (raw[d] - low) / (high - low), "params": 1e4 * (1 + sum(d)), "cache_bytes": 1e3}
            for d in kept}


TABLE = landscape()
BEST = max(row["quality"] for row in TABLE.values())


class CountingTable(TableSearchSpace):
    """A table space that counts the vectors that decode to no design."""

    invalid = 0

    def decode(self, vector):
        design = super().decode(vector)
        self.invalid += design is None
        return design


def table_space(table=TABLE, space: type[TableSearchSpace] = TableSearchSpace) -> TableSearchSpace:
    return space(table, choices=(CHOICES,) * POSITIONS)


def search(params: OptunaParams, budget: int, seed: int = 0, space: TableSearchSpace | None = None,
           patience: int = 2000, objectives: tuple[str, ...] = ("quality",)) -> SearchTracker:
    """The method run directly, as `run_search` would: envs reporting to one tracker."""
    space = space or table_space()

    def make_env() -> DesignEnv:
        env = DesignEnv(space, objectives=objectives, objective_overrides={"quality": {"ideal": 1.0, "nadir": 0.0}})
        env.add_evaluation_callback(lambda info, reward: tracker(info, reward))
        return env

    env = make_env()
    tracker = SearchTracker(env.objectives, budget, patience)
    optuna_search(SearchContext(env, make_env, tracker, seed), params)
    return tracker


def test_it_is_registered_with_its_parameters_checked():
    method = get_method("optuna")
    assert method.params is OptunaParams and method.defaults() == OptunaParams()
    assert method.parse({"sampler": "gp", "batch": 4}) == OptunaParams(sampler="gp", batch=4)
    with pytest.raises(ValueError, match="methods.optuna: sampler='cmaes' is not one of"):
        method.parse({"sampler": "cmaes"})
    with pytest.raises(ValueError, match="methods.optuna.batch=0 must be at least 1"):
        method.parse({"batch": 0})


def test_the_budget_counts_unique_designs_and_invalid_vectors_cost_nothing():
    tracker = search(OptunaParams(), budget=25)
    assert tracker.used == 25 and not tracker.stalled
    assert len({r.genome for r in tracker.records}) == 25
    assert all(tuple(int(v) for v in r.genome.split("-")) in TABLE for r in tracker.records)


def test_same_seed_same_designs():
    first = [r.genome for r in search(OptunaParams(), budget=20, seed=5).records]
    assert first == [r.genome for r in search(OptunaParams(), budget=20, seed=5).records]
    assert first != [r.genome for r in search(OptunaParams(), budget=20, seed=6).records]


def test_tpe_beats_random_sampling_on_average():
    def regret(sampler: str, seed: int) -> float:
        tracker = search(OptunaParams(sampler=sampler), budget=40, seed=seed)
        return BEST - max(r.metrics["quality"] for r in tracker.records)

    seeds = range(5)
    tpe, uniform = np.mean([regret("tpe", s) for s in seeds]), np.mean([regret("random", s) for s in seeds])
    assert tpe < uniform, f"mean regret after 40 designs: TPE {tpe:.3f}, random {uniform:.3f}"


def test_a_space_that_is_mostly_invalid_stops_with_a_clear_error():
    lone = {(0,) * POSITIONS: TABLE.get((0,) * POSITIONS, {"quality": 0.5, "params": 1e4, "cache_bytes": 1e3})}
    with pytest.raises(RuntimeError, match=f"{MAX_INVALID_IN_A_ROW} vectors in a row decoded to no design of "
                                           "space 'table'"):
        search(OptunaParams(sampler="random"), budget=5, space=table_space(lone))


def test_revisits_are_free_and_patience_ends_a_space_smaller_than_the_budget():
    small = {(a, b, 0): {"quality": 0.1 * a + 0.2 * b, "params": 1e4, "cache_bytes": 1e3}
             for a in range(3) for b in range(2)}  # the last gene is fixed: no trial parameter
    tracker = search(OptunaParams(n_startup_trials=2), budget=50, patience=30,
                     space=TableSearchSpace(small, choices=(3, 2, 1)))
    assert tracker.used == 6 and tracker.stalled and tracker.revisits >= 30


def test_the_gp_sampler_runs_and_moves_past_invalid_vectors():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as run_search does: the GP is small
    space = table_space(landscape(missing=0.5), CountingTable)
    try:
        tracker = search(OptunaParams(sampler="gp", n_startup_trials=2), budget=5, space=space)
    finally:
        torch.set_num_threads(threads)
    assert tracker.used == 5 and space.invalid > 0, "told as infeasible, invalid vectors do not stall GP"


def test_batches_and_the_utilities_objective_run():
    tracker = search(OptunaParams(batch=4, n_startup_trials=4, categorical=False), budget=14)
    assert tracker.used == 14
    multi = search(OptunaParams(objective="utilities", batch=3), budget=12, objectives=("quality", "params"))
    assert multi.used == 12 and multi.archive.front()


def test_tpe_finds_designs_on_livbench_whose_encoding_is_mostly_invalid():
    from pathlib import Path

    from livgym.controllers.config import SearchConfig
    from livgym.controllers.search import run_search

    config = SearchConfig.from_yaml(Path(__file__).resolve().parents[1] / "runs" / "livbench.yaml")
    result = run_search(config.with_overrides(method="optuna", budget=20, seed=1), None, plots=False)
    records = result.tracker.records
    assert result.tracker.used == 20 and len({r.genome_hash for r in records}) == 20
    assert all(r.status == "ok" for r in records)

"""Objectives (orientation, log scale, reference points), scalarisers and hard constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from livgym.rewards.objectives import (
    DEFAULT_OBJECTIVES,
    SCALARISERS,
    Chebyshev,
    HardConstraints,
    MnasNet,
    Objective,
    ObjectiveSet,
    WeightedSum,
    make_scalariser,
)

METRICS = {"quality": 0.6, "params": 1e5, "cache_bytes": 1e6, "flops": 1e6, "latency": 1e-3}


@pytest.mark.parametrize("name", sorted(DEFAULT_OBJECTIVES))
def test_better_raw_value_gives_higher_utility(name: str) -> None:
    objective = DEFAULT_OBJECTIVES[name]
    low, high = objective.nadir, objective.ideal  # ideal is the better end for max and min alike
    worse, better = (0.3, 0.7) if objective.scale == "linear" else (low ** 0.7 * high ** 0.3, low ** 0.3 * high ** 0.7)
    assert objective.utility(better) > objective.utility(worse)
    assert objective.utility(objective.ideal) == pytest.approx(1.0)
    assert objective.utility(objective.nadir) == pytest.approx(0.0)


def test_orientation_of_hand_made_objectives() -> None:
    maximise = Objective("acc", "max", "linear", ideal=1.0, nadir=0.5)
    minimise = Objective("loss", "min", "linear", ideal=0.0, nadir=4.0)
    assert maximise.utility(0.75) == pytest.approx(0.5) and maximise.utility(0.9) > maximise.utility(0.6)
    assert minimise.utility(1.0) == pytest.approx(0.75) and minimise.utility(1.0) > minimise.utility(3.0)


def test_log_scale_and_clipping_beyond_the_reference_points() -> None:
    params = Objective("params", "min", "log", ideal=1e4, nadir=1e7)
    assert params.utility(1e5) == pytest.approx(2 / 3)
    assert params.utility(1e6) == pytest.approx(1 / 3)
    assert params.utility(1e3) == 1.0  # better than ideal: scores as the ideal
    assert params.utility(1e8) == 0.0  # worse than nadir: scores as the nadir
    quality = Objective("quality", "max", "linear", ideal=1.0, nadir=0.0)
    assert quality.utility(1.65) == 1.0 and quality.utility(-0.2) == 0.0
    assert math.isnan(params.utility(math.nan))
    assert math.isnan(quality.utility(math.inf)) and math.isnan(quality.utility(-math.inf))
    with pytest.raises(ValueError, match="not positive"):
        params.utility(0)
    assert DEFAULT_OBJECTIVES["cache_bytes"].utility(0) == pytest.approx(DEFAULT_OBJECTIVES["cache_bytes"].utility(1))


@pytest.mark.parametrize("kwargs, message", [
    (dict(direction="up"), "direction='up'"),
    (dict(scale="sqrt"), "scale='sqrt'"),
    (dict(ideal=1e7, nadir=1e4), "needs ideal < nadir"),
    (dict(ideal=0.0), "must be positive"),
])
def test_bad_objectives_are_named(kwargs: dict, message: str) -> None:
    base = dict(name="params", direction="min", scale="log", ideal=1e4, nadir=1e7) | kwargs
    with pytest.raises(ValueError, match=message):
        Objective(**base)


def test_objective_set_vector_raw_and_missing_metric() -> None:
    objectives = ObjectiveSet.from_names(["quality", "params", "flops"])
    assert objectives.names == ("quality", "params", "flops")
    np.testing.assert_allclose(objectives.raw(METRICS), [0.6, 1e5, 1e6])
    vector = objectives.vector(METRICS)
    assert vector.dtype == np.float64
    np.testing.assert_allclose(vector, [0.6, 2 / 3, 0.6])
    with pytest.raises(ValueError, match="'flops'.*missing"):
        objectives.vector({"quality": 0.5, "params": 1e5})
    assert ObjectiveSet.from_dict(objectives.to_dict()) == objectives


def test_objective_set_overrides_and_errors() -> None:
    objectives = ObjectiveSet.from_names(["quality", "params"], params={"nadir": 1e8})
    assert objectives.objectives[1].nadir == 1e8
    with pytest.raises(ValueError, match="unknown objective.*'size'"):
        ObjectiveSet.from_names(["size"])
    with pytest.raises(ValueError, match="unknown field.*'worst'"):
        ObjectiveSet.from_names(["params"], params={"worst": 1e8})
    with pytest.raises(ValueError, match="repeated.*'quality'"):
        ObjectiveSet((DEFAULT_OBJECTIVES["quality"], DEFAULT_OBJECTIVES["quality"]))


def test_weighted_sum() -> None:
    score = WeightedSum(weights=(0.5, 0.25, 0.25))
    assert score(np.array([0.8, 0.4, -0.4]), {}) == pytest.approx(0.4 + 0.1 - 0.1)
    with pytest.raises(ValueError, match="3 weights"):
        score(np.array([1.0, 1.0]), {})
    with pytest.raises(ValueError, match="weights"):
        WeightedSum(weights=(-1.0, 1.0))


def test_chebyshev_is_negated_max_weighted_distance_to_utopia() -> None:
    score = Chebyshev(weights=(1.0, 2.0))
    assert score(np.array([0.5, 0.9]), {}) == pytest.approx(-max(1.0 * 0.5, 2.0 * 0.1))
    assert score(np.array([0.9, 0.5]), {}) == pytest.approx(-1.0)
    shifted = Chebyshev(weights=(1.0, 1.0), utopia=(2.0, 1.0))
    assert shifted(np.array([1.5, 0.0]), {}) == pytest.approx(-1.0)
    assert score(np.array([1.0, 1.0]), {}) > score(np.array([0.9, 1.0]), {})  # higher is better


def test_scalariser_bounds_hold_over_unit_utilities() -> None:
    rng = np.random.default_rng(0)
    cases = [WeightedSum(weights=(0.5, 0.25, 0.25)), WeightedSum(weights=(2.0, 1.0, 0.0)),
             Chebyshev(weights=(1.0, 2.0, 0.5)), Chebyshev(weights=(1.0, 1.0, 1.0), utopia=(1.5, 1.0, 0.5))]
    for scalariser in cases:
        low, high = scalariser.bounds(3)
        corners = [scalariser(np.array(u, dtype=float), {}) for u in ([0, 0, 0], [1, 1, 1])]
        assert corners == pytest.approx([low, high])  # the bounds are reached, at the corners
        scores = [scalariser(u, {}) for u in rng.uniform(0, 1, (200, 3))]
        assert low <= min(scores) and max(scores) <= high
    assert WeightedSum(weights=(1.0, 1.0), constraints=HardConstraints(max_params=1.0), penalty=-2.0).bounds(2) == (-2.0, 2.0)
    assert MnasNet(cost_metric="params", target=1e5, alpha=-0.07, beta=-0.07).bounds(0) == (-math.inf, math.inf)
    with pytest.raises(ValueError, match="3 weights"):
        WeightedSum(weights=(0.5, 0.25, 0.25)).bounds(2)


def test_mnasnet_hand_computed() -> None:
    score = MnasNet(cost_metric="params", target=1e5, alpha=-0.07, beta=-0.2)
    assert score(np.zeros(0), {"quality": 0.8, "params": 5e4}) == pytest.approx(0.8 * 0.5 ** -0.07)
    assert score(np.zeros(0), {"quality": 0.8, "params": 2e5}) == pytest.approx(0.8 * 2.0 ** -0.2)
    hard = MnasNet(cost_metric="params", target=1e5, alpha=0.0, beta=-1.0)
    assert hard(np.zeros(0), {"quality": 0.8, "params": 5e4}) == pytest.approx(0.8)  # under target: unpenalised
    assert hard(np.zeros(0), {"quality": 0.8, "params": 4e5}) == pytest.approx(0.2)  # 4x over: quality / 4
    with pytest.raises(ValueError, match="'params', which is missing"):
        score(np.zeros(0), {"quality": 0.8})


def test_mnasnet_symmetric_exponent_makes_target_a_constant_factor() -> None:
    designs = [{"quality": q, "params": p} for q, p in [(0.9, 3e6), (0.7, 1e5), (0.5, 2e4), (0.8, 8e5)]]
    for target_a, target_b in [(1e5, 1e6), (3e4, 5e6)]:
        a = MnasNet(cost_metric="params", target=target_a, alpha=-0.07, beta=-0.07)
        b = MnasNet(cost_metric="params", target=target_b, alpha=-0.07, beta=-0.07)
        ratios = [a(np.zeros(0), m) / b(np.zeros(0), m) for m in designs]
        np.testing.assert_allclose(ratios, (target_a / target_b) ** 0.07)
        asymmetric = [MnasNet(cost_metric="params", target=t, alpha=0.0, beta=-1.0) for t in (target_a, target_b)]
        rankings = [np.argsort([s(np.zeros(0), m) for m in designs]).tolist() for s in asymmetric]
        assert rankings[0] != rankings[1]  # only the asymmetric form follows the target


def test_constraints_name_each_violation() -> None:
    constraints = HardConstraints(max_params=5e4, max_cache_bytes=1e7, max_flops=1e5, min_quality=0.7)
    violations = constraints.violations(METRICS)
    assert violations == ["params=100000 > max_params=50000", "flops=1e+06 > max_flops=100000",
                          "quality=0.6 < min_quality=0.7"]
    assert not constraints.satisfied(METRICS)
    assert HardConstraints(max_params=1e6).satisfied(METRICS)
    assert HardConstraints(max_params=1e6).violations({"params": math.nan}) == ["params=nan > max_params=1e+06"]
    with pytest.raises(ValueError, match="max_latency.*'latency', which is missing"):
        HardConstraints(max_latency=1.0).violations({"params": 1.0})


def test_scalariser_penalty_for_infeasible_designs() -> None:
    score = WeightedSum(weights=(1.0,), constraints=HardConstraints(max_params=5e4), penalty=-5.0)
    assert score(np.array([0.6]), METRICS) == -5.0
    assert score(np.array([0.6]), METRICS | {"params": 1e4}) == pytest.approx(0.6)


def test_make_scalariser_registry_and_errors() -> None:
    assert set(SCALARISERS) == {"weighted_sum", "chebyshev", "mnasnet"}
    score = make_scalariser("mnasnet", cost_metric="cache_bytes", target=1e6, alpha=0.0, beta=-1.0,
                            constraints={"max_params": 1e6})
    assert isinstance(score, MnasNet) and score.constraints == HardConstraints(max_params=1e6)
    assert make_scalariser("weighted_sum", weights=[1, 2]).weights == (1.0, 2.0)
    with pytest.raises(ValueError, match="unknown scalariser 'pareto'"):
        make_scalariser("pareto")
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['gamma'\]"):
        make_scalariser("chebyshev", weights=[1.0], gamma=2)
    with pytest.raises(ValueError, match=r"missing argument\(s\) \['alpha', 'beta'\]"):
        make_scalariser("mnasnet", cost_metric="params", target=1e6)
    with pytest.raises(ValueError, match=r"unknown constraint\(s\) \['max_width'\]"):
        make_scalariser("weighted_sum", weights=[1.0], constraints={"max_width": 3})

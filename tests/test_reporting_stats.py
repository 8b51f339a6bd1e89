"""The reports' statistics helper: t-intervals, Welch's test and the bootstrap interval."""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
from scipy import stats

from livgym.controllers.reporting.stats import (CONFIDENCE, bootstrap_interval, mean_interval, t_half_width,
                                                welch_p)


def test_half_width_matches_scipy_t_interval():
    values = np.array([0.3, 0.5, 0.4, 0.9, 0.1])
    low, high = stats.t.interval(CONFIDENCE, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert t_half_width(values) == pytest.approx((high - low) / 2, rel=1e-12)
    assert mean_interval(values) == pytest.approx((values.mean(), (high - low) / 2), rel=1e-12)
    assert isinstance(mean_interval(values)[1], float)


def test_half_width_along_an_axis_is_each_column_s():
    curves = np.random.default_rng(0).random((6, 4))
    halves = t_half_width(curves)
    assert halves.shape == (4,)
    assert halves == pytest.approx([t_half_width(curves[:, j]) for j in range(4)], rel=1e-12)
    assert t_half_width(curves.T, axis=1) == pytest.approx(halves, rel=1e-12)


def test_half_width_is_the_old_formula_bit_for_bit():
    """The reports printed `t.ppf(0.975, n - 1) * std(ddof=1) / sqrt(n)`; same numbers, same bits."""
    values = np.random.default_rng(1).random((7, 9))
    old = stats.t.ppf(0.975, 6) * values.std(axis=0, ddof=1) / np.sqrt(7)
    assert np.array_equal(t_half_width(values), old)


def test_fewer_than_two_values_have_no_interval():
    assert math.isnan(t_half_width([0.7]))
    assert t_half_width([0.7], single=0.0) == 0.0
    assert np.all(np.isnan(t_half_width(np.ones((1, 3)))))
    assert np.array_equal(t_half_width(np.ones((1, 3)), single=0.0), np.zeros(3))
    assert mean_interval([0.7]) == (0.7, pytest.approx(float("nan"), nan_ok=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" either
        mean, half = mean_interval([])
    assert math.isnan(mean) and math.isnan(half)


def test_welch_matches_scipy():
    a, b = [0.1, 0.4, 0.35, 0.2], [0.5, 0.55, 0.9, 0.7, 0.6]
    assert welch_p(a, b) == stats.ttest_ind(a, b, equal_var=False).pvalue


def test_welch_of_constant_samples_is_the_limit_and_needs_two_values():
    assert welch_p([0.5, 0.5, 0.5], [0.5, 0.5]) == 1.0
    assert welch_p([0.5, 0.5, 0.5], [0.25, 0.25]) == 0.0
    assert math.isnan(welch_p([0.5], [0.1, 0.2]))
    assert math.isnan(welch_p([0.1, 0.2], []))


@pytest.mark.parametrize("a, b", [([1.0, 1.0, 1.0], [1.0, 1.0, 1.0 - 3e-16]),  # nearly constant
                                  ([1.0, 1.0, 1.0, 1.0], [0.99, 0.999, 0.98, 0.9999])])  # one constant
def test_welch_leaks_none_of_scipys_precision_warnings(a, b):
    with pytest.warns(RuntimeWarning, match="Precision loss"):
        expected = stats.ttest_ind(a, b, equal_var=False).pvalue
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = welch_p(a, b)
    assert caught == []
    assert p == expected


def _old_kendall_interval(pairs, resamples=2000):
    """proxy_fidelity's interval before the helper, kept to pin the helper's numbers."""
    rng = random.Random(0)
    taus = []
    for _ in range(resamples):
        drawn = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        tau = stats.kendalltau(*zip(*drawn)).statistic
        if tau == tau:
            taus.append(tau)
    taus.sort()
    return taus[int(0.025 * (len(taus) - 1))], taus[int(0.975 * (len(taus) - 1))]


def _kendall(drawn):
    return stats.kendalltau(*zip(*drawn)).statistic


def test_bootstrap_is_seeded_and_the_same_as_before():
    rng = np.random.default_rng(2)
    x = rng.random(12)
    pairs = list(zip(x, x + rng.normal(0, 0.3, 12)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kendalltau of a resample of one pair, repeated
        low, high = bootstrap_interval(pairs, _kendall, resamples=500)
        assert (low, high) == _old_kendall_interval(pairs, resamples=500)
        assert bootstrap_interval(pairs, _kendall, resamples=500) == (low, high)
        assert bootstrap_interval(pairs, _kendall, resamples=500, seed=1) != (low, high)
    assert -1 <= low <= _kendall(pairs) <= high <= 1


def test_bootstrap_of_the_mean_covers_it_and_drops_undefined_resamples():
    values = list(np.random.default_rng(3).normal(5.0, 1.0, 40))
    low, high = bootstrap_interval(values, lambda drawn: float(np.mean(drawn)))
    assert low < np.mean(values) < high
    assert high - low == pytest.approx(2 * 1.96 / np.sqrt(40), rel=0.3)
    nan = bootstrap_interval(values, lambda drawn: float("nan"), resamples=10)
    assert math.isnan(nan[0]) and math.isnan(nan[1])

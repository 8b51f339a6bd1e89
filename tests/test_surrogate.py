"""The surrogate model: shapes, seeds, awkward data, the std floor, ranking and Thompson samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau
from sklearn.base import clone

from livgym.controllers.methods.surrogate import DEFAULT_SURROGATE, SURROGATE_MODELS, Surrogate, make_surrogate

FAST = {"random_forest": {"n_estimators": 20}, "extra_trees": {"n_estimators": 20}, "gp": {"n_restarts": 0},
        "boosted_trees": {"n_estimators": 3, "max_iter": 20}}


def additive(n: int, d: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary features and a target that is a weighted sum of them (a simple additive landscape)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, d)).astype(np.float64)
    return X, X @ rng.normal(size=d)


def fast(name: str, seed: int = 0, **kwargs) -> Surrogate:
    return make_surrogate(name, seed, **{**FAST[name], **kwargs})


def test_table_lists_the_four_candidates_and_a_default_among_them() -> None:
    assert set(SURROGATE_MODELS) == set(FAST)
    assert DEFAULT_SURROGATE in SURROGATE_MODELS
    assert Surrogate().model == DEFAULT_SURROGATE


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
def test_each_model_fits_predicts_and_samples_in_the_right_shapes(name: str) -> None:
    X, y = additive(40)
    single = fast(name).fit(X, y)
    mean, std = single.predict(X[:7], return_std=True)
    assert mean.shape == std.shape == (7,) and single.predict(X[:7]).shape == (7,)
    assert single.sample(X[:7], np.random.default_rng(0)).shape == (7,)
    multi = fast(name).fit(X, np.column_stack([y, 2 * y + 1]))
    mean, std = multi.predict(X[:7], return_std=True)
    assert mean.shape == std.shape == (7, 2)
    assert multi.sample(X[:7], np.random.default_rng(0)).shape == (7, 2)
    assert np.isfinite(mean).all() and (std > 0).all()


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
def test_same_seed_same_predictions_and_samples(name: str) -> None:
    X, y = additive(30)
    a, b = fast(name, seed=3).fit(X, y), fast(name, seed=3).fit(X, y)
    np.testing.assert_array_equal(a.predict(X, return_std=True), b.predict(X, return_std=True))
    np.testing.assert_array_equal(a.sample(X, np.random.default_rng(5)), b.sample(X, np.random.default_rng(5)))


def test_another_seed_another_forest() -> None:
    X, y = additive(30)
    a, b = fast("random_forest", seed=0).fit(X, y), fast("random_forest", seed=1).fit(X, y)
    assert not np.array_equal(a.predict(X, return_std=True)[1], b.predict(X, return_std=True)[1])


def test_clone_keeps_the_parameters() -> None:
    s = make_surrogate("extra_trees", 4, std_floor=0.1, n_estimators=7)
    assert clone(s).get_params() == s.get_params()


def test_nan_targets_drop_rows_per_column() -> None:
    X, y = additive(40)
    Y = np.column_stack([y, y]).copy()
    Y[::3, 1] = np.nan
    mean = fast("random_forest").fit(X, Y).predict(X)
    assert np.isfinite(mean).all()
    # the second column is fitted on the finite rows only: the same as fitting them alone
    alone = make_surrogate("random_forest", 0, **FAST["random_forest"])
    keep = np.isfinite(Y[:, 1])
    np.testing.assert_allclose(mean[:, 0], fast("random_forest").fit(X, y).predict(X))
    assert np.isfinite(alone.fit(X[keep], Y[keep, 1]).predict(X)).all()


def test_a_column_without_finite_values_is_an_error() -> None:
    X, y = additive(10)
    with pytest.raises(ValueError, match="column 1"):
        fast("random_forest").fit(X, np.column_stack([y, np.full(10, np.nan)]))


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
def test_constant_and_single_row_targets_predict_the_value_with_a_wide_std(name: str) -> None:
    X, _ = additive(12)
    mean, std = fast(name).fit(X, np.full(12, 0.25)).predict(X[:4], return_std=True)
    np.testing.assert_allclose(mean, 0.25)
    assert (std >= 1.0).all()  # the prior: max(|value|, 1)
    mean, std = fast(name).fit(X[:1], [3.0]).predict(X[:4], return_std=True)
    np.testing.assert_allclose(mean, 3.0)
    assert (std >= 3.0).all()


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
@pytest.mark.parametrize("rows", [2, 3, 5])
def test_tiny_data_still_fits(name: str, rows: int) -> None:
    X, y = additive(rows, seed=rows)
    y = y + np.arange(rows)  # never constant
    mean, std = fast(name).fit(X, y).predict(X, return_std=True)
    assert np.isfinite(mean).all() and np.isfinite(std).all()


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
def test_std_never_falls_below_the_floor(name: str) -> None:
    X, y = additive(50)
    s = fast(name, std_floor=0.05).fit(X, y)
    _, std = s.predict(X, return_std=True)  # training rows: where the ensembles agree most
    assert (std >= 0.05 * y.std() - 1e-12).all()


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
def test_ranks_a_simple_additive_landscape(name: str) -> None:
    X, y = additive(400, seed=1)
    mean = fast(name).fit(X[:100], y[:100]).predict(X[100:])
    assert kendalltau(mean, y[100:]).statistic > 0.5


@pytest.mark.parametrize("name", sorted(SURROGATE_MODELS))
def test_thompson_samples_spread_around_the_mean(name: str) -> None:
    X, y = additive(60, seed=2)
    s = fast(name).fit(X[:30], y[:30])
    rng = np.random.default_rng(0)
    draws = np.stack([s.sample(X[30:], rng) for _ in range(30)])
    mean, std = s.predict(X[30:], return_std=True)
    spread = draws.std(axis=0).mean()
    assert 0.3 * std.mean() < spread < 3 * std.mean()  # they differ as much as the std says
    assert np.abs(draws.mean(axis=0) - mean).mean() < 2 * std.mean()  # and centre on the prediction


def test_bad_input_is_a_one_line_error() -> None:
    X, y = additive(10)
    with pytest.raises(ValueError, match="'nope'"):
        make_surrogate("nope")
    with pytest.raises(ValueError, match="'nope'"):
        Surrogate(model="nope").fit(X, y)
    with pytest.raises(ValueError, match="std_floor=-1"):
        Surrogate(std_floor=-1).fit(X, y)
    with pytest.raises(ValueError, match="does not match"):
        Surrogate().fit(X, y[:5])
    with pytest.raises(ValueError, match="NaN"):
        Surrogate().fit(np.where(X > 0, np.nan, X), y)
    fitted = fast("random_forest").fit(X, y)
    with pytest.raises(ValueError, match="fitted on 10"):
        fitted.predict(X[:, :3])

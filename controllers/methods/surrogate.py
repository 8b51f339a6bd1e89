"""A surrogate model of the evaluator: predicted metrics, with an uncertainty, from features.

Model-based search learns against this model and sends only its best proposals to the real
(expensive) evaluator. `Surrogate` maps a design's feature vector (`SearchSpace.features`) to
each predicted metric (one column of `y` per metric: quality, and anything a space marks
costly) with a mean and a standard deviation, so a search can rank by UCB (mean + k std) or by
Thompson sampling (`sample`, one plausible function value per row).

The models (`SURROGATE_MODELS`), all scikit-learn's (well-kept, already a dependency; nothing
here writes its own regressor):

- "random_forest": `RandomForestRegressor`; std across the trees' predictions, a Thompson
  sample is one random tree's prediction.
- "extra_trees": `ExtraTreesRegressor` on bootstrap samples, the same way.
- "gp": `GaussianProcessRegressor`, Matern(5/2) times a constant plus a white-noise kernel on
  standardised features; std and samples from the posterior.
- "boosted_trees": a bag of `HistGradientBoostingRegressor`s (`BaggingRegressor`); std across
  the bag, a Thompson sample is one member's prediction.

The default (`DEFAULT_SURROGATE`) is "random_forest": `benchmarks/surrogate_choice.py`
measured the candidates by held-out Kendall tau on LIV-Bench and on the NK landscape after
25-300 training designs, and the forest ranked best or tied best on LIV-Bench at every size
and within noise of the best on NK, at a fraction of the bagged boosting's fit time (details
next to the constant and in benchmarks/history/surrogate-choice.md).

Small and awkward data: each column drops its NaN rows on its own; a column with one finite
value, or with a constant one, predicts that value everywhere with a wide std (the prior:
`max(|value|, 1)`); a column with no finite value is a ValueError. Targets are standardised
per column inside, predictions come back in the original units, and every std is at least
`std_floor` times the column's training spread, so UCB keeps exploring.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.ensemble import BaggingRegressor, ExtraTreesRegressor, HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

#: the std floor, in units of a column's training spread (standard deviation)
DEFAULT_STD_FLOOR = 0.01
#: above this many rows a GP Thompson sample draws each row on its own (marginals), because a
#: joint draw needs the rows' full covariance (cubic in the rows)
GP_JOINT_SAMPLE_ROWS = 2000


def one_thread() -> threadpool_limits:
    """BLAS and OpenMP held to one thread while a surrogate fits or predicts.

    The matrices are small (hundreds to a few thousand rows) and searches run many fits; on a
    machine shared with other work the thread pools' waits cost far more than the threads gain
    (measured here: a 40-row GP fit 0.05 s on one thread, 1.0 s on two busy cores).
    """
    return threadpool_limits(1)


class ColumnModel(Protocol):
    """One metric's model on standardised targets (what `Surrogate` fits per column)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> None: ...

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


class EnsembleColumn:
    """An sklearn ensemble whose members' spread is the uncertainty (forests, bagging)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.estimator.fit(X, y)

    def _members(self, X: np.ndarray) -> np.ndarray:
        """(members, rows) predictions of every member of the ensemble."""
        est = self.estimator
        features = getattr(est, "estimators_features_", None)  # bagging may subsample features
        if features is None:
            return np.stack([m.predict(X) for m in est.estimators_])
        return np.stack([m.predict(X[:, f]) for m, f in zip(est.estimators_, features)])

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        members = self._members(X)
        return members.mean(axis=0), members.std(axis=0)

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        est = self.estimator
        i = int(rng.integers(len(est.estimators_)))
        features = getattr(est, "estimators_features_", None)
        return est.estimators_[i].predict(X if features is None else X[:, features[i]])


class GPColumn:
    """A Gaussian process on standardised features; its posterior gives std and samples."""

    def __init__(self, seed: int, n_restarts: int = 2, nu: float = 2.5) -> None:
        self.seed = seed
        self.n_restarts = n_restarts
        self.nu = nu

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.scaler = StandardScaler().fit(X)
        # Length scales in units of sqrt(features), the typical distance between standardised
        # rows: from 1.0 and down to 1e-2 in 80 one-hot features, the fit often settled on a
        # length scale shorter than any two rows' distance (every prediction the mean, nothing
        # ranked); measured on the NK landscape, 9 of 40 fits
        typical = math.sqrt(X.shape[1])
        matern = Matern(length_scale=typical, length_scale_bounds=(0.1 * typical, 100 * typical), nu=self.nu)
        kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * matern
                  + WhiteKernel(noise_level=0.1, noise_level_bounds=(1e-6, 1.0)))
        # normalize_y off: `Surrogate` has standardised the targets already
        self.gp = GaussianProcessRegressor(kernel, n_restarts_optimizer=self.n_restarts, random_state=self.seed)
        with warnings.catch_warnings():  # a hyperparameter at its bound is an answer, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(self.scaler.transform(X), y)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.gp.predict(self.scaler.transform(X), return_std=True)
        return mean, std

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        Xs = self.scaler.transform(X)
        if len(Xs) <= GP_JOINT_SAMPLE_ROWS:
            return self.gp.sample_y(Xs, random_state=int(rng.integers(2**31 - 1)))[:, 0]
        mean, std = self.gp.predict(Xs, return_std=True)
        return mean + std * rng.standard_normal(len(Xs))


@dataclass(frozen=True)
class SurrogateModel:
    """A row of `SURROGATE_MODELS`: what the model is and how to build one column's model."""

    description: str
    build: Callable[[int, Mapping[str, Any]], ColumnModel]  # (seed, options) -> column model


def _forest(cls: type, **defaults: Any) -> Callable[[int, Mapping[str, Any]], ColumnModel]:
    def build(seed: int, options: Mapping[str, Any]) -> ColumnModel:
        # n_jobs=1: searches run many fits side by side; threads here would only contend
        return EnsembleColumn(cls(**{"n_estimators": 100, "n_jobs": 1, "random_state": seed, **defaults, **options}))
    return build


def _gp(seed: int, options: Mapping[str, Any]) -> ColumnModel:
    return GPColumn(seed, **options)


def _boosted(seed: int, options: Mapping[str, Any]) -> ColumnModel:
    options = dict(options)
    members = int(options.pop("n_estimators", 10))
    # min_samples_leaf 3 (not 20) so that a few dozen rows still split; no early stopping, so
    # small data is not cut further into a validation split
    booster = HistGradientBoostingRegressor(**{"max_iter": 100, "learning_rate": 0.1, "min_samples_leaf": 3,
                                               "early_stopping": False, "random_state": seed, **options})
    return EnsembleColumn(BaggingRegressor(booster, n_estimators=members, random_state=seed, n_jobs=1))


SURROGATE_MODELS: dict[str, SurrogateModel] = {
    "random_forest": SurrogateModel("RandomForestRegressor, std across trees", _forest(RandomForestRegressor)),
    # bootstrap on: on binary (one-hot) features every random threshold cuts the same way, so
    # extra trees fitted on all rows are all the same tree and their spread is zero
    "extra_trees": SurrogateModel("ExtraTreesRegressor on bootstrap samples, std across trees",
                                  _forest(ExtraTreesRegressor, bootstrap=True)),
    "gp": SurrogateModel("GaussianProcessRegressor, Matern 5/2 + white noise, standardised features", _gp),
    "boosted_trees": SurrogateModel("a bag of 10 HistGradientBoostingRegressors, std across the bag", _boosted),
}
#: the default model, chosen by held-out Kendall tau first and fit time second
#: (benchmarks/surrogate_choice.py, 10 seeds, 25-300 training designs): the random forest
#: ranked best or tied best on LIV-Bench at every size (0.62 at 25 designs, 0.72 at 300); the
#: bagged boosting tied it at 300 but fitted 7-10x slower; extra trees and the GP ranked
#: LIV-Bench worse (the GP by 0.03-0.04, intervals apart from 50 designs on). On the NK
#: landscape all four were within noise up to 100 designs; the GP led at 300 (0.23 against
#: 0.21, intervals overlapping).
DEFAULT_SURROGATE = "random_forest"


class ConstantColumn:
    """A column with one finite value or a constant one: that value, with the prior's std."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.std = max(abs(value), 1.0)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(len(X), self.value), np.full(len(X), self.std)

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.value + self.std * rng.standard_normal(len(X))


@dataclass(frozen=True)
class _FittedColumn:
    model: ColumnModel | ConstantColumn
    mean: float  # the standardisation of this column's targets
    scale: float
    floor: float  # least std, in original units


class Surrogate(RegressorMixin, BaseEstimator):
    """Predicts each column of `y` from features, with a std; one model per column.

    Arguments:
        model: a name in `SURROGATE_MODELS` (default `DEFAULT_SURROGATE`).
        seed: every random choice of the models (their `random_state`) comes from it.
        std_floor: least std, in units of each column's training standard deviation.
        options: keyword arguments for the model (e.g. `{"n_estimators": 200}`).
    """

    def __init__(self, model: str = DEFAULT_SURROGATE, seed: int = 0, std_floor: float = DEFAULT_STD_FLOOR,
                 options: Mapping[str, Any] | None = None) -> None:
        self.model = model
        self.seed = seed
        self.std_floor = std_floor
        self.options = options

    def fit(self, X: Any, y: Any) -> "Surrogate":
        with one_thread():
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> "Surrogate":
        if self.model not in SURROGATE_MODELS:
            raise ValueError(f"model={self.model!r} is not one of {sorted(SURROGATE_MODELS)}")
        if not self.std_floor >= 0:
            raise ValueError(f"std_floor={self.std_floor!r} must be >= 0")
        X = self._check_X(X)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim not in (1, 2) or len(y) != len(X):
            raise ValueError(f"y of shape {y.shape} does not match X of shape {X.shape} (rows, or rows x metrics)")
        self.n_features_in_ = X.shape[1]
        self.single_output_ = y.ndim == 1
        Y = y.reshape(len(y), -1)
        spec = SURROGATE_MODELS[self.model]
        self.columns_: list[_FittedColumn] = []
        for j in range(Y.shape[1]):
            keep = np.isfinite(Y[:, j])
            if not keep.any():
                raise ValueError(f"target column {j} has no finite value to fit")
            yj = Y[keep, j]
            mean, scale = float(yj.mean()), float(yj.std())
            if len(yj) < 2 or scale <= 1e-12 * max(abs(mean), 1.0):
                constant = ConstantColumn(mean)
                self.columns_.append(_FittedColumn(constant, 0.0, 1.0, self.std_floor * constant.std))
                continue
            column_seed = int(np.random.SeedSequence([self.seed, j]).generate_state(1)[0] % (2**31 - 1))
            column = spec.build(column_seed, dict(self.options or {}))
            column.fit(X[keep], (yj - mean) / scale)
            self.columns_.append(_FittedColumn(column, mean, scale, self.std_floor * scale))
        return self

    def _check_X(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"X of shape {X.shape} must be a non-empty (rows, features) array")
        if not np.isfinite(X).all():
            raise ValueError("X holds a NaN or infinite feature")
        if hasattr(self, "n_features_in_") and X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features; the surrogate was fitted on {self.n_features_in_}")
        return X

    def _shape(self, columns: list[np.ndarray]) -> np.ndarray:
        out = np.stack(columns, axis=1)
        return out[:, 0] if self.single_output_ else out

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Mean prediction per row (and metric), with the std per row when `return_std`."""
        X = self._check_X(X)
        means, stds = [], []
        for c in self.columns_:
            with one_thread():
                mean, std = c.model.predict(X)
            means.append(c.mean + c.scale * mean)
            stds.append(np.maximum(c.scale * std, c.floor))
        return (self._shape(means), self._shape(stds)) if return_std else self._shape(means)

    def sample(self, X: Any, rng: np.random.Generator) -> np.ndarray:
        """One plausible function value per row (and metric), drawn with `rng`: a random
        member's prediction for the ensembles, a posterior sample for the GP (Thompson)."""
        X = self._check_X(X)
        with one_thread():
            return self._shape([c.mean + c.scale * c.model.sample(X, rng) for c in self.columns_])


def make_surrogate(name: str = DEFAULT_SURROGATE, seed: int = 0, *, std_floor: float = DEFAULT_STD_FLOOR,
                   **options: Any) -> Surrogate:
    """An unfitted `Surrogate` of model `name`; `options` go to the model."""
    if name not in SURROGATE_MODELS:
        raise ValueError(f"surrogate model {name!r} is not one of {sorted(SURROGATE_MODELS)}")
    return Surrogate(model=name, seed=seed, std_floor=std_floor, options=options or None)

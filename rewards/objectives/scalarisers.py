"""Scalarisers, which turn (utilities, metrics) into one reward, and the hard constraints they honour."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from livgym.known_names import check_known
from livgym.rewards.config_types import check_types


@dataclass(frozen=True)
class HardConstraints:
    """Budgets a design must meet; each `max_<metric>` / `min_<metric>` bounds that metric.

    None means unconstrained. A NaN metric violates any bound on it; a metric a bound needs but
    the metrics lack is an error (a typo should not pass as "feasible").
    """

    max_params: float | None = None
    max_cache_bytes: float | None = None
    max_flops: float | None = None  # FLOPs per token
    max_latency: float | None = None
    min_quality: float | None = None

    def bounds(self) -> list[tuple[str, str, float]]:
        """(field name, metric, bound) for every bound that is set."""
        out = []
        for f in fields(self):
            bound = getattr(self, f.name)
            if bound is not None:
                out.append((f.name, f.name.split("_", 1)[1], float(bound)))
        return out

    def violations(self, metrics: Mapping[str, float]) -> list[str]:
        """One message per violated bound, naming the metric, its value and the bound."""
        found = []
        for name, metric, bound in self.bounds():
            if metric not in metrics:
                raise ValueError(f"constraint {name}={bound:g} needs metric {metric!r}, which is missing; "
                                 f"metrics present: {sorted(metrics)}")
            value = float(metrics[metric])
            within = value <= bound if name.startswith("max_") else value >= bound
            if not within:  # also true for NaN
                relation = ">" if name.startswith("max_") else "<"
                found.append(f"{metric}={value:g} {relation} {name}={bound:g}")
        return found

    def satisfied(self, metrics: Mapping[str, float]) -> bool:
        return not self.violations(metrics)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HardConstraints:
        """From config (`{"max_cache_bytes": 1e6}`); an unknown key or a bound that is not a
        number is an error naming it."""
        if not isinstance(data, Mapping):
            raise ValueError(f"constraints={data!r} must be a mapping of bounds, e.g. {{max_params: 1.0e+6}}")
        check_known(data, {f.name for f in fields(cls)}, what="constraint")
        check_types(cls, data, "constraints: ")
        return cls(**data)


@dataclass(frozen=True, kw_only=True)
class Scalariser(ABC):
    """(utilities, metrics) -> one reward, higher is better.

    With `constraints`, a design that violates them scores `penalty` instead. A NaN utility or
    metric gives NaN: what a failed evaluation is worth is the caller's decision.
    """

    name: ClassVar[str]
    constraints: HardConstraints | None = None
    penalty: float = -1.0

    def __call__(self, utilities: np.ndarray, metrics: Mapping[str, float]) -> float:
        if self.constraints is not None and not self.constraints.satisfied(metrics):
            return float(self.penalty)
        return float(self._score(np.asarray(utilities, dtype=np.float64), metrics))

    def bounds(self, n_objectives: int) -> tuple[float, float]:
        """(lowest, highest) reward over utilities in [0, 1] (the penalty included when there are
        constraints): what an env declares as its reward range."""
        low, high = self._bounds(n_objectives)
        if self.constraints is not None:
            low, high = min(low, self.penalty), max(high, self.penalty)
        return float(low), float(high)

    @abstractmethod
    def _score(self, utilities: np.ndarray, metrics: Mapping[str, float]) -> float:
        """The reward of a feasible design."""

    @abstractmethod
    def _bounds(self, n_objectives: int) -> tuple[float, float]:
        """The range of `_score` over utilities in [0, 1]."""


def _weights(owner: str, weights: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(w) for w in weights)
    if not values or any(not math.isfinite(w) or w < 0 for w in values) or not any(values):
        raise ValueError(f"{owner}: weights={list(weights)} must be finite, non-negative and not all zero")
    return values


def _check_length(owner: str, what: str, expected: int, utilities: np.ndarray) -> None:
    if utilities.shape != (expected,):
        raise ValueError(f"{owner}: {expected} {what} for utilities of shape {utilities.shape}")


@dataclass(frozen=True, kw_only=True)
class WeightedSum(Scalariser):
    """sum_i weights[i] * utilities[i]: the linear scalarisation (MO-Gymnasium's LinearReward)."""

    name: ClassVar[str] = "weighted_sum"
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _weights(self.name, self.weights))

    def _score(self, utilities: np.ndarray, metrics: Mapping[str, float]) -> float:
        _check_length(self.name, "weights", len(self.weights), utilities)
        return float(np.dot(self.weights, utilities))

    def _bounds(self, n_objectives: int) -> tuple[float, float]:
        _check_length(self.name, "weights", len(self.weights), np.zeros(n_objectives))
        return 0.0, float(sum(self.weights))


@dataclass(frozen=True, kw_only=True)
class Chebyshev(Scalariser):
    """Weighted Tchebycheff: -max_i weights[i] * (utopia[i] - utilities[i]); higher is better.

    Unlike a weighted sum it can reach designs on concave parts of a Pareto front. `utopia`
    defaults to all ones (every objective at its ideal). The difference is signed, not absolute,
    so a design that beats the utopia in one objective is never penalised for it.
    """

    name: ClassVar[str] = "chebyshev"
    weights: tuple[float, ...]
    utopia: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _weights(self.name, self.weights))
        utopia = (1.0,) * len(self.weights) if self.utopia is None else tuple(float(u) for u in self.utopia)
        if len(utopia) != len(self.weights):
            raise ValueError(f"{self.name}: utopia={list(utopia)} needs {len(self.weights)} values, one per weight")
        object.__setattr__(self, "utopia", utopia)

    def _score(self, utilities: np.ndarray, metrics: Mapping[str, float]) -> float:
        _check_length(self.name, "weights", len(self.weights), utilities)
        distance = np.asarray(self.weights) * (np.asarray(self.utopia) - utilities)
        return -float(np.max(distance))

    def _bounds(self, n_objectives: int) -> tuple[float, float]:
        # Each weighted distance falls as its utility rises, so the extremes are at all-zero and
        # all-one utilities.
        _check_length(self.name, "weights", len(self.weights), np.zeros(n_objectives))
        weights, utopia = np.asarray(self.weights), np.asarray(self.utopia)
        return -float(np.max(weights * utopia)), -float(np.max(weights * (utopia - 1.0)))


@dataclass(frozen=True, kw_only=True)
class MnasNet(Scalariser):
    """MnasNet's reward on raw metrics: quality * (cost / target) ** w.

    w = alpha when cost <= target, else beta. With alpha == beta the target only multiplies every
    reward by the same constant target ** -alpha, so it never changes which design is better: the
    paper's soft form (alpha = beta = -0.07) trades quality for cost at a fixed rate whatever the
    target. Only an asymmetric pair follows the target: alpha = 0, beta = -1 leaves designs under
    the target unpenalised and divides quality by the overshoot above it (a hard-ish constraint).
    Cost must be positive (zero is allowed only with a zero exponent); utilities are unused.
    """

    name: ClassVar[str] = "mnasnet"
    cost_metric: str
    target: float
    alpha: float
    beta: float
    quality_metric: str = "quality"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.target) and self.target > 0):
            raise ValueError(f"{self.name}: target={self.target} must be positive and finite")

    def _score(self, utilities: np.ndarray, metrics: Mapping[str, float]) -> float:
        quality, cost = (_metric(self.name, metrics, key) for key in (self.quality_metric, self.cost_metric))
        exponent = self.alpha if cost <= self.target else self.beta
        if cost < 0 or (cost == 0 and exponent < 0):
            raise ValueError(f"{self.name}: {self.cost_metric}={cost:g} must be positive "
                             f"(the exponent is {exponent:g})")
        return quality * (cost / self.target) ** exponent

    def _bounds(self, n_objectives: int) -> tuple[float, float]:
        # Raw quality times a cost ratio: neither is bounded, so neither is the reward.
        return -math.inf, math.inf


def _metric(owner: str, metrics: Mapping[str, float], key: str) -> float:
    if key not in metrics:
        raise ValueError(f"{owner} needs metric {key!r}, which is missing; metrics present: {sorted(metrics)}")
    return float(metrics[key])


SCALARISERS: dict[str, type[Scalariser]] = {
    WeightedSum.name: WeightedSum,
    Chebyshev.name: Chebyshev,
    MnasNet.name: MnasNet,
}


def make_scalariser(name: str, **kwargs: Any) -> Scalariser:
    """The scalariser registered as `name`; `constraints` may be a dict of `HardConstraints` fields.

    >>> make_scalariser("weighted_sum", weights=[0.5, 0.5])
    WeightedSum(constraints=None, penalty=-1.0, weights=(0.5, 0.5))
    """
    if name not in SCALARISERS:
        raise ValueError(f"unknown scalariser {name!r}; known: {sorted(SCALARISERS)}")
    cls = SCALARISERS[name]
    check_known(kwargs, {f.name for f in fields(cls)}, f"scalariser {name!r}", "argument")
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(kwargs))
    if missing:
        raise ValueError(f"scalariser {name!r}: missing argument(s) {missing}")
    if isinstance(kwargs.get("constraints"), Mapping):
        kwargs["constraints"] = HardConstraints.from_dict(kwargs["constraints"])
    check_types(cls, kwargs, f"scalariser {name!r}: ")
    return cls(**kwargs)

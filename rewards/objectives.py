"""Named, oriented objectives, the scalarisers that turn them into one reward, and hard constraints.

An `Objective` maps a raw metric (quality, parameters, cache bytes, FLOPs per token, latency)
to a *utility*: 1 at its ideal value, 0 at its nadir, higher is better whatever the metric's
direction. Sizes and times span orders of magnitude, so they are normalised on a log10 scale.
Utilities are clipped to [0, 1]: a design better than the ideal scores as the ideal, one worse
than the nadir as the nadir. The clip is what lets every consumer rely on the unit range: a
weighted sum stays within the sum of its weights (no objective swamps the others by
extrapolating), a hypervolume above the all-nadir point is a fraction of the unit box, and a
reward range can be declared. Rankings beyond the reference points stay visible in the raw
metrics, which results, `info["objectives"]` and archives keep alongside the utilities.

Objectives are named from `DEFAULT_OBJECTIVES` or declared against any metric a search space
reports (`declare_objectives`: `{metric: accuracy, direction: max}`, with optional scale and
reference points); a space that knows its metrics' values (a table) gives the reference points
nobody declared, and declared ones are checked against those values when the env is built.

An `ObjectiveSet` turns a result's metrics into a utility vector (for the Pareto archive and a
multi-objective env's vector reward); a scalariser turns (utilities, metrics) into one float
reward. Scalarisers are small frozen dataclasses in the `SCALARISERS` registry; adding one is
one class and one registry line. `HardConstraints` names the budgets a design must meet; the env
masks edits with it, and any scalariser given `constraints` returns its `penalty` when they fail.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import Any, ClassVar, Literal, Mapping, Sequence

import numpy as np

from livgym.rewards.config_types import check_types

Direction = Literal["max", "min"]
Scale = Literal["linear", "log"]
DIRECTIONS: tuple[str, ...] = ("max", "min")
SCALES: tuple[str, ...] = ("linear", "log")
#: the objectives of a search or env that names none: quality against STAR's two efficiency costs
DEFAULT_OBJECTIVE_NAMES: tuple[str, ...] = ("quality", "params", "cache_bytes")


@dataclass(frozen=True)
class Objective:
    """One metric with its direction and the reference points that map it to a utility.

    `ideal` maps to utility 1 and `nadir` to 0 (on a log10 scale when `scale="log"`); values
    beyond them are clipped to 1 and 0. `metric` is the key read from a result's metrics
    (default: `name`). `floor` (log scale only) raises smaller raw values to it, so that a zero
    cost, such as a stateless model's 0 cache bytes, still gets a finite utility; without a floor a
    non-positive value on a log scale is an error.
    """

    name: str
    direction: Direction
    scale: Scale
    ideal: float
    nadir: float
    metric: str | None = None
    floor: float | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"objective {self.name!r}: direction={self.direction!r} is not one of {DIRECTIONS}")
        if self.scale not in SCALES:
            raise ValueError(f"objective {self.name!r}: scale={self.scale!r} is not one of {SCALES}")
        if not (math.isfinite(self.ideal) and math.isfinite(self.nadir)):
            raise ValueError(f"objective {self.name!r}: ideal={self.ideal} and nadir={self.nadir} must be finite")
        better = self.ideal > self.nadir if self.direction == "max" else self.ideal < self.nadir
        if not better:
            relation = ">" if self.direction == "max" else "<"
            raise ValueError(f"objective {self.name!r} ({self.direction}): needs ideal {relation} nadir, "
                             f"got ideal={self.ideal}, nadir={self.nadir}")
        positives = (self.ideal, self.nadir) if self.floor is None else (self.ideal, self.nadir, self.floor)
        if self.scale == "log" and min(positives) <= 0:
            raise ValueError(f"objective {self.name!r} (log scale): ideal={self.ideal}, nadir={self.nadir} "
                             f"and floor={self.floor} must be positive")
        if self.scale == "linear" and self.floor is not None:
            raise ValueError(f"objective {self.name!r}: floor={self.floor} only applies to a log scale")

    @property
    def key(self) -> str:
        """The metric this objective reads."""
        return self.metric or self.name

    def raw(self, metrics: Mapping[str, float]) -> float:
        """This objective's raw metric value; a clear error when the metric is missing."""
        if self.key not in metrics:
            raise ValueError(f"objective {self.name!r} needs metric {self.key!r}, which is missing; "
                             f"metrics present: {sorted(metrics)}")
        return float(metrics[self.key])

    def utility(self, value: float) -> float:
        """1 at `ideal`, 0 at `nadir`, linear in between (on this objective's scale) and clipped to
        [0, 1] beyond them; NaN or an infinite value (no measurement a design can have) gives NaN."""
        value = float(value)
        if not math.isfinite(value):
            return math.nan
        if self.scale == "linear":
            position = (value - self.nadir) / (self.ideal - self.nadir)
        else:
            if self.floor is not None:
                value = max(value, self.floor)
            if value <= 0:
                raise ValueError(f"objective {self.name!r} (log scale): value {value} is not positive; "
                                 "give the objective a floor to accept zero")
            low = math.log10(self.nadir)
            position = (math.log10(value) - low) / (math.log10(self.ideal) - low)
        return min(max(position, 0.0), 1.0)


# Reference points for proxy-scale models (a few thousand to a few million parameters).
DEFAULT_OBJECTIVES: dict[str, Objective] = {
    "quality": Objective("quality", "max", "linear", ideal=1.0, nadir=0.0),
    "params": Objective("params", "min", "log", ideal=1e4, nadir=1e7, floor=1.0),
    "cache_bytes": Objective("cache_bytes", "min", "log", ideal=1e3, nadir=1e9, floor=1.0),
    # FLOPs per token (the efficiency evaluator's "flops": `Efficiency.flops_per_token`).
    "flops": Objective("flops", "min", "log", ideal=1e4, nadir=1e9, floor=1.0),
    # Seconds per generated token.
    "latency": Objective("latency", "min", "log", ideal=1e-5, nadir=1e-1, floor=1e-9),
}


@dataclass(frozen=True)
class ObjectiveSet:
    """An ordered tuple of objectives with unique names: metrics in, utility vector out."""

    objectives: tuple[Objective, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", tuple(self.objectives))
        if not self.objectives:
            raise ValueError("an ObjectiveSet needs at least one objective")
        names = [objective.name for objective in self.objectives]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"objective names must be unique; repeated: {duplicates}")

    @classmethod
    def from_names(cls, names: Sequence[str] = DEFAULT_OBJECTIVE_NAMES,
                   **overrides: Mapping[str, Any]) -> ObjectiveSet:
        """Default objectives by name, with reference points overridden per name.

        >>> ObjectiveSet.from_names(["quality", "params"], params={"nadir": 1e8}).names
        ('quality', 'params')
        """
        if isinstance(names, str) or not isinstance(names, Sequence) \
                or not all(isinstance(name, str) for name in names):
            raise ValueError(f"objectives={names!r} must be a list of objective names; "
                             f"known: {sorted(DEFAULT_OBJECTIVES)}")
        unknown = sorted(set(names) - set(DEFAULT_OBJECTIVES))
        if unknown:
            raise ValueError(f"unknown objective(s) {unknown}; known: {sorted(DEFAULT_OBJECTIVES)}")
        stray = sorted(set(overrides) - set(names))
        if stray:
            raise ValueError(f"overrides for objective(s) {stray} that are not in names={list(names)}")
        return cls(tuple(_override(DEFAULT_OBJECTIVES[name], overrides.get(name, {})) for name in names))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(objective.name for objective in self.objectives)

    def __len__(self) -> int:
        return len(self.objectives)

    def raw(self, metrics: Mapping[str, float]) -> np.ndarray:
        """The raw metric values, in objective order (float64)."""
        return np.array([objective.raw(metrics) for objective in self.objectives], dtype=np.float64)

    def vector(self, metrics: Mapping[str, float]) -> np.ndarray:
        """The utilities (higher is better), in objective order (float64)."""
        return np.array([objective.utility(objective.raw(metrics)) for objective in self.objectives],
                        dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"objectives": [asdict(objective) for objective in self.objectives]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectiveSet:
        return cls(tuple(Objective(**item) for item in data["objectives"]))


_NUMBER_FIELDS = {"ideal": False, "nadir": False, "floor": True}  # field -> may be None
_TEXT_FIELDS = {"direction": False, "scale": False, "metric": True}


def _override(objective: Objective, changes: Mapping[str, Any]) -> Objective:
    if not isinstance(changes, Mapping):
        raise ValueError(f"objective {objective.name!r}: overrides={changes!r} must be a mapping of fields")
    known = {f.name for f in fields(Objective)} - {"name"}
    unknown = sorted(set(changes) - known, key=str)
    if unknown:
        raise ValueError(f"objective {objective.name!r}: unknown field(s) {unknown}; known: {sorted(known)}")
    _check_fields(objective.name, changes)
    changes = dict(changes)
    if changes.get("scale") == "linear" and "floor" not in changes:
        changes["floor"] = None  # a floor belongs to a log scale: a linear objective drops its default's
    return replace(objective, **changes)


def _check_fields(name: str, changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        text = isinstance(value, str)
        optional = value is None and (_NUMBER_FIELDS | _TEXT_FIELDS)[key]
        if not optional and not (number if key in _NUMBER_FIELDS else text):
            kind = "a number" if key in _NUMBER_FIELDS else "text"
            raise ValueError(f"objective {name!r}: {key}={value!r} must be {kind}")


# -- objectives declared against a space's own metrics -----------------------------------------

#: the fields an objective declaration may give (`declare_objectives`)
DECLARATION_FIELDS: tuple[str, ...] = ("name", "metric", "direction", "scale", "ideal", "nadir", "floor")
#: an objective as a config gives it: a `DEFAULT_OBJECTIVES` name, or a declaration mapping
ObjectiveItem = str | Mapping[str, Any]


def declare_objectives(items: Sequence[ObjectiveItem] = DEFAULT_OBJECTIVE_NAMES,
                       overrides: Mapping[str, Mapping[str, Any]] | None = None,
                       values: Mapping[str, Sequence[float]] | None = None) -> ObjectiveSet:
    """The objectives a config declares, checked against the metric values a space knows.

    Each item is a `DEFAULT_OBJECTIVES` name (`params`), or a mapping with `metric` (the
    space's metric), `direction` (max / min), and optionally `name` (default: the metric),
    `scale` (linear, the default, or log), `ideal`, `nadir` and `floor`; a mapping named after a
    default objective starts from it (`{name: quality, metric: cifar10_test}`). `overrides`
    ({name: {field: value}}) change fields of any of them.

    `values` ({metric: its value over every design}, a table's columns; None when the space
    cannot say) makes the objectives fit the space when the env is built, not at its first step:
    - an objective whose ideal and nadir nobody gave takes them from the values (best value
      utility 1, worst 0; on a log scale a non-positive value is floored at the smallest
      positive one, as LIV-Bench does), and one of the two given takes the other;
    - a metric the values lack, a value beyond given reference points (a percentage against a
      0..1 range, milliseconds against a range in seconds), or a non-positive value on a log
      scale without a floor is a ValueError naming the objective and the metric.
    Without `values`, a declared objective must give its ideal and nadir.
    """
    if isinstance(items, (str, Mapping)) or not isinstance(items, Sequence):
        raise ValueError(f"objectives={items!r} must be a list of objective names or declarations "
                         f"({{metric: ..., direction: max}}); known names: {sorted(DEFAULT_OBJECTIVES)}")
    overrides = {} if overrides is None else overrides
    if not isinstance(overrides, Mapping) or not all(isinstance(v, Mapping) for v in overrides.values()):
        raise ValueError(f"objective_overrides={overrides!r} must map objective names to {{field: value}} mappings")
    declared = [_declaration(item) for item in items]
    names = [name for name, _ in declared]
    stray = sorted(set(overrides) - set(names), key=str)
    if stray:
        raise ValueError(f"overrides for objective(s) {stray} that are not in objectives={names}")
    objectives = []
    for name, fields_ in declared:
        given = {**fields_, **overrides.get(name, {})}
        objectives.append(_objective(name, given, values))
    return ObjectiveSet(tuple(objectives))


def _declaration(item: Any) -> tuple[str, dict[str, Any]]:
    """(name, declared fields) of one config item."""
    if isinstance(item, str):
        if item not in DEFAULT_OBJECTIVES:
            raise ValueError(f"unknown objective(s) [{item!r}]; known: {sorted(DEFAULT_OBJECTIVES)}, or declare "
                             f"one against a metric of the space: {{metric: {item}, direction: max}}")
        return item, {}
    if not isinstance(item, Mapping):
        raise ValueError(f"objective {item!r} must be a name ({sorted(DEFAULT_OBJECTIVES)}) or a declaration "
                         "{metric: ..., direction: max|min}")
    unknown = sorted(set(item) - set(DECLARATION_FIELDS), key=str)
    if unknown:
        raise ValueError(f"objective {dict(item)!r}: unknown field(s) {unknown}; known: {list(DECLARATION_FIELDS)}")
    name = item.get("name", item.get("metric"))
    if not isinstance(name, str) or not name:
        raise ValueError(f"objective {dict(item)!r}: give its metric (the space's metric it reads), "
                         "e.g. {metric: accuracy, direction: max}")
    fields_ = {k: v for k, v in item.items() if k != "name"}
    _check_fields(name, fields_)
    if name not in DEFAULT_OBJECTIVES and "direction" not in fields_:
        raise ValueError(f"objective {name!r}: give its direction (max or min)")
    return name, fields_


def _objective(name: str, given: Mapping[str, Any], values: Mapping[str, Sequence[float]] | None) -> Objective:
    """One objective from its declared fields, its reference points filled from `values`."""
    _check_fields(name, given)
    base = DEFAULT_OBJECTIVES.get(name)
    metric = given.get("metric") or name
    direction = given.get("direction", base.direction if base is not None else None)
    scale = given.get("scale", base.scale if base is not None else "linear")
    floor = given["floor"] if "floor" in given else (base.floor if base is not None and scale == base.scale else None)
    if direction not in DIRECTIONS:
        raise ValueError(f"objective {name!r}: direction={direction!r} is not one of {DIRECTIONS}")
    if scale not in SCALES:
        raise ValueError(f"objective {name!r}: scale={scale!r} is not one of {SCALES}")
    ideal, nadir = given.get("ideal"), given.get("nadir")
    if values is None:
        if ideal is None or nadir is None:
            if base is None:
                raise ValueError(f"objective {name!r}: give its ideal and nadir (this space cannot list its "
                                 f"metric values to take them from)")
            ideal = base.ideal if ideal is None else ideal
            nadir = base.nadir if nadir is None else nadir
        return Objective(name, direction, scale, float(ideal), float(nadir), metric, floor)
    if metric not in values:
        raise ValueError(f"objective {name!r} needs metric {metric!r}, which the space does not have; its "
                         f"metrics: {sorted(values)} (declare objectives against them: {{metric: ..., "
                         "direction: max})")
    column = np.asarray(values[metric], dtype=np.float64)
    finite = column[np.isfinite(column)]
    if not len(finite):
        raise ValueError(f"objective {name!r}: metric {metric!r} has no finite value in the space")
    declared = ideal is not None or nadir is not None
    if scale == "log" and (floor is None or (finite.min() <= 0 and not declared and "floor" not in given)):
        # floored at the smallest positive value: a zero ties with it, and so does any value below
        # it (a model's optimistic guess), rather than having no place on the log scale
        positive = finite[finite > 0]
        if not len(positive):
            raise ValueError(f"objective {name!r} (log scale): metric {metric!r} has no positive value")
        floor = float(positive.min())
    placed = np.maximum(finite, floor) if scale == "log" and floor is not None else finite
    best, worst = (placed.max(), placed.min()) if direction == "max" else (placed.min(), placed.max())
    if best == worst and not declared and base is not None:  # one value: nothing to range over
        ideal, nadir, floor = base.ideal, base.nadir, base.floor if scale == base.scale else floor
        declared = True  # and the default's reference points must hold it
    ideal = float(best) if ideal is None else float(ideal)
    nadir = float(worst) if nadir is None else float(nadir)
    low, high = min(ideal, nadir), max(ideal, nadir)
    if declared and (placed.min() < low or placed.max() > high):
        raise ValueError(f"objective {name!r}: metric {metric!r} ranges {finite.min():g}..{finite.max():g} over the "
                         f"space, beyond its ideal={ideal:g} and nadir={nadir:g}; declare them in the metric's own "
                         "units, or leave both out to take them from the space")
    if ideal == nadir:
        raise ValueError(f"objective {name!r}: every design has {metric}={ideal:g} as far as the space says, so it "
                         "cannot rank designs; drop it or give ideal and nadir")
    return Objective(name, direction, scale, float(ideal), float(nadir), metric, floor)


# -- hard constraints -------------------------------------------------------------------------


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
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known, key=str)
        if unknown:
            raise ValueError(f"unknown constraint(s) {unknown}; known: {sorted(known)}")
        check_types(cls, data, "constraints: ")
        return cls(**data)


# -- scalarisers ------------------------------------------------------------------------------


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
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise ValueError(f"scalariser {name!r}: unknown argument(s) {unknown}; known: {sorted(known)}")
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(kwargs))
    if missing:
        raise ValueError(f"scalariser {name!r}: missing argument(s) {missing}")
    if isinstance(kwargs.get("constraints"), Mapping):
        kwargs["constraints"] = HardConstraints.from_dict(kwargs["constraints"])
    check_types(cls, kwargs, f"scalariser {name!r}: ")
    return cls(**kwargs)


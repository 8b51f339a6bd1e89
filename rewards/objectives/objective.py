"""`Objective`: one metric, oriented and normalised to a utility; `ObjectiveSet`: several, as a vector."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from livgym.known_names import check_known

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
        check_known(names, set(DEFAULT_OBJECTIVES), what="objective")
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
    check_known(changes, {f.name for f in fields(Objective)} - {"name"}, f"objective {objective.name!r}", "field")
    check_fields(objective.name, changes)
    changes = dict(changes)
    if changes.get("scale") == "linear" and "floor" not in changes:
        changes["floor"] = None  # a floor belongs to a log scale: a linear objective drops its default's
    return replace(objective, **changes)


def check_fields(name: str, changes: Mapping[str, Any]) -> None:
    """Each given field of objective `name` has its kind (a number or text, None where optional)."""
    for key, value in changes.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        text = isinstance(value, str)
        optional = value is None and (_NUMBER_FIELDS | _TEXT_FIELDS)[key]
        if not optional and not (number if key in _NUMBER_FIELDS else text):
            kind = "a number" if key in _NUMBER_FIELDS else "text"
            raise ValueError(f"objective {name!r}: {key}={value!r} must be {kind}")

"""Objectives declared against a space's own metrics, their reference points filled from its values."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from livgym.known_names import check_known
from livgym.rewards.objectives.objective import (
    DEFAULT_OBJECTIVE_NAMES,
    DEFAULT_OBJECTIVES,
    DIRECTIONS,
    SCALES,
    Objective,
    ObjectiveSet,
    check_fields,
)

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
    check_known(item, DECLARATION_FIELDS, f"objective {dict(item)!r}", "field")
    name = item.get("name", item.get("metric"))
    if not isinstance(name, str) or not name:
        raise ValueError(f"objective {dict(item)!r}: give its metric (the space's metric it reads), "
                         "e.g. {metric: accuracy, direction: max}")
    fields_ = {k: v for k, v in item.items() if k != "name"}
    check_fields(name, fields_)
    if name not in DEFAULT_OBJECTIVES and "direction" not in fields_:
        raise ValueError(f"objective {name!r}: give its direction (max or min)")
    return name, fields_


def _objective(name: str, given: Mapping[str, Any], values: Mapping[str, Sequence[float]] | None) -> Objective:
    """One objective from its declared fields, its reference points filled from `values`."""
    check_fields(name, given)
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

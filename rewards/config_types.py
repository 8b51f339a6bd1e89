"""Whether config values, as YAML and the command line give them, fit their annotations.

Evaluator configs, scalarisers, constraints and the design env take their settings from YAML or
`--set`, where a typo gives the wrong type (`width: abc`, `gamma: [1]`). Checked against the
annotation where the setting is taken, the value is refused by name before any work; unchecked,
it would fail later with a TypeError naming nothing, or inside an evaluation, recorded as the
design's failure.
"""

from __future__ import annotations

import collections.abc
import numbers
import types
import typing
from dataclasses import is_dataclass
from typing import Any, Mapping

_MAPPINGS = (dict, collections.abc.Mapping)
_SEQUENCES = (list, collections.abc.Sequence)


def check_types(annotated: Any, values: Mapping[str, Any], where: str = "") -> None:
    """A ValueError naming the first of `values` that does not fit `annotated`'s annotation of
    it (a dataclass's fields, or a function's parameters); names it does not annotate pass."""
    hints = typing.get_type_hints(annotated)
    for name, value in values.items():
        if name in hints and not fits(value, hints[name]):
            raise ValueError(f"{where}{name}={value!r} must be of type {type_name(hints[name])}")


def fits(value: Any, expected: Any) -> bool:
    """Whether `value` fits the annotation `expected` (an annotation this does not know: True)."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if expected is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if expected is type(None):
        return value is None
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if expected is str:
        return isinstance(value, str)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(fits(v, a) for v, a in zip(value, args))
    if origin in _MAPPINGS:
        return isinstance(value, Mapping) and (not args or all(fits(k, args[0]) and fits(v, args[1])
                                                               for k, v in value.items()))
    if origin in _SEQUENCES:
        return isinstance(value, (list, tuple)) and (not args or all(fits(v, args[0]) for v in value))
    if origin is typing.Literal:
        return value in args
    if isinstance(expected, type) and (is_dataclass(expected) or expected.__module__.startswith("livgym")):
        return isinstance(value, expected)
    return True


def type_name(expected: Any) -> str:
    """An annotation as a reader writes it (`int | None`, `tuple[float, float]`, `TrainConfig`)."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if expected is type(None):
        return "None"
    if expected is Ellipsis:
        return "..."
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(type_name(arg) for arg in args)}]"
    return getattr(expected, "__name__", str(expected))

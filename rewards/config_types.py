"""The one check that config values, as YAML and the command line give them, fit their annotations.

Evaluator configs, scalarisers, constraints, the design env and search methods' parameters take
their settings from YAML or `--set`, where a typo gives the wrong type (`width: abc`, `gamma:
[1]`, `learning_rate: 1e-3`, which YAML reads as text). Checked against the annotation where the
setting is taken, the value is refused by name before any work; unchecked, it would fail later
with a TypeError naming nothing, or inside an evaluation, recorded as the design's failure.

- `check_types`: each of a mapping's values against a dataclass's fields or a function's
  parameters, as given (an evaluator config keeps its values, and so its hash).
- `checked`: one value made its field's type (an integer given for a float becomes a float, a
  mapping a dict) and held to optional bounds: a search method's parameters.

It lives in the rewards layer, the lowest that takes typed settings; the models layer checks
only names (`livgym.known_names`).
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
_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "text", type(None): "null"}


def check_types(annotated: Any, values: Mapping[str, Any], where: str = "") -> None:
    """A ValueError naming the first of `values` that does not fit `annotated`'s annotation of
    it (a dataclass's fields, or a function's parameters); names it does not annotate pass."""
    hints = typing.get_type_hints(annotated)
    for name, value in values.items():
        if name in hints and not fits(value, hints[name]):
            raise ValueError(mismatch(f"{where}{name}", value, hints[name]))


def checked(where: str, value: Any, expected: Any, minimum: float | None = None,
            maximum: float | None = None) -> Any:
    """`value` as the annotation `expected` (an integer for a float becomes a float, a mapping a
    dict), within the inclusive bounds; else a ValueError naming `where`."""
    options = _options(expected)
    if value is None and type(None) in options:
        return None
    kind = next((option for option in options if option is not type(None) and fits(value, option)), None)
    if kind is None:
        raise ValueError(mismatch(where, value, expected))
    if kind is float:
        value = float(value)
    elif (typing.get_origin(kind) or kind) in _MAPPINGS:
        value = dict(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if minimum is not None and value < minimum:
            raise ValueError(f"{where}={value!r} must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{where}={value!r} must be at most {maximum}")
    return value


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
    if (origin or expected) in _MAPPINGS:
        return isinstance(value, Mapping) and (not args or all(fits(k, args[0]) and fits(v, args[1])
                                                               for k, v in value.items()))
    if origin in _SEQUENCES:
        return isinstance(value, (list, tuple)) and (not args or all(fits(v, args[0]) for v in value))
    if origin is typing.Literal:
        return value in args
    if isinstance(expected, type) and (is_dataclass(expected) or expected.__module__.startswith("livgym")):
        return isinstance(value, expected)
    return True


def mismatch(where: str, value: Any, expected: Any) -> str:
    """The one-line refusal of a value that does not fit: `where=value must be ...`, with advice
    for a number YAML read as text."""
    advice = ""
    if isinstance(value, str) and _is_number(value) and any(fits(1.0, o) for o in _options(expected)):
        advice = f" (YAML reads {value} as text; write it with a decimal point, e.g. 1.0e-3)"
    return f"{where}={value!r} must be {describe(expected)}{advice}"


def describe(expected: Any) -> str:
    """An annotation in words (`an integer or null`, `a mapping`, `of type tuple[float, float]`)."""
    options = _options(expected)
    if len(options) > 1:
        return " or ".join(describe(option) for option in options)
    if expected in _WORDS:
        return _WORDS[expected]
    if (typing.get_origin(expected) or expected) in _MAPPINGS:
        return "a mapping"
    if typing.get_origin(expected) is typing.Literal:
        return " or ".join(repr(arg) for arg in typing.get_args(expected))
    return f"of type {type_name(expected)}"


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


def _options(expected: Any) -> tuple[Any, ...]:
    """A union's members, or the annotation alone."""
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        return typing.get_args(expected)
    return (expected,)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

"""The one unknown-name check (`livgym.known_names`) and the one config type checker
(`livgym.rewards.config_types`): the one-line refusals every parser of user input shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from livgym.known_names import check_known
from livgym.rewards.config_types import check_types, checked, describe


def test_known_names_pass_and_unknown_ones_are_named_with_the_known_ones():
    check_known({"a": 1}, {"a", "b"}, "section")
    check_known([], (), "section")
    with pytest.raises(ValueError) as err:
        check_known({"z": 1, "y": 2, "a": 3}, {"b", "a"}, "config file x.yaml: env")
    assert str(err.value) == "config file x.yaml: env: unknown key(s) ['y', 'z']; known: ['a', 'b']"


def test_the_known_names_of_a_sequence_keep_their_order_and_where_and_what_are_the_caller_s():
    with pytest.raises(ValueError) as err:
        check_known(["bogus"], ("liv_class", "sharing"), what="gene")
    assert str(err.value) == "unknown gene(s) ['bogus']; known: ['liv_class', 'sharing']"


def test_names_of_any_type_are_named_not_a_type_error():
    with pytest.raises(ValueError, match=r"s: unknown key\(s\) \[1, 'x'\]; known: \['a'\]"):
        check_known({1: 0, "x": 0}, {"a"}, "s")


@dataclass(frozen=True)
class Settings:
    width: int = 8
    rate: float = 0.1
    label: str | None = None
    pair: tuple[float, float] = (0.0, 1.0)
    mode: Literal["a", "b"] = "a"
    extra: dict[str, Any] | None = None


@pytest.mark.parametrize("values, message", [
    ({"width": "abc"}, "cfg: width='abc' must be an integer"),
    ({"width": True}, "cfg: width=True must be an integer"),
    ({"rate": "1e-3"}, "cfg: rate='1e-3' must be a number (YAML reads 1e-3 as text; write it with a decimal "
                       "point, e.g. 1.0e-3)"),
    ({"label": 3}, "cfg: label=3 must be text or null"),
    ({"pair": [1]}, "cfg: pair=[1] must be of type tuple[float, float]"),
    ({"mode": "c"}, "cfg: mode='c' must be 'a' or 'b'"),
    ({"extra": [1]}, "cfg: extra=[1] must be a mapping or null"),
])
def test_a_value_of_the_wrong_type_is_named_with_the_type_it_must_be(values, message):
    with pytest.raises(ValueError) as err:
        check_types(Settings, values, "cfg: ")
    assert str(err.value) == message


def test_values_that_fit_pass_as_given_and_unannotated_names_pass():
    check_types(Settings, {"width": 3, "rate": 1, "label": None, "pair": [0.5, 2], "mode": "b",
                           "extra": {"k": [1]}, "not_a_field": object()})


def test_checked_converts_to_the_field_s_type_and_holds_the_bounds():
    assert checked("p.rate", 1, float) == 1.0 and isinstance(checked("p.rate", 1, float), float)
    assert checked("p.extra", {"a": 1}, dict[str, Any] | None) == {"a": 1}
    assert checked("p.label", None, str | None) is None
    assert checked("p.width", 3, int, minimum=1, maximum=3) == 3
    with pytest.raises(ValueError, match=r"^p\.width=0 must be at least 1$"):
        checked("p.width", 0, int, minimum=1)
    with pytest.raises(ValueError, match=r"^p\.rate=1\.5 must be at most 1\.0$"):
        checked("p.rate", 1.5, float | None, maximum=1.0)
    with pytest.raises(ValueError, match=r"^p\.lr='1e-3' must be a number or null \(YAML reads 1e-3 as text"):
        checked("p.lr", "1e-3", float | None)
    with pytest.raises(ValueError, match=r"^p\.on=1 must be true or false$"):
        checked("p.on", 1, bool)


def test_describe_says_an_annotation_in_words():
    assert describe(int | None) == "an integer or null"
    assert describe(dict[str, int]) == "a mapping"
    assert describe(tuple[int, ...]) == "of type tuple[int, ...]"

"""The search-method contract: what a method is given (`SearchContext`) and what it declares
(`SearchMethod`: a name, a frozen parameters dataclass and a run function).

A method's run function `run(context, params) -> None` finishes designs through `context.env`
(and, to roll out several envs at once, copies from `context.make_env`) until
`context.tracker.done`. Its parameters are a frozen dataclass whose fields are made with
`param` (a default and a one-line help each, optional bounds); `SearchMethod.parse` checks a
config's `methods.<name>` section against it, so an unknown key or a wrong type is an error
naming `methods.<name>.<key>`. Registering a `SearchMethod` (`livgym.controllers.methods.registry`)
is all it takes to make a method available to configs, `livgym search` and `livgym compare`.

```python
@dataclass(frozen=True)
class GreedyParams:
    tries: int = param(8, "random edits tried from the best design each round", minimum=1)

def greedy(context: SearchContext, params: GreedyParams) -> None:
    ...  # step context.env until context.tracker.done

register(SearchMethod("greedy", GreedyParams, greedy, "hill climbing by random edits"))
```
"""

from __future__ import annotations

import types
import typing
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from livgym.controllers.budget import SearchTracker
from livgym.controllers.methods.parallel import Submitted, accept_together, evaluate_together, submit_together
from livgym.envs.design_env import DesignEnv
from livgym.rewards.backends import EvaluationBackend

if TYPE_CHECKING:
    from stable_baselines3.common.logger import KVWriter


@dataclass(frozen=True)
class SearchContext:
    """Everything a search method may use; the budget is the tracker's."""

    env: DesignEnv  # the search's env: every final evaluation reaches `tracker`
    make_env: Callable[[], DesignEnv]  # another copy of the env, reporting to the same tracker
    tracker: SearchTracker  # budget, revisits, records and Pareto archive; run until `tracker.done`
    seed: int  # every random choice of the method flows from it
    backend: EvaluationBackend | None = None  # where designs evaluated together run (None: inline)
    out_dir: Path | None = None  # the run folder, for files of the method's own (a trained policy)
    sb3_output: KVWriter | None = None  # an SB3 logger output (W&B) for an RL method's training metrics
    # a resumed run's earlier designs (descriptions), in the order they were evaluated: model-based
    # rounds evaluate these first, so a replay that diverges (another machine's floating point)
    # still spends no real evaluation off the record while the record lasts
    replay: tuple[str, ...] = ()

    def evaluate_together(self, designs: Sequence[Any]) -> None:
        """Evaluate the designs the next steps will finish, as one backend batch (no more than
        the budget has left), so that stepping through them is a lookup; inline, nothing."""
        evaluate_together([(self.env.space, d) for d in designs[:self.tracker.remaining]], self.backend)

    def submit_together(self, designs: Sequence[Any]) -> Submitted | None:
        """`evaluate_together` in two steps: queue the batch on the backend and return at once;
        `accept_together` waits for it. Batches queued meanwhile run behind it."""
        return submit_together([(self.env.space, d) for d in designs[:self.tracker.remaining]], self.backend)

    def accept_together(self, submitted: Submitted | None) -> None:
        accept_together(submitted, self.backend)


def param(default: Any, help: str, minimum: float | None = None, maximum: float | None = None) -> Any:
    """A parameters-dataclass field: its default, a one-line help and optional inclusive bounds."""
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum})


@dataclass(frozen=True)
class SearchMethod:
    """One entry of the method registry."""

    name: str  # the config's `method:` value
    params: type  # a frozen dataclass of the method's parameters (fields made with `param`)
    run: Callable[[SearchContext, Any], None]
    summary: str  # one line: what the method does

    def defaults(self) -> Any:
        return self.params()

    def parse(self, given: Mapping[str, Any], where: str = "") -> Any:
        """The parameters from a config's `methods.<name>` mapping, defaults filled in; an unknown
        key, a wrong type or a value out of bounds is a ValueError naming `methods.<name>.<key>`."""
        prefix = f"{where}: " if where else ""
        section = f"methods.{self.name}"
        if not isinstance(given, Mapping):
            raise ValueError(f"{prefix}{section}: expected a mapping of parameters, got {type(given).__name__}: "
                             f"{given!r}")
        known = {f.name: f for f in fields(self.params)}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValueError(f"{prefix}{section}: unknown key(s) {unknown}; known: {sorted(known)}")
        hints = typing.get_type_hints(self.params)
        values = {key: _checked(f"{prefix}{section}.{key}", value, hints[key], _metadata(self.params, key))
                  for key, value in given.items()}
        try:
            return self.params(**values)
        except ValueError as err:  # a rule between parameters (`__post_init__`)
            raise ValueError(f"{prefix}{section}: {err}") from None

    def help(self) -> dict[str, str]:
        """Each parameter's one-line help, by name."""
        return {f.name: _metadata(self.params, f.name).get("help", "") for f in fields(self.params)}


def _metadata(params: type, name: str) -> dict[str, Any]:
    """A field's metadata, inherited: a subclass that only changes a default keeps the help and
    bounds its base declared."""
    merged: dict[str, Any] = {}
    for cls in reversed(params.__mro__):
        declared: Field | None = getattr(cls, "__dataclass_fields__", {}).get(name)
        if declared is not None:
            merged.update({k: v for k, v in declared.metadata.items() if v is not None})
    return merged


def _checked(where: str, value: Any, hint: Any, metadata: Mapping[str, Any]) -> Any:
    """`value` as the field's type (an integer is a number), within its bounds, or a ValueError."""
    value = _as_type(where, value, hint)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = metadata.get("minimum"), metadata.get("maximum")
        if low is not None and value < low:
            raise ValueError(f"{where}={value!r} must be at least {low}")
        if high is not None and value > high:
            raise ValueError(f"{where}={value!r} must be at most {high}")
    return value


def _as_type(where: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is not type(None) and _accepts(value, option):
                return _convert(value, option)
    elif _accepts(value, hint):
        return _convert(value, hint)
    hint_text = " or ".join(_describe(o) for o in (typing.get_args(hint) if origin in (typing.Union, types.UnionType)
                                                 else (hint,)))
    advice = ""
    if isinstance(value, str) and _is_number(value):
        advice = f" (YAML reads {value} as text; write it with a decimal point, e.g. 1.0e-3)"
    raise ValueError(f"{where}={value!r} must be {hint_text}{advice}")


def _accepts(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if (typing.get_origin(hint) or hint) in (dict, Mapping):
        return isinstance(value, Mapping)
    raise TypeError(f"parameter type {hint!r} is not supported (use bool, int, float, str or dict)")


def _convert(value: Any, hint: Any) -> Any:
    if hint is float:
        return float(value)
    if (typing.get_origin(hint) or hint) in (dict, Mapping):
        return dict(value)
    return value


def _describe(hint: Any) -> str:
    if hint is type(None):
        return "null"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
    return names.get(hint, "a mapping")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


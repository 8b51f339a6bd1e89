"""The search-method contract: what a method is given (`SearchContext`) and what it declares
(`SearchMethod`: a name, a frozen parameters dataclass, a run function, a one-line summary, and
whether model-based search is on for it by default).

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

This module imports nothing heavy (the parallel helpers load when a method first evaluates
designs together), so that the registry's names are read without SB3 or torch.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from livgym.known_names import check_known
from livgym.rewards.config_types import checked

if TYPE_CHECKING:
    from stable_baselines3.common.logger import KVWriter

    from livgym.controllers.budget import SearchTracker
    from livgym.controllers.methods.parallel import Submitted
    from livgym.envs.design_env import DesignEnv
    from livgym.rewards.backends import EvaluationBackend

RunFunction = Callable[["SearchContext", Any], None]


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
        from livgym.controllers.methods.parallel import evaluate_together

        evaluate_together([(self.env.space, d) for d in designs[:self.tracker.remaining]], self.backend)

    def submit_together(self, designs: Sequence[Any]) -> Submitted | None:
        """`evaluate_together` in two steps: queue the batch on the backend and return at once;
        `accept_together` waits for it. Batches queued meanwhile run behind it."""
        from livgym.controllers.methods.parallel import submit_together

        return submit_together([(self.env.space, d) for d in designs[:self.tracker.remaining]], self.backend)

    def accept_together(self, submitted: Submitted | None) -> None:
        from livgym.controllers.methods.parallel import accept_together

        accept_together(submitted, self.backend)


def param(default: Any, help: str, minimum: float | None = None, maximum: float | None = None) -> Any:
    """A parameters-dataclass field: its default, a one-line help and optional inclusive bounds."""
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum})


def load_target(target: Any, where: str) -> Any:
    """What a `"module:attr"` target names, imported; anything else as it is."""
    if not isinstance(target, str):
        return target
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"{where}={target!r} must name an object as module:attr")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class SearchMethod:
    """One entry of the method registry.

    `params` and `run` may be given as `"module:attr"` targets, imported on first use, so that
    the registry's names, summaries and model-based defaults are read without importing what
    the methods need (SB3, torch, Optuna), as `livgym --help` does.
    """

    name: str  # the config's `method:` value
    params_target: type | str  # a frozen dataclass of the method's parameters (fields made with `param`)
    run_target: RunFunction | str  # the run function
    summary: str  # one line: what the method does
    model_based: bool = False  # model-based search is on for it when a config leaves `surrogate.enabled` unset

    @property
    def params(self) -> type:
        return load_target(self.params_target, f"method {self.name!r}: params")

    @property
    def run(self) -> RunFunction:
        return load_target(self.run_target, f"method {self.name!r}: run")

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
        params = self.params
        check_known(given, {f.name for f in fields(params)}, f"{prefix}{section}")
        hints = typing.get_type_hints(params)
        values = {}
        for key, value in given.items():
            bounds = _metadata(params, key)
            values[key] = checked(f"{prefix}{section}.{key}", value, hints[key], bounds.get("minimum"),
                                  bounds.get("maximum"))
        try:
            return params(**values)
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

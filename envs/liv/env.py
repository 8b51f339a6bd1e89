"""`livgym/Design-v0` and `livgym/DesignMO-v0`: `DesignEnv` over the LIV search space.

Keyword arguments split between the space (`LIVSearchSpace`: max_depth, width, heads, classes,
fidelity, fidelity_overrides, store, eval_seed, context_length, vocab_size, build_start,
references, start_depth) and the env (`DesignEnv`: mode, start, max_edits, objectives, ...),
so `gymnasium.make("livgym/Design-v0", max_depth=8, fidelity="analytic", mode="edit")` works.
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping, Sequence

from livgym.envs.design_env import DesignEnv
from livgym.envs.liv.space import LIVSearchSpace
from livgym.rewards.evaluation.evaluator import Evaluator
from livgym.rewards.objectives import DEFAULT_OBJECTIVE_NAMES

SPACE_ARGUMENTS: frozenset[str] = frozenset(inspect.signature(LIVSearchSpace.__init__).parameters) - {"self"}
ENV_ARGUMENTS: frozenset[str] = frozenset(inspect.signature(DesignEnv.__init__).parameters) - {"self", "space"}


def split_arguments(env_id: str, kwargs: Mapping[str, Any], space_arguments: frozenset[str]
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """`kwargs` split into the space's arguments and `DesignEnv`'s; an error names any that are neither."""
    unknown = sorted(set(kwargs) - space_arguments - ENV_ARGUMENTS)
    if unknown:
        raise ValueError(f"{env_id}: unknown argument(s) {unknown}; space arguments: "
                         f"{sorted(space_arguments)}; env arguments: {sorted(ENV_ARGUMENTS)}")
    return ({k: v for k, v in kwargs.items() if k in space_arguments},
            {k: v for k, v in kwargs.items() if k in ENV_ARGUMENTS})


class LIVDesignEnv(DesignEnv):
    __doc__ = DesignEnv.__doc__
    space_arguments = SPACE_ARGUMENTS

    def __init__(self, **kwargs: Any) -> None:
        space_kwargs, env_kwargs = split_arguments("livgym/Design-v0", kwargs, SPACE_ARGUMENTS)
        space = LIVSearchSpace(**space_kwargs)
        super().__init__(space, **{**env_kwargs, "objective_overrides": fidelity_objective_overrides(
            space.evaluator, env_kwargs.get("objectives", DEFAULT_OBJECTIVE_NAMES), env_kwargs.get("objective_overrides"))})


def fidelity_objective_overrides(evaluator: Evaluator, objectives: Sequence[str],
                                 given: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The reference points the fidelity states for its own metrics (a zero-cost proxy's quality
    range), for the objectives in use, with the caller's `given` overrides on top of them."""
    # A malformed `objectives` (not a list of names) is refused by name where the env builds them.
    names = objectives if isinstance(objectives, (list, tuple)) else ()
    own = {name: dict(fields) for name, fields in evaluator.objective_overrides().items() if name in names}
    given = {} if given is None else given
    if not isinstance(given, Mapping) or not all(isinstance(v, Mapping) for v in given.values()):
        raise ValueError(f"objective_overrides={given!r} must map objective names to {{field: value}} mappings")
    for name, fields in given.items():
        own[name] = {**own.get(name, {}), **fields}
    return own


class LIVDesignMOEnv(LIVDesignEnv):
    """`LIVDesignEnv` with the objective utility vector as reward (MO-Gymnasium convention)."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("vector_reward") is False:
            raise ValueError("livgym/DesignMO-v0 always has a vector reward; use livgym/Design-v0 for a scalar one")
        super().__init__(**{**kwargs, "vector_reward": True})

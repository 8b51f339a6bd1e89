"""`livgym/Design-v0` and `livgym/DesignMO-v0`: `DesignEnv` over the LIV search space.

Keyword arguments split between the space (`LIVSearchSpace`: max_depth, width, heads, classes,
fidelity, fidelity_overrides, store, eval_seed, context_length, vocab_size, build_start,
references, start_depth) and the env (`DesignEnv`: mode, start, max_edits, objectives, ...),
so `gymnasium.make("livgym/Design-v0", max_depth=8, fidelity="analytic", mode="edit")` works.
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping

from livgym.envs.design_env import DesignEnv
from livgym.envs.liv_space import LIVSearchSpace

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
        super().__init__(LIVSearchSpace(**space_kwargs), **env_kwargs)


class LIVDesignMOEnv(LIVDesignEnv):
    """`LIVDesignEnv` with the objective utility vector as reward (MO-Gymnasium convention)."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("vector_reward") is False:
            raise ValueError("livgym/DesignMO-v0 always has a vector reward; use livgym/Design-v0 for a scalar one")
        super().__init__(**{**kwargs, "vector_reward": True})

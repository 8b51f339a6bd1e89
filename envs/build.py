"""Building a design env: the one way from an env id and its arguments to a `DesignEnv`.

`build_env(env_id, space, env, store)` is what a search config, `gymnasium.make` (through
`make_registered_env`, every registered id's entry point) and a space spec's env
(`livgym/Space-v0`) all call: it builds the id's space (`livgym.envs.registry.SPACES`) or the
space a spec names (`livgym.envs.space_spec`), and the env over it; the space supplies its own
defaults (`SearchSpace.default_max_edits`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from livgym.envs.design_env import ENV_ARGUMENTS, DesignEnv
from livgym.envs.registry import ENVS, SPACE_ENV_ID, SPACES, EnvKind
from livgym.envs.space import SearchSpace
from livgym.envs.space_spec import SpaceSpec
from livgym.envs.tables.file import SUFFIXES
from livgym.known_names import check_known


def build_env(env_id: str, space: Any = None, env: Mapping[str, Any] | None = None,
              store: str | Path | None = None) -> DesignEnv:
    """The env `env_id` names (a key of `ENVS`).

    Arguments:
        space: the id's space arguments (a mapping; None: none); for `livgym/Space-v0` a space
            spec (text or {from: ..., **arguments}) or a `SearchSpace`.
        env: `DesignEnv`'s arguments; a vector-reward id sets `vector_reward` (and refuses False).
        store: the evaluation store file, for a space that keeps one (`EnvKind.store`); ignored
            by the others, which answer from a table or compute their metrics.
    """
    kind = _kind(env_id)
    env = dict(env or {})
    if kind.shipped is None:
        return _build_by_spec(space, env, store)
    if kind.vector_reward:
        if env.get("vector_reward") is False:
            scalar = kind.shipped.env_id
            raise ValueError(f"{env_id} always has a vector reward; use {scalar} for a scalar one")
        env["vector_reward"] = True
    space_arguments = dict(space or {})
    if store is not None and kind.store:
        space_arguments["store"] = store
    check_known(space_arguments, kind.space_arguments, f"{env_id}: space", "argument")
    check_known(env, ENV_ARGUMENTS, f"{env_id}: env", "argument")
    return DesignEnv(kind.shipped.space_class()(**space_arguments), **env)


def make_registered_env(env_id: str, **kwargs: Any) -> DesignEnv:
    """`gymnasium.make(env_id, **kwargs)`: the id's space and env arguments in one set of keywords,
    split by name (an error names one that is neither); `livgym/Space-v0` takes `space=`."""
    kind = _kind(env_id)
    if kind.shipped is None:
        space = kwargs.pop("space", None)
        if isinstance(space, SearchSpace) or space is None:
            return build_env(env_id, space, kwargs)
        spec = SpaceSpec.parse(space)
        if spec.kind() == "shipped":  # its own id, which takes its space arguments too
            return make_registered_env(spec.env_id(), **spec.arguments, **kwargs)
        return build_env(env_id, spec, kwargs)
    space_kwargs, env_kwargs = split_arguments(env_id, kwargs, kind.space_arguments)
    return build_env(env_id, space_kwargs, env_kwargs)


def _build_by_spec(space: Any, env: dict[str, Any], store: str | Path | None) -> DesignEnv:
    """`livgym/Space-v0`: the env over a `SearchSpace` or the space a spec names; a shipped
    name builds through its own id (with `store`, where it keeps one)."""
    if space is None:
        raise ValueError(f"{SPACE_ENV_ID} needs space=...: {', '.join(SPACES)}, a table file "
                         f"({', '.join(SUFFIXES)}) or module:factory")
    if isinstance(space, SearchSpace):
        _check_env_arguments(env)
        return DesignEnv(space, **env)
    spec = space if isinstance(space, SpaceSpec) else SpaceSpec.parse(space)
    if spec.kind() == "shipped":
        return build_env(spec.env_id(), spec.arguments, env, store)
    _check_env_arguments(env)
    return DesignEnv(spec.build(), **env)


def _kind(env_id: str) -> EnvKind:
    if env_id not in ENVS:
        raise ValueError(f"unknown env id {env_id!r}; known: {list(ENVS)}")
    return ENVS[env_id]


def _check_env_arguments(env: Mapping[str, Any]) -> None:
    check_known(env, ENV_ARGUMENTS, SPACE_ENV_ID, "argument")


def split_arguments(env_id: str, kwargs: Mapping[str, Any], space_arguments: frozenset[str]
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """`kwargs` split into the space's arguments and `DesignEnv`'s; an error names any that are neither."""
    check_known(kwargs, [*sorted(space_arguments), *sorted(ENV_ARGUMENTS)], env_id, "argument")  # the space's first
    return ({k: v for k, v in kwargs.items() if k in space_arguments},
            {k: v for k, v in kwargs.items() if k in ENV_ARGUMENTS})


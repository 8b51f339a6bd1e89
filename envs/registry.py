"""The spaces this package ships and the Gymnasium ids that build them: the one list of both.

`SPACES` names each shipped space: the class that builds it from keyword arguments, its env
id (scalar reward) and, where it has one, the id of its vector-reward twin (MO-Gymnasium's
convention), a search's space arguments when it names none, and whether it takes an
evaluation store, an evaluation backend and a training device. `ENVS` is the same list by env
id (`EnvKind`), with `livgym/Space-v0`, the env over any space a spec names
(`livgym.envs.space_spec`). Every id builds a `DesignEnv` through `livgym.envs.build`.

Nothing here imports a space or the env: they load when an env is built, so `import livgym`
stays light.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Mapping

#: the env over any space by spec (a table file, module:factory, or a shipped name)
SPACE_ENV_ID = "livgym/Space-v0"


@dataclass(frozen=True)
class ShippedSpace:
    """One shipped space: how to build it and the env ids that build it."""

    factory: str  # "module:Class" of the `SearchSpace`, called with the space arguments
    env_id: str  # the id whose reward is the scalarised objectives
    vector_env_id: str | None = None  # the id whose reward is the objective utility vector
    default_space: Mapping[str, Any] = field(default_factory=dict)  # a search's space arguments when it names none
    store: bool = False  # takes an evaluation store (`store=`); a table-backed space answers from its table
    backend: bool = False  # its evaluations can run on an evaluation backend (process pool, Ray)
    device: bool = False  # its fidelity may train, so where it trains (`--device`) applies

    def space_class(self) -> type:
        """The space class, imported on first use."""
        module, _, name = self.factory.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def space_arguments(self) -> frozenset[str]:
        """The keyword arguments the space takes (`store` among them where it keeps one)."""
        return frozenset(inspect.signature(self.space_class().__init__).parameters) - {"self"}


#: every shipped space, by the name a space spec gives it (`space: nk`)
SPACES: dict[str, ShippedSpace] = {
    "liv": ShippedSpace("livgym.envs.liv.space:LIVSearchSpace", "livgym/Design-v0", "livgym/DesignMO-v0",
                        {"max_depth": 8}, store=True, backend=True, device=True),
    # a table: every evaluation is a lookup
    "livbench": ShippedSpace("livgym.envs.livbench.bench:LIVBenchSpace", "livgym/LIVBench-v0",
                             "livgym/LIVBenchMO-v0"),
    # an NK landscape: exact optimum, no table
    "nk": ShippedSpace("livgym.envs.nk:NKLandscapeSpace", "livgym/NK-v0"),
}


@dataclass(frozen=True)
class EnvKind:
    """One registered env id: the shipped space it builds (None: any space, by spec) and its reward."""

    space: str | None  # a key of `SPACES`; None for `livgym/Space-v0`
    vector_reward: bool = False  # the reward is the objective utility vector (MO-Gymnasium's convention)

    @property
    def shipped(self) -> ShippedSpace | None:
        return None if self.space is None else SPACES[self.space]

    @property
    def default_space(self) -> Mapping[str, Any]:
        return {} if self.shipped is None else self.shipped.default_space

    @property
    def store(self) -> bool:
        return self.shipped is not None and self.shipped.store

    @property
    def backend(self) -> bool:
        return self.shipped is not None and self.shipped.backend

    @property
    def device(self) -> bool:
        return self.shipped is not None and self.shipped.device

    @property
    def space_arguments(self) -> frozenset[str]:
        """The keyword arguments of the id that go to its space (the rest are `DesignEnv`'s)."""
        return frozenset({"space"}) if self.shipped is None else self.shipped.space_arguments


def _env_kinds() -> dict[str, EnvKind]:
    kinds: dict[str, EnvKind] = {}
    for name, shipped in SPACES.items():
        kinds[shipped.env_id] = EnvKind(name)
        if shipped.vector_env_id is not None:
            kinds[shipped.vector_env_id] = EnvKind(name, vector_reward=True)
    kinds[SPACE_ENV_ID] = EnvKind(None)
    return kinds


#: every env id this package registers, read off `SPACES`
ENVS: dict[str, EnvKind] = _env_kinds()


class EnvEntryPoint:
    """What Gymnasium calls to make a registered id (`livgym.envs.build.make_registered_env`).

    It carries `DesignEnv`'s `metadata`, as an env class would, so `gymnasium.make` offers the
    env's render modes and its render wrappers (`render_mode="rgb_array_list"`).
    """

    def __init__(self, env_id: str) -> None:
        self.env_id = env_id

    @property
    def metadata(self) -> dict[str, Any]:
        from livgym.envs.design_env import DesignEnv

        return DesignEnv.metadata

    def __call__(self, **kwargs: Any) -> Any:
        from livgym.envs.build import make_registered_env

        return make_registered_env(self.env_id, **kwargs)

    def __repr__(self) -> str:
        return f"EnvEntryPoint({self.env_id!r})"

"""Gymnasium environments for architecture design.

Importing this package registers `livgym/Design-v0` (scalar reward) and `livgym/DesignMO-v0`
(vector reward, MO-Gymnasium's convention), and LIV-Bench's tabular `livgym/LIVBench-v0` and
`livgym/LIVBenchMO-v0`, and `livgym/Space-v0`, the env over any space a spec names (a table
file, `module:factory`: `livgym.envs.space_spec`); the env classes load on first use, so `import
livgym` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium


@dataclass(frozen=True)
class EnvKind:
    """One registered env id: its class, and what a search built on it may pass to it."""

    entry_point: str  # "module:Class" (or a factory function); it names its space's arguments (`space_arguments`)
    default_space: dict[str, Any] = field(default_factory=dict)  # a search's space arguments when it names none
    store: bool = False  # takes an evaluation store (`store=`); a table-backed env answers from its table
    backend: bool = False  # its evaluations can run on an evaluation backend (process pool, Ray)
    device: bool = False  # its fidelity may train, so where it trains (`--device`) applies
    vector_reward: bool = False  # the reward is the objective utility vector (MO-Gymnasium's convention)

    def env_class(self) -> type:
        """The env class, imported on first use (so `import livgym` stays light)."""
        import importlib

        module, _, name = self.entry_point.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def space_arguments(self) -> frozenset[str]:
        """The keyword arguments the env passes to its space (the rest are `DesignEnv`'s)."""
        return self.env_class().space_arguments


_DESIGN = EnvKind("livgym.envs.liv.env:LIVDesignEnv", {"max_depth": 8}, store=True, backend=True, device=True)
#: every env id this package registers
ENVS: dict[str, EnvKind] = {
    "livgym/Design-v0": _DESIGN,
    "livgym/DesignMO-v0": EnvKind("livgym.envs.liv.env:LIVDesignMOEnv", _DESIGN.default_space, store=True,
                                  backend=True, device=True, vector_reward=True),
    "livgym/LIVBench-v0": EnvKind("livgym.envs.livbench.bench:LIVBenchEnv"),  # a table: every evaluation is a lookup
    "livgym/LIVBenchMO-v0": EnvKind("livgym.envs.livbench.bench:LIVBenchMOEnv", vector_reward=True),
    "livgym/NK-v0": EnvKind("livgym.envs.nk:NKLandscapeEnv"),  # an NK landscape: exact optimum, no table
    # any space by spec (`space=`: a table file, module:factory, or a shipped name): livgym.envs.space_spec
    "livgym/Space-v0": EnvKind("livgym.envs.space_spec:make_space_env"),
}

for _id, _kind in ENVS.items():
    if _id not in gymnasium.registry:
        # No max_episode_steps: the env truncates itself after `max_steps` (4 x max_edits).
        # Gymnasium's passive checker warns on every vector reward, as for MO-Gymnasium's own
        # envs, so it is off for the MO ids (the full checker still passes on them in the tests).
        gymnasium.register(id=_id, entry_point=_kind.entry_point, disable_env_checker=_kind.vector_reward)

_LAZY = {
    "DesignEnv": "livgym.envs.design_env",
    "LIVDesignEnv": "livgym.envs.liv.env",
    "LIVDesignMOEnv": "livgym.envs.liv.env",
    "LIVSearchSpace": "livgym.envs.liv.space",
    "SearchSpace": "livgym.envs.space",
    "Evaluation": "livgym.envs.space",
    "TableSearchSpace": "livgym.envs.tables.space",
    "ActionCodec": "livgym.envs.liv.actions",
    "LIVBenchEnv": "livgym.envs.livbench.bench",
    "LIVBenchMOEnv": "livgym.envs.livbench.bench",
    "LIVBenchSpace": "livgym.envs.livbench.bench",
    "NKLandscape": "livgym.envs.nk",
    "NKLandscapeSpace": "livgym.envs.nk",
    "NKLandscapeEnv": "livgym.envs.nk",
    "SpaceSpec": "livgym.envs.space_spec",
    "read_table_space": "livgym.envs.tables.file",
}

__all__ = ["ENVS", "EnvKind", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'livgym.envs' has no attribute {name!r}")

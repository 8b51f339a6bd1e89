"""Gymnasium environments for architecture design.

Importing this package registers every env id of `livgym.envs.registry` (`ENVS`):
`livgym/Design-v0` (scalar reward) and `livgym/DesignMO-v0` (vector reward, MO-Gymnasium's
convention) over the LIV space, LIV-Bench's tabular `livgym/LIVBench-v0` and
`livgym/LIVBenchMO-v0`, the NK landscape's `livgym/NK-v0`, and `livgym/Space-v0`, the env over
any space a spec names (a table file, `module:factory`: `livgym.envs.space_spec`). Each is a
`DesignEnv` over its space (`livgym.envs.build.build_env`); the space and env classes load on
first use, so `import livgym` stays light.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from livgym.envs.registry import ENVS, SPACE_ENV_ID, SPACES, EnvEntryPoint, EnvKind, ShippedSpace

for _id, _kind in ENVS.items():
    if _id not in gymnasium.registry:
        # No max_episode_steps: the env truncates itself after `max_steps` (4 x max_edits).
        # Gymnasium's passive checker warns on every vector reward, as for MO-Gymnasium's own
        # envs, so it is off for the MO ids (the full checker still passes on them in the tests).
        gymnasium.register(id=_id, entry_point=EnvEntryPoint(_id), disable_env_checker=_kind.vector_reward)

_LAZY = {
    "DesignEnv": "livgym.envs.design_env",
    "build_env": "livgym.envs.build",
    "LIVSearchSpace": "livgym.envs.liv.space",
    "SearchSpace": "livgym.envs.space",
    "SpaceWrapper": "livgym.envs.wrappers",
    "Evaluation": "livgym.envs.space",
    "TableSearchSpace": "livgym.envs.tables.space",
    "ActionCodec": "livgym.envs.liv.actions",
    "LIVBenchSpace": "livgym.envs.livbench.bench",
    "NKLandscape": "livgym.envs.nk",
    "NKLandscapeSpace": "livgym.envs.nk",
    "SpaceSpec": "livgym.envs.space_spec",
    "read_table_space": "livgym.envs.tables.file",
}

__all__ = ["ENVS", "EnvKind", "SPACES", "SPACE_ENV_ID", "ShippedSpace", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'livgym.envs' has no attribute {name!r}")

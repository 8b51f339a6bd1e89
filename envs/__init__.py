"""Gymnasium environments for architecture design.

Importing this package registers `livgym/Design-v0` (scalar reward) and `livgym/DesignMO-v0`
(vector reward, MO-Gymnasium's convention), and LIV-Bench's tabular `livgym/LIVBench-v0` and
`livgym/LIVBenchMO-v0`; the env classes load on first use, so `import
livgym` stays light.
"""

from __future__ import annotations

from typing import Any

import gymnasium

ENV_IDS: dict[str, str] = {
    "livgym/Design-v0": "livgym.envs.liv_env:LIVDesignEnv",
    "livgym/DesignMO-v0": "livgym.envs.liv_env:LIVDesignMOEnv",
    "livgym/LIVBench-v0": "livgym.envs.livbench:LIVBenchEnv",
    "livgym/LIVBenchMO-v0": "livgym.envs.livbench:LIVBenchMOEnv",
}

for _id, _entry_point in ENV_IDS.items():
    if _id not in gymnasium.registry:
        # No max_episode_steps: the env truncates itself after `max_steps` (4 x max_edits).
        # Gymnasium's passive checker warns on every vector reward, as for MO-Gymnasium's own
        # envs, so it is off for the MO id (the full checker still passes on it in the tests).
        gymnasium.register(id=_id, entry_point=_entry_point, disable_env_checker=_id.endswith("MO-v0"))

_LAZY = {
    "DesignEnv": "livgym.envs.design_env",
    "LIVDesignEnv": "livgym.envs.liv_env",
    "LIVDesignMOEnv": "livgym.envs.liv_env",
    "LIVSearchSpace": "livgym.envs.liv_space",
    "SearchSpace": "livgym.envs.space",
    "Evaluation": "livgym.envs.space",
    "TableSearchSpace": "livgym.envs.table_space",
    "ActionCodec": "livgym.envs.actions",
    "LIVBenchEnv": "livgym.envs.livbench",
    "LIVBenchMOEnv": "livgym.envs.livbench",
    "LIVBenchSpace": "livgym.envs.livbench",
}

__all__ = ["ENV_IDS", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'livgym.envs' has no attribute {name!r}")

"""Search methods (RL controllers and baselines), the budgeted search loop, comparisons, plots
and W&B tracking. Entry points: `livgym.controllers.search.run_search`,
`livgym.controllers.compare.run_compare`, and the `livgym search` / `livgym compare` commands.

`WandbCallback` logs an SB3 model's training metrics to W&B from your own script. The names
below load on first use, so importing one module of this package costs only what it needs.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SearchConfig": "livgym.controllers.config",
    "SearchTracker": "livgym.controllers.budget",
    "SearchContext": "livgym.controllers.methods.contract",
    "SearchMethod": "livgym.controllers.methods.contract",
    "METHODS": "livgym.controllers.methods.registry",
    "register": "livgym.controllers.methods.registry",
    "run_search": "livgym.controllers.search",
    "resume_search": "livgym.controllers.search",
    "run_compare": "livgym.controllers.compare",
    "ProgressBar": "livgym.controllers.reporting.progress",
    "WandbCallback": "livgym.controllers.reporting.wandb_run",
    "WandbOutputFormat": "livgym.controllers.reporting.wandb_run",
    "WandbTracker": "livgym.controllers.reporting.wandb_run",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'livgym.controllers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

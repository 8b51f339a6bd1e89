"""The LIV search space: genome, operator registry, model compiler and analytic cost model.

The names below load on first use: the genome, its edits and the cost model are plain Python,
and only the compiler (`build_model`, `LIVModel`, `ModelCache`) needs torch, so tools that
inspect genomes and their costs (`livgym genome show`) start without importing it.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "LIVModel": "livgym.models.compiler",
    "ModelCache": "livgym.models.compiler",
    "build_model": "livgym.models.compiler",
    "Efficiency": "livgym.models.cost",
    "efficiency": "livgym.models.cost",
    **dict.fromkeys(["Edit", "Insert", "Remove", "Replace", "SetHyperparameter", "ShareWith", "Unshare",
                     "apply_edit", "valid_edits"], "livgym.models.edits"),
    "Genome": "livgym.models.genome",
    "Slot": "livgym.models.slot",
    **dict.fromkeys(["vector_bounds", "vector_length"], "livgym.models.vector"),
    **dict.fromkeys(["REFERENCE_GENOMES", "reference_genome"], "livgym.models.reference"),
    **dict.fromkeys(["CLASSES_BY_ID", "ClassGenome", "LIVClass", "LIV_CLASSES", "liv_class"],
                    "livgym.models.registry"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups are plain attribute reads
        return value
    raise AttributeError(f"module 'livgym.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

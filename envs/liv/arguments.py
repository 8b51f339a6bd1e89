"""The checks of `LIVSearchSpace`'s arguments: each of the right type and range, or a ValueError
naming it. They come from YAML configs and the command line, where a typo gives the wrong type;
the values' meaning (known classes, genomes) is checked by the space after."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from livgym.models.genome import HARD_MAX_DEPTH, Genome
from livgym.models.registry import CLASS_IDS

_MAX_SEED = 2**63 - 1  # the store keeps seeds as SQLite integers


def check_space_arguments(**arguments: Any) -> None:
    """Each `LIVSearchSpace` argument of the right type and range, or a ValueError naming it."""
    a = arguments
    _check_integer("max_depth", a["max_depth"], 1, HARD_MAX_DEPTH)
    for name in ("width", "heads", "context_length", "vocab_size"):
        _check_integer(name, a[name], 1)
    _check_integer("eval_seed", a["eval_seed"], 0, _MAX_SEED)
    if a["start_depth"] is not None:
        _check_integer("start_depth", a["start_depth"], 1)
    classes = a["classes"]
    if classes is not None and (not isinstance(classes, (list, tuple)) or not all(_is_integer(c) for c in classes)):
        raise ValueError(f"classes={classes!r} must be a list of LIV class ids ({CLASS_IDS[0]}..{CLASS_IDS[-1]})")
    references = a["references"]
    if references is not None and (not isinstance(references, (list, tuple))
                                   or not all(isinstance(r, str) for r in references)):
        raise ValueError(f"references={references!r} must be a list of reference genome names")
    if not isinstance(a["fidelity"], str):
        raise ValueError(f"fidelity={a['fidelity']!r} must be a fidelity name")
    overrides = a["fidelity_overrides"]
    if overrides is not None and (not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides)):
        raise ValueError(f"fidelity_overrides={overrides!r} must be a mapping of evaluator config keys to values")
    if a["store"] is not None and not isinstance(a["store"], (str, Path)):
        raise ValueError(f"store={a['store']!r} must be a file path")
    if not isinstance(a["build_start"], (str, Genome)):
        raise ValueError(f"build_start={a['build_start']!r} must be a genome string")


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_integer(name: str, value: Any, low: int, high: int | None = None) -> None:
    if not _is_integer(value) or value < low or (high is not None and value > high):
        bound = f"in {low}..{high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name}={value!r} must be an integer {bound}")

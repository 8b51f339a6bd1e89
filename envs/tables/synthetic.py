"""A seeded synthetic table of designs, the shape of a NAS benchmark's: the example of a user's own
search space (`runs/landscape.csv`, written by `livgym space example`).

Four choice columns (`choice_op`, `choice_depth`, `choice_width`, `choice_norm`: 4 x 3 x 3 x 3
= 108 combinations), of which a seeded tenth are left out (designs nobody measured: unreachable
in the env) and one keeps an empty accuracy (a failed measurement); three metric columns in
their own units: `accuracy` (percent, higher is better, with interactions between the choices
and noise), `latency_ms` (milliseconds, lower is better) and `params` (an exact count: a cost
that is free to know before evaluation). The numbers come from NumPy's seeded PCG64 generator,
whose stream NumPy keeps stable, so a seed gives the same file everywhere.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

COLUMNS: tuple[str, ...] = ("choice_op", "choice_depth", "choice_width", "choice_norm", "accuracy", "latency_ms",
                            "params")
OPS: tuple[str, ...] = ("conv3", "conv5", "attention", "mlp")
DEPTHS: tuple[int, ...] = (2, 4, 8)
WIDTHS: tuple[int, ...] = (32, 64, 128)
NORMS: tuple[str, ...] = ("none", "batch", "layer")
#: per op: accuracy offset (points), latency per layer and unit width (ms), parameters per width^2
_OP_ACCURACY = {"conv3": 0.0, "conv5": 1.5, "attention": 3.0, "mlp": -4.0}
_OP_LATENCY = {"conv3": 0.004, "conv5": 0.007, "attention": 0.012, "mlp": 0.002}
_OP_PARAMS = {"conv3": 9, "conv5": 25, "attention": 4, "mlp": 8}
_NORM_ACCURACY = {"none": -2.5, "batch": 0.5, "layer": 1.0}


def synthetic_rows(seed: int = 0) -> list[dict[str, str]]:
    """The table's rows, as the CSV writes them (text cells), in a fixed order."""
    rng = np.random.default_rng(seed)
    interaction = rng.normal(0.0, 1.5, size=(len(OPS), len(DEPTHS), len(WIDTHS)))
    rows = []
    for i, op in enumerate(OPS):
        for j, depth in enumerate(DEPTHS):
            for k, width in enumerate(WIDTHS):
                for norm in NORMS:
                    noise, jitter, keep = rng.normal(0.0, 0.6), rng.normal(0.0, 0.05), rng.random()
                    if keep < 0.1:
                        continue  # not measured: not a design of the table
                    # diminishing returns in depth and width; attention gains most from depth
                    accuracy = (64.0 + _OP_ACCURACY[op] + _NORM_ACCURACY[norm] + 6.0 * np.log2(depth) ** 0.7
                                + 4.0 * np.log2(width / 16) ** 0.8 + (1.5 * j if op == "attention" else 0.0)
                                + interaction[i, j, k] + noise)
                    latency = 0.05 + _OP_LATENCY[op] * depth * width * (1.0 + (norm != "none") * 0.1) * np.exp(jitter)
                    params = depth * (_OP_PARAMS[op] * width * width + (2 * width if norm != "none" else 0))
                    rows.append({"choice_op": op, "choice_depth": str(depth), "choice_width": str(width),
                                 "choice_norm": norm, "accuracy": f"{min(accuracy, 99.0):.2f}",
                                 "latency_ms": f"{latency:.3f}", "params": str(params)})
    rows[len(rows) // 3]["accuracy"] = ""  # a failed measurement
    return rows


def synthetic_csv(seed: int = 0) -> str:
    """The table as CSV text (a header row, then one row per design; `\\n` line ends)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(synthetic_rows(seed))
    return out.getvalue()


def write_synthetic_csv(path: str | Path, seed: int = 0) -> Path:
    """Write the table to `path` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(synthetic_csv(seed))
    return path

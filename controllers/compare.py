"""`run_compare`: every method on one config, at the same budget and seeds, as curves and a table.

Methods are compared at equal numbers of unique evaluations (the NAS-benchmark convention):
for each method the best reward so far and the hypervolume so far after each evaluation,
averaged over seeds, with the spread (standard deviation) and a 95 % interval of the mean.
Each (method, seed) is an ordinary search run in its own folder, sharing one evaluation store,
so a design any run has evaluated is never computed twice.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.registry import method_names
from livgym.controllers.reporting.stats import t_half_width, welch_p
from livgym.controllers.search import run_search
from livgym.known_names import check_known

SERIES: tuple[str, ...] = ("best_reward", "hypervolume")
#: series with a range their bands are clipped to (a t-interval knows nothing of the bound)
SERIES_BOUNDS: dict[str, tuple[float, float]] = {"hypervolume": (0.0, 1.0)}


@dataclass(frozen=True)
class Comparison:
    """Per method, per series: an array of shape (seeds, budget) of values after each evaluation."""

    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: int
    curves: dict[str, dict[str, np.ndarray]]

    def summary(self, at: int) -> dict[str, dict[str, tuple[float, float, float]]]:
        """Per method and series after `at` evaluations: (mean, std, half-width of the 95 % CI)."""
        out: dict[str, dict[str, tuple[float, float, float]]] = {}
        for method in self.methods:
            out[method] = {}
            for series in SERIES:
                values = self.curves[method][series][:, at - 1]
                n = len(values)
                std = float(np.std(values, ddof=1)) if n > 1 else 0.0
                out[method][series] = (float(np.mean(values)), std, float(t_half_width(values)))
        return out


def check_methods(methods: Sequence[str]) -> None:
    """A ValueError naming the methods that are not registered, or saying none were given."""
    check_known(methods, list(method_names()), "--methods", "method")
    if not methods:
        raise ValueError("--methods: give at least one method")


def run_compare(config: SearchConfig, methods: Sequence[str], seeds: Sequence[int], budget: int,
                out_dir: Path, store: str | Path | None = None,
                progress: Callable[[str, int, SearchTracker], None] | None = None,
                wandb: str = "disabled") -> Comparison:
    """Run each method for each seed (`out_dir/<method>/seed<k>/`), then write the comparison.

    With W&B on, every run logs the same series keyed by unique evaluations, in one group per
    comparison, so W&B's charts compare the methods directly."""
    check_methods(methods)
    if not seeds:
        raise ValueError("--seeds: give at least one seed")
    curves: dict[str, dict[str, np.ndarray]] = {}
    for method in methods:
        rows: dict[str, list[np.ndarray]] = {s: [] for s in SERIES}
        for seed in seeds:
            run_config = config.with_overrides(method=method, seed=seed, budget=budget)
            hook = None if progress is None else (lambda tracker, m=method, s=seed: progress(m, s, tracker))
            result = run_search(run_config, out_dir / method / f"seed{seed}", store=store, progress=hook,
                                wandb=wandb, group=f"{config.name}-{out_dir.name}")
            for series in SERIES:
                rows[series].append(_curve(result.tracker, series, budget))
        curves[method] = {series: np.stack(values) for series, values in rows.items()}
    comparison = Comparison(tuple(methods), tuple(seeds), budget, curves)
    write_comparison(comparison, out_dir)
    return comparison


def _curve(tracker: SearchTracker, series: str, budget: int) -> np.ndarray:
    """The series after each of `budget` evaluations (held flat if a run ended early)."""
    values = np.array([getattr(r, series) for r in tracker.records], dtype=np.float64)
    if len(values) < budget:
        values = np.concatenate([values, np.full(budget - len(values), values[-1] if len(values) else np.nan)])
    return values[:budget]


def checkpoints(budget: int) -> list[int]:
    """Where the table reports: a quarter, half, three quarters and all of the budget."""
    return sorted({max(1, round(budget * f)) for f in (0.25, 0.5, 0.75, 1.0)})


def write_comparison(comparison: Comparison, out_dir: Path) -> None:
    """compare.csv (every curve point), compare.md (the table) and compare.png (the curves)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "compare.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["method", "seed", "evaluations", *SERIES])
        for method in comparison.methods:
            for k, seed in enumerate(comparison.seeds):
                for i in range(comparison.budget):
                    writer.writerow([method, seed, i + 1, *(repr(float(comparison.curves[method][s][k, i])) for s in SERIES)])
    (out_dir / "compare.md").write_text(comparison_table(comparison))
    plot_comparison(comparison, out_dir / "compare.png")


def comparison_table(comparison: Comparison) -> str:
    """Markdown: per method and checkpoint, mean +- std [95 % CI half-width] of each series."""
    marks = checkpoints(comparison.budget)
    header = ["method", *(f"{s.replace('_', ' ')} @ {n}" for s in SERIES for n in marks)]
    lines = [f"{len(comparison.seeds)} seeds ({', '.join(map(str, comparison.seeds))}); mean +- std "
             f"[95 % CI half-width] after n unique evaluations.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    summaries = {n: comparison.summary(n) for n in marks}
    for method in comparison.methods:
        cells = [f"{m:.4f} +- {sd:.4f} [{h:.4f}]" for s in SERIES for n in marks
                 for m, sd, h in [summaries[n][method][s]]]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    first, others = comparison.methods[0], comparison.methods[1:]
    if others and len(comparison.seeds) > 1:
        lines += ["", f"Welch's t-test of {first} against each other method after {comparison.budget} "
                  "evaluations (two-sided p; a difference, not a direction):", ""]
        for other in others:
            tests = [f"{s.replace('_', ' ')} p = {welch(comparison, first, other, s):.4f}" for s in SERIES]
            lines.append(f"- {first} vs {other}: " + ", ".join(tests))
    return "\n".join(lines) + "\n"


def welch(comparison: Comparison, a: str, b: str, series: str) -> float:
    """Two-sided p of Welch's t-test between two methods' final values of a series (`welch_p`)."""
    return welch_p(comparison.curves[a][series][:, -1], comparison.curves[b][series][:, -1])


def plot_comparison(comparison: Comparison, path: Path) -> Path:
    """Mean and 95 % band of best reward and hypervolume against unique evaluations, per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SERIES), figsize=(6 * len(SERIES), 4), constrained_layout=True)
    x = np.arange(1, comparison.budget + 1)
    n = len(comparison.seeds)
    for ax, series in zip(axes, SERIES):
        for method in comparison.methods:
            values = comparison.curves[method][series]
            mean = values.mean(axis=0)
            line, = ax.plot(x, mean, label=method)
            if n > 1:
                half = t_half_width(values)
                low, high = SERIES_BOUNDS.get(series, (-np.inf, np.inf))
                ax.fill_between(x, np.clip(mean - half, low, high), np.clip(mean + half, low, high),
                                color=line.get_color(), alpha=0.2)
        ax.set_xlabel("unique evaluations")
        ax.set_ylabel(series.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"{n} seeds, mean and 95 % interval")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

"""Plots of a search: the Pareto front, progress per unique evaluation, and a genome's block diagram.

Each function takes what it draws and a path, writes a PNG there and returns the path. Figures
are built with matplotlib's object API on an Agg canvas (no pyplot): no display is needed, no
global figure registry is touched, and a figure is freed as soon as the function returns, so
these are safe to call from search workers, CI and notebooks alike.

```python
from livgym.controllers.reporting.plots import plot_genome, plot_pareto, plot_progress, reference_metrics
plot_pareto(result.tracker, out_dir / "pareto.png", reference_metrics(64, 4, depth=8))
plot_progress(result.tracker, out_dir / "progress.png")
plot_genome(Genome.from_string(result.tracker.best(1)[0].genome), out_dir / "best-genome.png")
```
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from livgym.controllers.budget import SearchTracker
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE, analytic_metrics
from livgym.models.diagram import draw_genome
from livgym.models.genome import Genome
from livgym.models.reference import REFERENCE_GENOMES, reference_genome
from livgym.rewards.objectives import Objective
from livgym.rewards.pareto import ArchiveEntry

# Reference genomes: one marker shape and colour each (no red: the front is red).
REFERENCE_MARKERS = ("^", "v", "s", "D", "P", "X", "p", "h")
REFERENCE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
DPI = 120


# ---- Pareto front -----------------------------------------------------------------------------


def plot_pareto(tracker: SearchTracker, path: str | Path,
                reference_points: Mapping[str, Mapping[str, float]] | None = None) -> Path:
    """`pareto_figure` saved as a PNG."""
    return _save(pareto_figure(tracker, reference_points), path)


def pareto_figure(tracker: SearchTracker,
                  reference_points: Mapping[str, Mapping[str, float]] | None = None) -> Figure:
    """Quality (else the first objective) against each other objective, one panel per cost.

    Every archived design is a faint point and the Pareto front is highlighted. Reference
    genomes (name -> metrics, e.g. from `reference_metrics`) whose metrics include the vertical
    objective are points named in the legend. The others have costs only (their quality would
    need training), so they have no place in the panel: they get a strip under it on the same
    cost axis, one named row each, with a dotted line up through the panel at their cost, so
    references of nearly equal cost never overprint. A single-objective search is drawn against
    the order designs were archived. Log-scale objectives get log axes.
    """
    y_objective, x_objectives = _pareto_axes(tracker.objectives.objectives)
    references = dict(reference_points or {})
    cost_only = [{name: m for name, m in references.items() if y_objective.key not in m and x.key in m}
                 if x is not None else {} for x in x_objectives]
    rows = max(len(c) for c in cost_only)
    strip_height = 0.45 + 0.2 * rows if rows else 0.0
    fig = Figure(figsize=(5.0 * len(x_objectives), 4.6 + strip_height), layout="constrained")
    grid = fig.add_gridspec(2 if rows else 1, len(x_objectives), height_ratios=[4.6, strip_height] if rows else None)
    entries = [e for e in tracker.archive.entries() if e.finite]
    front = tracker.archive.front()
    for i, x_objective in enumerate(x_objectives):
        ax = fig.add_subplot(grid[0, i])
        _scatter(ax, entries, x_objective, y_objective, s=14, color="0.55", alpha=0.35,
                 label=f"evaluated ({len(entries)})")
        _scatter(ax, front, x_objective, y_objective, s=40, color="#c44e52", edgecolors="black",
                 linewidths=0.6, zorder=3, label=f"Pareto front ({len(front)})")
        if x_objective is not None:
            _mark_references(ax, references, x_objective, y_objective)
        _style_axes(ax, x_objective, y_objective, empty=not entries)
        if cost_only[i]:
            _reference_strip(ax, fig.add_subplot(grid[1, i], sharex=ax), cost_only[i], references, x_objective)
    handles = {label: handle for ax in fig.axes for handle, label in zip(*ax.get_legend_handles_labels())}
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=min(len(handles), 5),
                   fontsize=7, frameon=False)
    fig.suptitle(f"Pareto front after {tracker.used} unique evaluations")
    return fig


def _pareto_axes(objectives: Sequence[Objective]) -> tuple[Objective, list[Objective | None]]:
    """(vertical objective, horizontal objectives); None stands for the archive order."""
    y = next((o for o in objectives if o.name == "quality"), objectives[0])
    xs: list[Objective | None] = [o for o in objectives if o is not y]
    return y, xs or [None]


def _value(metrics: Mapping[str, float], objective: Objective) -> float:
    """A raw metric as plotted: raised to the objective's floor on a log scale, as the utility
    does, so a zero cache (a stateless model) stays on a log axis."""
    value = float(metrics[objective.key])
    return max(value, objective.floor) if objective.scale == "log" and objective.floor else value


def _scatter(ax: Axes, entries: Sequence[ArchiveEntry], x: Objective | None, y: Objective, **style) -> None:
    if entries:
        xs = [e.index + 1 if x is None else _value(e.metrics, x) for e in entries]
        ax.scatter(xs, [_value(e.metrics, y) for e in entries], **style)


def _reference_style(references: Mapping[str, Mapping[str, float]], name: str) -> dict:
    """One marker shape and colour per reference genome, the same in every panel and the strip."""
    i = list(references).index(name)
    return {"marker": REFERENCE_MARKERS[i % len(REFERENCE_MARKERS)], "markersize": 7, "linestyle": "none",
            "color": REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)], "markeredgecolor": "black", "zorder": 4}


def _mark_references(ax: Axes, references: Mapping[str, Mapping[str, float]], x: Objective,
                     y: Objective) -> None:
    """The references with both objectives measured, as points named in the figure legend."""
    for name, metrics in references.items():
        if x.key in metrics and y.key in metrics:
            ax.plot(_value(metrics, x), _value(metrics, y), label=name, **_reference_style(references, name))


def _reference_strip(ax: Axes, strip: Axes, rows: Mapping[str, Mapping[str, float]],
                     references: Mapping[str, Mapping[str, float]], x: Objective) -> None:
    """Under panel `ax`, on its cost axis: one row per cost-only reference, named on the row, and
    a dotted line up through the panel at its cost."""
    for row, (name, metrics) in enumerate(rows.items()):
        style = _reference_style(references, name)
        cost = _value(metrics, x)
        strip.plot(cost, row, **style)
        ax.axvline(cost, color=style["color"], linestyle=":", linewidth=0.9, alpha=0.7, zorder=1)
    strip.set_yticks(range(len(rows)), list(rows), fontsize=7)
    strip.set_ylim(len(rows) - 0.5, -0.5)  # the first reference on top
    strip.set_title("reference genomes: cost only (quality not measured)", fontsize=7, loc="left")
    strip.grid(True, axis="x", which="major", alpha=0.3)
    strip.set_xlabel(ax.get_xlabel())
    ax.set_xlabel("")
    ax.tick_params(axis="x", labelbottom=False)


def _style_axes(ax: Axes, x: Objective | None, y: Objective, empty: bool) -> None:
    ax.set_xlabel("design (order archived)" if x is None else _axis_label(x))
    ax.set_ylabel(_axis_label(y))
    for objective, which in ((x, "x"), (y, "y")):
        if objective is not None and objective.scale == "log":
            _log_axis(ax, which)
    ax.grid(True, which="major", alpha=0.3)
    if empty:
        ax.text(0.5, 0.5, "no evaluated designs yet", transform=ax.transAxes, ha="center", va="center")


def _log_axis(ax: Axes, which: str) -> None:
    """Make axis `which` ("x" or "y") logarithmic, spanning at least a decade, with unlabelled
    minor ticks: on a narrower range matplotlib labels every minor tick and they overprint."""
    set_scale, get_lim, set_lim, axis = ((ax.set_xscale, ax.get_xlim, ax.set_xlim, ax.xaxis) if which == "x"
                                         else (ax.set_yscale, ax.get_ylim, ax.set_ylim, ax.yaxis))
    set_scale("log")
    low, high = get_lim()
    if 0 < low and high < 10 * low:
        centre = math.sqrt(low * high)
        set_lim(centre / math.sqrt(10), centre * math.sqrt(10))
    axis.set_minor_formatter(NullFormatter())


def _axis_label(objective: Objective) -> str:
    arrow = "higher is better" if objective.direction == "max" else "lower is better"
    return f"{objective.name} ({arrow})"


# ---- progress -----------------------------------------------------------------------------------


def plot_progress(tracker: SearchTracker, path: str | Path) -> Path:
    """Best reward (with each design's reward, faint), the best value so far of the objective the
    Pareto plot puts upright (quality, else the first), and the front's hypervolume, against the
    number of unique evaluations: the budget every method spends, so methods compare on one axis."""
    records = tracker.records
    objective = _pareto_axes(tracker.objectives.objectives)[0]
    values = np.array([r.metrics.get(objective.key, math.nan) if r.status == "ok" else math.nan for r in records],
                      dtype=np.float64)
    with_values = bool(np.any(np.isfinite(values)))
    fig = Figure(figsize=(6.0, 6.8 if with_values else 5.0), layout="constrained")
    axes = fig.subplots(3 if with_values else 2, 1, sharex=True)
    reward_ax, hv_ax = axes[0], axes[-1]
    index = [r.index for r in records]
    if records:
        reward_ax.scatter(index, [r.reward for r in records], s=8, color="0.6", alpha=0.5, label="design")
        reward_ax.step(index, [r.best_reward for r in records], where="post", color="#4c72b0", label="best so far")
        reward_ax.legend(fontsize=7, loc="lower right")
        hv_ax.step(index, [r.hypervolume for r in records], where="post", color="#55a868")
    else:
        reward_ax.text(0.5, 0.5, "no evaluations yet", transform=reward_ax.transAxes, ha="center", va="center")
    if with_values:
        maximise = objective.direction == "max"
        filled = np.where(np.isfinite(values), values, -np.inf if maximise else np.inf)
        best = (np.maximum if maximise else np.minimum).accumulate(filled)
        axes[1].scatter(index, values, s=8, color="0.6", alpha=0.5)
        axes[1].step(index, np.where(np.isfinite(best), best, np.nan), where="post", color="#c44e52")
        axes[1].set_ylabel(f"{objective.name} (best so far)")
        if objective.scale == "log" and np.all(values[np.isfinite(values)] > 0):
            _log_axis(axes[1], "y")
    reward_ax.set_ylabel("reward")
    hv_ax.set_ylabel("hypervolume (utility space)")
    hv_ax.set_xlabel("unique evaluations")
    hv_ax.set_xlim(0, max(tracker.budget, tracker.used) + 0.5)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"Search progress: {tracker.used} of {tracker.budget} evaluations, {tracker.revisits} revisits")
    return _save(fig, path)


def plot_picture(picture: np.ndarray, path: str | Path) -> Path:
    """A space's own picture of a design (`SearchSpace.render`: an RGB uint8 array) as a PNG."""
    height, width = picture.shape[:2]
    fig = Figure(figsize=(width / DPI, height / DPI))
    fig.figimage(np.asarray(picture, dtype=np.uint8), resize=False)
    return _save(fig, path)


# ---- one genome ----------------------------------------------------------------------------------


def plot_genome(genome: Genome, path: str | Path) -> Path:
    """The genome's block diagram (`livgym.models.diagram.draw_genome`) saved as a PNG."""
    return _save(draw_genome(genome), path)


# ---- reference genomes ---------------------------------------------------------------------------


def reference_metrics(space_width: int, space_heads: int, depth: int, context_length: int = DEFAULT_CONTEXT_LENGTH,
                      vocab_size: int = DEFAULT_VOCAB_SIZE) -> dict[str, dict[str, float]]:
    """Analytic metrics (params, cache_bytes, flops) of every reference genome at the search
    space's width, heads and a depth, for `plot_pareto(reference_points=...)`.

    No quality: that needs training, so the plot marks references on the cost axes only. A
    reference that cannot be built at these settings (GQA's K/V repeat 4 needs heads divisible
    by 4) is left out rather than failing the plot.
    """
    metrics: dict[str, dict[str, float]] = {}
    for name in REFERENCE_GENOMES:
        try:
            genome = reference_genome(name, depth=depth, width=space_width, heads=space_heads)
        except ValueError:
            continue
        metrics[name] = analytic_metrics(genome, context_length, vocab_size)
    return metrics


def _save(fig: Figure, path: str | Path) -> Path:
    """Render `fig` to a PNG at `path` (parent folders created) and drop its artists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)  # attach the Agg canvas: PNG output without pyplot or a display
    fig.savefig(path, dpi=DPI)
    fig.clear()
    return path

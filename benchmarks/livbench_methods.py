"""Every search method on LIV-Bench over many seeds: regret and hypervolume ratio (issue 6).

    python benchmarks/livbench_methods.py [--seeds 20] [--budget 1000] [--workers 2]
        [--methods maskable_ppo,ppo,a2c,random,evolution,nsga2] [--weighting quality-first]
        [--out ../runs/benchmarks/livbench] [--table PATH]

Each (method, seed) is an ordinary `run_search` of `runs/livbench.yaml` (LIVBench-v0, build
mode, up to 8 edits, quality / params / cache with the table's own reference points, the
weighting's weights, each method's settings there), run in a pool of `--workers` processes (one torch thread each). Its curves of best
reward and hypervolume after each unique evaluation are saved under `--out` as they finish,
so a rerun only runs what is missing. The report gives, at 50, 100, 300 and 1000 evaluations,
the mean and 95 % interval of the regret (best possible reward minus the run's best) and of
the hypervolume ratio to the table's exact front, Welch's t-tests of MaskablePPO against
random search and regularized evolution, and writes `benchmarks/livbench_methods.png`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np

from common import machine, markdown_table
from livgym.controllers.reporting.stats import mean_interval, t_half_width, welch_p

METHODS = ("maskable_ppo", "random", "evolution", "nsga2", "ppo", "a2c")
CHECKPOINTS = (50, 100, 300, 1000)
HERE = Path(__file__).resolve().parent


def config(method: str, seed: int, budget: int, weights: list[float], table: str | None):
    """`runs/livbench.yaml` for one method, seed, budget, weighting and table."""
    from livgym.controllers.config import SearchConfig

    base = SearchConfig.from_yaml(HERE.parent / "runs" / "livbench.yaml")
    space = {} if table is None else {"table": table}
    return base.with_overrides(method=method, seed=seed, budget=budget, space=space,
                               env={**base.env, "scalariser_kwargs": {"weights": weights}})


def run_one(job: tuple[str, int, int, list[float], str | None, str]) -> tuple[str, int, float]:
    """One search; its curves go to `<out>/<method>-seed<k>.json`."""
    import torch

    from livgym.controllers.search import run_search

    method, seed, budget, weights, table, out = job
    torch.set_num_threads(1)
    start = time.perf_counter()
    tracker = run_search(config(method, seed, budget, weights, table), None, plots=False).tracker
    seconds = time.perf_counter() - start
    curves = {"best_reward": [r.best_reward for r in tracker.records],
              "hypervolume": [r.hypervolume for r in tracker.records],
              "revisits": tracker.revisits, "seconds": seconds, "stalled": tracker.stalled}
    Path(out, f"{method}-seed{seed}.json").write_text(json.dumps(curves))
    return method, seed, seconds


def held(values: list[float], budget: int) -> np.ndarray:
    """A curve of `budget` points, held flat after a run that stopped early (it found no more)."""
    v = np.asarray(values, dtype=np.float64)
    return np.concatenate([v, np.full(budget - len(v), v[-1])]) if len(v) < budget else v[:budget]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--weighting", default="quality-first")
    parser.add_argument("--out", type=Path, default=HERE.parent / "runs" / "benchmarks" / "livbench")
    parser.add_argument("--table", default=None, help="table file (default: the shipped LIV-Bench-v0)")
    parser.add_argument("--plot", type=Path, default=HERE / "livbench_methods.png")
    parser.add_argument("--report-only", action="store_true", help="report the runs already finished")
    args = parser.parse_args()

    from livgym.envs.livbench.bench import WEIGHTINGS, known_optima

    methods = args.methods.split(",")
    weights = list(WEIGHTINGS[args.weighting])
    optima = known_optima(weights, table=args.table)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"weighting {args.weighting} {weights}: best design {optima.best_genome} (reward "
          f"{optima.best_reward:.4f}), exact front of {len(optima.front)} designs, hypervolume {optima.hypervolume:.4f}")
    # The cheap baselines first, then the RL methods, so an interrupted run has whole methods.
    order = sorted(methods, key=lambda m: m in ("maskable_ppo", "ppo", "a2c"))
    todo = [(m, s, args.budget, weights, args.table, str(args.out)) for m in order for s in range(args.seeds)
            if not (args.out / f"{m}-seed{s}.json").exists() and not args.report_only]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for method, seed, seconds in pool.imap_unordered(run_one, todo):
            print(f"  {method} seed {seed}: {seconds:.0f} s", flush=True)
    print(f"{len(todo)} runs in {time.perf_counter() - start:.0f} s (the rest were done before)\n")

    marks = [c for c in CHECKPOINTS if c <= args.budget]
    regret, ratio, meta = {}, {}, {}
    for m in methods:
        runs = [json.loads((args.out / f"{m}-seed{s}.json").read_text()) for s in range(args.seeds)
                if (args.out / f"{m}-seed{s}.json").exists()]
        if len(runs) < args.seeds:
            print(f"{m}: only {len(runs)} of {args.seeds} seeds have finished; they are reported as they are")
        regret[m] = np.stack([optima.best_reward - held(r["best_reward"], args.budget) for r in runs])
        ratio[m] = np.stack([held(r["hypervolume"], args.budget) / optima.hypervolume for r in runs])
        meta[m] = (np.median([r["seconds"] for r in runs]), np.median([r["revisits"] for r in runs]),
                   sum(len(r["best_reward"]) < args.budget for r in runs))
    rows = []
    for m in methods:
        cells = [f"{mean:.4f} [{half:.4f}]" for c in marks for mean, half in [mean_interval(regret[m][:, c - 1])]]
        cells += [f"{mean:.3f} [{half:.3f}]" for c in marks for mean, half in [mean_interval(ratio[m][:, c - 1])]]
        seconds, revisits, stopped = meta[m]
        rows.append([m, len(regret[m]), *cells, f"{seconds:.0f}", f"{revisits:.0f}", stopped])
    print("mean [95 % CI half-width] over seeds after n unique evaluations\n")
    print(markdown_table(["method", "seeds", *(f"regret @ {c}" for c in marks), *(f"HV ratio @ {c}" for c in marks),
                          "median s / run", "median revisits", "runs stopped early"], rows))
    if "maskable_ppo" in methods:
        print()
        for other in [m for m in ("random", "evolution") if m in methods]:
            tests = []
            for c in marks:
                a, b = regret["maskable_ppo"][:, c - 1], regret[other][:, c - 1]
                tests.append(f"@{c}: {a.mean() - b.mean():+.4f} (p = {welch_p(a, b):.3g})")
            print(f"- regret of maskable_ppo minus {other}, Welch's two-sided p: " + "; ".join(tests))
    plot(regret, ratio, args.budget, args.seeds, args.plot)
    print(f"\nplot: {args.plot}")


def plot(regret: dict, ratio: dict, budget: int, seeds: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    x = np.arange(1, budget + 1)
    for ax, series, label in ((axes[0], regret, "regret (best possible - best found)"),
                              (axes[1], ratio, "hypervolume / true front's")):
        for method, values in series.items():
            mean = values.mean(axis=0)
            half = t_half_width(values)
            line, = ax.plot(x, mean, label=method)
            ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("unique evaluations")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"LIV-Bench-v0, {seeds} seeds, mean and 95 % interval")
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()

"""Which surrogate model ranks unseen designs best: the measurement behind `DEFAULT_SURROGATE`.

    python benchmarks/surrogate_choice.py [--seeds 10] [--sizes 25 50 100 300] [--out runs/benchmarks/surrogate_choice.json]

For each model of `livgym.controllers.methods.surrogate.SURROGATE_MODELS`, each training size and each
seed (a repetition):

- LIV-Bench: every design of `LIVBenchSpace()`; `size` training designs drawn uniformly
  without replacement (the smaller sets are the first rows of the same draw), the target the
  table's `quality`; the test set is every other design of the table.
- NK: `NKLandscapeSpace()` at its default size (20 positions x 4 choices, k = 2) with the
  repetition's seed as landscape seed; `size` uniform training designs and 2,000 fresh uniform
  test designs.

It records the held-out Kendall tau (scipy.stats.kendalltau) of the predicted mean against
the truth (0 where a fit predicts one value everywhere), the seconds of one fit plus one
predict over the test set, and, on LIV-Bench, where the design that UCB (mean + std) ranks
first falls in the truth (the fraction of test designs it is at least as good as). The Markdown tables give the mean and a 95 % t interval over the
seeds; `--out` writes every raw figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from common import machine, markdown_table
from livgym.controllers.reporting.stats import mean_interval
from livgym.envs.livbench.bench import LIVBenchSpace
from livgym.envs.nk import NKLandscapeSpace
from livgym.controllers.methods.surrogate import SURROGATE_MODELS, make_surrogate

NK_TEST = 2000


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % t interval of `values` (over seeds): (mean, low, high), a point with one seed."""
    mean, half = mean_interval(values, single=0.0)
    return mean, mean - half, mean + half


def measure(model: str, seed: int, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
            y_test: np.ndarray) -> dict[str, float]:
    start = time.perf_counter()
    mean, std = make_surrogate(model, seed).fit(X_train, y_train).predict(X_test, return_std=True)
    seconds = time.perf_counter() - start
    pick = int(np.argmax(mean + std))
    tau = float(stats.kendalltau(mean, y_test).statistic)
    constant = bool(np.isnan(tau))  # every prediction equal: it ranks nothing, counted as tau 0
    return {"kendall": 0.0 if constant else tau, "constant": constant, "seconds": seconds,
            "ucb_pick_quantile": float(np.mean(y_test <= y_test[pick]))}


def livbench_runs(models: list[str], sizes: list[int], seeds: int) -> list[dict[str, Any]]:
    space = LIVBenchSpace()
    designs = space.designs()
    X = np.stack([space.features(g) for g in designs])
    y = np.array([space.evaluate(g).metrics["quality"] for g in designs])
    rows = []
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(len(designs))
        for size in sizes:
            train, test = order[:size], order[size:]
            for model in models:
                rows.append({"bench": "livbench", "model": model, "size": size, "seed": seed,
                             **measure(model, seed, X[train], y[train], X[test], y[test])})
        print(f"livbench seed {seed} done", flush=True)
    return rows


def nk_runs(models: list[str], sizes: list[int], seeds: int) -> list[dict[str, Any]]:
    rows = []
    for seed in range(seeds):
        space = NKLandscapeSpace(seed=seed)
        rng = np.random.default_rng(seed)

        def draw(count: int) -> tuple[np.ndarray, np.ndarray]:
            designs = [space.sample(rng) for _ in range(count)]
            return (np.stack([space.features(d) for d in designs]),
                    space.landscape.fitness_many(np.array(designs, dtype=np.int64)))

        X_test, y_test = draw(NK_TEST)
        X_pool, y_pool = draw(max(sizes))
        for size in sizes:
            for model in models:
                rows.append({"bench": "nk", "model": model, "size": size, "seed": seed,
                             **measure(model, seed, X_pool[:size], y_pool[:size], X_test, y_test)})
        print(f"nk seed {seed} done", flush=True)
    return rows


def report(rows: list[dict[str, Any]], models: list[str], sizes: list[int]) -> str:
    def cell(bench: str, model: str, size: int, key: str, digits: int) -> str:
        values = [r[key] for r in rows if (r["bench"], r["model"], r["size"]) == (bench, model, size)]
        mean, lo, hi = interval(values)
        return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"

    def median_seconds(bench: str, model: str, size: int) -> str:
        values = [r["seconds"] for r in rows if (r["bench"], r["model"], r["size"]) == (bench, model, size)]
        return f"{np.median(values):.2f}"

    benches = [b for b in ("livbench", "nk") if any(r["bench"] == b for r in rows)]
    out = []
    headers = ["bench", "model"] + [f"tau, n={s}" for s in sizes] + [f"s, n={s}" for s in (sizes[0], sizes[-1])]
    table = [[b, m] + [cell(b, m, s, "kendall", 3) for s in sizes]
             + [median_seconds(b, m, s) for s in (sizes[0], sizes[-1])] for b in benches for m in models]
    out.append("Held-out Kendall tau, mean [95 % interval] over seeds; median fit + predict seconds:\n")
    constant = sum(r["constant"] for r in rows)
    if constant:
        out.append(f"({constant} fits predicted one value for every test design; counted as tau 0)\n")
    out.append(markdown_table(headers, table))
    if "livbench" in benches:
        out.append("\nLIV-Bench: the UCB (mean + std) pick's quantile among the test designs' truth, "
                   "mean [95 % interval]:\n")
        out.append(markdown_table(["model"] + [f"n={s}" for s in sizes],
                                  [[m] + [cell("livbench", m, s, "ucb_pick_quantile", 3) for s in sizes] for m in models]))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 300])
    parser.add_argument("--models", nargs="+", default=list(SURROGATE_MODELS), choices=list(SURROGATE_MODELS))
    parser.add_argument("--bench", nargs="+", default=["livbench", "nk"], choices=["livbench", "nk"])
    parser.add_argument("--out", type=Path, default=None, help="write the raw results here as JSON")
    args = parser.parse_args()
    if args.seeds < 1 or min(args.sizes) < 1:
        raise ValueError(f"--seeds {args.seeds} and --sizes {args.sizes} must be positive")
    sizes = sorted(args.sizes)
    header = {"machine": machine(), "load_before": os.getloadavg(), "seeds": args.seeds, "sizes": sizes}
    print(f"machine: {header['machine']}\nload average before: {header['load_before']}\n", flush=True)
    start = time.perf_counter()
    rows = []
    if "livbench" in args.bench:
        rows += livbench_runs(args.models, sizes, args.seeds)
    if "nk" in args.bench:
        rows += nk_runs(args.models, sizes, args.seeds)
    header.update(load_after=os.getloadavg(), total_seconds=time.perf_counter() - start)
    print(f"\nload average after: {header['load_after']}; total {header['total_seconds']:.0f} s\n")
    print(report(rows, args.models, sizes))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({**header, "rows": rows}, indent=1))
        print(f"\nraw results: {args.out}")


if __name__ == "__main__":
    main()

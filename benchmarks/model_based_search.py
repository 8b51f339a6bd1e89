"""Model-based search against the baselines, at equal real evaluations, on two landscapes.

    python benchmarks/model_based_search.py [--landscapes livbench,nk] [--seeds 20] [--rl-seeds 10]
        [--budget 300] [--workers 2] [--methods mb_maskable_ppo,maskable_ppo,...] [--out DIR]
        [--report-only]

Landscapes:
- `livbench`: LIV-Bench-v0 (`runs/livbench.yaml`: build mode, up to 8 edits, quality / params /
  cache with the table's own reference points), quality-first weights. Exact optimum and front.
- `nk`: livgym/NK-v0, an NK landscape of 20 positions x 4 choices (4^20 = 1.1e12 designs) whose
  adjacent interactions (k = 2) give the exact optimum by dynamic programming; each seed is its
  own landscape (landscape seed = run seed). One objective, quality, with utility 1 at the
  optimum and 0 at the worst design, so the regret is in utility units and the hypervolume ratio
  is the best utility found.

Methods (each an ordinary `run_search` of the landscape's config; `mb_` = the config's
`surrogate` section on, i.e. model-based search with its defaults):
mb_maskable_ppo, maskable_ppo (surrogate off), mb_evolution, evolution, nsga2, optuna (TPE),
random (uniform samples of the space) and, on LIV-Bench, `ceiling`: the same surrogate and rounds
with the acquisition maximised by enumerating every design (the best any proposer can do).

Each (landscape, method, seed) writes `<out>/<landscape>/<method>-seed<k>.json` as it finishes
(best reward and hypervolume after each unique evaluation, seconds, and for model-based runs the
controller seconds per real evaluation), so a rerun does only what is missing. The report gives,
at 25, 50, 100 and 300 real evaluations, the mean and 95 % interval of regret and hypervolume
ratio, Welch p-values of mb_maskable_ppo against each method, how often each found the optimum
within 50 evaluations, and writes `benchmarks/model_based_search.png`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from livbench_methods import held
from common import machine, markdown_table
from livgym.controllers.reporting.stats import mean_interval, t_half_width, welch_p

HERE = Path(__file__).resolve().parent
LANDSCAPES = ("livbench", "nk")
METHODS = ("mb_maskable_ppo", "maskable_ppo", "mb_ppo", "mb_a2c", "mb_evolution", "evolution", "nsga2", "optuna", "random",
           "ceiling")
RL = ("mb_maskable_ppo", "maskable_ppo", "mb_ppo", "mb_a2c", "mb_evolution")  # the costly ones: --rl-seeds seeds
CHECKPOINTS = (25, 50, 100, 300)
NK = {"n": 20, "choices": 4, "k": 2}


def config(landscape: str, method: str, seed: int, budget: int, settings: dict | None = None,
           method_settings: dict | None = None):
    """The search config of one run (`settings`: `surrogate` keys over the defaults;
    `method_settings`: the method's own keys over `runs/livbench.yaml`'s)."""
    from livgym.controllers.config import SearchConfig
    from livgym.envs.livbench.bench import WEIGHTINGS

    name = method.removeprefix("mb_")
    surrogate = {**(settings or {}), "enabled": method.startswith("mb_") or method == "ceiling"}
    base = SearchConfig.from_yaml(HERE.parent / "runs" / "livbench.yaml")
    methods = {**base.methods, name: {**base.methods.get(name, {}), **(method_settings or {})}}
    if landscape == "livbench":
        return base.with_overrides(method="random" if method == "ceiling" else name, seed=seed, budget=budget,
                                   surrogate=surrogate, methods=methods,
                                   env={**base.env, "scalariser_kwargs": {"weights": list(WEIGHTINGS["quality-first"])}})
    return SearchConfig(name=f"nk-{method}", method=name, seed=seed, budget=budget, patience=500,
                        env_id="livgym/NK-v0", space={**NK, "seed": seed}, methods=methods,
                        surrogate=surrogate)


def optimum(landscape: str, seed: int) -> tuple[float, float]:
    """(best possible reward, the exact front's hypervolume)."""
    if landscape == "livbench":
        from livgym.envs.livbench.bench import WEIGHTINGS, known_optima

        known = known_optima(WEIGHTINGS["quality-first"])
    else:
        from livgym.envs.nk import known_optimum

        known = known_optimum(**NK, seed=seed)
    return known.best_reward, known.hypervolume


def run_one(job: tuple[str, str, int, int, str, dict, dict]) -> tuple[str, str, int, float]:
    import torch

    from livgym.controllers.methods.contract import SearchContext
    from livgym.controllers.budget import SearchTracker
    from livgym.controllers.methods.model_based import enumerated_ceiling
    from livgym.controllers.search import run_search

    landscape, method, seed, budget, out, settings, method_settings = job
    torch.set_num_threads(1)
    cfg = config(landscape, method, seed, budget, settings, method_settings)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        if method == "ceiling":
            env = cfg.make_env()
            tracker = SearchTracker(env.objectives, budget, cfg.patience)
            env.add_evaluation_callback(tracker)
            enumerated_ceiling(SearchContext(env, cfg.make_env, tracker, seed, out_dir=Path(folder)),
                               cfg.surrogate_settings())
        else:
            tracker = run_search(cfg, Path(folder), plots=False).tracker
        seconds = time.perf_counter() - start
        report = Path(folder, "model_based.json")
        model = json.loads(report.read_text()) if report.exists() else None
    curves = {"budget": budget, "best_reward": [r.best_reward for r in tracker.records],
              "hypervolume": [r.hypervolume for r in tracker.records],
              "revisits": tracker.revisits, "seconds": seconds, "stalled": tracker.stalled,
              "controller_seconds_per_evaluation": None if model is None else model["controller_seconds_per_evaluation"],
              "rounds": None if model is None else len(model["rounds"])}
    path = Path(out, landscape, f"{method}-seed{seed}.json")
    path.write_text(json.dumps(compact(curves), separators=(",", ":")))
    return landscape, method, seed, seconds


def compact(value):
    """Floats to 7 significant digits, so a shipped run is a few kB (the tables print 4)."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, list):
        return [compact(v) for v in value]
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    return value


def curve(run: dict, key: str, budget: int) -> np.ndarray:
    """A run's curve over `budget` evaluations: held flat after a run that stopped early (it
    found no more), NaN beyond the run's own budget (not run that far)."""
    values = held(run[key], min(run.get("budget", budget), budget))
    return np.concatenate([values, np.full(budget - len(values), np.nan)])


def cell(values: np.ndarray, digits: int) -> str:
    if np.isnan(values).any():
        return "not run"
    mean, half = mean_interval(values)
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def report(landscape: str, methods: list[str], seeds: dict[str, int], budget: int, out: Path) -> dict:
    marks = [c for c in CHECKPOINTS if c <= budget]
    regret, ratio, meta = {}, {}, {}
    total_seconds = 0.0  # of every run reported: what the benchmark cost on this landscape
    for m in methods:
        runs = []
        for path in sorted((out / landscape).glob(f"{m}-seed*.json"), key=lambda p: int(p.stem.rsplit("seed", 1)[1])):
            best, hv = optimum(landscape, int(path.stem.rsplit("seed", 1)[1]))
            runs.append((json.loads(path.read_text()), best, hv))
        if not runs:
            continue
        regret[m] = np.stack([b - curve(r, "best_reward", budget) for r, b, _ in runs])
        ratio[m] = np.stack([curve(r, "hypervolume", budget) / hv for r, _, hv in runs])
        per_eval = [r["controller_seconds_per_evaluation"] for r, _, _ in runs if r.get("controller_seconds_per_evaluation")]
        total_seconds += sum(r["seconds"] for r, _, _ in runs)
        meta[m] = {"runs": len(runs), "seconds": float(np.median([r["seconds"] for r, _, _ in runs])),
                   "controller_per_eval": float(np.median(per_eval)) if per_eval else None,
                   "found_by_50": int(sum(np.any(np.asarray(r["best_reward"][:50]) >= b - 1e-6) for r, b, _ in runs))}
    rows = []
    for m in regret:
        cells = [cell(regret[m][:, c - 1], 4) for c in marks] + [cell(ratio[m][:, c - 1], 3) for c in marks]
        info = meta[m]
        per_eval = "" if info["controller_per_eval"] is None else f"{info['controller_per_eval']:.2f}"
        rows.append([m, info["runs"], *cells, f"{info['found_by_50']}/{info['runs']}", f"{info['seconds']:.0f}", per_eval])
    print(f"\n### {landscape}: mean ± 95 % CI half-width over seeds, after n real unique evaluations\n")
    print(markdown_table(["method", "seeds", *(f"regret @ {c}" for c in marks), *(f"HV ratio @ {c}" for c in marks),
                          "optimum within 50", "median s / run", "controller s / real eval"], rows))
    print(f"\nevery run above, its seconds summed: {total_seconds:.0f} s = {total_seconds / 3600:.2f} core-hours "
          f"({total_seconds / 7200:.2f} h on 2 cores)")
    if "mb_maskable_ppo" in regret:
        print("\nWelch two-sided p of mb_maskable_ppo's regret against each (difference of means: negative = "
              "mb_maskable_ppo lower):\n")
        lines = []
        for other in [m for m in regret if m != "mb_maskable_ppo"]:
            a, b = regret["mb_maskable_ppo"], regret[other]
            lines.append([other, *("not run" if np.isnan(a[:, c - 1]).any() or np.isnan(b[:, c - 1]).any() else
                                   f"{a[:, c - 1].mean() - b[:, c - 1].mean():+.4f} (p = {welch_p(a[:, c - 1], b[:, c - 1]):.3g})"
                                   for c in marks)])
        print(markdown_table(["against", *(f"@ {c}" for c in marks)], lines))
    return {"regret": regret, "ratio": ratio}


def plot(results: dict, budget: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(12, 4 * len(results)), constrained_layout=True, squeeze=False)
    x = np.arange(1, budget + 1)
    for row, (landscape, series) in enumerate(results.items()):
        for ax, key, label in ((axes[row, 0], "regret", "regret"), (axes[row, 1], "ratio", "hypervolume ratio")):
            for method, values in series[key].items():
                mean = values.mean(axis=0)
                half = t_half_width(values, single=0.0)  # one seed: no band
                line, = ax.plot(x, mean, label=method)
                ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.15)
            ax.set_xscale("log")
            ax.set_xlabel("real unique evaluations")
            ax.set_ylabel(f"{landscape}: {label}")
            ax.grid(alpha=0.3)
        axes[row, 0].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landscapes", default=",".join(LANDSCAPES))
    parser.add_argument("--seeds", type=int, default=20, help="seeds of the cheap methods")
    parser.add_argument("--rl-seeds", type=int, default=10,
                        help="seeds of the RL and model-based methods: the last ones of --seeds (0-5 tuned the model-based settings)")
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--out", type=Path, default=HERE.parent / "runs" / "benchmarks" / "model_based")
    parser.add_argument("--plot", type=Path, default=HERE / "model_based_search.png")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--surrogate", type=json.loads, default={},
                        help='model-based settings over the defaults, as JSON, e.g. \'{"episodes": 64}\'')
    parser.add_argument("--method-settings", type=json.loads, default={},
                        help='the methods\' own settings over runs/livbench.yaml\'s, as JSON, e.g. \'{"extractor": "slots"}\'')
    args = parser.parse_args()

    landscapes, methods = args.landscapes.split(","), args.methods.split(",")
    seeds = {m: args.rl_seeds if m in RL else args.seeds for m in methods}
    print(f"machine: {machine()}")
    todo = []
    for landscape in landscapes:
        (args.out / landscape).mkdir(parents=True, exist_ok=True)
        for m in sorted(methods, key=lambda m: m in RL):  # whole cheap methods first
            if m == "ceiling" and landscape != "livbench":
                continue
            first = args.seeds - seeds[m] if m in RL else 0
            todo += [(landscape, m, s, args.budget, str(args.out), args.surrogate, args.method_settings)
                     for s in range(first, args.seeds)
                     if not (args.out / landscape / f"{m}-seed{s}.json").exists() and not args.report_only]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for landscape, method, seed, seconds in pool.imap_unordered(run_one, todo):
            print(f"  {landscape} {method} seed {seed}: {seconds:.0f} s", flush=True)
    print(f"{len(todo)} runs in {time.perf_counter() - start:.0f} s (the rest were done before)")
    budget = max([args.budget, *CHECKPOINTS[-1:]]) if args.report_only else args.budget
    results = {landscape: report(landscape, methods, seeds, budget, args.out) for landscape in landscapes}
    plot(results, args.budget, args.plot)
    print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()

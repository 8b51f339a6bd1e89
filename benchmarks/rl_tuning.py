"""The RL proposers' PPO settings, tuned on LIV-Bench seeds disjoint from the benchmark's (issue 13).

    python benchmarks/rl_tuning.py [--budget 50] [--workers 2] [--report-only]

`model_based_search.py` runs its RL methods on seeds 10-19. Each setting here changes one of
`runs/livbench.yaml`'s PPO settings of one method, and runs that method model-based on LIV-Bench
(quality-first weights) on seeds 0-9, at `--budget` real evaluations. Every run is one JSON
under `results/ppo_tuning/<setting>/livbench/`, so a rerun does only what is missing and
`--report-only` regenerates the table from the shipped runs. The table gives, for each setting,
how often the optimum was found within 50 evaluations, the regret at 25 and 50 (mean and 95 %
interval), and the Welch p of its regret at 50 against its method's default.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from common import markdown_table
from livgym.controllers.reporting.stats import mean_interval, welch_p
from model_based_search import curve, optimum

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "ppo_tuning"
SEEDS = range(10)  # the benchmark's RL seeds are 10-19

#: setting name -> (method, its settings over runs/livbench.yaml's); "default" / "ppo-default" are the baselines
SETTINGS: dict[str, tuple[str, dict]] = {
    "default": ("mb_maskable_ppo", {}),
    "lr3e-4": ("mb_maskable_ppo", {"learning_rate": 0.0003}),
    "lr3e-3": ("mb_maskable_ppo", {"learning_rate": 0.003}),
    "ent0.01": ("mb_maskable_ppo", {"ent_coef": 0.01}),
    "ent0.1": ("mb_maskable_ppo", {"ent_coef": 0.1}),
    "epochs10": ("mb_maskable_ppo", {"n_epochs": 10}),
    "revisit0": ("mb_maskable_ppo", {"revisit_penalty": 0.0}),
    "revisit1": ("mb_maskable_ppo", {"revisit_penalty": 1.0}),
    "nsteps32": ("mb_maskable_ppo", {"n_steps": 32}),
    "gamma0.99": ("mb_maskable_ppo", {"gamma": 0.99}),
    "ppo-default": ("mb_ppo", {}),
    "ppo-lr3e-4": ("mb_ppo", {"learning_rate": 0.0003}),
    "ppo-ent0.01": ("mb_ppo", {"ent_coef": 0.01}),
    "ppo-ent0.1": ("mb_ppo", {"ent_coef": 0.1}),
    "ppo-epochs10": ("mb_ppo", {"n_epochs": 10}),
}


def run(name: str, budget: int, workers: int) -> None:
    method, settings = SETTINGS[name]
    subprocess.run([sys.executable, str(HERE / "model_based_search.py"), "--landscapes", "livbench",
                    "--seeds", str(len(SEEDS)), "--rl-seeds", str(len(SEEDS)), "--budget", str(budget),
                    "--workers", str(workers), "--methods", method, "--method-settings", json.dumps(settings),
                    "--out", str(OUT / name), "--plot", str(OUT / name / "plot.png")],
                   check=True, stdout=subprocess.DEVNULL)
    (OUT / name / "plot.png").unlink(missing_ok=True)  # the table below is the result


def regrets(name: str, budget: int) -> np.ndarray | None:
    """seeds x evaluations regret of a setting's runs, or None if it has none."""
    method = SETTINGS[name][0]
    rows = []
    for seed in SEEDS:
        path = OUT / name / "livbench" / f"{method}-seed{seed}.json"
        if path.exists():
            best, _ = optimum("livbench", seed)
            rows.append(best - curve(json.loads(path.read_text()), "best_reward", budget))
    return np.stack(rows) if rows else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not args.report_only:
        for name in args.settings:
            run(name, args.budget, args.workers)
    table = {name: r for name in args.settings if (r := regrets(name, args.budget)) is not None}
    rows = []
    for name, r in table.items():
        method, settings = SETTINGS[name]
        base = table.get("ppo-default" if method == "mb_ppo" else "default")
        found = int(np.sum(np.any(r[:, :50] <= 1e-6, axis=1)))
        p = "" if base is None or base is r else f"{welch_p(r[:, 49], base[:, 49]):.2g}"
        cells = [f"{m:.4f} ± {h:.4f}" for m, h in (mean_interval(r[:, c - 1]) for c in (25, 50))]
        rows.append([method, json.dumps(settings) if settings else "runs/livbench.yaml's", len(r),
                     f"{found}/{len(r)}", *cells, p])
    print(f"\nLIV-Bench, quality-first, seeds {SEEDS.start}-{SEEDS.stop - 1}, model-based, budget {args.budget}\n")
    print(markdown_table(["method", "setting", "seeds", "optimum within 50", "regret @ 25", "regret @ 50",
                          "p @ 50 against the default"], rows))


if __name__ == "__main__":
    main()

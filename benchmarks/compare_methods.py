"""Search methods against each other at equal unique evaluations: `livgym compare`, recorded.

    python benchmarks/compare_methods.py [--config ../runs/quickstart.yaml] [--budget 100] [--seeds 5]
        [--methods maskable_ppo,random,evolution,nsga2] [--out ../runs/benchmarks/compare] [--wandb offline]

Runs every method for every seed on one config (default: the quickstart, zero-cost quality
against parameters and cache), all through one evaluation store, and prints the machine, the
wall time and the table of best reward and hypervolume (mean +- std [95 % CI half-width]) at
a quarter, half, three quarters and all of the budget. The curves are in `<out>/compare.png`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import machine
from livgym.cli import main as livgym


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="../runs/quickstart.yaml")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", default="maskable_ppo,random,evolution,nsga2")
    parser.add_argument("--out", type=Path, default=Path("../runs/benchmarks/compare"))
    parser.add_argument("--store", default="../runs/benchmarks/compare.sqlite")
    parser.add_argument("--wandb", default="offline", choices=("offline", "online", "disabled"))
    args = parser.parse_args()
    print(f"machine: {machine()}")
    start = time.perf_counter()
    livgym(["compare", args.config, "--methods", args.methods, "--seeds", str(args.seeds),
            "--budget", str(args.budget), "--out", str(args.out), "--store", args.store, "--wandb", args.wandb])
    print(f"benchmark wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

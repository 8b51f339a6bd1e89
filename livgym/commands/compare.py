"""`livgym compare CONFIG --methods ... --seeds N --budget N`: every method at equal budgets and seeds.

Writes `runs/<config name>/compare-<timestamp>/` (or `--out`): one search run folder per method
and seed, `compare.csv` (best reward and hypervolume after each unique evaluation),
`compare.md` (mean, spread and 95 % interval at a quarter, half, three quarters and all of the
budget) and `compare.png` (the curves).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from livgym.commands.common import (
    add_config_argument,
    add_space_argument,
    add_surrogate_argument,
    add_store_argument,
    add_wandb_argument,
    check_runnable,
    load_config,
    method_table,
    store_path,
    wandb_mode,
    with_space,
    with_surrogate,
)
from livgym.controllers.methods.registry import METHODS


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("compare", help="run several search methods at the same budget and seeds",
                                 epilog=method_table(), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_argument(parser)
    parser.add_argument("--methods", default="maskable_ppo,random,evolution,nsga2",
                        help="comma-separated, from the methods below; all: every registered method")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--budget", type=int, help="unique evaluations per run (default: the config's)")
    add_space_argument(parser)
    add_surrogate_argument(parser)
    parser.add_argument("--out", type=Path, help="output folder (default runs/<config name>/compare-<timestamp>)")
    add_store_argument(parser)
    add_wandb_argument(parser, "W&B logging of every run, grouped by comparison (default offline)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from livgym.controllers.compare import check_methods, run_compare

    config = with_surrogate(with_space(load_config(args.config), args.space), args.surrogate)
    budget = args.budget or config.budget
    config = config.with_overrides(budget=budget)  # validates the budget
    if args.seeds < 1:
        raise ValueError(f"--seeds {args.seeds}: give at least 1")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if methods == ["all"]:
        methods = list(METHODS)
    check_methods(methods)
    check_runnable(config)
    out = args.out or Path("runs") / config.name / time.strftime("compare-%Y%m%d-%H%M%S")
    print(f"livgym compare {config.name}: {', '.join(methods)} x {args.seeds} seeds, budget {budget} -> {out}")

    def progress(method: str, seed: int, tracker) -> None:
        if tracker.exhausted:
            print(f"  {method:<13} seed {seed}: best reward {tracker.best_reward:.4f}, "
                  f"hypervolume {tracker.archive.hypervolume():.4f}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    run_compare(config, methods, list(range(args.seeds)), budget, out, store=store_path(args.store), progress=progress,
                wandb=wandb_mode(args.wandb))
    print(f"done in {time.perf_counter() - start:.0f} s\n")
    print((out / "compare.md").read_text())
    return 0

"""`livgym search [CONFIG]`: run a design search and write its run folder.

The config is a YAML file (see `livgym.controllers.config`); `--method`, `--budget` and `--seed`
override its top-level keys. Results go to `runs/<config name>/<timestamp>/` (or `--out`), and
every evaluation goes through the shared evaluation store, so designs evaluated by earlier
runs with the same evaluator settings are read back, not retrained.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from livgym.commands.evaluate import DEFAULT_STORE
from livgym.controllers.config import METHOD_NAMES, SearchConfig
from livgym.controllers.search import print_progress, run_search


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("search", help="search for designs with an RL controller or a baseline")
    parser.add_argument("config", nargs="?", help="YAML config file (default: the built-in defaults)")
    parser.add_argument("--method", choices=METHOD_NAMES, help="override the config's method")
    parser.add_argument("--budget", type=int, help="override the number of unique evaluations")
    parser.add_argument("--seed", type=int, help="override the seed")
    parser.add_argument("--out", type=Path, help="run folder (default runs/<config name>/<timestamp>)")
    parser.add_argument("--store", default=os.environ.get("LIVGYM_STORE", DEFAULT_STORE),
                        help=f"evaluation store file (default $LIVGYM_STORE or {DEFAULT_STORE})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = SearchConfig.from_yaml(args.config) if args.config else SearchConfig()
    config = config.with_overrides(method=args.method, budget=args.budget, seed=args.seed)
    out = args.out or Path("runs") / config.name / time.strftime("%Y%m%d-%H%M%S")
    print(f"livgym search {config.name}: {config.method}, budget {config.budget}, seed {config.seed} -> {out}")
    start = time.perf_counter()
    try:
        result = run_search(config, out, store=args.store, progress=print_progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: what was evaluated is written to {out}")
        return 130
    print(f"done in {time.perf_counter() - start:.0f} s\n")
    print((out / "summary.md").read_text())
    return 0 if result.tracker.used else 1

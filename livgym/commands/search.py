"""`livgym search [CONFIG]`: run a design search and write its run folder.

The config is a YAML file (see `livgym.controllers.config`); `--method`, `--budget` and `--seed`
override its top-level keys. Results go to `runs/<config name>/<timestamp>/` (or `--out`), and
every evaluation goes through the shared evaluation store, so designs evaluated by earlier
runs with the same evaluator settings are read back, not retrained. `--resume RUN_DIR` carries
an interrupted run on, or extends a finished one to a larger `--budget`, as it was started.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from livgym.commands.common import (
    add_config_argument,
    add_space_argument,
    add_surrogate_argument,
    add_store_argument,
    add_wandb_argument,
    check_runnable,
    device_override,
    load_config,
    method_table,
    store_path,
    wandb_mode,
    with_space,
    with_surrogate,
)
from livgym.envs import ENVS
from livgym.envs.liv.space import DEFAULT_FIDELITY
from livgym.rewards.backends import BACKEND_KINDS

if TYPE_CHECKING:
    from livgym.controllers.config import SearchConfig


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("search", help="search for designs with an RL controller or a baseline",
                                 epilog=method_table(), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_argument(parser)
    parser.add_argument("--method", help="override the config's method: one of the methods below")
    parser.add_argument("--budget", type=int, help="override the number of unique evaluations (with --resume: "
                        "extend a run to this budget)")
    parser.add_argument("--seed", type=int, help="override the seed")
    add_space_argument(parser)
    add_surrogate_argument(parser)
    parser.add_argument("--out", type=Path, help="run folder (default runs/<config name>/<timestamp>)")
    add_store_argument(parser, "; with --resume, the run's own")
    add_wandb_argument(parser, "W&B logging: offline (default; no account, `wandb sync` uploads later), "
                               "online, disabled; with --resume, the run's own")
    parser.add_argument("--backend", choices=BACKEND_KINDS,
                        help="where evaluations run: inline, pool (local processes) or ray (overrides the config)")
    parser.add_argument("--workers", type=int, help="pool processes, or a local Ray cluster's CPUs")
    parser.add_argument("--ray-address", help='join an existing Ray cluster ("auto" on a cluster node, or ray://host:10001)')
    parser.add_argument("--device", help="where the design env's fidelity trains: auto (CUDA when present, the "
                        "default), cpu, cuda, cuda:N (sets space.fidelity_overrides train.device)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue a run in its folder with its own settings (nothing already evaluated is "
                             "trained again); with --budget, extend a finished run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from livgym.controllers.reporting.progress import ProgressBar
    from livgym.controllers.search import run_search

    if args.resume is not None:
        return resume(args)
    store = store_path(args.store)
    config = with_surrogate(with_space(load_config(args.config), args.space), args.surrogate)
    config = config.with_overrides(method=args.method, budget=args.budget, seed=args.seed)
    backend = {**config.backend, **{k: v for k, v in (("kind", args.backend), ("workers", args.workers),
                                                      ("address", args.ray_address)) if v is not None}}
    if args.ray_address and "kind" not in backend:
        backend["kind"] = "ray"
    config = config.with_overrides(backend=backend)
    if args.device:
        config = _with_device(config, args.device)
    check_runnable(config)
    out = args.out or Path("runs") / config.name / time.strftime("%Y%m%d-%H%M%S")
    print(f"livgym search {config.name}: {config.method}, budget {config.budget}, seed {config.seed} -> {out}",
          flush=True)
    start = time.perf_counter()
    try:
        with ProgressBar() as progress:
            result = run_search(config, out, store=store, progress=progress, wandb=wandb_mode(args.wandb))
    except KeyboardInterrupt:
        print(f"\ninterrupted: what was evaluated is written to {out}; `livgym search --resume {out}` "
              "carries on")
        return 130
    print(f"done in {time.perf_counter() - start:.0f} s\n")
    print((out / "summary.md").read_text())
    return 0 if result.tracker.used else 1


def resume(args: argparse.Namespace) -> int:
    from livgym.controllers.reporting.progress import ProgressBar
    from livgym.controllers.search import resume_search, run_state

    if args.config or args.method or args.seed is not None or args.out or args.space:
        raise ValueError("--resume RUN_DIR takes the run's own config and folder; drop CONFIG, --method, "
                         "--seed, --space and --out (--budget extends the run)")
    if args.backend or args.workers or args.ray_address or args.device:
        raise ValueError("--resume RUN_DIR runs on the backend and device in the run's config.yaml; drop "
                         "--backend, --workers, --ray-address and --device (or edit its backend or space section)")
    if args.budget is not None and args.budget < 1:
        raise ValueError(f"--budget {args.budget}: must be a positive integer")
    state = run_state(args.resume, args.budget)
    if state is not None:  # nothing to do: say so, replay nothing
        print(f"livgym search: {args.resume} is {state}")
        return 0
    print(f"livgym search: resuming {args.resume}" + (f" to budget {args.budget}" if args.budget else ""),
          flush=True)
    try:
        with ProgressBar() as progress:
            result = resume_search(args.resume, store=args.store, progress=progress, wandb=args.wandb,
                                   budget=args.budget)
    except KeyboardInterrupt:
        print(f"\ninterrupted again: what was evaluated is written to {args.resume}")
        return 130
    print(f"replayed {result.replayed} earlier evaluations from the store, then continued to "
          f"{result.tracker.used}\n")
    print((args.resume / "summary.md").read_text())
    return 0


def _with_device(config: SearchConfig, device: str) -> SearchConfig:
    """The config with its design space's fidelity training on `device`."""
    if not ENVS[config.env_id].device:
        raise ValueError(f"--device {device}: {config.env_id} answers from its table and trains nothing")
    space = dict(config.space or {})
    fidelity = space.get("fidelity", DEFAULT_FIDELITY)
    space["fidelity_overrides"] = {**(space.get("fidelity_overrides") or {}), **device_override(fidelity, device)}
    return config.with_overrides(space=space)

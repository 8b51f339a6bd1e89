"""`livgym space show SPEC|CONFIG` and `livgym space example FILE`: look at a search space before
searching it, and write the example table.

`show` takes a space spec (`runs/landscape.csv`, `nk`, `module:factory`: `livgym.envs.space_spec`)
or a search config (`.yaml`), and prints the space's designs, its choices and, where it knows
them (a table), each metric's range over the designs; given a config, also the objectives the
env resolved from it (reference points taken from the table where the config gives none), so
a config's objectives can be checked before a search. `example` writes the seeded synthetic
table `runs/landscape.csv` is (`livgym.envs.tables.synthetic`).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from livgym.commands.common import load_config, names
from livgym.envs import SPACES

CONFIG_SUFFIXES = (".yaml", ".yml")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("space", help="show a search space (a table file, a shipped space, a config's), "
                                               "or write the example table")
    actions = parser.add_subparsers(dest="space_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="a space's designs, choices, metric ranges (and a config's objectives)")
    show.add_argument("spec", help=f"a space spec (a shipped space: {names(SPACES)}; a table file such as "
                      "runs/landscape.csv; module:factory) or a config .yaml")
    show.set_defaults(run=run_show)
    example = actions.add_parser("example", help="write the example table (a seeded synthetic landscape) as CSV")
    example.add_argument("file", type=Path, help="where to write it, e.g. mydesigns.csv")
    example.add_argument("--seed", type=int, default=0, help="the landscape's seed (default 0: runs/landscape.csv)")
    example.set_defaults(run=run_example)


def run_show(args: argparse.Namespace) -> int:
    if args.spec.lower().endswith(CONFIG_SUFFIXES):
        config = load_config(args.spec)
        env = config.make_env()
        where = f"config {config.name}: {config.env_id}"
    else:
        from livgym.controllers.config import SearchConfig
        from livgym.envs.space_spec import SpaceSpec

        spec = SpaceSpec.parse(args.spec, "space")
        if spec.kind() == "shipped":
            env = SearchConfig(space=args.spec).make_env()
            where = spec.env_id()
        else:
            env, where = None, spec.source
    space = env.space if env is not None else spec.build()
    try:
        print("\n".join(describe_space(space, where)))
        if env is not None:
            print("\n".join(describe_objectives(env)))
    finally:
        (env or space).close()
    return 0


def describe_space(space, where: str) -> list[str]:
    """Lines: the space, its designs and choices, and its metrics' ranges where it knows them."""
    designs = space.designs()
    count = f"{len(designs):,} designs" if designs is not None else "designs not listed"
    lines = [f"space {space.name!r} ({type(space).__name__}, from {where}): {count}, "
             f"{space.n_actions - 1} edit actions"]
    labels, names = getattr(space, "labels", None), getattr(space, "names", None)
    if labels is not None:
        lines.append("choices:")
        for i, options in enumerate(labels):
            lines.append(f"  {names[i] if names else i}: {', '.join(options)}")
    values = space.metric_values()
    if values is not None:
        cheap = set(getattr(space, "cheap", ()))
        lines.append("metrics (over the designs; cheap: known before evaluation):")
        width = max(len(m) for m in values)
        for metric, column in values.items():
            finite = [v for v in column if math.isfinite(v)]
            missing = len(column) - len(finite)
            span = f"{min(finite):.6g} .. {max(finite):.6g}" if finite else "no values"
            notes = [note for note in ("cheap" if metric in cheap else "",
                                       f"{missing} without a value" if missing else "") if note]
            lines.append(f"  {metric:<{width}}  {span}" + (f"  ({', '.join(notes)})" if notes else ""))
    return lines


def describe_objectives(env) -> list[str]:
    """Lines: each objective of an env as it resolved them (metric, direction, scale, references)."""
    lines = ["objectives (utility 1 at the ideal, 0 at the nadir):"]
    for o in env.objectives.objectives:
        floor = f", floor {o.floor:.6g}" if o.floor is not None else ""
        lines.append(f"  {o.name}: metric {o.key}, {o.direction}, {o.scale} scale, ideal {o.ideal:.6g}, "
                     f"nadir {o.nadir:.6g}{floor}")
    return lines


def run_example(args: argparse.Namespace) -> int:
    from livgym.envs.tables.synthetic import write_synthetic_csv

    if args.file.suffix.lower() != ".csv":
        raise ValueError(f"{args.file}: the example table is CSV; give a file name ending in .csv")
    path = write_synthetic_csv(args.file, seed=args.seed)
    print(f"wrote {path}: the example table (seed {args.seed}); `livgym space show {path}` describes it")
    return 0

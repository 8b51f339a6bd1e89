"""`livgym dataset list|show|import|export`: the evaluation datasets (`livgym.rewards.evaluation.dataset`)
from the command line, with no Python.

A dataset is a gzip JSON-lines file of evaluation results; those shipped under `rewards/data/`
took minutes of training each, and are kept so that reports regenerate and nothing is trained
twice. `list` names the shipped ones, `show` summarises one (a shipped name or a file),
`import` puts datasets into an evaluation store (the one `livgym search` uses by default), so a
search there is answered for those designs without training, and `export` writes a store's
results (optionally only some fidelities) to a dataset file.

Every dataset named is read in full before a store is opened, so a corrupt line or an unknown
name is an error before anything is imported. `list` and `show` import neither torch nor the
evaluators; `export --fidelity` does (the fidelity's config hash is the evaluator's).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from livgym.commands.common import add_store_argument, store_path

if TYPE_CHECKING:
    from livgym.rewards.evaluation.result import EvaluationResult

SHOWN_GENOMES = 5  # `show` lists this many genomes unless --genomes says otherwise


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dataset", help="the shipped evaluation datasets: list, show, import into a store, "
                                                 "export a store's results")
    actions = parser.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the shipped datasets: results, fidelities, statuses")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one dataset's counts, library versions and first genomes")
    show.add_argument("dataset", metavar="FILE_OR_NAME", help="a shipped dataset's name (e.g. proxy_fidelity) or a "
                                                              "dataset file (.jsonl.gz)")
    show.add_argument("--genomes", type=int, default=SHOWN_GENOMES, metavar="N",
                      help=f"how many genomes to list (default {SHOWN_GENOMES})")
    show.set_defaults(run=run_show)
    imports = actions.add_parser("import", help="put datasets' results into an evaluation store (never overwrites)")
    imports.add_argument("datasets", nargs="*", metavar="FILE_OR_NAME", help="shipped dataset names or dataset files")
    imports.add_argument("--all", action="store_true", help="every shipped dataset")
    add_store_argument(imports)
    imports.set_defaults(run=run_import)
    export = actions.add_parser("export", help="write a store's results to a dataset file (merged with what it holds)")
    add_store_argument(export)
    export.add_argument("--out", type=Path, required=True, metavar="FILE", help="the dataset file (.jsonl.gz)")
    export.add_argument("--fidelity", action="append", metavar="F",
                        help="only results at this fidelity's current config (repeatable; default: every result)")
    export.set_defaults(run=run_export)


def resolve_dataset(text: str) -> Path:
    """The dataset file `text` names: an existing file, else a shipped dataset's name. Something
    that looks like a path (a folder in it, a `.gz` or `.jsonl` ending) must be an existing file."""
    from livgym.rewards.evaluation.dataset import shipped_dataset

    path = Path(text)
    if path.is_file():
        return path
    if path.is_dir() and ("/" in text or "\\" in text):
        raise ValueError(f"dataset file {text!r} is a folder; give a .jsonl.gz file or a shipped name")
    if "/" in text or "\\" in text or text.endswith((".gz", ".jsonl")):
        raise ValueError(f"dataset file {text!r} does not exist")
    return shipped_dataset(text)  # an error listing the shipped ones when unknown


def load(path: Path) -> list[EvaluationResult]:
    """Every result of the dataset at `path`; a ValueError naming the file (and line) otherwise."""
    from livgym.rewards.evaluation.dataset import read_dataset

    return list(read_dataset(path))


def dataset_name(path: Path) -> str:
    from livgym.rewards.evaluation.dataset import SUFFIX

    return path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name


def counts(values: Iterable[object]) -> str:
    """`a 3, b 1`: each value with how often it occurs, most common first."""
    return ", ".join(f"{value} {n}" for value, n in Counter(values).most_common())


def run_list(args: argparse.Namespace) -> int:
    from livgym.rewards.evaluation.dataset import DATA_DIR, shipped_datasets

    paths = shipped_datasets()
    if not paths:
        print(f"no shipped datasets in {DATA_DIR}")
        return 0
    rows = [("name", "results", "fidelities", "statuses")]
    for path in paths:
        results = load(path)
        rows.append((dataset_name(path), str(len(results)), counts(r.fidelity for r in results) or "-",
                     counts(r.status for r in results) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"\n(in {DATA_DIR}; `livgym dataset show NAME` summarises one, `livgym dataset import --all` "
          "puts them into the evaluation store)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    if args.genomes < 0:
        raise ValueError(f"--genomes {args.genomes}: must be 0 or more")
    path = resolve_dataset(args.dataset)
    print("\n".join(describe_dataset(path, load(path), args.genomes)))
    return 0


def describe_dataset(path: Path, results: list[EvaluationResult], genomes: int = SHOWN_GENOMES) -> list[str]:
    """Lines: a dataset's results counted per evaluator, fidelity (with its config hash) and
    status, its library versions, the training time it holds, and its first `genomes` genomes."""
    lines = [f"dataset {dataset_name(path)} ({path}): {len(results)} results"]
    if not results:
        return lines
    seconds = sum(r.wall_time for r in results)
    lines += [f"evaluators:       {counts(r.evaluator for r in results)}",
              f"fidelities:       {counts(f'{r.fidelity} (config {r.config_hash})' for r in results)}",
              f"statuses:         {counts(r.status for r in results)}",
              f"seeds:            {counts(r.seed for r in results)}",
              f"library versions: {counts(r.library_version for r in results)}",
              f"evaluation time:  {seconds / 60:,.1f} min in all ({seconds:,.0f} s)"]
    if genomes:
        shown = results[:genomes]
        lines.append(f"genomes (first {len(shown)} of {len(results)}):")
        width = max(len(r.genome) for r in shown), max(len(r.fidelity) for r in shown), \
            max(len(r.status) for r in shown)
        for r in shown:
            quality = r.metrics.get("quality")
            measured = f"quality {quality:.4g}" if quality is not None else f"{len(r.metrics)} metrics"
            lines.append(f"  {r.genome:<{width[0]}}  {r.fidelity:<{width[1]}}  {r.status:<{width[2]}}  {measured}")
    return lines


def run_import(args: argparse.Namespace) -> int:
    from livgym.rewards.evaluation.dataset import import_dataset, shipped_datasets
    from livgym.rewards.evaluation.store import EvaluationStore

    if args.all and args.datasets:
        raise ValueError(f"--all imports every shipped dataset; drop the names {args.datasets} or --all")
    if not args.all and not args.datasets:
        raise ValueError("name the datasets to import (shipped names or files), or give --all")
    paths = shipped_datasets() if args.all else [resolve_dataset(text) for text in args.datasets]
    for path in paths:  # every file readable before the store changes
        load(path)
    store = store_path(args.store)
    with EvaluationStore(store) as opened:
        for path in paths:
            report = import_dataset(path, opened)
            print(f"{dataset_name(path)}: {report.added} added, {report.present} already present")
        total = len(opened)
    print(f"store {store}: {total} results")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from livgym.rewards.evaluation.dataset import SUFFIX, export_dataset
    from livgym.rewards.evaluation.store import EvaluationStore

    if not args.out.name.endswith(SUFFIX):
        raise ValueError(f"--out {args.out}: a dataset is gzip JSON lines; give a file name ending in {SUFFIX}")
    hashes = None
    if args.fidelity:
        from livgym.rewards.evaluation.evaluator import make_evaluator

        hashes = [make_evaluator(fidelity).config_hash() for fidelity in args.fidelity]  # unknown: an error
    before = len(load(args.out)) if args.out.exists() else 0  # a corrupt file is refused, not overwritten
    store = store_path(args.store)
    with EvaluationStore(store, readonly=True) as opened:
        written = export_dataset(opened, args.out, config_hashes=hashes)
    which = f" at {', '.join(args.fidelity)}" if args.fidelity else ""
    print(f"wrote {args.out}: {written} results ({written - before} new from {store}{which}, "
          f"{before} already in the file)")
    return 0

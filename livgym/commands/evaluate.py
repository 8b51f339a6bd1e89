"""`livgym evaluate GENOME --fidelity F`: measure one genome and keep the result in the store.

A genome already evaluated under the same (canonical hash, evaluator, config hash, seed) key
is answered from the store instantly; `--set key=value` overrides evaluator config fields
(dotted for nested ones: `--set train.steps=100`), which changes the config hash.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import yaml

from livgym.commands.common import add_store_argument, device_override, resolve_genome, store_path
from livgym.rewards.evaluation.evaluator import SHIPPED_FIDELITIES, make_evaluator
from livgym.rewards.evaluation.store import EvaluationStore

DEFAULT_FIDELITY = "mad-lite"  # the quality proxy real searches use


def fidelity_table() -> str:
    """The shipped fidelities and what each measures, as `--help` ends."""
    width = max(len(name) for name in SHIPPED_FIDELITIES)
    rows = [f"  {name:<{width}}  {shipped.summary}" for name, shipped in SHIPPED_FIDELITIES.items()]
    return "\n".join(["fidelities:", *rows])


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("evaluate", help="evaluate a genome at a fidelity (stored, cached)",
                                 epilog=fidelity_table(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("genome", help="a reference name, a genome string, or a genome JSON file")
    parser.add_argument("--fidelity", default=DEFAULT_FIDELITY,
                        help="one of the fidelities below (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override an evaluator config field (repeatable)")
    parser.add_argument("--device", help="where trained fidelities train: auto (CUDA when present, the "
                        "default), cpu, cuda, cuda:N; not part of the store key (same as --set train.device=...)")
    add_store_argument(parser)
    parser.add_argument("--width", type=int, help="genome width, for a reference name")
    parser.add_argument("--heads", type=int, help="genome heads, for a reference name")
    parser.add_argument("--depth", type=int, help="number of slots, for a reference name")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)


def parse_overrides(items: list[str]) -> dict[str, object]:
    """`--set KEY=VALUE` items as config overrides, each value read as YAML (`100`, `[a, b]`);
    the evaluator checks each value's type when it is made, before any work."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = str(err).splitlines()[0]
            raise ValueError(f"--set {key.strip()!r}: {value!r} is not valid YAML ({problem})") from None
    return out


def run(args: argparse.Namespace) -> int:
    genome = resolve_genome(args.genome, args.width, args.heads, args.depth)
    overrides = parse_overrides(args.overrides)
    if args.device:
        overrides.update(device_override(args.fidelity, args.device))
    evaluator = make_evaluator(args.fidelity, **overrides)
    path = store_path(args.store)
    start = time.perf_counter()
    with EvaluationStore(path) as store:
        result, cached = store.evaluate_cached(evaluator, genome, args.seed)
    elapsed = time.perf_counter() - start
    if args.json:
        print(json.dumps({**result.to_dict(), "cache_hit": cached, "store": path}, indent=2))
        return 0 if result.ok else 1
    print(f"genome     {result.genome}  (hash {result.genome_hash})")
    print(f"fidelity   {result.fidelity}  (evaluator {result.evaluator}, config {result.config_hash}, seed {result.seed})")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(result.timestamp))
    source = f"answered from {path} in {elapsed:.3f} s (evaluated {when})" if cached \
        else f"evaluated in {result.wall_time:.1f} s{_on(result.config)}, stored in {path}"
    print(f"status     {result.status}; {source}")
    if result.error:
        print(f"error      {result.error.strip().splitlines()[0]}")
    if result.metrics:
        width = max(len(k) for k in result.metrics)
        print(f"\n{'metric':<{width}}  value")
        for key, value in result.metrics.items():
            print(f"{key:<{width}}  {_format(value)}")
    return 0 if result.ok else 1


def _on(config: dict) -> str:
    return f" on {config['ran_on']}" if config.get("ran_on") else ""


def _format(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:.4g}"

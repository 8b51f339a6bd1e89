"""`livgym genome show|classes|references`: inspect genomes and what they cost.

`show` takes a reference genome's name (`transformer++`), a genome string in STAR's notation
(`21211-31112`, see `livgym.models.genome`) or a genome JSON file, and prints the genome and
its exact parameters, inference cache and FLOPs per token (integers and human units).
"""

from __future__ import annotations

import argparse
import json

from livgym.commands.common import HEAD_DIM, default_heads, resolve_genome
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE, Efficiency, efficiency
from livgym.models.genes import DEFAULT_WIDTH
from livgym.models.genome import Genome
from livgym.models.reference import DEFAULT_DEPTH, REFERENCE_GENOMES, reference_genome
from livgym.models.registry import CLASSES_BY_ID, LIV_CLASSES


def add_parser(commands: argparse._SubParsersAction) -> None:
    genome = commands.add_parser("genome", help="inspect genomes and their costs")
    sub = genome.add_subparsers(dest="genome_command", required=True, metavar="SUBCOMMAND")

    show = sub.add_parser("show", help="print a genome and its params / cache / FLOPs")
    show.add_argument("genome", help="a reference name (%s), a genome string, or a JSON file"
                      % ", ".join(REFERENCE_GENOMES))
    show.add_argument("--width", type=int,
                      help=f"model width (default: the genome's own, {DEFAULT_WIDTH} for references)")
    show.add_argument("--heads", type=int, help=f"attention heads (default: width / {HEAD_DIM} when --width is given)")
    show.add_argument("--depth", type=int, help=f"number of slots, for a reference name (default {DEFAULT_DEPTH})")
    show.add_argument("--context-length", type=int, nargs="+", default=[DEFAULT_CONTEXT_LENGTH], metavar="L",
                      help=f"context length(s) for cache and FLOPs (default {DEFAULT_CONTEXT_LENGTH})")
    show.add_argument("--bytes-per-value", type=int, default=2, help="cache bytes per value (default 2: 16-bit)")
    show.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE, help=f"vocabulary size (default {DEFAULT_VOCAB_SIZE})")
    show.add_argument("--untied", action="store_true", help="count an untied output head")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=run_show)

    classes = sub.add_parser("classes", help="list the registered LIV classes")
    classes.set_defaults(run=run_classes)

    refs = sub.add_parser("references", help="list the reference genomes with their costs")
    refs.add_argument("--width", type=int, default=DEFAULT_WIDTH)
    refs.add_argument("--heads", type=int)
    refs.add_argument("--depth", type=int, default=DEFAULT_DEPTH)
    refs.add_argument("--context-length", type=int, default=DEFAULT_CONTEXT_LENGTH)
    refs.set_defaults(run=run_references)


def human(value: float, unit: str = "", base: int = 1000) -> str:
    prefixes = ["", "K", "M", "G", "T", "P"] if base == 1000 else ["", "Ki", "Mi", "Gi", "Ti", "Pi"]
    i = 0
    while abs(value) >= base and i < len(prefixes) - 1:
        value /= base
        i += 1
    return f"{value:.1f} {prefixes[i]}{unit}".rstrip() if i else f"{value:.0f} {unit}".rstrip()


def composition(genome: Genome) -> str:
    counts: dict[int, int] = {}
    for slot in genome.slots:
        counts[slot.liv_class] = counts.get(slot.liv_class, 0) + 1
    return ", ".join(f"{CLASSES_BY_ID[c].name} x{n}" for c, n in sorted(counts.items()))


def run_show(args: argparse.Namespace) -> int:
    genome = resolve_genome(args.genome, args.width, args.heads, args.depth)
    costs = [efficiency(genome, context_length=length, bytes_per_value=args.bytes_per_value,
                        vocab_size=args.vocab_size, tie_embeddings=not args.untied)
             for length in args.context_length]
    if args.json:
        print(json.dumps({
            "genome": genome.to_string(), "star_notation": genome.backbone_string(),
            "canonical_hash": genome.canonical_hash(), "depth": genome.depth,
            "width": genome.width, "heads": genome.heads, "json": genome.to_dict(),
            "costs": [c.to_dict() for c in costs]}, indent=2))
        return 0
    first = costs[0]
    print(f"genome      {genome.to_string()}")
    print(f"hash        {genome.canonical_hash()}")
    print(f"backbone    {genome.depth} slots: {composition(genome)}")
    print(f"width       {genome.width}, heads {genome.heads}, vocab {first.vocab_size}, "
          f"{8 * first.bytes_per_value}-bit cache values")
    print(f"params      {first.params:,} ({human(first.params)}); "
          f"without embeddings {first.params_without_embeddings:,} ({human(first.params_without_embeddings)})")
    for c in costs:
        print(_cost_line(c))
    return 0


def _cost_line(c: Efficiency) -> str:
    return (f"context {c.context_length:>6}: cache {c.cache_bytes:,} bytes ({human(c.cache_bytes, 'B', 1024)}); "
            f"FLOPs/token {c.flops_per_token:,.0f} ({human(c.flops_per_token, 'FLOP')})")


def run_classes(args: argparse.Namespace) -> int:
    rows = [["id", "name", "mixing", "nonlinearity", "sparsity", "channels", "featurizer", "exp", "rep",
             "conv", "diff", "summary"]]
    for row in LIV_CLASSES:
        g = row.genome
        sparsity = f"banded {g.window}" if g.uses_window else "none"
        featurizer = f"short filter {g.kernel}" if g.uses_kernel else g.featurizer.name.lower().replace("_", " ")
        rows.append([str(row.id), row.name, g.mixing.name.lower().replace("_", "-"), g.nonlinearity.name.lower(),
                     sparsity, g.channels.name.lower(), featurizer, str(g.expansion), str(g.repeat),
                     "yes" if g.short_conv else "-", "yes" if g.differential else "-", row.summary])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return 0


def run_references(args: argparse.Namespace) -> int:
    heads = args.heads or default_heads(args.width)
    print(f"width {args.width}, heads {heads}, depth {args.depth}, context {args.context_length}, 16-bit cache")
    print(f"{'reference':<24} {'params':>14} {'cache bytes':>16} {'FLOPs/token':>16}")
    for name in REFERENCE_GENOMES:
        c = efficiency(reference_genome(name, depth=args.depth, width=args.width, heads=heads),
                       context_length=args.context_length)
        print(f"{name:<24} {c.params:>14,} {c.cache_bytes:>16,} {c.flops_per_token:>16,.0f}")
    return 0

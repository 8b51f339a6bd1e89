"""How big candidate LIV-Bench sub-spaces are (issue 6): canonical designs per depth.

    python benchmarks/livbench_space.py [--max-depth 4] [--classes 1,5,7,9 1,5,7,8,9,18 ...]

For each candidate (a class list at one width, sharing allowed, registry class genomes), counts
every canonical design up to `--max-depth` slots by breadth-first search over the env's edits
(`livgym.envs.liv.enumerate`), and prints the time and the evaluation budget per design that a
two-hour table on this machine's cores would allow.
"""

from __future__ import annotations

import argparse
import os
import time

from common import machine, markdown_table
from livgym.envs.liv.enumerate import canonical_designs
from livgym.models.registry import CLASSES_BY_ID

TABLE_SECONDS = 2 * 3600  # issue 6: the whole table in about two hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument("--classes", nargs="+", default=["1,5,7,9", "1,5,7,8,9,18", "1,3,5,7,9,19"])
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {machine()}\n")
    rows = []
    for spec in args.classes:
        classes = tuple(int(c) for c in spec.split(","))
        start = time.perf_counter()
        designs = canonical_designs(classes, args.max_depth)
        seconds = time.perf_counter() - start
        per_depth = [sum(g.depth == d for g in designs.values()) for d in range(1, args.max_depth + 1)]
        names = ", ".join(CLASSES_BY_ID[c].name for c in classes)
        rows.append([names, args.max_depth, len(designs), " / ".join(map(str, per_depth)), f"{seconds:.0f}",
                     f"{TABLE_SECONDS * cores / len(designs):.1f}"])
    print(markdown_table(["classes", "max depth", "canonical designs", "per depth (1..max)", "enumeration s",
                          f"s per design for a 2 h table on {cores} cores"], rows))


if __name__ == "__main__":
    main()

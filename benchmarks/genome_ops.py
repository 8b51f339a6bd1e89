"""Per-call cost of the genome operations the design environment runs on every step.

    python benchmarks/genome_ops.py

On 24-slot genomes (the default max depth): constructing (validating) a genome, its canonical
hash, the analytic cost model, listing the valid edits, building the env's action mask from
them (`envs.liv.actions.ActionCodec.mask`) and applying one edit; the median over repeated timing
rounds, in microseconds.
"""

from __future__ import annotations

import random
import statistics
import time

from common import machine, markdown_table
from livgym.envs.liv.actions import ActionCodec
from livgym.models import Genome, apply_edit, efficiency, reference_genome, valid_edits, REFERENCE_GENOMES


def per_call_us(fn, calls: int = 200, rounds: int = 7) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    print(f"machine: {machine()}\n")
    rows = []
    rng = random.Random(0)
    codec = ActionCodec()
    for name in REFERENCE_GENOMES:
        genome = reference_genome(name, depth=24)
        edits = valid_edits(genome)
        edit = rng.choice(edits)
        rows.append([
            name, len(edits),
            f"{per_call_us(lambda: Genome(genome.slots, genome.width, genome.heads, genome.class_overrides)):.0f}",
            f"{per_call_us(genome.canonical_hash):.0f}",
            f"{per_call_us(lambda: efficiency(genome)):.0f}",
            f"{per_call_us(lambda: valid_edits(genome), calls=50):.0f}",
            f"{per_call_us(lambda: codec.mask(genome), calls=20):.0f}",
            f"{per_call_us(lambda: apply_edit(genome, edit)):.0f}",
        ])
    print(markdown_table(["genome (24 slots)", "valid edits", "construct us", "canonical_hash us",
                          "efficiency us", "valid_edits us", "action mask us", "apply_edit us"], rows))


if __name__ == "__main__":
    main()

"""Seconds per evaluation of the fidelities that the proxy-fidelity benchmark does not train.

    python benchmarks/evaluation_cost.py [--fidelities analytic efficiency zero-cost byte-lm]

Each reference genome at depth 8 (costed at width 768, trained or timed at proxy width 64),
evaluated once per fidelity in this process with one torch thread, no store: the wall time
of `Evaluator.evaluate`, and the metric each fidelity exists for.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from common import machine, markdown_table
from livgym.models import reference_genome, REFERENCE_GENOMES
from livgym.rewards.evaluation.evaluator import make_evaluator

HEADLINE = {"analytic": "cache_bytes", "efficiency": "latency", "zero-cost": "quality", "byte-lm": "bits_per_byte"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fidelities", nargs="+", default=list(HEADLINE))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}\n")
    rows, summary = [], []
    for fidelity in args.fidelities:
        evaluator = make_evaluator(fidelity)
        seconds = []
        for name in REFERENCE_GENOMES:
            result = evaluator.evaluate(reference_genome(name, depth=8), seed=0)
            seconds.append(result.wall_time)
            metric = HEADLINE[fidelity]
            value = result.metrics.get(metric, float("nan"))
            rows.append([fidelity, name, result.status, f"{result.wall_time:.3f}", f"{metric} = {value:.4g}"])
            print("  " + " | ".join(rows[-1]), flush=True)
        summary.append([fidelity, f"{statistics.median(seconds):.3f}", f"{max(seconds):.3f}"])
    print()
    print(markdown_table(["fidelity", "median s / genome", "max s / genome"], summary))
    print()
    print(markdown_table(["fidelity", "genome (depth 8)", "status", "seconds", "headline metric"], rows))


if __name__ == "__main__":
    main()

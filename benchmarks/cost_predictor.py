"""How well the analytic forward FLOPs rank real evaluation times, and what ordering by them buys a pool.

    python benchmarks/cost_predictor.py [--workers 2] [--draws 3000]    # from the shipped data, no training

Reads the proxy-fidelity study's evaluations (`rewards/data/proxy_fidelity.jsonl.gz`) and reports,
per trained fidelity:
- the Spearman correlation of a genome's forward FLOPs (`EvaluationJob.cost_hint`) with its
  evaluation's seconds;
- the parallel speed-up (total seconds / makespan) of batches of 2-8 of those evaluations drawn at
  random, run on `--workers` workers that each take the next job when free: in drawn order, dearest
  first by FLOPs (what the backends do), and dearest first by the true seconds (the ceiling of any
  ordering). A simulation of a synchronous round from measured seconds, not a timing.
"""

from __future__ import annotations

import argparse
import random

from scipy.stats import spearmanr

from common import markdown_table
from livgym.rewards.backends import EvaluationJob
from livgym.rewards.evaluation.dataset import read_dataset, shipped_dataset

BATCHES = (2, 4, 6, 8)


def makespan(seconds: list[float], workers: int) -> float:
    """When the last of `seconds` (in submission order) ends on `workers` greedy workers."""
    free = [0.0] * workers
    for s in seconds:
        free[free.index(min(free))] += s
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=3000, help="random batches per size")
    args = parser.parse_args()
    results = [r for r in read_dataset(shipped_dataset("proxy_fidelity")) if r.status == "ok"]
    rows = []
    for fidelity in ("mad-lite-short", "mad-lite", "mad-lite-long"):
        pairs = [(EvaluationJob.of(fidelity, r.genome).cost_hint, r.wall_time) for r in results if r.fidelity == fidelity]
        rho = spearmanr(*zip(*pairs))[0] if len(pairs) > 2 else float("nan")
        print(f"{fidelity:<15} {len(pairs):>3} evaluations: Spearman(forward FLOPs, seconds) = {rho:.2f}")
        if len(pairs) < 2:
            continue
        rng = random.Random(0)
        for size in BATCHES:
            total = drawn = by_flops = by_seconds = 0.0
            for _ in range(args.draws):
                batch = [rng.choice(pairs) for _ in range(size)]
                total += sum(s for _, s in batch)
                drawn += makespan([s for _, s in batch], args.workers)
                by_flops += makespan([s for _, s in sorted(batch, key=lambda p: -p[0])], args.workers)
                by_seconds += makespan(sorted((s for _, s in batch), reverse=True), args.workers)
            rows.append([fidelity, size, f"{total / drawn:.2f}x", f"{total / by_flops:.2f}x", f"{total / by_seconds:.2f}x"])
    print(f"\nspeed-up of a synchronous batch on {args.workers} workers (simulated from the measured seconds):\n")
    print(markdown_table(["fidelity", "batch", "drawn order", "dearest first (FLOPs)", "dearest first (true seconds)"], rows))


if __name__ == "__main__":
    main()

"""How well the analytic forward FLOPs rank real evaluation times (a pool could order jobs by it).

    python benchmarks/cost_predictor.py     # from the shipped proxy-fidelity dataset, no training
"""

from __future__ import annotations

from scipy.stats import spearmanr

from livgym.models import Genome, efficiency
from livgym.rewards.dataset import read_dataset, shipped_dataset


def main() -> None:
    results = [r for r in read_dataset(shipped_dataset("proxy_fidelity")) if r.status == "ok"]
    for fidelity in ("mad-lite-short", "mad-lite", "mad-lite-long"):
        rows = [(efficiency(Genome.from_string(r.genome), context_length=32).forward_flops, r.wall_time)
                for r in results if r.fidelity == fidelity]
        rho = spearmanr(*zip(*rows))[0] if len(rows) > 2 else float("nan")
        print(f"{fidelity:<15} {len(rows):>3} evaluations: Spearman(forward FLOPs, seconds) = {rho:.2f}")


if __name__ == "__main__":
    main()

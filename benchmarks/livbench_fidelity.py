"""How well LIV-Bench's table fidelity ranks designs like `mad-lite` does (issue 6).

    python benchmarks/livbench_fidelity.py [--designs 20] [--workers 2]
        [--store ../runs/benchmarks/livbench_fidelity.sqlite] [--table PATH]

Picks `--designs` rows of the table at evenly spaced ranks of its `livbench` quality (so the
sample spans the table's range, best and worst included), evaluates them at `mad-lite` (seed
0, the same as the table's) and at `zero-cost` through an evaluation store on a process pool
(a rerun answers from the store), and reports Spearman's rho and Kendall's tau of `livbench`
and of `zero-cost` against `mad-lite`, with the seconds per design.
The evaluations are exported to the dataset `--dataset` (default the shipped
`rewards/data/livbench_fidelity.jsonl.gz`) when the run starts (what an interrupted run left in
the store) and when it ends, so they ship with the package.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

from common import machine, markdown_table
from livgym.envs.livbench.bench import table_index
from livgym.rewards.backends import EvaluationJob, ProcessPoolBackend
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.evaluation.dataset import DATA_DIR, SUFFIX, export_dataset
from livgym.rewards.evaluation.store import EvaluationStore

HERE = Path(__file__).resolve().parent
FIDELITIES = ("mad-lite", "zero-cost")


def export(store_path: str, dataset: str) -> int:
    """Write the store's results of this study's fidelities to the dataset (merged with it)."""
    if not Path(store_path).exists():
        return 0
    with EvaluationStore(store_path, readonly=True) as store:
        return export_dataset(store, dataset, config_hashes=[make_evaluator(f).config_hash() for f in FIDELITIES])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--designs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default=str(HERE.parent / "runs" / "benchmarks" / "livbench_fidelity.sqlite"))
    parser.add_argument("--table", default=None)
    parser.add_argument("--dataset", default=str(DATA_DIR / f"livbench_fidelity{SUFFIX}"))
    args = parser.parse_args()
    index = table_index(args.table)
    seed = index.spec["seed"]
    ok = sorted((m["quality"], index.genomes[k]) for k, m in index.metrics.items() if index.status[k] == "ok")
    picks = [ok[int(round(i))] for i in np.linspace(0, len(ok) - 1, args.designs)]
    genomes = [g for _, g in picks]
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    export(args.store, args.dataset)
    with ProcessPoolBackend(args.store, workers=args.workers) as backend:
        reference = backend.run([EvaluationJob.of("mad-lite", g, seed) for g in genomes])
        zero = backend.run([EvaluationJob.of("zero-cost", g, seed) for g in genomes])
    print(f"{export(args.store, args.dataset)} evaluations in {args.dataset}")
    rows, mad, bench, zc = [], [], [], []
    for (quality, genome), r, z in zip(picks, reference, zero):
        rows.append([genome, f"{quality:.3f}", f"{z.result.metrics.get('quality', float('nan')):.3f}",
                     f"{r.result.metrics.get('quality', float('nan')):.3f}", r.result.status,
                     f"{r.result.wall_time:.0f}"])
        if r.result.ok and z.result.ok:
            mad.append(r.result.metrics["quality"])
            bench.append(quality)
            zc.append(z.result.metrics["quality"])
    print(markdown_table(["design", "livbench", "zero-cost", "mad-lite", "mad-lite status", "mad-lite s"], rows))
    print()
    summary = []
    for name, values in (("livbench (the table)", bench), ("zero-cost", zc)):
        rho, tau = stats.spearmanr(values, mad).statistic, stats.kendalltau(values, mad).statistic
        summary.append([name, len(values), f"{rho:.2f}", f"{tau:.2f}"])
    print(markdown_table(["fidelity", "designs", "Spearman vs mad-lite", "Kendall vs mad-lite"], summary))
    seconds = [r.result.wall_time for r in reference]
    table_seconds = [index.metrics[k]["quality_seconds"] for k in index.genomes]
    print(f"\nseconds per design: mad-lite median {np.median(seconds):.1f}; livbench median "
          f"{np.median(table_seconds):.1f} over the whole table (sum {sum(table_seconds) / 3600:.2f} core-hours)")


if __name__ == "__main__":
    main()

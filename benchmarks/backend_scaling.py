"""Evaluation backends: evaluations per hour with 1 and 2 workers, and overhead per evaluation.

    python benchmarks/backend_scaling.py [--genomes 8] [--steps 10] [--backends inline pool ray]

Two workloads, each on fresh stores so that nothing is answered from a store:
- *scaling*: `mad-lite-short` with its training cut to `--steps` updates (a few seconds per
  genome, as a real evaluation is, but short enough to repeat), on `--genomes` distinct depth-6
  genomes; evaluations per hour with 1 worker and with 2, and their ratio (the target is 1.8x
  on this 2-core machine);
- *overhead*: the `analytic` fidelity (tens of microseconds of work), whose wall time per
  evaluation is what the backend itself costs (process start-up excluded: pools and Ray are
  started before the clock).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from common import machine, markdown_table
from livgym.models import apply_edit, reference_genome, valid_edits
from livgym.rewards.backends import EvaluationBackend, EvaluationJob, InlineBackend, ProcessPoolBackend, RayBackend


def genomes(count: int, seed: int = 0) -> list[str]:
    """Distinct depth-6 genomes: reference genomes changed by seeded random edits."""
    rng = random.Random(seed)
    found: dict[str, str] = {}
    names = ["transformer++", "mamba-like", "hyena-like", "striped-hybrid", "gated-conv"]
    while len(found) < count:
        genome = reference_genome(rng.choice(names), depth=6, width=64, heads=4)
        for _ in range(rng.randint(1, 4)):
            edits = [e for e in valid_edits(genome, max_depth=6) if type(e).__name__ != "Insert"]
            genome = apply_edit(genome, rng.choice(edits), max_depth=6)
        found.setdefault(genome.canonical_hash(), genome.to_string())
    return list(found.values())


def make_backend(kind: str, store: Path, workers: int) -> EvaluationBackend:
    if kind == "inline":
        return InlineBackend(store)
    if kind == "pool":
        return ProcessPoolBackend(store, workers=workers)
    return RayBackend(store, num_cpus=workers)


def timed(kind: str, workers: int, jobs: list[EvaluationJob], folder: Path) -> float:
    """Seconds to run `jobs` on a started backend with a fresh store."""
    store = folder / f"{kind}-{workers}-{jobs[0].fidelity}.sqlite"
    if kind == "ray":
        import ray

        ray.shutdown()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 _temp_dir=tempfile.mkdtemp(prefix="ray"))
    with make_backend(kind, store, workers) as backend:
        # Start every worker (distinct designs: a repeated one would be answered by the store).
        backend.run([EvaluationJob.of("analytic", f"{c}1111@w64h4") for c in range(1, 2 * workers + 2)])
        start = time.perf_counter()
        outcomes = backend.run(jobs)
        seconds = time.perf_counter() - start
    assert all(o.result.ok and not o.from_store for o in outcomes)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genomes", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--backends", nargs="+", default=["inline", "pool", "ray"])
    args = parser.parse_args()
    import os

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    print(f"machine: {machine()}")
    texts = genomes(args.genomes)
    real = [EvaluationJob.of("mad-lite-short", g, **{"train.steps": args.steps}) for g in texts]
    trivial = [EvaluationJob.of("analytic", g) for g in texts]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in args.backends:
            worker_counts = (1,) if kind == "inline" else (1, 2)
            rates = {w: len(real) / timed(kind, w, real, folder) * 3600 for w in worker_counts}
            overhead = timed(kind, max(worker_counts), trivial, folder) / len(trivial)
            scaling = f"{rates[2] / rates[1]:.2f}x" if 2 in rates else "n/a"
            rows.append([kind, f"{rates[1]:,.0f}", f"{rates[2]:,.0f}" if 2 in rates else "n/a", scaling,
                         f"{overhead * 1e3:.1f}"])
    print(f"\n{len(real)} genomes, mad-lite-short cut to {args.steps} updates; overhead with `analytic`\n")
    print(markdown_table(["backend", "evaluations / h, 1 worker", "evaluations / h, 2 workers", "scaling",
                          "ms per trivial evaluation"], rows))


if __name__ == "__main__":
    main()

"""Proxy fidelity and cost: how well each cheap fidelity ranks genomes like a 4x longer budget.

    python benchmarks/proxy_fidelity.py [--genomes 24] [--workers 2] [--store PATH] [--dataset PATH]
    python benchmarks/proxy_fidelity.py --genomes 24 --report-only   # from the shipped dataset, no training

Evaluates a fixed, diverse set of genomes (the seven reference genomes at depth 8 plus random
valid genomes of depth 4-10 reached by seeded random edits) at `zero-cost`, `mad-lite-short`,
`mad-lite` and `mad-lite-long` (4x mad-lite's updates, the reference), all at proxy width 64.
Results go through an evaluation store, so an interrupted run resumes where it stopped and a
second run only re-reads; each finished evaluation is also exported at once to the dataset
(`--dataset`, default the shipped `rewards/data/proxy_fidelity.jsonl.gz`), so a killed run loses
nothing finished and the study ships with the package. `--report-only` trains nothing: it
imports the dataset into a temporary store and prints the report from it, so the table
regenerates from the repository alone. Reports:
- Spearman and Kendall rank correlation of each fidelity's `quality` with the reference's, Kendall
  with a 95 % bootstrap interval over genomes;
- seconds per evaluation per fidelity (median and max over genomes) and achieved training
  FLOP/s as a fraction of a 1024^3 matmul on one thread;
- the known answer: Transformer++ against the gated-convolution genome on in-context recall.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch
from scipy import stats

from common import machine, markdown_table
from livgym.controllers.reporting.stats import bootstrap_interval
from livgym.models import Genome, apply_edit, efficiency, reference_genome, valid_edits, REFERENCE_GENOMES
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.evaluation.dataset import DATA_DIR, SUFFIX, export_dataset, import_dataset
from livgym.rewards.evaluators.mad_lite import task_configs
from livgym.rewards.evaluation.store import EvaluationStore
from livgym.rewards.training import tasks as mad

FIDELITIES = ("zero-cost", "mad-lite-short", "mad-lite", "mad-lite-long")
REFERENCE = "mad-lite-long"
WIDTH, HEADS, DEPTH = 64, 4, 8
DATASET = DATA_DIR / f"proxy_fidelity{SUFFIX}"


def genome_set(count: int, seed: int = 0) -> list[Genome]:
    """The references at depth 8, then random valid genomes (depth 4-10), distinct by hash."""
    genomes = [reference_genome(name, depth=DEPTH, width=WIDTH, heads=HEADS) for name in REFERENCE_GENOMES]
    rng = random.Random(seed)
    seen = {g.canonical_hash() for g in genomes}
    while len(genomes) < count:
        genome = reference_genome(rng.choice(list(REFERENCE_GENOMES)), depth=rng.randint(4, 10), width=WIDTH, heads=HEADS)
        for _ in range(rng.randint(6, 16)):
            genome = apply_edit(genome, rng.choice(valid_edits(genome, max_depth=10)), max_depth=10)
        if genome.canonical_hash() not in seen:
            seen.add(genome.canonical_hash())
            genomes.append(genome)
    return genomes[:count]


def run_job(job: tuple[str, str, str]) -> tuple[str, str, str, float, bool]:
    """Evaluate (or read) one genome at one fidelity in a worker process."""
    store_path, fidelity, genome_text = job
    evaluator = make_evaluator(fidelity)
    with EvaluationStore(store_path) as store:
        result, cached = store.evaluate_cached(evaluator, Genome.from_string(genome_text), seed=0)
    return fidelity, genome_text, result.status, result.wall_time, cached


def export(store_path: str, dataset: str, fidelities: list[str]) -> int:
    """Write every result of the study's fidelities in the store to the dataset (merged with it).

    Everything, not only the newest result: a second process sharing the store (`--reverse`)
    exports too, and the last export then still holds both processes' results.
    """
    hashes = [make_evaluator(f).config_hash() for f in fidelities]
    with EvaluationStore(store_path, readonly=True) as store:
        return export_dataset(store, dataset, config_hashes=hashes)


def matmul_flops_per_second(size: int = 1024) -> float:
    torch.set_num_threads(1)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(5):
        a @ b
    return 5 * 2 * size ** 3 / (time.perf_counter() - start)


def training_flops(genome: Genome, fidelity: str, steps: float) -> float:
    """3x forward FLOPs (forward + backward) of the training updates an evaluation ran."""
    evaluator = make_evaluator(fidelity)
    configs = task_configs(evaluator.config)
    length = mad.mixture_layout(configs).seq_len
    cost = efficiency(genome.with_width(WIDTH, HEADS), context_length=length, vocab_size=mad.mixture_vocab_size(configs))
    return 3 * cost.forward_flops * evaluator.config.train.batch_size * steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genomes", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default="../runs/benchmarks/proxy_fidelity.sqlite")
    parser.add_argument("--fidelities", nargs="+", default=list(FIDELITIES))
    parser.add_argument("--dataset", default=str(DATASET), help="where finished evaluations are exported")
    parser.add_argument("--report-only", action="store_true",
                        help="report from the dataset (no training, no store needed)")
    parser.add_argument("--reverse", action="store_true",
                        help="evaluate the genomes last-first, so a second process on the same store shares the work")
    args = parser.parse_args()
    genomes = genome_set(args.genomes)
    if args.report_only:
        with tempfile.TemporaryDirectory() as tmp:
            store_path = Path(tmp) / "from-dataset.sqlite"
            with EvaluationStore(store_path) as store:
                imported = import_dataset(args.dataset, store)
            print(f"{imported.added} evaluations from {args.dataset}\n")
            report(str(store_path), genomes, args.fidelities)
        return
    print(f"machine: {machine()}; {args.workers} worker process(es), one torch thread each")
    # Genome by genome, so that a partial run already gives complete pairs to correlate.
    order = genomes[::-1] if args.reverse else genomes
    jobs = [(args.store, f, g.to_string()) for g in order for f in args.fidelities]
    start = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.workers) as pool:
        for i, (fidelity, text, status, seconds, cached) in enumerate(pool.imap_unordered(run_job, jobs), 1):
            export(args.store, args.dataset, args.fidelities)
            how = "stored" if cached else f"{seconds:.1f} s"
            print(f"  [{i}/{len(jobs)}] {fidelity:<15} {status:<8} {how:>9}  {text}", flush=True)
    print(f"wall time of this run: {time.perf_counter() - start:.0f} s; "
          f"{export(args.store, args.dataset, args.fidelities)} evaluations in {args.dataset}\n")
    report(args.store, genomes, args.fidelities)


def kendall_interval(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of Kendall tau over genomes (resampled in pairs, seed 0):
    with two dozen genomes a tau is uncertain by about +-0.2, which a target of 0.6 must be read against.
    Resamples that draw a single genome over and over (tau undefined) are dropped."""
    return bootstrap_interval(pairs, lambda drawn: stats.kendalltau(*zip(*drawn)).statistic)


def report(store_path: str, genomes: list[Genome], fidelities: list[str]) -> None:
    with EvaluationStore(store_path, readonly=True) as store:
        results = {f: [store.lookup(g, make_evaluator(f), 0) for g in genomes] for f in fidelities}
    peak = matmul_flops_per_second()
    reference = [r.metrics["quality"] if r is not None and r.ok else float("nan") for r in results.get(REFERENCE, [])]
    rows = []
    for fidelity in fidelities:
        rs = results[fidelity]
        ok = [r for r in rs if r is not None and r.ok]
        quality = [r.metrics["quality"] if r is not None and r.ok else float("nan") for r in rs]
        pairs = [(q, ref) for q, ref in zip(quality, reference) if q == q and ref == ref]
        if fidelity != REFERENCE and len(pairs) >= 3:
            tau = stats.kendalltau(*zip(*pairs)).statistic
            rho = stats.spearmanr(*zip(*pairs)).statistic
            low, high = kendall_interval(pairs)
            corr = (f"{rho:.2f}", f"{tau:.2f} [{low:.2f}, {high:.2f}]")
        else:
            corr = ("(reference)",) * 2 if fidelity == REFERENCE else ("n/a",) * 2
        seconds = [r.wall_time for r in ok] or [float("nan")]
        trained = [(g, r) for g, r in zip(genomes, rs) if r is not None and r.ok and "train_steps" in r.metrics]
        flops = sum(training_flops(g, fidelity, r.metrics["train_steps"]) for g, r in trained)
        busy = sum(r.wall_time for _, r in trained)
        utilisation = f"{flops / busy / peak:.0%}" if busy else "n/a"
        rows.append([fidelity, f"{len(ok)}/{len(rs)}", len(pairs), *corr, f"{statistics.median(seconds):.2f}",
                     f"{max(seconds):.2f}", utilisation])
    print(markdown_table(["fidelity", "ok", "pairs", "Spearman vs long", "Kendall vs long [95 % bootstrap]", "median s / genome",
                          "max s / genome", "FLOP/s of matmul"], rows))
    print(f"\n1024^3 matmul, one thread: {peak / 1e9:.1f} GFLOP/s")
    names = {reference_genome(n, depth=DEPTH, width=WIDTH, heads=HEADS).canonical_hash(): n for n in REFERENCE_GENOMES}
    print("\nper genome (quality; in-context recall accuracy):")
    header = ["genome", *fidelities]
    lines, randoms = [], []
    for i, g in enumerate(genomes):
        cells = []
        for f in fidelities:
            r = results[f][i]
            if r is None or not r.ok:
                cells.append("-" if r is None else r.status)
            else:
                recall = r.metrics.get("acc_in_context_recall")
                cells.append(f"{r.metrics['quality']:.3f}" + (f"; {recall:.2f}" if recall is not None else ""))
        if g.canonical_hash() not in names:
            randoms.append(g.to_string())
        lines.append([names.get(g.canonical_hash(), f"random {len(randoms)}"), *cells])
    print(markdown_table(header, lines))
    print("\nrandom genomes:\n" + "\n".join(f"{k}. `{text}`" for k, text in enumerate(randoms, 1)))


if __name__ == "__main__":
    main()

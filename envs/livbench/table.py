"""LIV-Bench's table: every canonical design of a small LIV sub-space, evaluated once.

The sub-space (`LIVBENCH_V0`): up to 4 slots of softmax attention (SA-1), a recurrence (Rec-1),
a gated convolution (GConv-1) and a gated MLP (GMemless), with every featurizer / feature
sharing the genome rules allow, at width 64 and 4 heads: 1,558 canonical designs. Each row
holds the `livbench` quality proxy (`livgym.rewards.evaluators.mad_lite`), the analytic
params / cache / FLOPs, and decode latency from the `efficiency` fidelity.

The table ships in the package (`envs/livbench/data/livbench-v0.json.gz`) with its generating spec,
fidelity configs, seed and library version. To regenerate it (resumable: every result goes
to the evaluation store the moment it finishes, and a rerun answers those from the store):

    python -m livgym.envs.livbench.table --workers 2 [--store runs/livbench/table.sqlite]
    python -m livgym.envs.livbench.table --backend ray --ray-address auto   # on a Ray cluster
    python -m livgym.envs.livbench.table --workers 8 --device cuda          # 8 processes share a GPU

Quality jobs run on a process pool (one torch thread per worker), on a GPU when one is present
(`--device`, default auto); the device is not part of the results' key, so rows trained on a GPU
and on CPUs make one table. Latency is CPU decode latency by definition: it is timed afterwards,
one design at a time in this process, so that timings do not compete with training.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from livgym.envs.liv.enumerate import canonical_designs
from livgym.models.cost import DEFAULT_CONTEXT_LENGTH, DEFAULT_VOCAB_SIZE
from livgym.models.genes import PROXY_HEADS, PROXY_WIDTH
from livgym.models.genome import Genome
from livgym.rewards.backends import EvaluationBackend, EvaluationJob, InlineBackend, ProcessPoolBackend, make_backend
from livgym.rewards.evaluation.evaluator import Evaluator, analytic_overrides, make_evaluator
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.version import __version__

DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class BenchSpec:
    """What a LIV-Bench table covers and how it was evaluated (one line each)."""

    name: str  # table name, also its file stem
    classes: tuple[int, ...]  # LIV class ids insert / replace may use
    max_depth: int  # most slots
    width: int  # model width of every design (the proxies' own scale)
    heads: int  # attention heads
    fidelity: str  # quality fidelity (`livgym.rewards`)
    latency_fidelity: str  # fidelity that times decoding
    seed: int  # evaluation seed of every row
    context_length: int = DEFAULT_CONTEXT_LENGTH  # of the analytic cache / FLOPs, in every fidelity's rows
    vocab_size: int = DEFAULT_VOCAB_SIZE  # of the analytic params

    @property
    def path(self) -> Path:
        return DATA_DIR / f"{self.name}.json.gz"


LIVBENCH_V0 = BenchSpec(name="livbench-v0", classes=(1, 5, 7, 9), max_depth=4, width=PROXY_WIDTH, heads=PROXY_HEADS,
                        fidelity="livbench", latency_fidelity="efficiency", seed=0)

#: row columns after the genome text, in order; quality columns are NaN where status is not ok
QUALITY_COLUMNS = ("quality", "acc_in_context_recall", "acc_selective_copying", "acc_compression")
COST_COLUMNS = ("params", "cache_bytes", "cache_bytes_long", "flops", "latency")


def designs(spec: BenchSpec) -> list[Genome]:
    """The sub-space's canonical designs, in the enumeration's deterministic order."""
    return list(canonical_designs(spec.classes, spec.max_depth, spec.width, spec.heads).values())


def spec_overrides(spec: BenchSpec, fidelity: str, **overrides: Any) -> dict[str, Any]:
    """`overrides` of `fidelity` with the spec's analytic settings, so every column of a row is
    measured at the spec's context length and vocabulary."""
    return analytic_overrides(fidelity, overrides, context_length=spec.context_length, vocab_size=spec.vocab_size)


def spec_evaluator(spec: BenchSpec, fidelity: str, **overrides: Any) -> Evaluator:
    return make_evaluator(fidelity, **spec_overrides(spec, fidelity, **overrides))


def jobs(spec: BenchSpec, genomes: Sequence[Genome], fidelity: str, **overrides: Any) -> list[EvaluationJob]:
    settings = spec_overrides(spec, fidelity, **overrides)
    return [EvaluationJob.of(fidelity, g.to_string(), spec.seed, **settings) for g in genomes]


def evaluate_all(spec: BenchSpec, genomes: Sequence[Genome], backend: EvaluationBackend, fidelity: str,
                 chunk: int = 32, log=print, **overrides: Any) -> list[EvaluationResult]:
    """Results of every genome at `fidelity`, in chunks so progress shows and a kill loses at
    most the chunk's unfinished evaluations (finished ones are already stored). `overrides` may
    only be unhashed settings (the device), or the rows would not be this spec's table."""
    results: list[EvaluationResult] = []
    start, fresh = time.perf_counter(), 0
    todo = jobs(spec, genomes, fidelity, **overrides)
    for i in range(0, len(todo), chunk):
        outcomes = backend.run(todo[i:i + chunk])
        results.extend(o.result for o in outcomes)
        fresh += sum(not o.from_store for o in outcomes)
        elapsed = time.perf_counter() - start
        rate = fresh / elapsed if fresh else 0.0
        left = (len(todo) - len(results)) / rate if rate else math.nan
        log(f"{fidelity}: {len(results)}/{len(todo)} ({fresh} evaluated now, {elapsed:.0f} s, ~{left:.0f} s left)")
    return results


def table_document(spec: BenchSpec, quality: Sequence[EvaluationResult], cost: Sequence[EvaluationResult],
                   complete: bool = False) -> dict[str, Any]:
    """The JSON document of a table: provenance, then one row per design."""
    quality_evaluator = spec_evaluator(spec, spec.fidelity)
    cost_evaluator = spec_evaluator(spec, spec.latency_fidelity)
    rows = []
    for q, c in zip(quality, cost):
        if q.genome_hash != c.genome_hash:
            raise ValueError(f"quality and cost rows disagree: {q.genome} vs {c.genome}")
        ok = q.status == "ok"
        rows.append([q.genome, q.status, c.status]
                    + [q.metrics[k] if ok and k in q.metrics else math.nan for k in QUALITY_COLUMNS]
                    + [c.metrics.get(k, math.nan) for k in COST_COLUMNS]
                    + [q.wall_time])
    return {
        "name": spec.name,
        "livgym_version": __version__,
        "spec": asdict(spec),
        "quality_config": quality_evaluator.config_dict(),
        "quality_config_hash": quality_evaluator.config_hash(),
        "cost_config": cost_evaluator.config_dict(),
        "cost_config_hash": cost_evaluator.config_hash(),
        # core-seconds of the quality evaluations (each row's own wall time), whatever runs made them
        "quality_core_seconds": sum(q.wall_time for q in quality),
        # every canonical design of the spec is a row: every edit of a row is a row too
        "complete": complete,
        "columns": ["genome", "status", "cost_status", *QUALITY_COLUMNS, *COST_COLUMNS, "quality_seconds"],
        "rows": rows,
    }


def write_table(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 so the same table always gives the same bytes
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(json.dumps(document, separators=(",", ":")).encode())


@lru_cache(maxsize=4)
def _read(path: str) -> dict[str, Any]:
    try:
        with gzip.open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        raise FileNotFoundError(f"LIV-Bench table {path} is missing; generate it with "
                                f"`python -m livgym.envs.livbench.table`") from None


def load_table(path: str | Path | None = None) -> dict[str, Any]:
    """The table document at `path` (default: the shipped LIV-Bench-v0 table); cached per path."""
    return _read(str(LIVBENCH_V0.path if path is None else Path(path)))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="quality worker processes")
    parser.add_argument("--backend", choices=("pool", "ray"), default="pool",
                        help="where quality evaluations run: local processes, or Ray (--ray-address to join a cluster)")
    parser.add_argument("--ray-address", default=None, help='an existing Ray cluster ("auto", ray://host:10001)')
    parser.add_argument("--store", default="runs/livbench/table.sqlite", help="evaluation store (resumes from it)")
    parser.add_argument("--out", default=str(LIVBENCH_V0.path), help="table file to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N designs (a trial run)")
    parser.add_argument("--device", default="auto", help="where quality evaluations train: auto (CUDA when "
                        "present), cpu, cuda, cuda:N; small models leave a GPU idle, so use several workers")
    args = parser.parse_args(argv)
    spec = LIVBENCH_V0
    try:  # a device this machine lacks is an error now, not 1,558 failed rows
        spec_evaluator(spec, spec.fidelity, **{"train.device": args.device})
    except ValueError as err:
        parser.error(str(err))
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    genomes = designs(spec)[: args.limit]
    print(f"{spec.name}: {len(genomes)} canonical designs; store {args.store}", flush=True)
    log = lambda line: print(line, flush=True)  # noqa: E731
    if args.backend == "ray" or args.ray_address:
        backend = make_backend({"kind": "ray", "workers": args.workers, "address": args.ray_address}, args.store)
    elif args.workers > 1:
        backend = ProcessPoolBackend(args.store, workers=args.workers)
    else:
        backend = InlineBackend(args.store)
    with backend:
        quality = evaluate_all(spec, genomes, backend, spec.fidelity, log=log, **{"train.device": args.device})
    with InlineBackend(args.store) as inline:
        cost = evaluate_all(spec, genomes, inline, spec.latency_fidelity, chunk=256, log=log)
    seconds = time.perf_counter() - start
    failed = [q.genome for q in quality if q.status != "ok"]
    write_table(table_document(spec, quality, cost, complete=args.limit is None), Path(args.out))
    print(f"wrote {args.out}: {len(genomes)} rows, {len(failed)} not ok, {seconds:.0f} s this run", file=sys.stderr)


if __name__ == "__main__":
    main()

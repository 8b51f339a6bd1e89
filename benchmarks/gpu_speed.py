"""Trained fidelities on a GPU against the CPU: seconds per genome, agreement, and GPU sharing.

    python benchmarks/gpu_speed.py [--fidelity mad-lite] [--depth 8] [--devices cpu cuda]
                                   [--genomes 7] [--workers 1 4 8] [--jobs 16]
                                   [--parts per-genome sharing] [--set train.steps=10 ...]

A device machine runs one command for at most 10 minutes: split the work with `--parts`,
`--genomes` and `--devices` (e.g. `--parts per-genome --devices cuda cpu --genomes 3`).

Two parts, with no evaluation store, so that nothing is answered from one:
- *per genome*: each reference genome at `--depth`, evaluated once per device in this process
  (one torch thread): seconds, `quality`, and the quality's difference from the first
  device's. Issue 3's target is `mad-lite` under 60 s per depth-8 genome.
- *sharing one GPU* (for each non-CPU device): `--jobs` evaluations (the reference genomes
  under successive seeds) on a process pool of each `--workers` size, all training on that
  device; evaluations per hour, and the speed-up over one worker. Small proxy models leave a
  GPU mostly idle, so several processes per GPU are the way to fill it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import yaml

from common import machine, markdown_table
from livgym.models import REFERENCE_GENOMES, reference_genome
from livgym.rewards.backends import EvaluationJob, ProcessPoolBackend
from livgym.rewards.evaluation.evaluator import make_evaluator


def per_genome(fidelity: str, depth: int, devices: list[str], names: list[str], overrides: dict) -> None:
    rows = []
    evaluators = {d: make_evaluator(fidelity, **overrides, **{"train.device": d}) for d in devices}
    for name in names:
        genome = reference_genome(name, depth=depth)
        results = {d: evaluators[d].evaluate(genome, seed=0) for d in devices}
        first = results[devices[0]].metrics.get("quality", float("nan"))
        for d, r in results.items():
            quality = r.metrics.get("quality", float("nan"))
            rows.append([name, r.config.get("ran_on", d), r.status, f"{r.wall_time:.1f}", f"{quality:.3f}",
                         f"{quality - first:+.3f}"])
            print("  " + " | ".join(rows[-1]), flush=True)
    print()
    print(markdown_table(["genome", "device", "status", "seconds", "quality", f"vs {devices[0]}"], rows))
    print()
    summary = []
    for d in devices:
        seconds = [float(r[3]) for r in rows if r[1].startswith(d.split(":")[0])]
        if seconds:
            summary.append([d, f"{statistics.median(seconds):.1f}", f"{max(seconds):.1f}"])
    print(markdown_table(["device", "median s / genome", "max s / genome"], summary))


def sharing(fidelity: str, depth: int, device: str, workers: list[int], count: int, names: list[str],
            overrides: dict) -> None:
    jobs = [EvaluationJob.of(fidelity, reference_genome(names[i % len(names)], depth=depth).to_string(),
                             seed=i // len(names), **overrides, **{"train.device": device}) for i in range(count)]
    rows, base = [], None
    for n in workers:
        with tempfile.TemporaryDirectory() as folder:
            with ProcessPoolBackend(Path(folder) / "store.sqlite", workers=n) as pool:
                pool.run(jobs[:1])  # start the workers (and CUDA in one of them) before the clock
                start = time.perf_counter()
                outcomes = pool.run(jobs[1:])
                seconds = time.perf_counter() - start
        per_hour = len(outcomes) / seconds * 3600
        base = base or per_hour
        ok = sum(o.result.ok for o in outcomes)
        rows.append([device, n, f"{ok}/{len(outcomes)}", f"{seconds:.0f}", f"{per_hour:.0f}", f"{per_hour / base:.2f}x"])
        print("  " + " | ".join(str(c) for c in rows[-1]), flush=True)
    print()
    print(markdown_table(["device", "workers", "ok", "seconds", "evaluations / hour", "vs 1 worker"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fidelity", default="mad-lite")
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 4, 8])
    parser.add_argument("--jobs", type=int, default=16, help="evaluations per pool size in the sharing part")
    parser.add_argument("--genomes", type=int, default=len(REFERENCE_GENOMES), help="the first N reference genomes")
    parser.add_argument("--parts", nargs="+", choices=("per-genome", "sharing"), default=["per-genome", "sharing"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="evaluator config override, e.g. train.steps=10 for a quick trial")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, _, v in (item.partition("=") for item in args.overrides)}
    torch.set_num_threads(1)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    print(f"machine: {machine()}; GPU: {gpu}\n")
    names = list(REFERENCE_GENOMES)[: args.genomes]
    if "per-genome" in args.parts:
        print(f"per genome ({args.fidelity}, depth {args.depth}):")
        per_genome(args.fidelity, args.depth, args.devices, names, overrides)
    for device in args.devices:
        if device != "cpu" and "sharing" in args.parts:
            print(f"\nsharing {device} ({args.fidelity}, depth {args.depth}, {args.jobs} jobs):")
            sharing(args.fidelity, args.depth, device, args.workers, args.jobs, names, overrides)


if __name__ == "__main__":
    main()

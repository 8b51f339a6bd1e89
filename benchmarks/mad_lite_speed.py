"""Seconds per depth-8 genome at `mad-lite` on one core: the old code and the new, side by side.

    python benchmarks/mad_lite_speed.py [--genomes transformer++ mamba-like ...] [--random 8]
        [--quick] [--fidelity mad-lite] [--old-ref COMMIT] [--store PATH] [--out PATH]

Genomes: the seven reference genomes at depth 8 and `--random` seeded random depth-8 genomes
(random valid edits of a reference genome); `--genomes` picks some of them by name (`random 3`
is the third random one) or adds genome strings. `--quick`: transformer++, mamba-like and
gated-conv at `mad-lite-short`, to try the script out.
Each genome is evaluated twice, each time in a fresh subprocess on one torch thread (seed 0,
train.device cpu, the seconds being the evaluation's own wall time):
- old: the code at `--old-ref` (default `OLD_REF`, the commit before the task stack), from a
  `git archive` of it (so a clone's history is needed);
- new: the current checkout.
The order alternates genome by genome, so a drift in the machine's load hits both alike.
Printed: a table per genome (old s, new s, old / new, quality of each), the medians and the
median ratio, and mamba-like's ratio. The new code's evaluations are real ones: they go into the
evaluation store (`--store`) and the shipped dataset `rewards/data/mad_lite_speed.jsonl.gz`;
the old code's (same key) are in `--out` only, with both timings. A killed run resumes from
`--out`: pairs already timed there are not run again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OLD_REF = "a43487fefad6a85a3184024bf32253763fb0d0e4"  # the last commit before the task stack
PACKAGES = ("models", "rewards", "envs", "controllers")  # installed as livgym.<name> (pyproject's package-dir)
DATASET = "mad_lite_speed"
QUICK = ("transformer++", "mamba-like", "gated-conv")


def old_tree(ref: str = OLD_REF) -> Path:
    """A directory to put on PYTHONPATH that imports `livgym` as it was at `ref` (cached)."""
    target = ROOT / "runs" / "benchmarks" / f"livgym-{ref[:12]}"
    if (target / "livgym" / "__init__.py").exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tree.tar"
        with archive.open("wb") as handle:
            subprocess.run(["git", "archive", ref, "livgym", *PACKAGES], cwd=ROOT, stdout=handle, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "src", filter="data")
        build = Path(tmp) / "pkg"
        shutil.copytree(Path(tmp) / "src" / "livgym", build / "livgym")
        for name in PACKAGES:
            shutil.copytree(Path(tmp) / "src" / name, build / "livgym" / name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(build), target)
    return target


def genome_set(random_count: int, depth: int = 8, seed: int = 0) -> dict[str, str]:
    """Name -> genome string: the references at `depth`, then random genomes of that depth."""
    from livgym.models import REFERENCE_GENOMES, apply_edit, reference_genome, valid_edits

    genomes = {name: reference_genome(name, depth=depth, width=64, heads=4) for name in REFERENCE_GENOMES}
    seen = {g.canonical_hash() for g in genomes.values()}
    rng = random.Random(seed)
    while len(genomes) < len(REFERENCE_GENOMES) + random_count:
        genome = reference_genome(rng.choice(list(REFERENCE_GENOMES)), depth=depth, width=64, heads=4)
        for _ in range(rng.randint(6, 16)):
            genome = apply_edit(genome, rng.choice(valid_edits(genome, max_depth=depth)), max_depth=depth)
        if genome.depth == depth and genome.canonical_hash() not in seen:
            seen.add(genome.canonical_hash())
            genomes[f"random {len(genomes) - len(REFERENCE_GENOMES) + 1}"] = genome
    return {name: g.to_string() for name, g in genomes.items()}


def child(fidelity: str, genome_text: str) -> None:
    """Evaluate one genome with whichever livgym is importable; print the result as JSON."""
    import torch

    from livgym.models.genome import Genome
    from livgym.rewards.evaluation.evaluator import make_evaluator

    torch.set_num_threads(1)
    result = make_evaluator(fidelity, **{"train.device": "cpu"}).evaluate(Genome.from_string(genome_text), 0)
    print(json.dumps(result.to_dict()))


def evaluate_in_subprocess(impl: str, fidelity: str, genome_text: str, ref: str) -> dict:
    env = dict(os.environ)
    if impl == "old":
        env["PYTHONPATH"] = str(old_tree(ref))
    else:
        env.pop("PYTHONPATH", None)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--fidelity", fidelity,
               "--genomes", genome_text]
    done = subprocess.run(command, env=env, cwd=HERE, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def record_new(result: dict, store_path: str) -> None:
    """Put a new-code evaluation into the store and the shipped dataset."""
    from livgym.rewards.evaluation.dataset import DATA_DIR, SUFFIX, export_dataset
    from livgym.rewards.evaluation.result import EvaluationResult
    from livgym.rewards.evaluation.store import EvaluationStore

    evaluation = EvaluationResult.from_dict(result)
    with EvaluationStore(store_path) as store:
        store.put(evaluation)
        export_dataset(store, DATA_DIR / f"{DATASET}{SUFFIX}", keys=[evaluation.key])


def report(rows: dict[str, dict], names: list[str]) -> dict:
    from common import markdown_table

    lines, ratios, old_s, new_s = [], [], [], []
    for name in names:
        pair = rows.get(name, {})
        if "old" not in pair or "new" not in pair:
            continue
        old, new = pair["old"], pair["new"]
        ratio = old["wall_time"] / new["wall_time"]
        ratios.append(ratio)
        old_s.append(old["wall_time"])
        new_s.append(new["wall_time"])
        quality = [r["metrics"].get("quality") for r in (old, new)]
        lines.append([name, old["status"], new["status"], f"{old['wall_time']:.1f}", f"{new['wall_time']:.1f}",
                      f"{ratio:.2f}", *(f"{q:.3f}" if q is not None else "-" for q in quality),
                      f"{old['metrics'].get('train_steps', 0):.0f} / {new['metrics'].get('train_steps', 0):.0f}"])
    print(markdown_table(["genome", "old status", "new status", "old s", "new s", "old / new", "old quality",
                          "new quality", "updates old / new"], lines))
    summary = {}
    if ratios:
        summary = {"genomes": len(ratios), "median_old_s": statistics.median(old_s),
                   "median_new_s": statistics.median(new_s),
                   "median_of_ratios": statistics.median(ratios),
                   "ratio_of_medians": statistics.median(old_s) / statistics.median(new_s)}
        if "mamba-like" in rows and {"old", "new"} <= set(rows["mamba-like"]):
            m = rows["mamba-like"]
            summary["mamba_like_ratio"] = m["old"]["wall_time"] / m["new"]["wall_time"]
        print()
        print(f"median seconds per genome: old {summary['median_old_s']:.1f}, new {summary['median_new_s']:.1f} "
              f"(old / new of the medians {summary['ratio_of_medians']:.2f}; median of the ratios "
              f"{summary['median_of_ratios']:.2f}) over {len(ratios)} genomes"
              + (f"; mamba-like {summary['mamba_like_ratio']:.2f}" if "mamba_like_ratio" in summary else ""))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genomes", nargs="+", default=None, help="names (or genome strings) to run")
    parser.add_argument("--random", type=int, default=8, help="random depth-8 genomes besides the references")
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK)} at mad-lite-short")
    parser.add_argument("--fidelity", default=None, help="default mad-lite (mad-lite-short with --quick)")
    parser.add_argument("--old-ref", default=OLD_REF)
    parser.add_argument("--store", default=str(ROOT / "runs" / "benchmarks" / "mad_lite_speed.sqlite"))
    parser.add_argument("--out", default=None,
                        help="results JSON (default runs/benchmarks/mad_lite_speed-FIDELITY.json)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    fidelity = args.fidelity or ("mad-lite-short" if args.quick else "mad-lite")
    if args.child:
        child(fidelity, args.genomes[0])
        return
    import torch
    from common import machine

    torch.set_num_threads(1)  # as the evaluations' subprocesses run, and as `machine()` reports
    available = genome_set(args.random)
    names = list(QUICK) if args.quick else (args.genomes or list(available))
    for name in names:
        if name not in available:
            if "@" not in name:
                raise SystemExit(f"unknown genome {name!r}; known: {', '.join(available)}, or a genome string")
            available[name] = name
    out = Path(args.out or ROOT / "runs" / "benchmarks" / f"mad_lite_speed-{fidelity}.json")
    rows: dict[str, dict] = json.loads(out.read_text())["genomes"] if out.exists() else {}
    print(f"machine: {machine()}; {fidelity}, seed 0, one torch thread per evaluation; old = {args.old_ref[:12]}")
    for i, name in enumerate(names):
        order = ("old", "new") if i % 2 == 0 else ("new", "old")
        for impl in order:
            if impl in rows.get(name, {}):
                continue
            result = evaluate_in_subprocess(impl, fidelity, available[name], args.old_ref)
            rows.setdefault(name, {"genome": available[name]})[impl] = result
            if impl == "new":
                record_new(result, args.store)
            print(f"  {name:<24} {impl}: {result['status']:<8} {result['wall_time']:7.1f} s  "
                  f"quality {result['metrics'].get('quality', float('nan')):.3f}", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"fidelity": fidelity, "old_ref": args.old_ref, "genomes": rows}, indent=1))
    print()
    summary = report(rows, names)
    out.write_text(json.dumps({"fidelity": fidelity, "old_ref": args.old_ref, "genomes": rows,
                               "summary": summary}, indent=1))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()

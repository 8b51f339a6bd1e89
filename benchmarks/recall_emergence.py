"""When does in-context recall emerge? Learning curves of one task, per genome and seed.

    python benchmarks/recall_emergence.py [--genomes transformer++ gated-conv mamba-like]
        [--seeds 0 1 2 3] [--steps 800] [--batch 32] [--warmup-steps 80] [--min-lr-fraction 0.1]
        [--lr 1e-3] [--seq-len 32] [--pairs 4] [--workers 2]

Trains each reference genome (depth 8, width 64, 4 heads) on in-context recall alone
(sequence 32, 4 key-value pairs: mad-lite's calibrated size) with the mad-lite recipe, and
prints held-out probe accuracy every 50 updates. Recall in attention models appears as a
phase transition whose timing varies by seed, which is what a proxy's budget must cover.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

import torch

from common import machine
from livgym.models import build_model, reference_genome
from livgym.rewards.training import tasks as mad
from livgym.rewards.evaluators.mad_lite import CALIBRATED_TASK_SETTINGS
from livgym.rewards.training.seeding import seeded
from livgym.rewards.training.loop import TrainConfig, train

EVAL_EVERY = 50


def curve(job: tuple) -> dict:
    name, seed, steps, batch, warmup, min_lr, lr, seq_len, pairs = job
    configs = {"in_context_recall": mad.InContextRecallConfig(seq_len=seq_len, num_kv_pairs=pairs)}
    data, heldout = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 99)
    held, _ = mad.make_mixture_batch(configs, 256, heldout)
    points: list[float] = []

    def evaluate(model) -> float:
        model.eval()
        with torch.no_grad():
            points.append(round(mad.probe_accuracy(model(held.inputs), held.targets), 2))
        return points[-1]

    def next_batch(step: int):
        batch_, _ = mad.make_mixture_batch(configs, batch, data)
        return batch_.inputs, batch_.targets

    start = time.perf_counter()
    with seeded(seed, 1):
        model = build_model(reference_genome(name, depth=8, width=64, heads=4), mad.mixture_vocab_size(configs))
        train(model, next_batch, evaluate,
              TrainConfig(steps=steps, batch_size=batch, eval_every=EVAL_EVERY, early_stop_accuracy=2.0,
                          warmup_steps=warmup, min_lr_fraction=min_lr, lr=lr))
    return {"genome": name, "seed": seed, "curve": points, "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genomes", nargs="+", default=["transformer++", "gated-conv", "mamba-like"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup-steps", type=int, default=80)
    parser.add_argument("--min-lr-fraction", type=float, default=0.1, help="1.0: constant after warm-up")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seq-len", type=int, default=CALIBRATED_TASK_SETTINGS["in_context_recall"]["seq_len"])
    parser.add_argument("--pairs", type=int, default=CALIBRATED_TASK_SETTINGS["in_context_recall"]["num_kv_pairs"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.workers} worker(s), one thread each")
    print(f"in-context recall alone (seq {args.seq_len}, {args.pairs} pairs), batch {args.batch}, {args.steps} "
          f"updates, lr {args.lr}, warm-up {args.warmup_steps}, cosine to {args.min_lr_fraction} x lr; "
          f"accuracy every {EVAL_EVERY}\n")
    jobs = [(g, s, args.steps, args.batch, args.warmup_steps, args.min_lr_fraction, args.lr, args.seq_len, args.pairs)
            for s in args.seeds for g in args.genomes]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        results = pool.map(curve, jobs)
    print(f"| genome | seed | accuracy at updates {EVAL_EVERY}, {2 * EVAL_EVERY}, ... | first >= 0.9 | s |")
    print("|---|---|---|---|---|")
    for r in results:
        first = next((EVAL_EVERY * (i + 1) for i, a in enumerate(r["curve"]) if a >= 0.9), None)
        print(f"| {r['genome']} | {r['seed']} | {' '.join(f'{a:.2f}' for a in r['curve'])} | "
              f"{first if first else 'never'} | {r['seconds']} |")
    print("\n" + json.dumps(results))


if __name__ == "__main__":
    main()

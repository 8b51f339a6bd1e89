"""Where a `mad-lite` evaluation's time goes: per task, and within one training update.

    python benchmarks/mad_lite_time.py [--genomes transformer++ gated-conv mamba-like] [--depth 8]
                                       [--device cpu] [--skip-evaluations]

- *per task*: one whole `mad-lite` evaluation of each genome (no store) with the task models
  trained one by one (`stacked=False`), so each task's updates, seconds and accuracy are its
  own; then the same evaluation as the task stack (the default) for its total. Tasks stop
  early at 99 % accuracy. The stack's own breakdown per update is `mad_lite_peak.py`'s.
- *per update*: the median time (updates 5-29) of each part of one in-context-recall update at
  batch 32 x sequence 32: drawing the batch, forward, backward, gradient clipping, and the
  AdamW step. For the optimizer, torch's default CPU implementation (a loop over tensors) is
  timed against its `foreach` and `fused` ones.
The first target for a depth-8 genome was 60 s on one core.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import livgym.rewards.evaluators.mad_lite as mad_lite
from common import machine, markdown_table
from livgym.models import reference_genome
from livgym.models.compiler import build_model
from livgym.rewards.training import tasks as mad
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.training.loop import TrainConfig, lm_loss, make_optimizer

PARTS = ("batch", "forward", "backward", "clip", "optimizer")


def per_task(names: list[str], depth: int, device: str) -> None:
    rows: list[list[object]] = []
    timed = mad_lite._train_mixture

    def recording(proxy, configs, c, seed, on):
        start = time.perf_counter()
        accuracies, outcome = timed(proxy, configs, c, seed, on)
        rows.append([current, ", ".join(configs), outcome.steps, f"{time.perf_counter() - start:.1f}",
                     ", ".join(f"{v:.2f}" for v in accuracies.values())])
        print("  " + " | ".join(str(x) for x in rows[-1]), flush=True)
        return accuracies, outcome

    mad_lite._train_mixture = recording
    totals = []
    try:
        for current in names:
            genome = reference_genome(current, depth=depth)
            for stacked in (False, True):
                evaluator = make_evaluator("mad-lite", stacked=stacked, **{"train.device": device})
                result = evaluator.evaluate(genome)
                quality = result.metrics.get("quality", float("nan"))
                totals.append([current, "stack" if stacked else "one by one", result.status,
                               f"{result.wall_time:.1f}", f"{quality:.3f}"])
    finally:
        mad_lite._train_mixture = timed
    print()
    print(markdown_table(["genome", "task", "updates", "seconds", "accuracy"], rows))
    print()
    print(markdown_table(["genome", "task models", "status", "seconds", "quality"], totals))


def per_update(names: list[str], depth: int) -> None:
    configs = {"in_context_recall": mad_lite.task_configs(mad_lite.MadLiteConfig())["in_context_recall"]}
    rows = []
    for name in names:
        for optimizer_kind in ("default", "foreach", "fused"):
            torch.manual_seed(0)
            model = build_model(reference_genome(name, depth=depth, width=64, heads=4), mad.mixture_vocab_size(configs))
            optimizer = make_optimizer(model, TrainConfig())
            if optimizer_kind != "default":
                for group in optimizer.param_groups:
                    group[optimizer_kind] = True
            data = torch.Generator().manual_seed(0)
            times: dict[str, list[float]] = {part: [] for part in PARTS}
            for step in range(30):
                marks = [time.perf_counter()]
                batch, _ = mad.make_mixture_batch(configs, 32, data)
                marks.append(time.perf_counter())
                loss = lm_loss(model, batch.inputs, batch.targets)
                loss.item()
                marks.append(time.perf_counter())
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                marks.append(time.perf_counter())
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                marks.append(time.perf_counter())
                optimizer.step()
                marks.append(time.perf_counter())
                if step >= 5:
                    for part, a, b in zip(PARTS, marks, marks[1:]):
                        times[part].append(b - a)
            medians = [statistics.median(times[part]) * 1e3 for part in PARTS]
            rows.append([name, optimizer_kind, *(f"{m:.2f}" for m in medians), f"{sum(medians):.1f}"])
            print("  " + " | ".join(rows[-1]), flush=True)
    print()
    print(markdown_table(["genome", "AdamW", *(f"{p} ms" for p in PARTS), "update ms"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genomes", nargs="+", default=["transformer++", "gated-conv", "mamba-like"])
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--device", default="cpu", help="for the whole evaluations (the update breakdown is on the CPU)")
    parser.add_argument("--skip-evaluations", action="store_true", help="only the per-update breakdown")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}\n")
    if not args.skip_evaluations:
        print(f"per task (mad-lite, depth {args.depth}):")
        per_task(args.genomes, args.depth, args.device)
        print()
    print(f"per update (in-context recall, batch 32 x 32 tokens, depth {args.depth}):")
    per_update(args.genomes, args.depth)


if __name__ == "__main__":
    main()

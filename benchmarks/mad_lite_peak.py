"""How close one `mad-lite` update runs to the machine's limit, per LIV mixer family, old code and new.

    python benchmarks/mad_lite_peak.py [--impl new old] [--classes SA-1 Rec-1 ...] [--updates 12]
                                       [--old-ref COMMIT] [--json PATH]

For every LIV class (softmax attention SA-1..4, SWA, linear attention, Rec-1/Rec-2, gated short
convolution, Hyena-like long convolution, SwiGLU, and the differential variants) the genome
is the class alternating with SwiGLU at depth 8 (SwiGLU alone for SwiGLU), at mad-lite's proxy
size. One *round* is what mad-lite computes per update step: one training update of each of
the six task models on its batch (32 sequences of 33 tokens with the task tag).
- `new`: the current code, the six models as one task stack (`rewards.training.loop.train_stacked`'s
  update: stacked forward and backward, per-task clipping, fused AdamW).
- `old`: the code at `--old-ref` (default: the commit before the task stack), run in a
  subprocess from a `git archive` of that commit: six separate updates, as it trained them.
Reported per family: ms per round, the training FLOP/s (3 x the cost model's forward FLOPs,
`models.cost.efficiency`, summed over the six tasks) as a fraction of a single-thread 1024^3
float32 matmul measured in the same process, and where the round's time goes: drawing the
batches, forward, backward, clipping, the optimizer; and, from a profile of the forward and
backward, the share in matmul kernels (with the FLOP/s those kernels reach: small matmuls run
below peak), in the attention kernel, and in everything else (elementwise ops, reductions,
the scan, dispatch). An evaluation pass (128 held-out sequences per task) is timed too; mad-lite
runs one every 66 updates, so it is reported as its share of 66 rounds.
`--compile`: the `torch.compile` policy's measurement instead. Per family, the new code's round
in eager mode against the same stack compiled (inductor, default mode): the first compiled round
(compile time included) and the steady rounds after it, and the rounds a compile needs to pay
for itself. A mad-lite evaluation runs at most 400 rounds (fewer once tasks stop), each genome
is a new graph, and every dropped task changes the stack's shapes (a recompile), so compiling
pays only where break-even is far below that.
Run on one thread; on a shared machine, trust ratios within one run more than absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
PARTS = ("data", "forward", "backward", "clip", "optimizer")
SWIGLU = "GMemless"
EVAL_EVERY = 66  # mad-lite's evaluation interval (400 // 6)


def matmul_peak(size: int = 1024, repeats: int = 7) -> float:
    """FLOP/s of a size^3 float32 matmul on this thread (median of `repeats`)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size ** 3 / statistics.median(times)


def family_genome(name: str):
    from livgym.models.genome import Genome, Slot
    from livgym.models.registry import CLASSES_BY_NAME

    liv, swiglu = CLASSES_BY_NAME[name.lower()].id, CLASSES_BY_NAME[SWIGLU.lower()].id
    return Genome(tuple(Slot(liv if i % 2 == 0 else swiglu) for i in range(8)), width=64, heads=4)


def _task_setup():
    """mad-lite's task configs, one mixture-of-one per task, and each task's data generator."""
    from livgym.rewards.training import tasks as mad
    from livgym.rewards.evaluators.mad_lite import MadLiteConfig, task_configs

    config = MadLiteConfig()
    alone = [{name: task} for name, task in task_configs(config).items()]
    return mad, config, alone


def _profile_split(run_round) -> dict[str, float]:
    """Seconds per round in matmul kernels, the attention kernel and the rest, and matmul FLOPs."""
    from torch.profiler import ProfilerActivity, profile
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        run_round(timed=False)
    flops = counter.get_flop_counts().get("Global", {})
    matmul_ops = {"mm", "bmm", "addmm", "baddbmm"}
    matmul_flops = sum(v for op, v in flops.items() if str(op).split(".")[1] in matmul_ops)  # e.g. aten.mm
    rounds = 3
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(rounds):
            run_round(timed=False)
    split = {"matmul": 0.0, "attention": 0.0, "other": 0.0}
    for event in prof.key_averages():
        if not event.key.startswith("aten::"):
            continue
        op = event.key[len("aten::"):]
        seconds = event.self_cpu_time_total / 1e6 / rounds
        if op in matmul_ops:
            split["matmul"] += seconds
        elif "scaled_dot_product" in op:
            split["attention"] += seconds
        else:
            split["other"] += seconds
    split["matmul_flops"] = float(matmul_flops)
    return split


def measure(impl: str, names: list[str], updates: int) -> dict:
    """Per family: ms per round and its parts, the profile split, FLOPs, and the peak."""
    torch.set_num_threads(1)
    from livgym.models.compiler import build_model
    from livgym.models.cost import efficiency
    from livgym.rewards.training import loop as training

    mad, config, alone = _task_setup()
    batch = config.train.batch_size
    peak = matmul_peak()
    out = {"impl": impl, "peak_flops": peak, "families": {}}
    for name in names:
        genome = family_genome(name)
        length = mad.mixture_layout(alone[0]).seq_len
        flops = sum(3 * batch * efficiency(genome, context_length=length,
                                           vocab_size=mad.mixture_vocab_size(a)).forward_flops for a in alone)
        models = []
        for i, a in enumerate(alone):
            torch.manual_seed(i)
            models.append(build_model(genome, mad.mixture_vocab_size(a)))
        generators = [torch.Generator().manual_seed(i) for i in range(len(alone))]
        held = [mad.make_mixture_batch(a, config.eval_sequences, torch.Generator().manual_seed(99))[0] for a in alone]
        times: dict[str, list[float]] = {part: [] for part in PARTS}
        if impl == "new":
            stack = training.stack_models(models)
            optimizer = training.make_optimizer(stack, config.train, fused=True)
            held_inputs, _ = training.stack_batches([(h.inputs, h.targets) for h in held])

            def run_round(timed: bool = True) -> None:
                marks = [time.perf_counter()]
                batches = [mad.make_mixture_batch(a, batch, g)[0] for a, g in zip(alone, generators)]
                inputs, targets = training.stack_batches([(b.inputs, b.targets) for b in batches])
                marks.append(time.perf_counter())
                losses = training.stacked_losses(stack, inputs, targets)
                losses.detach().tolist()
                marks.append(time.perf_counter())
                optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()
                marks.append(time.perf_counter())
                training.clip_per_task(stack, config.train.grad_clip)
                marks.append(time.perf_counter())
                optimizer.step()
                marks.append(time.perf_counter())
                if timed:
                    for part, a, b in zip(PARTS, marks, marks[1:]):
                        times[part].append(b - a)

            def evaluate() -> None:
                with torch.no_grad():
                    stack(held_inputs).argmax(-1)
        else:
            optimizers = [training.make_optimizer(m, config.train) for m in models]

            def run_round(timed: bool = True) -> None:
                spent = dict.fromkeys(PARTS, 0.0)
                for a, g, model, optimizer in zip(alone, generators, models, optimizers):
                    marks = [time.perf_counter()]
                    b = mad.make_mixture_batch(a, batch, g)[0]
                    marks.append(time.perf_counter())
                    loss = training.lm_loss(model, b.inputs, b.targets)
                    loss.item()
                    marks.append(time.perf_counter())
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    marks.append(time.perf_counter())
                    nn.utils.clip_grad_norm_(model.parameters(), config.train.grad_clip)
                    marks.append(time.perf_counter())
                    optimizer.step()
                    marks.append(time.perf_counter())
                    for part, x, y in zip(PARTS, marks, marks[1:]):
                        spent[part] += y - x
                if timed:
                    for part in PARTS:
                        times[part].append(spent[part])

            def evaluate() -> None:
                with torch.no_grad():
                    for model, h in zip(models, held):
                        model(h.inputs).argmax(-1)
        for _ in range(3):
            run_round(timed=False)
        for _ in range(updates):
            run_round()
        evaluate()
        start = time.perf_counter()
        evaluate()
        eval_seconds = time.perf_counter() - start
        medians = {part: statistics.median(times[part]) for part in PARTS}
        out["families"][name] = {"flops": flops, "parts": medians, "round": sum(medians.values()),
                                 "eval": eval_seconds, "profile": _profile_split(run_round)}
        print(f"  {impl} {name}: {1e3 * sum(medians.values()):.1f} ms per round, "
              f"{flops / sum(medians.values()) / peak:.0%} of peak", file=sys.stderr, flush=True)
    return out


def measure_compile(names: list[str], updates: int) -> None:
    """Eager against compiled rounds of the task stack, compile time included (see the docstring)."""
    from common import markdown_table
    from livgym.models.compiler import build_model
    from livgym.rewards.training import loop as training

    torch.set_num_threads(1)
    mad, config, alone = _task_setup()
    rows = []
    for name in names:
        genome = family_genome(name)
        results = {}
        for mode in ("eager", "compiled"):
            models = []
            for i, a in enumerate(alone):
                torch.manual_seed(i)
                models.append(build_model(genome, mad.mixture_vocab_size(a)))
            stack = training.stack_models(models)
            run = torch.compile(stack) if mode == "compiled" else stack
            optimizer = training.make_optimizer(stack, config.train, fused=True)
            generators = [torch.Generator().manual_seed(i) for i in range(len(alone))]
            times = []
            for _ in range(updates + 1):
                start = time.perf_counter()
                batches = [mad.make_mixture_batch(a, config.train.batch_size, g)[0] for a, g in zip(alone, generators)]
                inputs, targets = training.stack_batches([(b.inputs, b.targets) for b in batches])
                losses = training.stacked_losses(run, inputs, targets)
                optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()
                training.clip_per_task(stack, config.train.grad_clip)
                optimizer.step()
                times.append(time.perf_counter() - start)
            results[mode] = (times[0], statistics.median(times[1:]))
        (_, eager), (first, compiled) = results["eager"], results["compiled"]
        saving = eager - compiled
        rows.append([name, f"{1e3 * eager:.1f}", f"{first:.1f}", f"{1e3 * compiled:.1f}", f"{eager / compiled:.2f}",
                     f"{first / saving:.0f}" if saving > 0 else "never"])
        print("  " + " | ".join(rows[-1]), file=sys.stderr, flush=True)
    print(markdown_table(["family (x SwiGLU, depth 8)", "eager ms / round", "first compiled round s",
                          "compiled ms / round", "eager / compiled", "break-even rounds"], rows))


def run_old(names: list[str], updates: int, ref: str) -> dict:
    """`measure("old", ...)` in a subprocess that imports livgym from `ref`'s tree."""
    from mad_lite_speed import old_tree

    env = {**os.environ, "PYTHONPATH": str(old_tree(ref))}
    command = [sys.executable, str(Path(__file__).resolve()), "--impl", "old", "--child", "--updates", str(updates),
               "--classes", *names]
    done = subprocess.run(command, env=env, cwd=HERE, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(done.stdout)


def table(results: list[dict]) -> str:
    from common import markdown_table

    rows = []
    for r in results:
        peak = r["peak_flops"]
        for name, f in r["families"].items():
            p, prof = f["parts"], f["profile"]
            total = sum(prof[k] for k in ("matmul", "attention", "other")) or float("nan")
            matmul_rate = prof["matmul_flops"] / prof["matmul"] / peak if prof["matmul"] else float("nan")
            rows.append([name, r["impl"], f"{1e3 * f['round']:.1f}", f"{f['flops'] / f['round'] / peak:.2f}",
                         *(f"{p[part] / f['round']:.0%}" for part in PARTS),
                         f"{prof['matmul'] / total:.0%}", f"{matmul_rate:.2f}", f"{prof['attention'] / total:.0%}",
                         f"{prof['other'] / total:.0%}", f"{f['eval'] / (EVAL_EVERY * f['round'] + f['eval']):.1%}"])
    return markdown_table(["family (x SwiGLU, depth 8)", "impl", "ms / round", "of peak", *PARTS,
                           "kernels: matmul", "matmul of peak", "attention", "other", "evaluation"], rows)


def main() -> None:
    from mad_lite_speed import OLD_REF

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", nargs="+", default=["new", "old"], choices=["new", "old"])
    parser.add_argument("--classes", nargs="+", default=None, help="LIV class names (default: all)")
    parser.add_argument("--updates", type=int, default=12, help="timed rounds per family (after 3 warm-up)")
    parser.add_argument("--old-ref", default=OLD_REF)
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--compile", action="store_true", help="measure torch.compile against eager (new code)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from livgym.models.registry import LIV_CLASSES

    names = args.classes or [row.name for row in LIV_CLASSES]
    if args.child:
        print(json.dumps(measure(args.impl[0], names, args.updates)))
        return
    from common import machine

    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    if args.compile:
        measure_compile(names, args.updates)
        return
    results = []
    for impl in args.impl:
        results.append(measure("new", names, args.updates) if impl == "new" else run_old(names, args.updates,
                                                                                            args.old_ref))
        print(f"{impl}: 1024^3 matmul, one thread: {results[-1]['peak_flops'] / 1e9:.1f} GFLOP/s")
    print()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""Training-step time of each reference genome at proxy size on CPU.

    python benchmarks/train_step.py [--widths 64 128] [--depth 8] [--threads 1]

One AdamW step (forward, cross-entropy, backward, update) on batch 32 x sequence 128 of a
byte vocabulary; the median over repeats, each genome's time relative to Transformer++
measured in the same run (ratios are what to compare across machines), and the achieved
training FLOP/s: 3x the cost model's forward FLOPs (forward + backward) per second, against
a 1024^3 float32 matmul timed in the same run with the same thread count.
"""

from __future__ import annotations

import argparse

import torch

from common import machine, markdown_table, median_seconds
from livgym.models import build_model, efficiency, reference_genome, REFERENCE_GENOMES

VOCAB = 256


def matmul_flops_per_second(size: int = 1024) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size ** 3 / median_seconds(lambda: a @ b, repeats=10)


def step_seconds(name: str, width: int, heads: int, depth: int, batch: int, length: int,
                 repeats: int) -> tuple[float, int, int]:
    torch.manual_seed(0)
    genome = reference_genome(name, depth=depth, width=width, heads=heads)
    model = build_model(genome, VOCAB)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, VOCAB, (batch, length + 1))

    def step() -> None:
        logits = model(tokens[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    cost = efficiency(genome, context_length=length, vocab_size=VOCAB)
    return median_seconds(step, repeats), cost.params, 3 * cost.forward_flops * batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    peak = matmul_flops_per_second()
    print(f"batch {args.batch} x seq {args.length}, depth {args.depth}, vocab {VOCAB}, AdamW, fp32")
    print(f"1024^3 matmul: {peak / 1e9:.1f} GFLOP/s\n")
    rows = []
    for width in args.widths:
        heads = max(1, width // 16)
        base = None
        for name in REFERENCE_GENOMES:
            seconds, params, flops = step_seconds(name, width, heads, args.depth, args.batch, args.length, args.repeats)
            base = base or seconds
            rows.append([name, width, heads, f"{params:,}", f"{1000 * seconds:.1f}", f"{seconds / base:.2f}",
                         f"{flops / seconds / 1e9:.1f}", f"{flops / seconds / peak:.0%}"])
            print(f"  {name} width {width}: {1000 * seconds:.1f} ms", flush=True)
    print()
    print(markdown_table(["reference genome", "width", "heads", "params", "ms / step", "vs transformer++",
                          "GFLOP/s", "of matmul"], rows))


if __name__ == "__main__":
    main()

"""The recurrence's chunked parallel scan against a plain loop over time steps, on CPU.

    python benchmarks/scan.py [--threads 1]

Shapes of a Rec-1 operator at proxy size (batch 32, width 64, state 16) and longer sequences,
with decays per channel (diagonal channel mixing, B/C shared by all channels) and per head
(grouped, 4 heads: the T x T decay matrix is shared by a head's channels); forward alone and
forward + backward; the median over repeats and the chunked scan's speed-up over the loop,
measured in the same run. Both compute the same outputs (tests/test_operators.py).
Chunk "auto" is the default the model uses (8 per channel, 32 per head).
"""

from __future__ import annotations

import argparse
import itertools

import torch

from common import machine, markdown_table, median_seconds
from livgym.models.operators.recurrence import chunked_scan, sequential_scan


def inputs(batch: int, length: int, width: int, state: int, heads: int, grad: bool) -> list[torch.Tensor]:
    """Per-channel decays and shared B/C when heads == 1; per-head decays and B/C otherwise."""
    torch.manual_seed(0)
    decays = width if heads == 1 else heads
    tensors = [-torch.rand(batch, length, decays) * 0.5, torch.randn(batch, length, width),
               torch.randn(batch, length, heads, state), torch.randn(batch, length, heads, state)]
    return [t.requires_grad_(grad) for t in tensors]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--state", type=int, default=16)
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 512, 2048])
    parser.add_argument("--chunks", type=int, nargs="+", default=[0, 8, 16, 32], help="0 = auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    print(f"batch {args.batch}, width {args.width}, state {args.state}, fp32\n")
    rows = []
    for heads, length, backward in itertools.product((1, 4), args.lengths, (False, True)):
        xs = inputs(args.batch, length, args.width, args.state, heads, backward)

        def run(fn, *extra):
            def call():
                y = fn(*xs, *extra)
                if backward:
                    y.sum().backward()
            return call

        loop = median_seconds(run(sequential_scan), args.repeats, warmup=1)
        decay = "per channel" if heads == 1 else f"per head ({heads})"
        for chunk in args.chunks:
            fast = median_seconds(run(chunked_scan, chunk or None), args.repeats, warmup=1)
            row = [decay, length, "fwd+bwd" if backward else "fwd", chunk or "auto", f"{1000 * loop:.1f}",
                   f"{1000 * fast:.1f}", f"{loop / fast:.1f}x"]
            rows.append(row)
            print("  " + " | ".join(str(c) for c in row), flush=True)
    print()
    print(markdown_table(["decay", "seq length", "pass", "chunk", "time loop ms", "chunked ms", "speed-up"], rows))


if __name__ == "__main__":
    main()

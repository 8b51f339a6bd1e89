"""How much faster two processes get through work than one, on this machine (issue 13's pool target).

    python benchmarks/parallel_efficiency.py [--steps 100] [--genomes 2] [--repeats 3]

A pool of 2 workers can be at most 2x faster than inline, and only if an evaluation takes as
long with another one running beside it as alone. This measures that directly: each workload
runs in one spawned process with the other core idle ("alone"), then in two spawned processes
at once ("together", started on a barrier), each with one torch thread, after a warm-up. The
throughput of 2 processes is 2 x alone / together: the ceiling of any 2-worker speed-up here,
before scheduling, start-up or controller time take their share.

Workloads, from the least to the most like a real evaluation:
- `python`: an interpreter loop (no memory traffic to speak of);
- `matmul`: 256 x 256 float32 matrix products (compute in the core's own caches);
- `stream`: copies of a 64 MiB tensor (memory bandwidth);
- `evaluation`: `mad-lite-short` with training cut to `--steps` updates, on `--genomes` depth-6
  designs (the workload of `search_scaling.py`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from backend_scaling import genomes
from common import machine, markdown_table

WORKLOADS = ("python", "matmul", "stream", "evaluation")


def workload(name: str, steps: int, designs: list[str]) -> None:
    import torch

    if name == "python":
        sum(i * i for i in range(20_000_000))
    elif name == "matmul":
        a = torch.randn(256, 256)
        for _ in range(4000):
            a = torch.mm(a, a).tanh_()
    elif name == "stream":
        src, dst = torch.ones(16 * 2**20), torch.empty(16 * 2**20)
        for _ in range(400):
            dst.copy_(src)
    else:
        from livgym.rewards.backends import EvaluationJob, evaluate_job

        for genome in designs:
            evaluate_job(EvaluationJob.of("mad-lite-short", genome, 0, **{"train.steps": steps}))


def worker(name: str, steps: int, designs: list[str], repeats: int, barrier, out) -> None:
    import torch

    torch.set_num_threads(1)
    workload(name, steps, designs[:1])  # warm-up: imports, allocator, first-call costs
    times = []
    for _ in range(repeats):
        barrier.wait()
        start = time.perf_counter()
        workload(name, steps, designs)
        times.append(time.perf_counter() - start)
    out.put(min(times))


def seconds(name: str, processes: int, steps: int, designs: list[str], repeats: int) -> float:
    """The slowest process's best time over `repeats`, with `processes` running the workload at once."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(processes), context.Queue()
    started = [context.Process(target=worker, args=(name, steps, designs, repeats, barrier, out))
               for _ in range(processes)]
    for process in started:
        process.start()
    results = [out.get() for _ in started]
    for process in started:
        process.join()
    return max(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100, help="training updates of the evaluation workload")
    parser.add_argument("--genomes", type=int, default=2, help="designs per evaluation workload")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (the best is kept)")
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    designs = genomes(args.genomes)
    rows = []
    for name in args.workloads:
        alone = seconds(name, 1, args.steps, designs, args.repeats)
        together = seconds(name, 2, args.steps, designs, args.repeats)
        rows.append([name, f"{alone:.2f}", f"{together:.2f}", f"{together / alone:.2f}",
                     f"{2 * alone / together:.2f}x"])
    print(f"\nbest of {args.repeats}; evaluation: mad-lite-short cut to {args.steps} updates, {len(designs)} designs\n")
    print(markdown_table(["workload", "alone s", "2 together s", "slowdown", "throughput of 2 processes"], rows))


if __name__ == "__main__":
    main()

"""Whole searches on evaluation backends: wall time inline and with 2 workers (issue 7).

    python benchmarks/search_scaling.py [--budget 12] [--steps 10] [--methods random nsga2 maskable_ppo]
        [--backends pool ray] [--batch 4] [--lag 0] [--repeats 1]

Each method runs the same seeded search three ways, each on a fresh store: inline, then on a
backend with 2 workers. The fidelity is `mad-lite-short` with training cut to `--steps` updates
(a few seconds per depth-6 design, like a real evaluation but short enough to repeat). Methods
give the backend concurrent designs: random search walks in batches of 2, NSGA-II evaluates
each generation (population 8), MaskablePPO rolls out 2 envs whose episodes ending in the same
step are evaluated together, and model-based MaskablePPO (`mb_maskable_ppo`: 4 uniform designs,
then rounds of 32 surrogate episodes) sends each round's 4 designs together (`--batch 8`: 8 uniform
designs, then rounds of 8, fewer and larger rounds, so less of the pool idles at rounds' ends; `--lag 1`:
each round queued behind the last one while it still runs, so no worker idles at a round's end). `--steps 100` makes
the fidelity a trained one (tens of seconds per design), where the controller's own time is small
next to the evaluations. The script checks that each backend's search found the same
designs with the same rewards as inline, and reports wall times and speed-ups; start-up (pool
spawn, Ray cluster) is included, as a user pays it.

A second table says where each run's wall time went, from the evaluations' own start and end
times in its store: the seconds with 0, 1 and 2 evaluations running. With 2 workers, the
seconds with none running are the controller's serial work and start-up; the seconds with one
running are a round's tail, or the controller competing with one worker. The evaluations' own
seconds, summed, against inline's (the same designs) say how much slower an evaluation ran on
a worker: the part of a missing speed-up that no scheduling can recover. The machine's busy
CPU-seconds over each run (all cores, from /proc/stat; nothing else may compute meanwhile) say
whether that was the same work done more slowly (more CPU-seconds than inline: the two
evaluations, or a neighbour on the host, contending for caches and memory) or the controller
taking a worker's core (the same CPU-seconds), and the stolen seconds how much of the cores the
hypervisor gave to others. On a shared machine the same evaluation's time drifts by 10-20 %
over minutes, so `--repeats 2` runs every backend twice in mirrored order and sums the walls.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import cpu_seconds, machine, markdown_table
from livgym.controllers.config import SearchConfig
from livgym.controllers.search import run_search
from livgym.rewards.evaluation.store import EvaluationStore


#: `mb_maskable_ppo`: model-based MaskablePPO, whose rounds send `batch` designs to the backend together
MODEL_BASED = {"enabled": True, "n_initial": 4, "batch": 4, "episodes": 32}


def config(method: str, budget: int, steps: int, backend: dict, batch: int = MODEL_BASED["batch"],
           lag: int = 0) -> SearchConfig:
    surrogate = ({**MODEL_BASED, "n_initial": batch, "batch": batch, "lag": lag} if method.startswith("mb_")
                 else {"enabled": False})
    return SearchConfig(
        name="scaling", method=method.removeprefix("mb_"), budget=budget, seed=0, backend=backend,
        space={"max_depth": 6, "fidelity": "mad-lite-short", "fidelity_overrides": {"train.steps": steps}},
        env={"max_edits": 6, "objectives": ["quality", "params", "cache_bytes"]},
        methods={"random": {"batch": 2}, "nsga2": {"population": 8},
                 "maskable_ppo": {"n_envs": 2, "n_steps": 8, "batch_size": 16}},
        surrogate=surrogate)


def timed(search: SearchConfig, store: Path) -> tuple[float, list, list[float], float, tuple[float, float]]:
    """Wall seconds, the (genome, reward) records, the seconds with 0, 1, 2... evaluations running,
    the evaluations' own seconds summed, and the machine's busy and stolen CPU-seconds over the run."""
    busy, steal = cpu_seconds()
    start, wall_start = time.perf_counter(), time.time()
    tracker = run_search(search, None, store=store, plots=False).tracker
    seconds = time.perf_counter() - start
    busy_end, steal_end = cpu_seconds()
    with EvaluationStore(store, readonly=True) as results:
        spans = [(r.timestamp - r.wall_time, r.timestamp) for r in results]
    records = [(r.genome, r.reward) for r in tracker.records]
    return (seconds, records, occupancy(spans, wall_start, wall_start + seconds), sum(b - a for a, b in spans),
            (busy_end - busy, steal_end - steal))


def occupancy(spans: list[tuple[float, float]], start: float, end: float) -> list[float]:
    """Seconds of [start, end] during which 0, 1, 2... of `spans` (evaluations' start and end) overlap."""
    events = sorted([(max(a, start), 1) for a, _ in spans] + [(min(b, end), -1) for _, b in spans] + [(end, 0)])
    out, running, now = [0.0] * (len(spans) + 1), 0, start
    for when, change in events:
        out[running] += max(when - now, 0.0)
        now, running = max(when, now), running + change
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=["random", "nsga2", "maskable_ppo", "mb_maskable_ppo"])
    parser.add_argument("--backends", nargs="+", default=["pool", "ray"])
    parser.add_argument("--batch", type=int, default=MODEL_BASED["batch"],
                        help="model-based rounds: initial designs and designs per round")
    parser.add_argument("--lag", type=int, default=0, help="model-based rounds: surrogate.lag")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each backend, in mirrored order (2: inline, backends, backends, inline), "
                             "so that a machine that speeds up or slows down favours neither; walls are summed")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    print(f"machine: {machine()}")
    kinds = ["inline", *args.backends]
    rows, where = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            walls, own, designs = dict.fromkeys(kinds, 0.0), dict.fromkeys(kinds, 0.0), {k: [] for k in kinds}
            cpu = dict.fromkeys(kinds, 0.0)
            for repeat in range(args.repeats):
                for kind in kinds if repeat % 2 == 0 else kinds[::-1]:
                    if kind == "ray":
                        import ray

                        ray.shutdown()
                        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                                 _temp_dir=tempfile.mkdtemp(prefix="ray"))
                    backend = {} if kind == "inline" else {"kind": kind, "workers": 2}
                    seconds, records, running, evaluating, (busy, stolen) = timed(
                        config(method, args.budget, args.steps, backend, args.batch, args.lag),
                        Path(tmp, f"{method}-{kind}-{repeat}.sqlite"))
                    walls[kind] += seconds
                    own[kind] += evaluating
                    cpu[kind] += busy
                    designs[kind].append(records)
                    where.append([method, kind, repeat + 1, f"{seconds:.0f}",
                                  *(f"{s:.0f}" for s in (running + [0.0, 0.0, 0.0])[:3]), f"{evaluating:.0f}",
                                  f"{busy:.0f}", f"{stolen:.1f}"])
            row = [method, f"{walls['inline']:.0f}"]
            for kind in args.backends:
                # every run of the backend against inline's first; inline's own repeats must agree too
                same = "yes" if all(r == designs["inline"][0] for r in designs[kind] + designs["inline"]) else "NO"
                row += [f"{walls[kind]:.0f}", f"{walls['inline'] / walls[kind]:.2f}x", same,
                        f"{own[kind] / own['inline']:.2f}", f"{cpu[kind] / cpu['inline']:.2f}"]
            rows.append(row)
    model_based = any(m.startswith("mb_") for m in args.methods)
    rounds = f", model-based rounds of {args.batch}, lag {args.lag}" if model_based else ""
    print(f"\nbudget {args.budget} unique designs, mad-lite-short cut to {args.steps} updates, seed 0{rounds}, "
          f"{args.repeats} run(s) of each\n")
    headers = ["method", "inline s"]
    for kind in args.backends:
        headers += [f"{kind} (2 workers) s", f"{kind} speed-up", f"{kind}: same designs and rewards",
                    f"{kind}: evaluations' own s / inline's", f"{kind}: CPU s / inline's"]
    print(markdown_table(headers, rows))
    print("\nwhere each run's wall time went (seconds with 0, 1 and 2 evaluations running):\n")
    print(markdown_table(["method", "backend", "run", "wall s", "none running s", "1 running s", "2 running s",
                          "evaluations' own s", "machine CPU busy s", "stolen s"], where))


if __name__ == "__main__":
    main()

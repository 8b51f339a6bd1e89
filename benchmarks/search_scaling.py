"""Whole searches on evaluation backends: wall time inline and with 2 workers (issue 7).

    python benchmarks/search_scaling.py [--budget 12] [--steps 10] [--methods random nsga2 maskable_ppo]
        [--backends pool ray] [--batch 4] [--lag 0]

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
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import machine, markdown_table
from livgym.controllers.config import SearchConfig
from livgym.controllers.search import run_search


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


def timed(search: SearchConfig, store: Path) -> tuple[float, list]:
    start = time.perf_counter()
    tracker = run_search(search, None, store=store, plots=False).tracker
    return time.perf_counter() - start, [(r.genome, r.reward) for r in tracker.records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=["random", "nsga2", "maskable_ppo", "mb_maskable_ppo"])
    parser.add_argument("--backends", nargs="+", default=["pool", "ray"])
    parser.add_argument("--batch", type=int, default=MODEL_BASED["batch"],
                        help="model-based rounds: initial designs and designs per round")
    parser.add_argument("--lag", type=int, default=0, help="model-based rounds: surrogate.lag")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            inline_s, inline_records = timed(config(method, args.budget, args.steps, {}, args.batch, args.lag),
                                             Path(tmp, f"{method}-inline.sqlite"))
            row = [method, f"{inline_s:.0f}"]
            for kind in args.backends:
                if kind == "ray":
                    import ray

                    ray.shutdown()
                    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                             _temp_dir=tempfile.mkdtemp(prefix="ray"))
                seconds, records = timed(config(method, args.budget, args.steps, {"kind": kind, "workers": 2}, args.batch, args.lag),
                                         Path(tmp, f"{method}-{kind}.sqlite"))
                same = "yes" if records == inline_records else "NO"
                row += [f"{seconds:.0f}", f"{inline_s / seconds:.2f}x", same]
            rows.append(row)
    rounds = f", model-based rounds of {args.batch}, lag {args.lag}" if any(m.startswith("mb_") for m in args.methods) else ""
    print(f"\nbudget {args.budget} unique designs, mad-lite-short cut to {args.steps} updates, seed 0{rounds}\n")
    headers = ["method", "inline s"]
    for kind in args.backends:
        headers += [f"{kind} (2 workers) s", f"{kind} speed-up", f"{kind}: same designs and rewards"]
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()

"""Design-env steps per second, side by side with CartPole-v1 in one run.

    python benchmarks/env_step_rate.py [--steps 20000] [--max-depth 12] [--no-bench]

Protocol, for `livgym/Design-v0` with its defaults (zero-cost fidelity, max_depth 12):
1. A warm-up pass plays `--steps` steps with a seeded policy so that every design it finishes
   is evaluated once into an evaluation store file.
2. The measured pass builds a *fresh* env (cold per-env memos) on the same store and replays
   the same seeded policy: every evaluation is answered from the store, nothing is trained.
Two policies, each measured this way:
- `random`: `action_space.sample()`, CartPole's protocol (most LIV actions are invalid for the
  current genome, so most steps are answered with the penalty and no change);
- `masked random`: a uniform choice among `action_masks()` each step (what MaskablePPO sees:
  every step is a real edit, and the mask is part of the cost).
`livgym/LIVBench-v0` (issue 6: at least as fast as the Design env with a warm store) is measured
the same way: a warm-up pass, then a fresh env (cold per-env memos; the table is loaded once
per process) replaying the same policies; its evaluations are table lookups.
CartPole-v1 runs `action_space.sample()` in the same process, before and after (after a
discarded warm-up run), and the ratio uses their mean. Steps go through `gymnasium.make` (its wrappers) for all envs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import livgym  # noqa: F401  (registers livgym/Design-v0 and livgym/LIVBench-v0)
from common import machine, markdown_table


def cartpole_rate(steps: int) -> float:
    env = gym.make("CartPole-v1")
    env.action_space.seed(0)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def design_pass(env_id: str, kwargs: dict, steps: int, masked: bool) -> tuple[float, dict[str, int]]:
    """Steps per second of one pass with a fresh env, and what the pass did."""
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(0)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    counts = {"episodes": 0, "valid": 0, "evaluated": 0, "store hits": 0}
    start = time.perf_counter()
    for _ in range(steps):
        if masked:
            action = int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))
        else:
            action = env.action_space.sample()
        _, _, terminated, truncated, info = env.step(action)
        counts["valid"] += info["valid_action"]
        if terminated:
            counts["evaluated"] += 1
            counts["store hits"] += bool(info["cache_hit"])
        if terminated or truncated:
            counts["episodes"] += 1
            env.reset()
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--max-depth", type=int, default=12)
    parser.add_argument("--no-bench", action="store_true", help="skip livgym/LIVBench-v0")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cartpole_rate(args.steps)  # warm-up: the first run of a process is slower
        cartpole = [cartpole_rate(args.steps)]
        for masked in (False, True):
            kwargs = {"store": Path(tmp) / f"store-{masked}.sqlite", "max_depth": args.max_depth}
            design_pass("livgym/Design-v0", kwargs, args.steps, masked)  # fills the store
            rate, counts = design_pass("livgym/Design-v0", kwargs, args.steps, masked)
            rows.append(("Design-v0", "masked random" if masked else "random", rate, counts))
        for masked in () if args.no_bench else (False, True):
            design_pass("livgym/LIVBench-v0", {}, args.steps, masked)  # loads the table
            rate, counts = design_pass("livgym/LIVBench-v0", {}, args.steps, masked)
            rows.append(("LIVBench-v0", "masked random" if masked else "random", rate, counts))
        cartpole.append(cartpole_rate(args.steps))
    reference = float(np.mean(cartpole))
    print(f"CartPole-v1 random steps/s: {cartpole[0]:,.0f} before, {cartpole[1]:,.0f} after\n")
    print(markdown_table(
        ["env", "policy", "steps/s", "ratio to CartPole", "valid steps", "episodes", "evaluations (store hits)"],
        [[env_id, name, f"{rate:,.0f}", f"{rate / reference:.3f}", f"{c['valid'] / args.steps:.0%}", c["episodes"],
          f"{c['evaluated']} ({c['store hits']})"] for env_id, name, rate, c in rows]))


if __name__ == "__main__":
    main()

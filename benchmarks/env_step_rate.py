"""Design-env steps per second, side by side with CartPole-v1 in one run.

    python benchmarks/env_step_rate.py [--steps 20000] [--max-depth 12]

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
CartPole-v1 runs `action_space.sample()` in the same process, before and after (after a
discarded warm-up run), and the ratio uses their mean. Steps go through `gymnasium.make` (its wrappers) for both envs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import livgym  # noqa: F401  (registers livgym/Design-v0)
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


def design_pass(store: Path, steps: int, masked: bool, max_depth: int) -> tuple[float, dict[str, int]]:
    """Steps per second of one pass with a fresh env on `store`, and what the pass did."""
    env = gym.make("livgym/Design-v0", store=store, max_depth=max_depth)
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
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cartpole_rate(args.steps)  # warm-up: the first run of a process is slower
        cartpole = [cartpole_rate(args.steps)]
        for masked in (False, True):
            store = Path(tmp) / f"store-{masked}.sqlite"
            design_pass(store, args.steps, masked, args.max_depth)  # fills the store
            rate, counts = design_pass(store, args.steps, masked, args.max_depth)
            rows.append(("masked random" if masked else "random", rate, counts))
        cartpole.append(cartpole_rate(args.steps))
    reference = float(np.mean(cartpole))
    print(f"CartPole-v1 random steps/s: {cartpole[0]:,.0f} before, {cartpole[1]:,.0f} after\n")
    print(markdown_table(
        ["policy", "steps/s", "ratio to CartPole", "valid steps", "episodes", "evaluations (store hits)"],
        [[name, f"{rate:,.0f}", f"{rate / reference:.3f}", f"{c['valid'] / args.steps:.0%}", c["episodes"],
          f"{c['evaluated']} ({c['store hits']})"] for name, rate, c in rows]))


if __name__ == "__main__":
    main()

"""Share of LIV-Bench's actions that are valid along random valid episodes (why masks matter there).

    python benchmarks/valid_actions.py [--episodes 20]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import livgym  # noqa: F401  (registers the envs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args()
    env, rng, shares = gym.make("livgym/LIVBench-v0"), np.random.default_rng(0), []
    for episode in range(args.episodes):
        env.reset(seed=episode)
        done = False
        while not done:
            mask = env.unwrapped.action_masks()
            shares.append(mask.mean())
            edits = np.flatnonzero(mask[1:]) + 1
            action = int(rng.choice(edits)) if len(edits) else 0
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    print(f"{env.action_space.n} actions; valid along {len(shares)} states of {args.episodes} random episodes: "
          f"mean {np.mean(shares):.0%}, min {np.min(shares):.0%}, max {np.max(shares):.0%}")


if __name__ == "__main__":
    main()

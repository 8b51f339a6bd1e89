"""Random walks through the env's action masks, planned without evaluating and then replayed.

Random search and evolution propose designs by random allowed edits. A walk does not depend
on any result, so it can be worked out first (`plan_random_episode`, which stops one step
short of the evaluation), its final design evaluated together with other walks' on a backend,
and only then run for real (`replay`), when the evaluation is a lookup. Every random choice
comes from the caller's generator, so a seeded search makes the same walks inline or batched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livgym.envs.design_env import DesignEnv


def random_edit(env: DesignEnv, rng: np.random.Generator) -> int | None:
    """A uniformly random allowed edit action (not stop), or None when there is none."""
    edits = np.flatnonzero(env.action_masks()[1:])
    return int(rng.choice(edits)) + 1 if len(edits) else None


@dataclass(frozen=True)
class EpisodePlan:
    """An episode worked out without evaluating it: where it starts, its actions, what it evaluates."""

    mode: str
    start: Any
    actions: tuple[int, ...]
    final: Any


def plan_random_episode(env: DesignEnv, rng: np.random.Generator, options: dict[str, Any] | None = None,
                        edits: int | None = None) -> EpisodePlan:
    """1..max_edits random allowed edits then stop (or `edits` of them), walked on `env` up to,
    not into, the step that evaluates; `replay` finishes it."""
    env.reset(options=options)
    mode, start, actions = env.unwrapped.episode_mode, env.unwrapped.design, []
    for _ in range(int(rng.integers(1, env.max_edits + 1)) if edits is None else edits):
        action = random_edit(env, rng)
        if action is None:
            break
        actions.append(action)
        final = env.final_design(action)
        if final is not None:  # this edit ends the episode
            return EpisodePlan(mode, start, tuple(actions), final)
        env.step(action)
    return EpisodePlan(mode, start, (*actions, 0), env.design)


def replay(env: DesignEnv, plan: EpisodePlan) -> tuple[dict[str, Any], float]:
    """Run a planned episode for real (its evaluation, on the env's tracker); the final (info, reward)."""
    env.reset(options={"mode": plan.mode, "start": plan.start})
    for action in plan.actions:
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info, float(reward)
    raise RuntimeError(f"replaying {plan} did not end the episode")  # a bug, not a user error

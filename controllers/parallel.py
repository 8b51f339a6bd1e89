"""Evaluating the designs of several episodes together, on an evaluation backend (issue 7).

A `DesignEnv` evaluates its final design inside `step`, one design at a time. To spread
evaluations over processes or a Ray cluster, a search first works out which designs its next
steps will evaluate (`DesignEnv.final_design`), sends them to the backend as one batch
(`evaluate_together`), hands each outcome to its env's space (`SearchSpace.accept`), and only
then steps the envs, whose evaluations are now lookups. Outcomes are the same as stepping
inline: every job carries its fidelity, config and seed.

- `ParallelEvaluationVecEnv`: SB3's in-process `DummyVecEnv` whose simultaneously finished
  episodes are evaluated together (the RL controller with `n_envs` > 1).
- `plan_random_episode` / `replay`: the random walks of random search and evolution, planned
  without evaluating, so a batch of them can be evaluated at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from livgym.envs.design_env import DesignEnv
from livgym.envs.space import SearchSpace
from livgym.rewards.backends import EvaluationBackend


def evaluate_together(pairs: Sequence[tuple[SearchSpace, Any]], backend: EvaluationBackend | None) -> int:
    """Evaluate every (space, design) pair's design in one backend batch, each distinct
    evaluation once; each space accepts its outcome. Returns the number of jobs sent."""
    if backend is None:
        return 0
    groups: dict[tuple[str, str, int, str], list[tuple[SearchSpace, Any]]] = {}
    jobs = {}
    for space, design in pairs:
        job = space.job(design)
        if job is None:
            continue
        key = (space.key(design), job.fidelity, job.seed, repr(job.overrides))
        jobs.setdefault(key, job)
        groups.setdefault(key, []).append((space, design))
    if not jobs:
        return 0
    order = list(jobs)
    for key, outcome in zip(order, backend.run([jobs[k] for k in order])):
        for space, design in groups[key]:
            space.accept(design, outcome)
    return len(order)


class ParallelEvaluationVecEnv(VecEnvWrapper):
    """A `DummyVecEnv` of `DesignEnv`s whose episodes ending in the same step are evaluated
    together on `backend` before the envs step (in this process, so the search's tracker sees
    every evaluation)."""

    def __init__(self, venv: DummyVecEnv, backend: EvaluationBackend) -> None:
        if not isinstance(venv, DummyVecEnv):
            raise ValueError(f"ParallelEvaluationVecEnv wraps a DummyVecEnv, got {type(venv).__name__}")
        super().__init__(venv)
        self.backend = backend
        self._actions: np.ndarray | None = None

    def step_async(self, actions: np.ndarray) -> None:
        pairs = []
        for env, action in zip(self.venv.envs, actions):
            design_env: DesignEnv = env.unwrapped
            final = design_env.final_design(int(action))
            if final is not None:
                pairs.append((design_env.space, final))
        evaluate_together(pairs, self.backend)
        self.venv.step_async(actions)

    def step_wait(self):
        return self.venv.step_wait()

    def reset(self):
        return self.venv.reset()


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
    from livgym.controllers.methods import random_edit

    env.reset(options=options)
    mode, start, actions = env.unwrapped._episode_mode, env.unwrapped.design, []
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

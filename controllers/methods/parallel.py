"""Evaluating the designs of several episodes together, on an evaluation backend.

A `DesignEnv` evaluates its final design inside `step`, one design at a time. To spread
evaluations over processes or a Ray cluster, a search first works out which designs its next
steps will evaluate (`DesignEnv.final_design`), sends them to the backend as one batch
(`evaluate_together`), hands each outcome to its env's space (`SearchSpace.accept`), and only
then steps the envs, whose evaluations are now lookups. Outcomes are the same as stepping
inline: every job carries its fidelity, config and seed.

- `evaluate_together`: one batch of designs, each distinct evaluation once (a method's batch of
  random walks or children, an NSGA-II generation; `SearchContext.evaluate_together`); or in
  two steps, `submit_together` and `accept_together`, so that the next batch can be queued
  while this one runs (model-based search with `surrogate.lag`).
- `ParallelEvaluationVecEnv`: SB3's in-process `DummyVecEnv` whose simultaneously finished
  episodes are evaluated together (the RL controller with `n_envs` > 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from livgym.envs.design_env import DesignEnv
from livgym.envs.space import SearchSpace
from livgym.rewards.backends import EvaluationBackend, EvaluationJob, StoreKey, Ticket


@dataclass(frozen=True)
class Submitted:
    """A batch `submit_together` sent to a backend: who waits for each job's outcome."""

    groups: dict[StoreKey, list[tuple[SearchSpace, Any]]]  # job key -> the (space, design) pairs it answers
    ticket: Ticket


def submit_together(pairs: Sequence[tuple[SearchSpace, Any]], backend: EvaluationBackend | None) -> Submitted | None:
    """Send every (space, design) pair's design to the backend as one batch, each distinct
    evaluation once, and return at once (None when nothing was sent); `accept_together` waits."""
    if backend is None:
        return None
    groups: dict[StoreKey, list[tuple[SearchSpace, Any]]] = {}
    jobs: dict[StoreKey, EvaluationJob] = {}
    for space, design in pairs:
        job = space.job(design)
        if job is None:
            continue
        jobs.setdefault(job.key, job)  # one job per store key: the same evaluation, whoever asks
        groups.setdefault(job.key, []).append((space, design))
    if not jobs:
        return None
    return Submitted(groups, backend.submit(list(jobs.values())))


def accept_together(submitted: Submitted | None, backend: EvaluationBackend | None) -> int:
    """Wait for a submitted batch; each space accepts its outcome. Returns the number of jobs."""
    if submitted is None or backend is None:
        return 0
    for key, outcome in zip(submitted.groups, backend.collect(submitted.ticket)):
        for space, design in submitted.groups[key]:
            space.accept(design, outcome)
    return len(submitted.groups)


def evaluate_together(pairs: Sequence[tuple[SearchSpace, Any]], backend: EvaluationBackend | None) -> int:
    """Evaluate every (space, design) pair's design in one backend batch, each distinct
    evaluation once; each space accepts its outcome. Returns the number of jobs sent."""
    return accept_together(submit_together(pairs, backend), backend)


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

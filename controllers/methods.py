"""Search methods, all driving the same `DesignEnv` so they share its space, evaluator, store,
reward and budget accounting (`SearchTracker`).

A method is a function `(env, tracker, params, seed, out_dir, sb3_output, make_env, backend)
-> None` that finishes designs until `tracker.done`; `METHODS` maps config names to them.
`sb3_output` (an SB3 logger output such as W&B's) and `make_env` (a factory of more envs on
the same tracker, for `n_envs` > 1) matter to the RL methods only. `backend` (an
`EvaluationBackend`, or None to evaluate inline in `step`) receives the designs a method can
evaluate together: a batch of random walks, a batch of evolution's children, an NSGA-II
generation, the episodes of parallel envs that end in the same step (`controllers.parallel`).
Baselines act through the env's action masks, so they only ever propose valid designs, as the
RL controller does.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from sb3_contrib import MaskablePPO, RecurrentPPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.torch_layers import CombinedExtractor
from stable_baselines3.common.vec_env import DummyVecEnv

from livgym.controllers.nsga2 import nsga2_search
from livgym.controllers.parallel import ParallelEvaluationVecEnv, evaluate_together, plan_random_episode, replay
from livgym.controllers.tracker import SearchTracker
from livgym.envs.design_env import DesignEnv
from livgym.rewards.backends import EvaluationBackend

SearchMethod = Callable[..., None]


def random_edit(env: DesignEnv, rng: np.random.Generator) -> int | None:
    """A uniformly random allowed edit action (not stop), or None when there is none."""
    edits = np.flatnonzero(env.action_masks()[1:])
    return int(rng.choice(edits)) + 1 if len(edits) else None


def random_search(env: DesignEnv, tracker: SearchTracker, params: dict[str, Any], seed: int,
                  out_dir: Path | None = None, sb3_output: Any = None,
                  make_env: Any = None, backend: EvaluationBackend | None = None) -> None:
    """Random valid designs: random masked walks from the env's start, `batch` walks at a time
    evaluated together (the walks do not depend on results, so batching changes nothing else)."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    batch = _batch(params, "random")
    while not tracker.done:
        plans = [plan_random_episode(env, rng) for _ in range(batch)]
        evaluate_together([(env.space, p.final) for p in plans[:tracker.budget - tracker.used]], backend)
        for plan in plans:
            if tracker.done:
                break
            replay(env, plan)


def regularized_evolution(env: DesignEnv, tracker: SearchTracker, params: dict[str, Any], seed: int,
                          out_dir: Path | None = None, sb3_output: Any = None,
                          make_env: Any = None, backend: EvaluationBackend | None = None) -> None:
    """Regularized (aging) evolution (Real et al., 2019): tournament of `sample` from a
    `population` queue, the winner mutated by one random allowed edit, the oldest removed.
    With `batch` > 1, as with the paper's parallel workers, each round breeds `batch` children
    from the same population and evaluates them together."""
    population_size, sample_size = int(params["population"]), int(params["sample"])
    if population_size < 1 or not 1 <= sample_size <= population_size:
        raise ValueError(f"evolution: needs population >= 1 and 1 <= sample <= population, "
                         f"got population={population_size}, sample={sample_size}")
    batch = _batch(params, "evolution")
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    population: deque[tuple[str, float]] = deque()
    while len(population) < population_size and not tracker.done:
        plans = [plan_random_episode(env, rng) for _ in range(min(batch, population_size - len(population)))]
        evaluate_together([(env.space, p.final) for p in plans], backend)
        for plan in plans:
            if not tracker.done:
                info, reward = replay(env, plan)
                population.append((info["genome"], reward))
    while not tracker.done:
        plans = []
        for _ in range(batch):
            contenders = rng.choice(len(population), size=sample_size, replace=False)
            parent = max((population[i] for i in contenders), key=lambda member: member[1])
            plans.append(plan_random_episode(env, rng, {"mode": "edit", "start": parent[0]}, edits=1))
        evaluate_together([(env.space, p.final) for p in plans], backend)
        for plan in plans:
            if tracker.done:
                break
            info, reward = replay(env, plan)
            population.append((info["genome"], reward))
            population.popleft()


def _batch(params: dict[str, Any], method: str) -> int:
    batch = params.get("batch", 1)
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"{method}: batch={batch!r} must be a positive integer")
    return batch


class IntCombinedExtractor(CombinedExtractor):
    """SB3's Dict extractor with a Python-int `features_dim`: SB3 sums a MultiDiscrete's nvec
    into a NumPy integer, which torch's LSTM (RecurrentPPO) rejects as an input size."""

    def __init__(self, observation_space, **kwargs) -> None:
        super().__init__(observation_space, **kwargs)
        self._features_dim = int(self._features_dim)


class RevisitPenalty(gym.Wrapper):
    """Lowers the reward of an episode that ends in a design the search has already evaluated.

    A search spends its budget on unique designs, and a design found again teaches it nothing
    new, yet a converged policy keeps re-making its favourite. With a penalty the controller is
    paid for new designs near good ones, as a tabu list would make it (the tracker still records
    the design's true reward).
    """

    def __init__(self, env: gym.Env, tracker: SearchTracker, penalty: float) -> None:
        super().__init__(env)
        self.tracker, self.penalty = tracker, penalty

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated and "genome_hash" in info and not self.tracker.last_was_new:
            reward = reward - self.penalty
        return obs, reward, terminated, truncated, info


class StopWhenExhausted(BaseCallback):
    """Ends `learn()` at the first step after the search's budget is spent, or once the policy
    only finishes designs it has made before (`SearchTracker.stalled`)."""

    def __init__(self, tracker: SearchTracker) -> None:
        super().__init__()
        self.tracker = tracker

    def _on_step(self) -> bool:
        return not self.tracker.done


def rl_search(algorithm: type) -> SearchMethod:
    """A method that trains an SB3 `algorithm` on the env until the budget is spent and saves it."""

    def search(env: DesignEnv, tracker: SearchTracker, params: dict[str, Any], seed: int,
               out_dir: Path | None = None, sb3_output: KVWriter | None = None,
               make_env: Callable[[], DesignEnv] | None = None, backend: EvaluationBackend | None = None) -> None:
        params = dict(params)
        n_envs = int(params.pop("n_envs", 1))
        penalty = float(params.pop("revisit_penalty", 0.0))
        design_env = env

        def wrap(e: DesignEnv) -> gym.Env:
            return RevisitPenalty(e, tracker, penalty) if penalty else e

        if n_envs > 1:  # in-process copies, so every copy's evaluations reach the same tracker
            if make_env is None:
                raise ValueError(f"{algorithm.__name__}: n_envs={n_envs} needs an env factory")
            env = DummyVecEnv([lambda: Monitor(wrap(design_env))] + [lambda: Monitor(wrap(make_env()))] * (n_envs - 1))
            if backend is not None:  # episodes ending in the same step are evaluated together
                env = ParallelEvaluationVecEnv(env, backend)
        elif n_envs < 1:
            raise ValueError(f"{algorithm.__name__}: n_envs={n_envs} must be at least 1")
        else:
            env = wrap(design_env)
        observation = design_env.observation
        policy = "MultiInputPolicy" if observation == "dict" else "MlpPolicy"
        if algorithm is RecurrentPPO:  # an LSTM policy; no masks, so invalid actions cost the env's penalty
            policy = policy.replace("Policy", "LstmPolicy")
            if observation == "dict":
                kwargs = dict(params.get("policy_kwargs") or {})
                kwargs.setdefault("features_extractor_class", IntCombinedExtractor)
                params = {**params, "policy_kwargs": kwargs}
        model = algorithm(policy, env, seed=seed, verbose=0, **params)
        if sb3_output is not None:  # SB3's training metrics (losses, entropy, ...) to W&B
            model.set_logger(Logger(folder=None, output_formats=[sb3_output]))
        try:
            model.learn(total_timesteps=10**9, callback=StopWhenExhausted(tracker))
        finally:  # also on Ctrl-C: the policy trained so far is kept
            if out_dir is not None:
                model.save(out_dir / "controller.zip")

    search.__name__ = search.__qualname__ = f"{algorithm.__name__.lower()}_search"
    search.__doc__ = f"{algorithm.__name__} on the design env until the budget is spent."
    return search


METHODS: dict[str, SearchMethod] = {
    "random": random_search,
    "evolution": regularized_evolution,
    "nsga2": nsga2_search,
    "maskable_ppo": rl_search(MaskablePPO),
    "ppo": rl_search(PPO),
    "a2c": rl_search(A2C),
    "recurrent_ppo": rl_search(RecurrentPPO),
}

"""The RL controllers: an SB3 on-policy algorithm trained on the design env until the budget is spent.

Each method's parameters are SB3's constructor arguments (passed through as given; a field left
at None takes SB3's own default) plus two of livgym's: `n_envs`, in-process env copies rolled
out together on the one budget, and `revisit_penalty`. The policy is saved to the run folder as
`controller.zip`, also after Ctrl-C.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable

import gymnasium as gym
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from livgym.controllers.budget import SearchTracker
from livgym.controllers.methods.contract import SearchContext, param
from livgym.controllers.methods.extractors import EXTRACTORS
from livgym.controllers.methods.parallel import ParallelEvaluationVecEnv
from livgym.envs.design_env import DesignEnv


@dataclass(frozen=True)
class OnPolicyParams:
    """What every SB3 on-policy algorithm here takes (None: SB3's default), and livgym's own."""

    learning_rate: float | None = param(None, "the optimiser's step size", minimum=0.0)
    n_steps: int | None = param(None, "env steps per env between policy updates", minimum=1)
    gamma: float | None = param(None, "discount factor (1.0: a design's reward counts in full)", 0.0, 1.0)
    gae_lambda: float | None = param(None, "GAE's bias / variance trade-off", 0.0, 1.0)
    ent_coef: float | None = param(None, "weight of the entropy bonus (exploration)", minimum=0.0)
    vf_coef: float | None = param(None, "weight of the value loss", minimum=0.0)
    max_grad_norm: float | None = param(None, "gradient clipping norm", minimum=0.0)
    normalize_advantage: bool | None = param(None, "normalise advantages per batch")
    policy_kwargs: dict[str, Any] | None = param(None, "SB3 policy arguments, e.g. {net_arch: [64, 64]}")
    device: str | None = param(None, "where the policy trains: auto, cpu, cuda")
    n_envs: int = param(1, "env copies rolled out together, counted on the one budget", minimum=1)
    revisit_penalty: float = param(0.0, "subtracted from the reward of a design the search evaluated before")
    extractor: str = param("combined", "features of a Dict observation: combined (SB3's, every entry one-hot) "
                                       "or slots (one network shared by every slot; the LIV space)")

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise ValueError(f"extractor={self.extractor!r} is unknown; known: {sorted(EXTRACTORS)}")

    def sb3_kwargs(self) -> dict[str, Any]:
        """The SB3 constructor arguments that are set."""
        own = {"n_envs", "revisit_penalty", "extractor"}
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in own and getattr(self, f.name) is not None}


@dataclass(frozen=True)
class A2CParams(OnPolicyParams):
    n_steps: int | None = 8
    learning_rate: float | None = 7e-4
    ent_coef: float | None = 0.01
    gamma: float | None = 1.0


@dataclass(frozen=True)
class _ClippedParams(OnPolicyParams):
    """What the PPO family adds: minibatches, epochs and the clipped objective."""

    batch_size: int | None = param(None, "minibatch size", minimum=1)
    n_epochs: int | None = param(None, "passes over each rollout", minimum=1)
    clip_range: float | None = param(None, "PPO's clipping range", minimum=0.0)


@dataclass(frozen=True)
class PPOParams(_ClippedParams):
    n_steps: int | None = 64
    batch_size: int | None = 64
    learning_rate: float | None = 3e-4
    ent_coef: float | None = 0.01
    gamma: float | None = 1.0


@dataclass(frozen=True)
class RecurrentPPOParams(PPOParams):
    """PPO's settings, for the LSTM policy."""


@dataclass(frozen=True)
class MaskablePPOParams(_ClippedParams):
    """Short rollouts: one update per few designs. With 64-step rollouts MaskablePPO came last
    of the methods at 100 evaluations; with these it came first (benchmarks/RESULTS.md)."""

    n_steps: int | None = 16
    batch_size: int | None = 16
    learning_rate: float | None = 1e-3
    ent_coef: float | None = 0.01
    gamma: float | None = 1.0


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


def rl_search(algorithm: type[BaseAlgorithm]) -> Callable[[SearchContext, OnPolicyParams], None]:
    """A method that trains an SB3 `algorithm` on the env until the budget is spent and saves it."""

    def search(context: SearchContext, params: OnPolicyParams) -> None:
        tracker, design_env = context.tracker, context.env

        def wrap(e: DesignEnv) -> gym.Env:
            return RevisitPenalty(e, tracker, params.revisit_penalty) if params.revisit_penalty else e

        if params.n_envs > 1:  # in-process copies, so every copy's evaluations reach the same tracker
            env = DummyVecEnv([lambda: Monitor(wrap(design_env))]
                              + [lambda: Monitor(wrap(context.make_env()))] * (params.n_envs - 1))
            if context.backend is not None:  # episodes ending in the same step are evaluated together
                env = ParallelEvaluationVecEnv(env, context.backend)
        else:
            env = wrap(design_env)
        kwargs = params.sb3_kwargs()
        observation = design_env.observation
        policy = "MultiInputPolicy" if observation == "dict" else "MlpPolicy"
        if algorithm is RecurrentPPO:  # an LSTM policy; no masks, so invalid actions cost the env's penalty
            policy = policy.replace("Policy", "LstmPolicy")
        if observation == "dict":
            policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
            policy_kwargs.setdefault("features_extractor_class", EXTRACTORS[params.extractor])
            kwargs["policy_kwargs"] = policy_kwargs
        elif params.extractor != "combined":
            raise ValueError(f"extractor={params.extractor!r} reads a Dict observation; this env's is flat "
                             "(env.observation: flat)")
        model = algorithm(policy, env, seed=context.seed, verbose=0, **kwargs)
        if context.sb3_output is not None:  # SB3's training metrics (losses, entropy, ...) to W&B
            model.set_logger(Logger(folder=None, output_formats=[context.sb3_output]))
        try:
            model.learn(total_timesteps=10**9, callback=StopWhenExhausted(tracker))
        finally:  # also on Ctrl-C: the policy trained so far is kept
            if context.out_dir is not None:
                model.save(context.out_dir / "controller.zip")

    search.__name__ = search.__qualname__ = f"{algorithm.__name__.lower()}_search"
    search.__doc__ = f"{algorithm.__name__} on the design env until the budget is spent."
    return search

"""The sampling baselines: random search and regularized evolution.

Random search draws designs from the search space's own distribution (`space.sample(rng)`:
uniform over the designs where the space can list them, as LIV-Bench's table, and
`livgym.models.sampling`'s documented distribution on the LIV space), so it is the fair
baseline every method is compared against. Regularized evolution starts from such a sample
and mutates by one random allowed edit, through the env's action masks, as the RL controller
acts. `sampler: walk` keeps the older proposal instead: random masked walks from the env's
start (`livgym.controllers.methods.walks`), which favour designs near the start.

Both work out a batch of designs before evaluating any, so the batch can run together on the
search's backend, and then finish each through the env (so the tracker counts it like any
other method's design).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from livgym.controllers.methods.contract import SearchContext, param
from livgym.controllers.methods.walks import plan_random_episode, replay
from livgym.envs.design_env import DesignEnv

#: how random search and evolution's initial population propose designs
SAMPLERS: tuple[str, ...] = ("uniform", "walk")
_SAMPLER_HELP = "uniform: the space's sample(rng); walk: random masked walks from the env's start"


def _check_sampler(sampler: str) -> None:
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r} is not one of {list(SAMPLERS)}")


@dataclass(frozen=True)
class RandomSearchParams:
    batch: int = param(1, "designs drawn, then evaluated together (on the backend)", minimum=1)
    sampler: str = param("uniform", _SAMPLER_HELP)

    def __post_init__(self) -> None:
        _check_sampler(self.sampler)


def random_search(context: SearchContext, params: RandomSearchParams) -> None:
    """Random designs, `batch` at a time evaluated together (the draws do not depend on results,
    so batching changes nothing else): drawn by `space.sample` (`sampler: uniform`) or as random
    masked walks from the env's start (`sampler: walk`)."""
    env, tracker = context.env, context.tracker
    rng = np.random.default_rng(context.seed)
    env.reset(seed=context.seed)
    while not tracker.done:
        if params.sampler == "uniform":
            designs = [_sample(env, rng, "random") for _ in range(params.batch)]
            context.evaluate_together(designs)
            for design in designs:
                if tracker.done:
                    break
                _finish(env, design)
            continue
        plans = [plan_random_episode(env, rng) for _ in range(params.batch)]
        context.evaluate_together([p.final for p in plans])
        for plan in plans:
            if tracker.done:
                break
            replay(env, plan)


def _sample(env: DesignEnv, rng: np.random.Generator, method: str) -> Any:
    """One design from the space's own distribution; a space without one is an error that says
    how to search it anyway."""
    try:
        return env.space.sample(rng)
    except NotImplementedError as err:
        raise NotImplementedError(f"{err}; set methods.{method}.sampler: walk to draw random walks instead") from None


def _finish(env: DesignEnv, design: Any) -> tuple[dict[str, Any], float]:
    """Evaluate `design` through the env (an edit episode that stops at once): (info, reward)."""
    env.reset(options={"mode": "edit", "start": design})
    _, reward, _, _, info = env.step(0)
    return info, float(reward)


@dataclass(frozen=True)
class EvolutionParams:
    """The NAS-benchmark settings of regularized evolution."""

    population: int = param(10, "designs in the aging queue", minimum=1)
    sample: int = param(3, "tournament size: the best of this many members is the parent", minimum=1)
    batch: int = param(1, "children bred from one population and evaluated together (on the backend)", minimum=1)
    sampler: str = param("uniform", "the initial population's designs; " + _SAMPLER_HELP)

    def __post_init__(self) -> None:
        if self.sample > self.population:
            raise ValueError(f"sample={self.sample} must be at most population={self.population}")
        _check_sampler(self.sampler)


def regularized_evolution(context: SearchContext, params: EvolutionParams) -> None:
    """Regularized (aging) evolution: a tournament of `sample` members of a `population` queue,
    the winner mutated by one random allowed edit, the oldest member removed. The initial
    population is drawn as random search draws (`sampler`). With `batch` > 1, as parallel
    workers would, each round breeds `batch` children from the same population and evaluates
    them together."""
    env, tracker = context.env, context.tracker
    rng = np.random.default_rng(context.seed)
    env.reset(seed=context.seed)
    population: deque[tuple[str, float]] = deque()
    while len(population) < params.population and not tracker.done:
        count = min(params.batch, params.population - len(population))
        if params.sampler == "uniform":
            designs = [_sample(env, rng, "evolution") for _ in range(count)]
            context.evaluate_together(designs)
            for design in designs:
                if not tracker.done:
                    info, reward = _finish(env, design)
                    population.append((info["genome"], reward))
            continue
        plans = [plan_random_episode(env, rng) for _ in range(count)]
        context.evaluate_together([p.final for p in plans])
        for plan in plans:
            if not tracker.done:
                info, reward = replay(env, plan)
                population.append((info["genome"], reward))
    while not tracker.done:
        plans = []
        for _ in range(params.batch):
            contenders = rng.choice(len(population), size=params.sample, replace=False)
            parent = max((population[i] for i in contenders), key=lambda member: member[1])
            plans.append(plan_random_episode(env, rng, {"mode": "edit", "start": parent[0]}, edits=1))
        context.evaluate_together([p.final for p in plans])
        for plan in plans:
            if tracker.done:
                break
            info, reward = replay(env, plan)
            population.append((info["genome"], reward))
            population.popleft()

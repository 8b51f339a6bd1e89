"""The sampling baselines: random search and regularized evolution.

Both act through the env's action masks (random allowed edits, `livgym.controllers.walks`), so
they only ever propose valid designs, as the RL controller does, and both plan a batch of walks
before evaluating any, so the batch can run together on the search's backend.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from livgym.controllers.contract import SearchContext, param
from livgym.controllers.walks import plan_random_episode, replay


@dataclass(frozen=True)
class RandomSearchParams:
    batch: int = param(1, "random walks planned, then evaluated together (on the backend)", minimum=1)


def random_search(context: SearchContext, params: RandomSearchParams) -> None:
    """Random valid designs: random masked walks from the env's start, `batch` walks at a time
    evaluated together (the walks do not depend on results, so batching changes nothing else)."""
    env, tracker = context.env, context.tracker
    rng = np.random.default_rng(context.seed)
    env.reset(seed=context.seed)
    while not tracker.done:
        plans = [plan_random_episode(env, rng) for _ in range(params.batch)]
        context.evaluate_together([p.final for p in plans])
        for plan in plans:
            if tracker.done:
                break
            replay(env, plan)


@dataclass(frozen=True)
class EvolutionParams:
    """The NAS-benchmark settings of regularized evolution."""

    population: int = param(10, "designs in the aging queue", minimum=1)
    sample: int = param(3, "tournament size: the best of this many members is the parent", minimum=1)
    batch: int = param(1, "children bred from one population and evaluated together (on the backend)", minimum=1)

    def __post_init__(self) -> None:
        if self.sample > self.population:
            raise ValueError(f"sample={self.sample} must be at most population={self.population}")


def regularized_evolution(context: SearchContext, params: EvolutionParams) -> None:
    """Regularized (aging) evolution: a tournament of `sample` members of a `population` queue,
    the winner mutated by one random allowed edit, the oldest member removed. With `batch` > 1,
    as parallel workers would, each round breeds `batch` children from the same population and
    evaluates them together."""
    env, tracker = context.env, context.tracker
    rng = np.random.default_rng(context.seed)
    env.reset(seed=context.seed)
    population: deque[tuple[str, float]] = deque()
    while len(population) < params.population and not tracker.done:
        plans = [plan_random_episode(env, rng) for _ in range(min(params.batch, params.population - len(population)))]
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

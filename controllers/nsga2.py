"""NSGA-II on the flat integer genome, as STAR searches, through pymoo's ask-and-tell interface.

Settings follow STAR: population 16, tournament selection of 3, 2-point crossover, mutation of
about 10 % of the genome. Validity is the search space's business, never a repair step:
- crossover cuts both parents' padded slot vectors at two slot boundaries and keeps a child
  only if the search space accepts it (`Genome.from_vector` validates); otherwise new cut
  points are drawn, and after `CROSSOVER_TRIES` the parents pass unchanged;
- mutation draws, for each slot with probability `mutation_rate`, one random edit of that slot
  from the env's action mask (budget masks included). STAR flips 10 % of genes; on this genome
  most single-gene flips are invalid, so mutations come from the valid-edit set instead.
Objectives are the env's utilities (negated: pymoo minimises); a design that breaks a hard
constraint is infeasible (pymoo's constraint domination), one that failed to evaluate is worst.
Each individual is scored by finishing it through the env, so the tracker counts it like any
other method's design.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.crossover import Crossover
from pymoo.core.duplicate import ElementwiseDuplicateElimination
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.core.sampling import Sampling
from pymoo.core.termination import NoTermination
from pymoo.operators.selection.tournament import TournamentSelection

from livgym.controllers.contract import SearchContext, param
from livgym.envs.design_env import DesignEnv
from livgym.models.genome import Genome, vector_bounds, vector_length

CROSSOVER_TRIES = 20
WORST = 1e6  # the objective values of a design whose evaluation failed


@dataclass(frozen=True)
class NSGA2Params:
    """STAR's settings."""

    population: int = param(16, "designs per generation", minimum=1)
    tournament: int = param(3, "contenders per tournament selection", minimum=1)
    crossover_prob: float = param(0.9, "probability that a pair of parents is crossed over", 0.0, 1.0)
    mutation_rate: float = param(0.1, "probability that each slot of a child gets a random edit", 0.0, 1.0)


def nsga2_search(context: SearchContext, params: NSGA2Params) -> None:
    """NSGA-II until the budget is spent; each generation's offspring are evaluated together on
    the search's backend."""
    env, tracker, seed = context.env, context.tracker, context.seed
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    space = env.space
    depth = space.max_depth
    low, high = vector_bounds(depth)
    problem = Problem(n_var=vector_length(depth), n_obj=len(env.objectives), n_ieq_constr=1,
                      xl=low, xu=high, vtype=int)
    algorithm = NSGA2(
        pop_size=params.population,
        sampling=_RandomDesigns(env, rng),
        selection=TournamentSelection(func_comp=_tournament, pressure=params.tournament),
        crossover=_SlotCrossover(space, rng, prob=params.crossover_prob),
        mutation=_EditMutation(env, rng, params.mutation_rate),
        eliminate_duplicates=_SameArchitecture(depth),
    )
    algorithm.setup(problem, termination=NoTermination(), seed=seed)
    while not tracker.done:
        offspring = algorithm.ask()
        genomes = [Genome.from_vector(x, depth) for x in offspring.get("X")]
        context.evaluate_together(genomes)
        scored = []
        for genome in genomes:
            if tracker.done:
                break
            scored.append(_score(env, genome))
        if len(scored) < len(offspring):  # the budget ran out mid-generation
            break
        offspring.set("F", np.array([f for f, _ in scored]), "G", np.array([[g] for _, g in scored]))
        algorithm.tell(infills=offspring)


def _score(env: DesignEnv, genome: Genome) -> tuple[np.ndarray, float]:
    """(negated utilities, constraint value <= 0 when feasible) of a design, through the env."""
    env.reset(options={"mode": "edit", "start": genome})
    info = env.step(0)[-1]
    if info["status"] != "ok" or "utilities" not in info or not np.all(np.isfinite(info["utilities"])):
        return np.full(len(env.objectives), WORST), 0.0
    return -np.asarray(info["utilities"], dtype=np.float64), 1.0 if info.get("violations") else -1.0


def _tournament(pop, P, algorithm, **kwargs) -> np.ndarray:
    """The winner of each tournament (any size): feasible first, then lowest non-domination
    rank, then largest crowding distance (NSGA-II's own criteria; pymoo's comparator is binary)."""
    winners = np.empty(len(P), dtype=int)
    for i, contenders in enumerate(P):
        def key(j: int) -> tuple[float, float, float]:
            rank, crowding = pop[j].get("rank", "crowding")
            rank = np.inf if rank is None else rank
            crowding = 0.0 if crowding is None else crowding
            return (max(pop[j].CV[0], 0.0), rank, -crowding)
        winners[i] = min(contenders, key=key)
    return winners


class _RandomDesigns(Sampling):
    """The initial population: random masked walks from the env's build start (not evaluated)."""

    def __init__(self, env: DesignEnv, rng: np.random.Generator) -> None:
        super().__init__()
        self.env, self.rng = env, rng

    def _do(self, problem, n_samples, **kwargs):
        space = self.env.space
        out = []
        for _ in range(n_samples):
            genome = space.initial("build", self.rng)
            for _ in range(int(self.rng.integers(1, self.env.max_edits + 1))):
                edits = np.flatnonzero(self.env.masks_for(genome)[1:]) + 1
                if not len(edits):
                    break
                genome = space.apply(genome, int(self.rng.choice(edits)))
            out.append(genome.to_vector(space.max_depth))
        return np.array(out)


class _SlotCrossover(Crossover):
    """2-point crossover at slot boundaries; children the search space rejects are redrawn."""

    def __init__(self, space: Any, rng: np.random.Generator, prob: float = 0.9) -> None:
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)
        self.space, self.depth, self.rng = space, space.max_depth, rng

    def _do(self, problem, X, **kwargs):
        _, n_matings, n_var = X.shape
        children = np.array(X, copy=True)
        for m in range(n_matings):
            a, b = X[0, m], X[1, m]
            for _ in range(CROSSOVER_TRIES):
                i, j = sorted(self.rng.choice(self.depth + 1, size=2, replace=False))
                cut = slice(2 + 5 * i, 2 + 5 * j)
                one, two = a.copy(), b.copy()
                one[cut], two[cut] = b[cut], a[cut]
                if self._valid(one) and self._valid(two):
                    children[0, m], children[1, m] = one, two
                    break
        return children

    def _valid(self, x: np.ndarray) -> bool:
        try:
            genome = Genome.from_vector(x, self.depth)
        except ValueError:
            return False
        return self.space.contains(genome)


class _EditMutation(Mutation):
    """Each slot, with probability `rate`, gets one random allowed edit of that slot."""

    def __init__(self, env: DesignEnv, rng: np.random.Generator, rate: float) -> None:
        super().__init__(prob=1.0)
        self.env, self.rng, self.rate = env, rng, rate
        self.positions = env.space.codec.positions

    def _do(self, problem, X, **kwargs):
        space = self.env.space
        out = np.array(X, copy=True)
        for n, x in enumerate(X):
            genome = Genome.from_vector(x, space.max_depth)
            for _ in range(int(self.rng.binomial(genome.depth, self.rate))):
                p = int(self.rng.integers(genome.depth))
                edits = np.flatnonzero(self.env.masks_for(genome) & (self.positions == p))
                if len(edits):
                    genome = space.apply(genome, int(self.rng.choice(edits)))
            out[n] = genome.to_vector(space.max_depth)
        return out


class _SameArchitecture(ElementwiseDuplicateElimination):
    """Duplicates are genomes that build the same network (equal canonical hashes)."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.depth = depth

    def is_equal(self, a, b) -> bool:
        return _canonical_hash(tuple(a.X), self.depth) == _canonical_hash(tuple(b.X), self.depth)


@lru_cache(maxsize=65536)
def _canonical_hash(x: tuple[int, ...], depth: int) -> str:
    """Duplicate elimination compares every pair of a generation: decode each vector once."""
    return Genome.from_vector(x, depth).canonical_hash()

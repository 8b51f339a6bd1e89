"""NSGA-II on a space's flat integer encoding, as STAR searches, through pymoo's ask-and-tell interface.

Any space with a flat encoding (`SearchSpace.encoding_bounds` / `encode` / `decode`; on the LIV
space `Genome.to_vector` of the canonical genome) is searched. Settings follow STAR: population
16, tournament selection of 3, 2-point crossover, mutation of about 10 % of the genome.
Validity is the search space's business, never a repair step:
- the initial population is drawn from the space's own distribution (`space.sample`);
- crossover cuts both parents' vectors at two of the space's `crossover_points` (the LIV space:
  slot boundaries) and keeps a child only if it decodes to a design of the space; otherwise
  new cut points are drawn, and after `CROSSOVER_TRIES` the parents pass unchanged;
- mutation makes random allowed edits from the env's action mask (budget masks included). On
  a space whose actions belong to slot positions (the LIV codec's `positions`) each slot gets
  one with probability `mutation_rate`, as STAR flips 10 % of genes (most single-gene flips of
  that genome are invalid, so mutations come from the valid-edit set instead); on any other
  space binomial(free genes, `mutation_rate`) random allowed edits are made.
Objectives are the env's utilities (negated: pymoo minimises); a design that breaks a hard
constraint is infeasible (pymoo's constraint domination), one that failed to evaluate is worst.
Each individual is scored by finishing it through the env, so the tracker counts it like any
other method's design; duplicates are designs with equal `space.key`.
"""

from __future__ import annotations

from dataclasses import dataclass
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

from livgym.controllers.methods.contract import SearchContext, param
from livgym.envs.design_env import DesignEnv

CROSSOVER_TRIES = 20
WORST = 1e6  # the objective values of a design whose evaluation failed
SAMPLE_TRIES = 100  # draws per initial individual before duplicates are let through


@dataclass(frozen=True)
class NSGA2Params:
    """STAR's settings."""

    population: int = param(16, "designs per generation", minimum=1)
    tournament: int = param(3, "contenders per tournament selection", minimum=1)
    crossover_prob: float = param(0.9, "probability that a pair of parents is crossed over", 0.0, 1.0)
    mutation_rate: float = param(0.1, "probability that each slot (gene, on other spaces) of a child gets a "
                                      "random edit", 0.0, 1.0)


def nsga2_search(context: SearchContext, params: NSGA2Params) -> None:
    """NSGA-II until the budget is spent; each generation's offspring are evaluated together on
    the search's backend."""
    env, tracker, seed = context.env, context.tracker, context.seed
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    codec = _Codec(env.space)
    problem = Problem(n_var=len(codec.low), n_obj=len(env.objectives), n_ieq_constr=1,
                      xl=codec.low, xu=codec.high, vtype=int)
    algorithm = NSGA2(
        pop_size=params.population,
        sampling=_SampledDesigns(codec, rng),
        selection=TournamentSelection(func_comp=_tournament, pressure=params.tournament),
        crossover=_CutCrossover(codec, rng, prob=params.crossover_prob),
        mutation=_EditMutation(env, codec, rng, params.mutation_rate),
        eliminate_duplicates=_SameDesign(codec),
    )
    algorithm.setup(problem, termination=NoTermination(), seed=seed)
    while not tracker.done:
        offspring = algorithm.ask()
        designs = [codec.decode(x) for x in offspring.get("X")]
        context.evaluate_together([d for d in designs if d is not None])
        scored = []
        for design in designs:
            if tracker.done:
                break
            scored.append(_score(env, design))
        if len(scored) < len(offspring):  # the budget ran out mid-generation
            break
        offspring.set("F", np.array([f for f, _ in scored]), "G", np.array([[g] for _, g in scored]))
        algorithm.tell(infills=offspring)


class _Codec:
    """The space's flat encoding, with each vector's design decoded once."""

    def __init__(self, space: Any) -> None:
        self.space = space
        self.low, self.high = (np.asarray(b, dtype=np.int64) for b in space.encoding_bounds())
        if self.low.shape != self.high.shape or self.low.ndim != 1 or np.any(self.low > self.high):
            raise ValueError(f"space {space.name!r}: encoding_bounds() must be two equal-length vectors, low <= high")
        points = np.asarray(space.crossover_points(), dtype=np.int64)
        # a 2-point crossover swaps the genes between two cuts; a cut at 0 makes it a 1-point one
        self.cuts = np.concatenate([[0], points[(points > 0) & (points < len(self.low))]])
        self.free = int(np.sum(self.high > self.low))
        self._designs: dict[tuple[int, ...], Any] = {}

    def decode(self, x: np.ndarray) -> Any:
        key = tuple(int(v) for v in x)
        if key not in self._designs:
            if len(self._designs) > 1 << 16:
                self._designs.clear()
            self._designs[key] = self.space.decode(np.asarray(key, dtype=np.int64))
        return self._designs[key]

    def encode(self, design: Any) -> np.ndarray:
        return np.asarray(self.space.encode(design), dtype=np.int64)

    def key(self, x: np.ndarray) -> str | None:
        design = self.decode(x)
        return None if design is None else self.space.key(design)


def _score(env: DesignEnv, design: Any) -> tuple[np.ndarray, float]:
    """(negated utilities, constraint value <= 0 when feasible) of a design, through the env."""
    if design is None:  # encodes no design of the space (not reachable through these operators)
        return np.full(len(env.objectives), WORST), 0.0
    env.reset(options={"mode": "edit", "start": design})
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


class _SampledDesigns(Sampling):
    """The initial population: distinct designs from the space's own distribution (not evaluated)."""

    def __init__(self, codec: _Codec, rng: np.random.Generator) -> None:
        super().__init__()
        self.codec, self.rng = codec, rng

    def _do(self, problem, n_samples, **kwargs):
        space, out, seen = self.codec.space, [], set()
        for _ in range(n_samples):
            for _ in range(SAMPLE_TRIES):  # a space smaller than the population repeats designs
                design = space.sample(self.rng)
                if space.key(design) not in seen:
                    break
            seen.add(space.key(design))
            out.append(self.codec.encode(design))
        return np.array(out)


class _CutCrossover(Crossover):
    """2-point crossover at the space's cut points; children the space rejects are redrawn."""

    def __init__(self, codec: _Codec, rng: np.random.Generator, prob: float = 0.9) -> None:
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)
        self.codec, self.rng = codec, rng

    def _do(self, problem, X, **kwargs):
        _, n_matings, n_var = X.shape
        children = np.array(X, copy=True)
        cuts = self.codec.cuts
        if len(cuts) < 2:  # one gene: nothing to cut
            return children
        for m in range(n_matings):
            a, b = X[0, m], X[1, m]
            for _ in range(CROSSOVER_TRIES):
                i, j = sorted(self.rng.choice(len(cuts), size=2, replace=False))
                cut = slice(int(cuts[i]), int(cuts[j]))
                one, two = a.copy(), b.copy()
                one[cut], two[cut] = b[cut], a[cut]
                if self.codec.decode(one) is not None and self.codec.decode(two) is not None:
                    children[0, m], children[1, m] = one, two
                    break
        return children


class _EditMutation(Mutation):
    """Random allowed edits: per slot with probability `rate` on a space whose actions belong to
    slot positions, else binomial(free genes, rate) of them."""

    def __init__(self, env: DesignEnv, codec: _Codec, rng: np.random.Generator, rate: float) -> None:
        super().__init__(prob=1.0)
        self.env, self.codec, self.rng, self.rate = env, codec, rng, rate
        codec_of_actions = getattr(env.space, "codec", None)  # the LIV spaces' ActionCodec
        self.positions = getattr(codec_of_actions, "positions", None)

    def _do(self, problem, X, **kwargs):
        space = self.codec.space
        out = np.array(X, copy=True)
        for n, x in enumerate(X):
            design = self.codec.decode(x)
            if design is None:
                continue
            if self.positions is not None and hasattr(design, "depth"):
                for _ in range(int(self.rng.binomial(design.depth, self.rate))):
                    p = int(self.rng.integers(design.depth))
                    edits = np.flatnonzero(self.env.masks_for(design) & (self.positions == p))
                    if len(edits):
                        design = space.apply(design, int(self.rng.choice(edits)))
            else:
                for _ in range(int(self.rng.binomial(self.codec.free, self.rate))):
                    edits = np.flatnonzero(self.env.masks_for(design)[1:]) + 1
                    if len(edits):
                        design = space.apply(design, int(self.rng.choice(edits)))
            out[n] = self.codec.encode(design)
        return out


class _SameDesign(ElementwiseDuplicateElimination):
    """Duplicates are vectors of the same design (equal `space.key`: for LIV genomes, the same
    network)."""

    def __init__(self, codec: _Codec) -> None:
        super().__init__()
        self.codec = codec

    def is_equal(self, a, b) -> bool:
        return self.codec.key(a.X) == self.codec.key(b.X)

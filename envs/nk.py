"""`livgym/NK-v0`: an NK fitness landscape too large to enumerate, with an exactly known optimum.

A design is a tuple of `n` choice indices (`choices` options each). Position i contributes a
value that depends on its own choice and the next `k` (x_i .. x_{i+k}, adjacent and not
circular: windows are cut short at the end); every contribution table is drawn U(0, 1) from
the landscape's seed, and a design's fitness is the mean of its `n` contributions. `k` sets
how rugged the landscape is (k = 0: every position separable; larger k: more local optima).

Because the interactions form a chain, the best and worst designs follow exactly from dynamic
programming over the window state (n x choices^(k+1) steps) even where the space holds
choices^n designs (4^20, about 1.1e12, by default): regret = optimum reward - best reward is
exact without a table.

>>> import gymnasium as gym, livgym
>>> env = gym.make("livgym/NK-v0", n=8, choices=3, k=2, seed=1)
>>> obs, info = env.reset(seed=0)
>>> _, reward, terminated, _, info = env.step(env.unwrapped.space.action(position=0, choice=2))
>>> info["valid_action"], terminated
(True, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
from gymnasium import spaces

from livgym.envs.space import MODES, Evaluation, SearchSpace
from livgym.rewards.objectives import ObjectiveSet, make_scalariser

if TYPE_CHECKING:
    from livgym.envs.livbench.bench import KnownOptima

Design = tuple[int, ...]
#: the one objective the landscape scores
OBJECTIVES: tuple[str, ...] = ("quality",)
#: the largest DP state table (choices^(k+1) window values) a landscape may ask for
MAX_WINDOW_VALUES: int = 10**6


@dataclass(frozen=True)
class NKLandscape:
    """An NK landscape: `n` positions, `choices` options each, interaction width `k`, from `seed`.

    Contribution i is `tables[i][x_i, ..., x_{min(i+k, n-1)}]`; `fitness` is their mean, in
    [0, 1]. `optimum()` and `worst()` are exact (design, fitness) pairs.
    """

    n: int = 20
    choices: int = 4
    k: int = 2
    seed: int = 0
    tables: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, low in (("n", 1), ("choices", 2), ("k", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}={value!r} must be an integer >= {low}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed={self.seed!r} must be an integer")
        if self.k >= self.n:
            raise ValueError(f"k={self.k} must be below n={self.n} (a window spans at most every position)")
        if self.choices ** (self.k + 1) > MAX_WINDOW_VALUES:
            raise ValueError(f"choices={self.choices}, k={self.k}: choices^(k+1) = {self.choices ** (self.k + 1)} "
                             f"window values exceed {MAX_WINDOW_VALUES}")
        for name in ("n", "choices", "k", "seed"):
            object.__setattr__(self, name, int(getattr(self, name)))
        rng = np.random.default_rng(self.seed)
        tables = tuple(rng.random((self.choices,) * self.width(i)) for i in range(self.n))
        object.__setattr__(self, "tables", tables)

    def width(self, i: int) -> int:
        """How many positions contribution i reads (k + 1, fewer at the end)."""
        return min(self.k, self.n - 1 - i) + 1

    @property
    def size(self) -> int:
        """The number of designs, choices^n."""
        return self.choices ** self.n

    def fitness(self, design: Sequence[int]) -> float:
        """The mean contribution of `design` (a sequence of n choice indices)."""
        return float(self.fitness_many(np.asarray(design, dtype=np.int64)[None, :])[0])

    def fitness_many(self, designs: np.ndarray) -> np.ndarray:
        """Fitness of each row of an (m, n) integer array, summed in the same order as `fitness`."""
        designs = np.asarray(designs, dtype=np.int64)
        if designs.ndim != 2 or designs.shape[1] != self.n:
            raise ValueError(f"designs of shape {designs.shape} are not (m, n={self.n})")
        total = np.zeros(len(designs), dtype=np.float64)
        for i, table in enumerate(self.tables):
            total += table[tuple(designs[:, i:i + self.width(i)].T)]
        return total / self.n

    def optimum(self) -> tuple[Design, float]:
        """The design of highest fitness and its fitness (exact, by dynamic programming)."""
        return self._extreme_design(maximise=True)

    def worst(self) -> tuple[Design, float]:
        """The design of lowest fitness and its fitness (exact, by dynamic programming)."""
        return self._extreme_design(maximise=False)

    def _extreme_design(self, maximise: bool) -> tuple[Design, float]:
        design = self._maximisers[0 if maximise else 1]
        # the value is recomputed by `fitness`, so it equals what an evaluation of the design
        # returns to the last bit (the DP sums in another order)
        return design, self.fitness(design)

    @cached_property
    def _maximisers(self) -> tuple[Design, Design]:
        return self._dp(1.0), self._dp(-1.0)

    def _dp(self, sign: float) -> Design:
        """The design maximising sign * total contribution.

        Choosing x_j completes contribution j - k, whose window is the state (the last k
        choices) followed by x_j; the truncated windows at the end read the final state only.
        Written out here rather than taken from a library: it is a chain-structured max-sum,
        a dozen lines, and no well-kept package offers it over plain lookup tables.
        """
        n, k, c = self.n, self.k, self.choices
        layers: list[dict[Design, tuple[float, Design, int]]] = []
        frontier: dict[Design, float] = {(): 0.0}
        for j in range(n):
            layer: dict[Design, tuple[float, Design, int]] = {}
            for state, value in frontier.items():
                for choice in range(c):
                    window = state + (choice,)
                    gain = sign * float(self.tables[j - k][window]) if j >= k else 0.0
                    following = window[max(0, len(window) - k):] if k else ()
                    score = value + gain
                    if following not in layer or score > layer[following][0]:
                        layer[following] = (score, state, choice)
            layers.append(layer)
            frontier = {state: entry[0] for state, entry in layer.items()}
        best_state, best_score = (), -math.inf
        for state, value in frontier.items():
            tail = sum(sign * float(self.tables[i][state[len(state) - (n - i):]]) for i in range(max(0, n - k), n))
            if value + tail > best_score:
                best_state, best_score = state, value + tail
        design = [0] * n
        state = best_state
        for j in range(n - 1, -1, -1):
            _, state, design[j] = layers[j][state]
        return tuple(design)


class NKLandscapeSpace(SearchSpace[Design]):
    """The designs of an `NKLandscape` as a search space; the landscape scores them itself.

    `livgym/NK-v0` is the `DesignEnv` over it: choose a design one position at a time.

    ## Action Space
    `Discrete(1 + n * choices)`: 0 is *stop*; 1 + p * choices + c sets position p to choice c
    (masked where position p already holds c).

    ## Observation Space
    `Dict` with `design` (`MultiDiscrete([choices] * n)`, the choice at each position), and the
    env's own `metrics` (always zeros: the landscape has no cheap costs) and `budget` (fraction
    of the edits left); `observation="flat"` flattens it into one float32 `Box`.

    ## Rewards
    0 until the episode ends; then the final design's quality utility (the default weighted sum
    of one objective), on a linear scale with the landscape's exact optimum at 1 and its worst
    design at 0, so the reward lies in [0, 1]. Masked actions cost `invalid_action_penalty`.

    ## Starting State
    Build mode: every position at choice 0. Edit mode: `start`, else a uniform design drawn
    with the env's seeded RNG.

    ## Episode End
    *stop*, `max_edits` valid edits (default n, so every design is reachable from the build
    start), `max_invalid` masked actions, or truncation after `max_steps` steps.

    ## Arguments
    Space: `n` (20), `choices` (4), `k` (2, the interaction width), `seed` (0, the landscape),
    as `NKLandscape`'s. The rest are `DesignEnv`'s; `objectives` may name quality only.
    """

    name = "nk"

    def __init__(self, n: int = 20, choices: int = 4, k: int = 2, seed: int = 0) -> None:
        self.landscape = NKLandscape(n=n, choices=choices, k=k, seed=seed)
        self.n, self.choices = self.landscape.n, self.landscape.choices
        self.n_actions = 1 + self.n * self.choices
        self.minimal: Design = (0,) * self.n

    def action(self, position: int, choice: int) -> int:
        """The action that sets `position` to `choice`."""
        if not 0 <= position < self.n or not 0 <= choice < self.choices:
            raise ValueError(f"(position={position}, choice={choice}) is outside n={self.n}, choices={self.choices}")
        return 1 + position * self.choices + choice

    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Design:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {MODES}")
        if start is not None:
            return self.parse(start)
        return self.minimal if mode == "build" else self.sample(rng)

    def apply(self, design: Design, action: int) -> Design | None:
        position, choice = divmod(action - 1, self.choices)
        if design[position] == choice:
            return None
        return design[:position] + (choice,) + design[position + 1:]

    def mask(self, design: Design) -> np.ndarray:
        mask = np.ones(self.n_actions, dtype=bool)
        mask[1 + np.arange(self.n) * self.choices + np.asarray(design)] = False
        return mask

    def design_space(self) -> spaces.Dict:
        return spaces.Dict({"design": spaces.MultiDiscrete(np.full(self.n, self.choices, dtype=np.int64))})

    def observe(self, design: Design) -> dict[str, np.ndarray]:
        return {"design": np.array(design, dtype=np.int64)}

    def key(self, design: Design) -> str:
        return self.describe(design)

    def describe(self, design: Design) -> str:
        return "-".join(str(v) for v in design)

    def describe_action(self, action: int) -> str:
        if action == 0:
            return "stop"
        position, choice = divmod(action - 1, self.choices)
        return f"set position {position} to choice {choice}"

    def parse(self, value: Any) -> Design:
        try:
            design = tuple(int(v) for v in (value.split("-") if isinstance(value, str) else value))
        except (TypeError, ValueError):
            raise ValueError(f"design {value!r} is not a '-'-joined list of choice indices") from None
        if not self.contains(design):
            raise ValueError(f"design {value!r} is not {self.n} choice indices in 0..{self.choices - 1}")
        return design

    def contains(self, design: Design) -> bool:
        return len(design) == self.n and all(0 <= v < self.choices for v in design)

    def cheap_metrics(self, design: Design) -> dict[str, float]:
        return {}  # quality is the costly metric; the landscape has no costs

    def evaluate(self, design: Design) -> Evaluation:
        return Evaluation({"quality": self.landscape.fitness(self.parse(design))}, "ok", cached=False)

    # -- for searches that do not walk edits: uniform designs, one-hot features ------------------

    def sample(self, rng: np.random.Generator) -> Design:
        return tuple(int(v) for v in rng.integers(self.choices, size=self.n))

    def features(self, design: Design) -> np.ndarray:
        onehot = np.zeros(self.n * self.choices, dtype=np.float64)
        onehot[np.arange(self.n) * self.choices + np.asarray(design)] = 1.0
        return onehot

    def designs(self) -> None:
        return None  # choices^n designs: too many to list (the optimum comes from `NKLandscape`)

    def encoding_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.n, dtype=np.int64), np.full(self.n, self.choices - 1, dtype=np.int64)

    def encode(self, design: Design) -> np.ndarray:
        return np.array(design, dtype=np.int64)

    def decode(self, vector: Sequence[int]) -> Design | None:
        design = tuple(int(v) for v in vector)
        return design if self.contains(design) else None

    # -- the env's defaults: n edits, quality alone, scaled to the exact optimum and worst -------

    def default_max_edits(self) -> int:
        return self.n

    def default_objectives(self) -> tuple[str, ...]:
        return OBJECTIVES

    def objective_overrides(self, objectives: Sequence[Any]) -> dict[str, dict[str, float]]:
        """Quality's reference points at the landscape's optimum and worst (`nk_objective_overrides`),
        unless it is declared with its own; any objective but quality is an error."""
        if isinstance(objectives, str) or not isinstance(objectives, Sequence) or len(objectives) != 1 \
                or _measured_metric(objectives[0]) != "quality":
            raise ValueError(f"objectives={objectives!r}: the NK landscape scores quality only "
                             "(objectives=['quality'])")
        return nk_objective_overrides(self.landscape) if objectives[0] == "quality" else {}

    def __repr__(self) -> str:
        land = self.landscape
        return f"NKLandscapeSpace(n={land.n}, choices={land.choices}, k={land.k}, seed={land.seed})"


def _measured_metric(objective: Any) -> Any:
    """The metric an objective item reads: a name's own, a declaration's `metric` (else its name)."""
    if isinstance(objective, Mapping):
        return objective.get("metric", objective.get("name"))
    return objective


def nk_objective_overrides(landscape: NKLandscape) -> dict[str, dict[str, float]]:
    """Quality's reference points at the landscape's exact optimum (utility 1) and worst (0)."""
    return {"quality": {"ideal": landscape.optimum()[1], "nadir": landscape.worst()[1]}}


def known_optimum(n: int = 20, choices: int = 4, k: int = 2, seed: int = 0) -> KnownOptima:
    """The landscape's optimum under the env's default objective and scalariser (a weighted sum
    of quality alone: its utility, so `best_reward` is 1.0), scored by the env's own code;
    `regret(best_reward)` of a run is then exact. The front is the optimum alone."""
    from livgym.envs.livbench.bench import KnownOptima  # a shared result type; imported only when asked

    landscape = NKLandscapeSpace(n, choices, k, seed).landscape
    design, value = landscape.optimum()
    objective_set = ObjectiveSet.from_names(OBJECTIVES, **nk_objective_overrides(landscape))
    metrics = {"quality": value}
    reward = make_scalariser("weighted_sum", weights=[1.0])(objective_set.vector(metrics), metrics)
    text = "-".join(str(v) for v in design)
    return KnownOptima(OBJECTIVES, (1.0,), text, float(reward), (text,), float(objective_set.vector(metrics)[0]))

"""The search-space protocol the design environment is written against.

`DesignEnv` knows nothing about LIV genomes: it asks a `SearchSpace` for a starting design,
which actions are valid, what an action does, how a design looks to the policy and what it
scores. The LIV space (`livgym.envs.liv.space`) is the flagship implementation;
`livgym.envs.tables.space` shows a user's own discrete space answered from a table.

Conventions every space follows:
- Designs are immutable and hashable; `apply` returns a new design or None (invalid action).
- Action 0 is *stop*; it belongs to the environment and `apply` is never called with it.
  `mask(design)[0]` must be True, and `mask(design)[a]` is True exactly where
  `apply(design, a)` is not None.
- `evaluate` never raises for a failing design: it returns a non-"ok" `Evaluation`.

Searches that do not walk edits use four more answers, with defaults that say plainly when a
space lacks them: `sample` (uniform random search, initial populations), `features` (the
surrogate model of model-based search), a flat integer encoding (`encoding_bounds`, `encode`,
`decode`: NSGA-II's genome, Optuna's parameters) and, where the space can list its designs,
`designs` (exact optima, the surrogate's enumerated ceiling).

A space also states the env settings that follow from it (`default_max_edits`,
`default_objectives`, `objective_overrides`), so one env class, `DesignEnv`, serves every
space; `livgym.envs.wrappers.SpaceWrapper` forwards the whole protocol to a wrapped space.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, Hashable, Mapping, Sequence, TypeVar

import numpy as np
from gymnasium import spaces

Design = TypeVar("Design", bound=Hashable)
MODES: tuple[str, ...] = ("build", "edit")


@dataclass(frozen=True)
class Evaluation:
    """What a space's evaluator says about one design (the env turns it into a reward)."""

    metrics: Mapping[str, float]
    status: str = "ok"  # "ok", or why not: "diverged", "failed", "timeout"
    cached: bool = False  # answered from the evaluation store (or the space's own memory)
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # anything the space wants in `info`

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class SearchSpace(ABC, Generic[Design]):
    """A discrete design space with edit actions, as the design environment sees it."""

    #: size of the flat `Discrete` action space, stop (index 0) included
    n_actions: int
    #: a short name, shown in `info` and reprs
    name: str = "space"

    @abstractmethod
    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Design:
        """The design an episode starts from: for `mode="build"` a minimal design, for
        `mode="edit"` `start` (parsed by `parse` if it is text) or one drawn with `rng`."""

    @abstractmethod
    def apply(self, design: Design, action: int) -> Design | None:
        """The design after edit action `action` (1..n_actions-1), or None if it is invalid."""

    @abstractmethod
    def mask(self, design: Design) -> np.ndarray:
        """Boolean array of `n_actions`: True where the action is valid (stop always)."""

    def at_capacity(self, design: Design) -> bool:
        """Whether a build episode is complete (e.g. max depth reached); False by default."""
        return False

    @abstractmethod
    def design_space(self) -> spaces.Dict:
        """The observation entries that describe a design (the env adds its own)."""

    @abstractmethod
    def observe(self, design: Design) -> dict[str, np.ndarray]:
        """The design's observation entries, matching `design_space()`."""

    @abstractmethod
    def key(self, design: Design) -> str:
        """A stable identifier, equal for designs that are the same architecture."""

    @abstractmethod
    def describe(self, design: Design) -> str:
        """A lossless human-readable form of the design (parsed back by `parse`)."""

    def parse(self, value: Any) -> Design:
        """A design from its `describe` text (or a design, returned unchanged)."""
        return value

    def describe_action(self, action: int) -> str:
        """A human-readable name of an action, independent of any design."""
        return "stop" if action == 0 else f"action {action}"

    def render(self, design: Design) -> np.ndarray | None:
        """A picture of `design`: an (height, width, 3) uint8 RGB array of one size for every
        design of the space (video frames must be), or None when the space has none, as here;
        the env then draws a text card of `describe(design)` instead."""
        return None

    @abstractmethod
    def cheap_metrics(self, design: Design) -> dict[str, float]:
        """Metrics that cost next to nothing (analytic costs), for observations, shaping and
        budget masks; may be empty."""

    @abstractmethod
    def evaluate(self, design: Design) -> Evaluation:
        """The design's metrics from the space's evaluator (through its store, if any)."""

    def contains(self, design: Design) -> bool:
        """Whether `design`, made outside the env's edits (a crossover child), is in this space."""
        return True

    def job(self, design: Design) -> Any:
        """An `EvaluationJob` that evaluates `design` on a backend, or None when there is
        nothing to send (the space answers it itself: a table, or a result already at hand)."""
        return None

    def accept(self, design: Design, outcome: Any) -> None:
        """Take a backend's `JobOutcome` for `design`; the next `evaluate(design)` returns it."""

    def constrained_mask(self, design: Design, allowed: Any) -> np.ndarray:
        """`mask(design)` narrowed to actions whose resulting design satisfies `allowed`, a
        predicate (current cheap metrics, candidate cheap metrics) -> bool.

        The generic version applies every valid action; spaces with cheaper ways to predict a
        candidate's metrics override it.
        """
        mask = self.mask(design).copy()
        current = self.cheap_metrics(design)
        for action in np.flatnonzero(mask[1:]) + 1:
            candidate = self.apply(design, int(action))
            mask[action] = candidate is not None and allowed(current, self.cheap_metrics(candidate))
        return mask

    # -- for searches that do not walk edits ---------------------------------------------------

    def sample(self, rng: np.random.Generator) -> Design:
        """A design drawn from the space's documented distribution with `rng` (uniform over the
        designs where the space can list them)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample(rng), which uniform random "
                                  "search and the initial populations need")

    def features(self, design: Design) -> np.ndarray:
        """A fixed-length float64 vector that describes `design` to a surrogate model (equal for
        designs with equal `key`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement features(design), which "
                                  "model-based search needs")

    def designs(self) -> Sequence[Design] | None:
        """Every design of the space, in a fixed order, where the space can list them; None otherwise."""
        return None

    def metric_values(self) -> Mapping[str, np.ndarray] | None:
        """Each metric's values over every design, by name, where the space knows them without
        evaluating anything (a table's columns; NaN where a design has none); None otherwise.
        The env takes objectives' missing reference points from them and checks declared ones
        against them when it is built (`livgym.rewards.objectives.declare_objectives`)."""
        return None

    def encoding_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Inclusive integer (low, high) of each gene of the flat encoding (`encode` / `decode`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement a flat encoding (encoding_bounds, "
                                  "encode, decode), which NSGA-II and Optuna search need")

    def encode(self, design: Design) -> np.ndarray:
        """The design as an int64 vector within `encoding_bounds()`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement encode(design)")

    def decode(self, vector: Sequence[int]) -> Design | None:
        """The design a vector within `encoding_bounds()` encodes, or None when it encodes no
        design of this space (the search draws again; nothing is repaired)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement decode(vector)")

    def crossover_points(self) -> np.ndarray:
        """Gene indices where a crossover may cut the encoding (a cut at i swaps genes from i on);
        by default between any two genes."""
        return np.arange(1, len(self.encoding_bounds()[0]))

    def close(self) -> None:
        """Release files or connections the space holds."""

    # -- the env's defaults for this space -----------------------------------------------------

    def default_max_edits(self) -> int | None:
        """Valid edits per episode when the env is not told (e.g. enough to reach every design
        from the build start); None: `DesignEnv`'s own default."""
        return None

    def default_objectives(self) -> Sequence[Any] | None:
        """The objectives when the env is not told (names or declarations, as `DesignEnv`'s
        `objectives`); None: `DesignEnv`'s own default (quality, params, cache_bytes)."""
        return None

    def objective_overrides(self, objectives: Sequence[Any]) -> dict[str, dict[str, Any]]:
        """Reference points this space knows (`Objective` fields by objective name) for those of
        `objectives` given by name, where the defaults do not fit its metrics: a fidelity's own
        quality range, a table's or a landscape's known value ranges. The env applies the
        caller's `objective_overrides` on top, field by field. A ValueError names objectives the
        space cannot score. Empty by default."""
        return {}

"""`SpaceWrapper`: a search space that forwards the whole `SearchSpace` protocol to another.

A wrapper changes one or two answers of a space (model-based search's surrogate space answers
`evaluate` from a model) and must give every other answer exactly as the wrapped space does,
or the env over it would see other actions, masks or observations. Subclass it and override
only what changes; a test checks that every public member of the protocol is forwarded here.
Attributes outside the protocol (the LIV space's `codec`, `max_depth`) are read through too.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium import spaces

from livgym.envs.space import Design, Evaluation, SearchSpace


class SpaceWrapper(SearchSpace[Design]):
    """`space` with every protocol member forwarded to it; a subclass overrides what it changes."""

    def __init__(self, space: SearchSpace[Design]) -> None:
        self.space = space

    def __getattr__(self, name: str) -> Any:  # what searches read off a space beyond the protocol
        if name == "space":  # not set yet (a copy or an unpickling under way): no recursion
            raise AttributeError(name)
        return getattr(self.space, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space!r})"

    @property
    def n_actions(self) -> int:
        return self.space.n_actions

    @property
    def name(self) -> str:
        return self.space.name

    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Design:
        return self.space.initial(mode, rng, start)

    def apply(self, design: Design, action: int) -> Design | None:
        return self.space.apply(design, action)

    def mask(self, design: Design) -> np.ndarray:
        return self.space.mask(design)

    def at_capacity(self, design: Design) -> bool:
        return self.space.at_capacity(design)

    def design_space(self) -> spaces.Dict:
        return self.space.design_space()

    def observe(self, design: Design) -> dict[str, np.ndarray]:
        return self.space.observe(design)

    def key(self, design: Design) -> str:
        return self.space.key(design)

    def describe(self, design: Design) -> str:
        return self.space.describe(design)

    def parse(self, value: Any) -> Design:
        return self.space.parse(value)

    def describe_action(self, action: int) -> str:
        return self.space.describe_action(action)

    def render(self, design: Design) -> np.ndarray | None:
        return self.space.render(design)

    def cheap_metrics(self, design: Design) -> dict[str, float]:
        return self.space.cheap_metrics(design)

    def evaluate(self, design: Design) -> Evaluation:
        return self.space.evaluate(design)

    def contains(self, design: Design) -> bool:
        return self.space.contains(design)

    def job(self, design: Design) -> Any:
        return self.space.job(design)

    def accept(self, design: Design, outcome: Any) -> None:
        self.space.accept(design, outcome)

    def constrained_mask(self, design: Design, allowed: Any) -> np.ndarray:
        return self.space.constrained_mask(design, allowed)

    def sample(self, rng: np.random.Generator) -> Design:
        return self.space.sample(rng)

    def features(self, design: Design) -> np.ndarray:
        return self.space.features(design)

    def designs(self) -> Sequence[Design] | None:
        return self.space.designs()

    def metric_values(self) -> Mapping[str, np.ndarray] | None:
        return self.space.metric_values()

    def encoding_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.space.encoding_bounds()

    def encode(self, design: Design) -> np.ndarray:
        return self.space.encode(design)

    def decode(self, vector: Sequence[int]) -> Design | None:
        return self.space.decode(vector)

    def crossover_points(self) -> np.ndarray:
        return self.space.crossover_points()

    def close(self) -> None:
        self.space.close()

    def default_max_edits(self) -> int | None:
        return self.space.default_max_edits()

    def default_objectives(self) -> Sequence[Any] | None:
        return self.space.default_objectives()

    def objective_overrides(self, objectives: Sequence[Any]) -> dict[str, dict[str, Any]]:
        return self.space.objective_overrides(objectives)

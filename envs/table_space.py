"""A user's own discrete search space, answered from a table of precomputed results.

A design is a tuple of choice indices (one per position, `choices[i]` options at position i);
the table maps every known design to its metrics. An action sets one position to one choice;
it is valid only when the resulting design is in the table, so unknown designs are
unreachable. This is how a tabular benchmark (NAS-Bench style) becomes a `DesignEnv`:

>>> from livgym.envs import DesignEnv, TableSearchSpace
>>> table = {(a, b): {"quality": 0.1 * a + 0.2 * b, "params": 1e4 * (1 + a + b), "cache_bytes": 1e3}
...          for a in range(3) for b in range(2)}
>>> space = TableSearchSpace(table, choices=(3, 2), minimal=(0, 0))
>>> env = DesignEnv(space, max_edits=4)
>>> obs, info = env.reset(seed=0)
>>> obs, reward, *_ = env.step(space.action(position=0, choice=2))  # set position 0 to choice 2
>>> info = env.step(0)[-1]  # stop
>>> info["genome"], round(info["objectives"]["quality"], 2)
('2-0', 0.2)
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium import spaces

from livgym.envs.space import MODES, Evaluation, SearchSpace

Design = tuple[int, ...]


class TableSearchSpace(SearchSpace[Design]):
    """Designs are tuples of choice indices; metrics come from `table`.

    Arguments:
        table: {design tuple: {metric: value}}; every design the env may reach.
        choices: the number of options at each position.
        minimal: where a build episode starts (default: the smallest design in the table).
        cheap: metrics treated as free to know before evaluation (observations, shaping,
            budget masks); default all of them, since the table answers everything at once.
    """

    name = "table"

    def __init__(self, table: Mapping[Sequence[int], Mapping[str, float]], choices: Sequence[int],
                 minimal: Sequence[int] | None = None, cheap: Sequence[str] | None = None) -> None:
        self.choices = tuple(int(c) for c in choices)
        if not self.choices or min(self.choices) < 1:
            raise ValueError(f"choices={list(choices)} must be a non-empty list of positive counts")
        self.table: dict[Design, dict[str, float]] = {}
        for design, metrics in table.items():
            key = tuple(int(v) for v in design)
            if len(key) != len(self.choices) or any(not 0 <= v < c for v, c in zip(key, self.choices)):
                raise ValueError(f"table design {design!r} does not fit choices={list(self.choices)}")
            self.table[key] = {k: float(v) for k, v in metrics.items()}
        if not self.table:
            raise ValueError("the table is empty")
        self.minimal = min(self.table) if minimal is None else self.parse(minimal)
        self.cheap = None if cheap is None else tuple(cheap)
        self._offsets = np.concatenate([[1], 1 + np.cumsum(self.choices)])  # action of (position, 0)
        self.n_actions = int(self._offsets[-1])
        self._designs = sorted(self.table)

    def action(self, position: int, choice: int) -> int:
        """The action that sets `position` to `choice`."""
        if not 0 <= position < len(self.choices) or not 0 <= choice < self.choices[position]:
            raise ValueError(f"(position={position}, choice={choice}) is outside choices={list(self.choices)}")
        return int(self._offsets[position]) + choice

    def _decode(self, action: int) -> tuple[int, int]:
        position = int(np.searchsorted(self._offsets, action, side="right")) - 1
        return position, action - int(self._offsets[position])

    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Design:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {MODES}")
        if start is not None:
            return self.parse(start)
        if mode == "build":
            return self.minimal
        return self._designs[int(rng.integers(len(self._designs)))]

    def apply(self, design: Design, action: int) -> Design | None:
        position, choice = self._decode(action)
        if design[position] == choice:
            return None
        result = design[:position] + (choice,) + design[position + 1:]
        return result if result in self.table else None

    def mask(self, design: Design) -> np.ndarray:
        mask = np.zeros(self.n_actions, dtype=bool)
        mask[0] = True
        for action in range(1, self.n_actions):
            mask[action] = self.apply(design, action) is not None
        return mask

    def design_space(self) -> spaces.Dict:
        return spaces.Dict({"design": spaces.MultiDiscrete(np.array(self.choices, dtype=np.int64))})

    def observe(self, design: Design) -> dict[str, np.ndarray]:
        return {"design": np.array(design, dtype=np.int64)}

    def key(self, design: Design) -> str:
        return self.describe(design)

    def describe(self, design: Design) -> str:
        return "-".join(str(v) for v in design)

    def parse(self, value: Any) -> Design:
        design = tuple(int(v) for v in (value.split("-") if isinstance(value, str) else value))
        if design not in self.table:
            raise ValueError(f"design {value!r} is not in the table")
        return design

    def cheap_metrics(self, design: Design) -> dict[str, float]:
        row = self.table[design]
        return dict(row) if self.cheap is None else {k: row[k] for k in self.cheap if k in row}

    def evaluate(self, design: Design) -> Evaluation:
        return Evaluation(self.table[design], "ok", cached=True)

    # -- for searches that do not walk edits: uniform over the table's rows, one-hot features ---

    def sample(self, rng: np.random.Generator) -> Design:
        return self._designs[int(rng.integers(len(self._designs)))]

    def features(self, design: Design) -> np.ndarray:
        onehot = np.zeros(int(self._offsets[-1]) - 1, dtype=np.float64)
        onehot[self._offsets[:-1][np.arange(len(design))] - 1 + np.asarray(design)] = 1.0
        return onehot

    def designs(self) -> list[Design]:
        return list(self._designs)

    def encoding_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(len(self.choices), dtype=np.int64), np.array(self.choices, dtype=np.int64) - 1

    def encode(self, design: Design) -> np.ndarray:
        return np.array(design, dtype=np.int64)

    def decode(self, vector: Sequence[int]) -> Design | None:
        design = tuple(int(v) for v in vector)
        return design if design in self.table else None

"""A user's own discrete search space, answered from a table of precomputed results.

A design is a tuple of choice indices (one per position, `choices[i]` options at position i);
the table maps every known design to its metrics. An action sets one position to one choice;
it is valid only when the resulting design is in the table, so unknown designs are
unreachable. This is how a tabular benchmark (NAS-Bench style) becomes a `DesignEnv`:

>>> from livgym.envs import DesignEnv, TableSearchSpace
>>> table = {(a, b): {"accuracy": 0.1 * a + 0.2 * b, "latency_ms": 1.0 + a + 2 * b}
...          for a in range(3) for b in range(2)}
>>> space = TableSearchSpace(table, choices=(3, 2), minimal=(0, 0))
>>> env = DesignEnv(space, max_edits=4, objectives=[{"metric": "accuracy", "direction": "max"},
...                                                 {"metric": "latency_ms", "direction": "min"}])
>>> obs, info = env.reset(seed=0)
>>> obs, reward, *_ = env.step(space.action(position=0, choice=2))  # set position 0 to choice 2
>>> obs, reward, terminated, truncated, info = env.step(0)  # stop: the design's utilities, averaged
>>> info["genome"], round(info["objectives"]["accuracy"], 2), round(float(reward), 2)
('2-0', 0.2, 0.5)

Objectives name the table's own metrics; their reference points come from the table (best
value utility 1, worst 0) unless declared. With `names` (the positions' names) and `labels`
(each position's options), designs read `depth=4 op=conv` instead of `1-0` (`key` stays the
index form). `livgym.envs.tables.file` reads such a table from a CSV, JSON or Parquet file.
"""

from __future__ import annotations

import math
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
            budget masks, the cheap inputs of model-based search); default none: a costly metric
            (accuracy) known before evaluation would leak into shaping, so costs that really
            are free (parameter counts) must be declared.
        names: a name per position (e.g. the table's choice columns), shown in `describe`.
        labels: per position, a label per option (e.g. the column's values), shown in `describe`.
        name: the space's short name, shown in `info` and summaries.
    """

    name = "table"

    def __init__(self, table: Mapping[Sequence[int], Mapping[str, float]], choices: Sequence[int],
                 minimal: Sequence[int] | str | None = None, cheap: Sequence[str] | None = (),
                 names: Sequence[str] | None = None, labels: Sequence[Sequence[str]] | None = None,
                 name: str | None = None) -> None:
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
        if name is not None:
            self.name = str(name)
        self.names = None if names is None else tuple(str(n) for n in names)
        if self.names is not None and (len(self.names) != len(self.choices)
                                       or len(set(self.names)) != len(self.names)):
            raise ValueError(f"names={list(self.names)} must name each of the {len(self.choices)} positions once")
        self.labels = None if labels is None else tuple(tuple(str(v) for v in options) for options in labels)
        if self.labels is not None and (len(self.labels) != len(self.choices) or any(
                len(options) != c or len(set(options)) != c for options, c in zip(self.labels, self.choices))):
            raise ValueError(f"labels must give each position its {list(self.choices)} distinct option labels")
        self._designs = sorted(self.table)
        self._texts = {self.describe(d): d for d in self._designs} if self.names or self.labels else {}
        self.metric_names = tuple(sorted({k for row in self.table.values() for k in row}))
        self.cheap = () if cheap is None else tuple(cheap)
        unknown = sorted(set(self.cheap) - set(self.metric_names))
        if unknown:
            raise ValueError(f"cheap={list(self.cheap)}: {unknown} not among the table's metrics "
                             f"{list(self.metric_names)}")
        self.minimal = min(self.table) if minimal is None else self.parse(minimal)
        self._offsets = np.concatenate([[1], 1 + np.cumsum(self.choices)])  # action of (position, 0)
        self.n_actions = int(self._offsets[-1])

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
        """The index form, `2-0` (short and safe in file names)."""
        return "-".join(str(v) for v in design)

    def describe(self, design: Design) -> str:
        """`name=label` per position with names or labels (`depth=4 op=conv`), else the index form."""
        if not (self.names or self.labels):
            return self.key(design)
        return " ".join(f"{self._position_name(i)}={self._label(i, v)}" for i, v in enumerate(design))

    def _position_name(self, position: int) -> str:
        return self.names[position] if self.names else str(position)

    def _label(self, position: int, choice: int) -> str:
        return self.labels[position][choice] if self.labels else str(choice)

    def describe_action(self, action: int) -> str:
        if action == 0:
            return "stop"
        position, choice = self._decode(action)
        return f"set {self._position_name(position)}={self._label(position, choice)}"

    def parse(self, value: Any) -> Design:
        """A design from its `describe` text, its index form (`2-0`) or a tuple of indices."""
        if isinstance(value, str) and value in self._texts:
            return self._texts[value]
        try:
            design = tuple(int(v) for v in (value.split("-") if isinstance(value, str) else value))
        except (TypeError, ValueError):
            raise ValueError(f"design {value!r} is not in the table") from None
        if design not in self.table:
            raise ValueError(f"design {value!r} is not in the table")
        return design

    def cheap_metrics(self, design: Design) -> dict[str, float]:
        row = self.table[design]
        return {k: row[k] for k in self.cheap if k in row}

    def metric_values(self) -> dict[str, np.ndarray]:
        """Every metric's column over `designs()` (NaN where a row lacks it)."""
        if "_columns" not in self.__dict__:
            self.__dict__["_columns"] = {m: np.array([self.table[d].get(m, np.nan) for d in self._designs])
                                         for m in self.metric_names}
        return self.__dict__["_columns"]

    def contains(self, design: Design) -> bool:
        return tuple(design) in self.table

    def evaluate(self, design: Design) -> Evaluation:
        """The row; a row with an empty (NaN) metric is a failed measurement, its other metrics kept."""
        row = self.table[design]
        missing = [k for k, v in row.items() if math.isnan(v)]
        if missing:
            return Evaluation({k: v for k, v in row.items() if k not in missing}, "failed", cached=True,
                              error=f"the table has no value of {missing} for this design")
        return Evaluation(row, "ok", cached=True)

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

    def __repr__(self) -> str:
        return f"TableSearchSpace(name={self.name!r}, choices={list(self.choices)}, designs={len(self.table)})"

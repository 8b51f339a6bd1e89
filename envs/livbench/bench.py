"""`livgym/LIVBench-v0`: the design env over LIV-Bench's sub-space, answered from its table.

The space is the LIV space restricted to the table's classes, depth, width and heads
(`livgym.envs.livbench.table.LIVBENCH_V0`), with the same flat action table as
`livgym/Design-v0` (both ids are `DesignEnv`s, `livgym.envs.registry`). Hyperparameter steps
are masked (the table holds registry class genomes only), and so is any edit whose result is
not a row of the table, so unknown designs are unreachable. Every evaluation is a table
lookup: thousands of episodes cost seconds. One rule differs from the Design env: a build
episode does not end on reaching max depth (only stop or `max_edits` end it), so that every
design of the table is reachable from the build start.

Objectives default to the table's own ranges (`bench_objective_overrides`): each metric's best
value in the table has utility 1 and its worst 0, so no objective swamps the others. Episodes
allow max_depth + 4 edits unless told otherwise (`LIVBenchSpace.default_max_edits`). The known
optima for a weighting (`known_optima`) make a run's regret and hypervolume ratio exact.

For searches that do not walk edits the table lists its designs: `designs()` is every row (in
the order of their canonical hashes), `sample` is uniform over them, and the flat encoding is the
LIV space's dense one (`livgym.envs.liv.encoding`) with the class-genome table pinned to the
registry's (the table holds registry class genomes only): per slot a class gene (0 = empty,
1..4 = classes 1, 5, 7, 9) and a featurizer and a feature label (0..2), 12 genes in all, of
which most vectors decode to a row; anything that is not a row decodes to None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from livgym.envs.livbench.table import LIVBENCH_V0, load_table
from livgym.envs.liv.space import DEFAULT_BUILD_START, LIVSearchSpace
from livgym.envs.space import MODES, Evaluation
from livgym.models.cost import COST_METRICS
from livgym.models.edits import apply_edit
from livgym.models.genome import Genome
from livgym.rewards.objectives import DEFAULT_OBJECTIVE_NAMES, ObjectiveSet, make_scalariser
from livgym.rewards.pareto import ParetoArchive

#: the shipped scalarisations, weights over (quality, params, cache_bytes)
WEIGHTINGS: dict[str, tuple[float, float, float]] = {
    "quality-first": (0.5, 0.25, 0.25),  # the quickstart's weights
    "balanced": (1 / 3, 1 / 3, 1 / 3),
}


@dataclass(frozen=True)
class TableIndex:
    """A table's rows keyed by canonical genome hash."""

    genomes: dict[str, str]  # hash -> canonical genome text
    metrics: dict[str, dict[str, float]]  # hash -> every metric of the row
    status: dict[str, str]  # hash -> quality status ("ok", "failed", ...)
    spec: dict[str, Any]
    document: dict[str, Any]


@lru_cache(maxsize=4)
def table_index(path: str | None = None) -> TableIndex:
    """The table at `path` (default the shipped one) indexed by hash; built once per process."""
    document = load_table(path)
    columns = document["columns"]
    metric_columns = [c for c in columns if c not in ("genome", "status", "cost_status")]
    genomes, metrics, status = {}, {}, {}
    for row in document["rows"]:
        values = dict(zip(columns, row))
        key = Genome.from_string(values["genome"]).canonical_hash()
        genomes[key] = values["genome"]
        status[key] = values["status"]
        metrics[key] = {c: math.nan if values[c] is None else float(values[c]) for c in metric_columns}
    return TableIndex(genomes, metrics, status, document["spec"], document)


class LIVBenchSpace(LIVSearchSpace):
    """The LIV space restricted to a LIV-Bench table's rows; evaluations are lookups.

    Arguments:
        table: path of a table file (default: the shipped `livbench-v0.json.gz`).
        build_start: where build episodes start (default one gated-MLP slot, `91111`).
    """

    name = "livbench"

    def __init__(self, table: str | Path | None = None, build_start: str | Genome = DEFAULT_BUILD_START) -> None:
        self.table_path = None if table is None else str(table)
        spec = self.index.spec
        super().__init__(max_depth=spec["max_depth"], width=spec["width"], heads=spec["heads"],
                         classes=spec["classes"], fidelity="analytic", context_length=spec["context_length"],
                         vocab_size=spec["vocab_size"], build_start=build_start, references=())
        self.build_start = self._in_table(self.build_start, "build_start")
        self.first_hyperparameter_action = self.codec.blocks["hyperparameter"][0]

    @property
    def index(self) -> TableIndex:
        return table_index(self.table_path)

    def _in_table(self, genome: Genome, what: str) -> Genome:
        if self.key(genome) not in self.index.genomes:
            raise ValueError(f"{what} {genome.to_string()!r} is not a design of the LIV-Bench table "
                             f"(classes {self.index.spec['classes']}, up to {self.max_depth} slots, registry "
                             f"class genomes, width {self.width}, heads {self.heads})")
        return genome

    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Genome:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {MODES}")
        if start is not None:
            return self._in_table(self._fit(self.parse(start), "start genome"), "start genome")
        if mode == "build":
            return self.build_start
        keys = list(self.index.genomes)
        return Genome.from_string(self.index.genomes[keys[int(rng.integers(len(keys)))]])

    def at_capacity(self, genome: Genome) -> bool:
        # Build episodes end only by stop or `max_edits`, not on reaching max depth: with that
        # rule 183 of LIV-Bench-v0's 1,558 designs (those whose last slot must join a sharing
        # group after the last insert) would be unreachable in build mode. With the default 8
        # edits every design is reachable from the build start (tested).
        return False

    def contains(self, genome: Genome) -> bool:
        return self.key(genome) in self.index.genomes

    def mask(self, genome: Genome) -> np.ndarray:
        return self._masks.get(genome, lambda: self._table_mask(genome))

    def _table_mask(self, genome: Genome) -> np.ndarray:
        mask = self.codec.mask(genome).copy()
        mask[self.first_hyperparameter_action:] = False
        if self.index.document.get("complete"):
            # Every canonical design of the sub-space is a row, so every edit of a row is one
            # (a test checks the shipped table against the enumeration): nothing to look up.
            return mask
        known = self.index.genomes
        for action in np.flatnonzero(mask[1:]) + 1:
            child = apply_edit(genome, self.codec.decode(int(action), genome), self.max_depth, known_valid=True)
            mask[action] = child.canonical_hash() in known
        return mask

    def cheap_metrics(self, genome: Genome) -> dict[str, float]:
        row = self.index.metrics.get(self.key(genome))
        if row is None:  # only reachable by a caller passing a design outside the table
            return super().cheap_metrics(genome)
        return {k: row[k] for k in COST_METRICS}

    def evaluate(self, genome: Genome) -> Evaluation:
        key = self.key(genome)
        if key not in self.index.genomes:
            raise ValueError(f"design {genome.to_string()!r} is not in the LIV-Bench table")
        status = self.index.status[key]
        error = None if status == "ok" else f"the table's evaluation of this design ended {status}"
        return Evaluation(self.index.metrics[key], status, True, error, {"fidelity": self.index.spec["fidelity"]})

    # -- for searches that do not walk edits ---------------------------------------------------

    @property
    def _rows(self) -> list[Genome]:
        """Every row's genome, in the order of the rows' canonical hashes (parsed once per copy)."""
        rows = self.__dict__.get("_row_genomes")
        if rows is None:
            genomes = self.index.genomes
            rows = self.__dict__["_row_genomes"] = [Genome.from_string(genomes[k]) for k in sorted(genomes)]
        return rows

    def sample(self, rng: np.random.Generator) -> Genome:
        """A row drawn uniformly (one `rng.integers` over `designs()`)."""
        rows = self._rows
        return rows[int(rng.integers(len(rows)))]

    def designs(self) -> list[Genome]:
        return list(self._rows)

    # -- the env's defaults ----------------------------------------------------------------------

    def default_max_edits(self) -> int:
        """max_depth + 4: with it every design of the table is reachable from the build start (tested)."""
        return self.max_depth + 4

    def objective_overrides(self, objectives: Sequence[Any]) -> dict[str, dict[str, float]]:
        """The table's own ranges (`bench_objective_overrides`) for the objectives given by name."""
        return bench_objective_overrides(self.table_path, [o for o in objectives if isinstance(o, str)])

    #: the table holds registry class genomes only: the encoding pins the whole class-genome table
    _free_hyperparameters = False

    def __repr__(self) -> str:
        return f"LIVBenchSpace(table={self.table_path or LIVBENCH_V0.name!r}, designs={len(self.index.genomes)})"


def bench_objective_overrides(table: str | Path | None = None,
                              names: Sequence[str] = DEFAULT_OBJECTIVE_NAMES) -> dict[str, dict[str, float]]:
    """Reference points from the table's own ranges: each metric's best value -> utility 1, worst -> 0.

    Zero cache (a stack with no sequence state) is floored at the smallest positive cache in the
    table, so it ties with that design at utility 1 (a log scale has no place for 0 itself).
    Every row's utilities are therefore in [0, 1] without the objectives' clip coming into play.
    """
    index = table_index(None if table is None else str(table))
    ok = [m for k, m in index.metrics.items() if index.status[k] == "ok"]
    overrides: dict[str, dict[str, float]] = {}
    for name in names:
        if name not in index.document["columns"]:
            continue  # not a table metric: the objective keeps its own references
        values = np.array([m[name] for m in ok], dtype=np.float64)
        if name == "quality":
            overrides[name] = {"ideal": float(values.max()), "nadir": float(values.min())}
        else:
            positive = values[values > 0]
            floor = float(positive.min())
            overrides[name] = {"ideal": floor, "nadir": float(values.max()), "floor": floor}
    return overrides


@dataclass(frozen=True)
class KnownOptima:
    """The exact optima of a table under one objective set and weighting."""

    objectives: tuple[str, ...]
    weights: tuple[float, ...]
    best_genome: str  # the design with the highest scalarised reward
    best_reward: float
    front: tuple[str, ...]  # genomes of the exact Pareto front (utility space)
    hypervolume: float  # of the exact front, above the all-nadir reference point

    def regret(self, best_reward: float) -> float:
        """How far a run's best reward is below the best possible (0 when it found the optimum)."""
        return self.best_reward - best_reward

    def hypervolume_ratio(self, hypervolume: float) -> float:
        return hypervolume / self.hypervolume


def known_optima(weights: Sequence[float] = WEIGHTINGS["balanced"], objectives: Sequence[str] = DEFAULT_OBJECTIVE_NAMES,
                 objective_overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 table: str | Path | None = None) -> KnownOptima:
    """Best scalarised design and exact Pareto front over every `ok` row, with the env's own
    objective and scalariser code (so they are what an env with these settings would score).
    The default weights, equal, are the env's default weighted sum."""
    index = table_index(None if table is None else str(table))
    overrides = bench_objective_overrides(table, objectives) if objective_overrides is None else objective_overrides
    objective_set = ObjectiveSet.from_names(tuple(objectives), **{k: dict(v) for k, v in overrides.items()})
    scalariser = make_scalariser("weighted_sum", weights=list(weights))
    archive = ParetoArchive(objective_set)
    best_key, best_reward = "", -math.inf
    for key, metrics in index.metrics.items():
        if index.status[key] != "ok":
            continue
        archive.add(key, metrics)
        reward = scalariser(objective_set.vector(metrics), metrics)
        if reward > best_reward:
            best_key, best_reward = key, reward
    front = tuple(sorted(index.genomes[e.key] for e in archive.front()))
    return KnownOptima(tuple(objectives), tuple(float(w) for w in weights), index.genomes[best_key],
                       float(best_reward), front, archive.hypervolume())

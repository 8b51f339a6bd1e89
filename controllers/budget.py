"""Budget accounting for a search: unique evaluations, revisits, Pareto archive, best so far.

Every method (RL or baseline) finishes designs through the same `DesignEnv`, whose evaluation
callback calls the tracker, so all methods are counted the same way: the budget is
the number of *unique* designs evaluated in this search (a design read from the evaluation
store still counts once: it is a design the method had to find); a design reached again in the
same search is free and counted as a revisit.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livgym.rewards.objectives import ObjectiveSet
from livgym.rewards.pareto import ParetoArchive


@dataclass(frozen=True)
class EvaluationRecord:
    """One unique design a search evaluated, with the search's state right after it."""

    index: int  # 1-based count of unique evaluations
    genome: str
    genome_hash: str
    status: str
    from_store: bool  # answered by the evaluation store (or memo) rather than computed now
    reward: float
    utilities: tuple[float, ...]
    metrics: dict[str, float]
    best_reward: float
    hypervolume: float
    revisits: int  # revisits so far (free evaluations)


class SearchTracker:
    """The env's evaluation callback: counts, archives and records every final design."""

    def __init__(self, objectives: ObjectiveSet, budget: int, patience: int = 2000) -> None:
        self.objectives = objectives
        self.budget = budget
        self.patience = patience  # revisits in a row without a new design before a search gives up
        self.archive = ParetoArchive(objectives)
        self.records: list[EvaluationRecord] = []
        self.revisits = 0
        self.gave_up = False  # a method found nothing new anywhere it can look (`give_up`)
        self.last_was_new = False  # whether the latest finished design was a new one
        self._revisits_at_last_new = 0
        self._seen: set[str] = set()
        self.best_reward = -math.inf
        #: the best raw value of the first objective seen (NaN before any; for progress displays)
        self.best_first = math.nan

    @property
    def used(self) -> int:
        return len(self.records)

    @property
    def remaining(self) -> int:
        """Unique evaluations the budget has left."""
        return max(self.budget - self.used, 0)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.budget

    @property
    def stalled(self) -> bool:
        """`patience` revisits in a row: the method keeps finishing designs it has already made
        (a converged policy, or a space smaller than the budget), and revisits cost no budget."""
        return self.gave_up or self.revisits - self._revisits_at_last_new >= self.patience

    def give_up(self) -> None:
        """Stop the search as stalled: the method has nothing new left to propose."""
        self.gave_up = True

    @property
    def done(self) -> bool:
        return self.exhausted or self.stalled

    def __call__(self, info: dict[str, Any], reward: Any) -> None:
        key = info["genome_hash"]
        if key in self._seen:
            self.revisits += 1
            self.last_was_new = False
            return
        self._seen.add(key)
        self.last_was_new = True
        self._revisits_at_last_new = self.revisits
        metrics = {k: float(v) for k, v in info.get("metrics", {}).items()}
        scalar = float(np.sum(reward)) if np.ndim(reward) else float(reward)
        utilities = tuple(float(u) for u in info.get("utilities", [math.nan] * len(self.objectives)))
        if info["status"] == "ok" and all(k in metrics for k in (o.key for o in self.objectives.objectives)):
            self.archive.add(key, metrics, {"genome": info["genome"]})
        self.best_reward = max(self.best_reward, scalar)
        first = self.objectives.objectives[0]
        value = metrics.get(first.key, math.nan)
        if info["status"] == "ok" and math.isfinite(value) and not (
                math.isfinite(self.best_first) and (value <= self.best_first if first.direction == "max"
                                                    else value >= self.best_first)):
            self.best_first = value
        self.records.append(EvaluationRecord(
            index=self.used + 1, genome=info["genome"], genome_hash=key, status=info["status"],
            from_store=bool(info["cache_hit"]), reward=scalar, utilities=utilities, metrics=metrics,
            best_reward=self.best_reward, hypervolume=self.archive.hypervolume(), revisits=self.revisits))

    def best(self, n: int = 5) -> list[EvaluationRecord]:
        """The `n` records with the highest reward (first found wins ties)."""
        ok = [r for r in self.records if r.status == "ok"]
        return sorted(ok, key=lambda r: (-r.reward, r.index))[:n]

    def to_csv(self, path: str | Path) -> None:
        """One row per unique evaluation, in order, with the search's best reward and hypervolume."""
        names = self.objectives.names
        metric_names = sorted({k for r in self.records for k in r.metrics})
        with Path(path).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "genome", "genome_hash", "status", "from_store", "reward",
                             *(f"utility_{n}" for n in names), "best_reward", "hypervolume", "revisits", *metric_names])
            for r in self.records:
                writer.writerow([r.index, r.genome, r.genome_hash, r.status, int(r.from_store), repr(r.reward),
                                 *(repr(u) for u in r.utilities), repr(r.best_reward), repr(r.hypervolume),
                                 r.revisits, *(repr(r.metrics[m]) if m in r.metrics else "" for m in metric_names)])

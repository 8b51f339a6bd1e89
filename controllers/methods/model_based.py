"""Model-based search: a method learns against a surrogate of the evaluator, and only its best
proposals are evaluated for real.

Real evaluations are the expensive part of a search (minutes each at `mad-lite`), so they are
spent where a model of the evaluator says they pay, in rounds:

1. `n_initial` designs drawn from the space's own distribution (`SearchSpace.sample`) are
   evaluated for real, together on the search's backend;
2. a surrogate (`livgym.controllers.methods.surrogate`) is fitted on every real result so far: it predicts
   each objective metric the space does not know before evaluation (quality; a table's costly
   columns) from the design's `features`, with an uncertainty;
3. the method runs on an *acquisition env*: the search's env (its settings) over a wrapper of
   its space whose evaluations are the surrogate's optimistic guesses (mean + `kappa` x std in
   each metric's better direction, cheap metrics exact), so the env's own reward becomes an
   upper-confidence acquisition. After `episodes` finished episodes, the `batch` distinct
   designs with the highest acquisition that have not been evaluated are evaluated for real,
   together; the surrogate is refitted and the method carries on (an RL policy keeps learning
   across rounds, evolution keeps its queue);
4. until the budget of real unique evaluations is spent.

The method never knows it runs on a model: any registered method works unchanged. With
`elite_starts`, that share of the acquisition env's episodes starts from one of the best real
designs so far (edits from an elite, as a learned mutation), the rest as configured.

With `lag` 1 a round's designs are queued on the backend behind the last round's, which is
still evaluating: the round was proposed from every result but the last round's. A worker
that finishes its last job of one round then starts on the next round's at once, instead of
idling until the round's dearest design is done, and the acquisition episodes run while the
workers evaluate. Which results a round sees is fixed by the schedule, not by which job
happened to finish first, so the same seed still gives the same designs on every backend.
The cost is one round of surrogate freshness.

Proposals are cheap and real evaluations are not, so when a round proposes nothing new (a
converged policy), the highest-acquisition designs among `fallback_samples` fresh samples of the
space are evaluated instead; the search stops early only when those are all evaluated too.

The real evaluations go through the search's env, so the tracker, the store, W&B and resume see
them as any method's: the budget counts real unique evaluations only. A resumed run evaluates
its record's designs first, in order (`SearchContext.replay`), so resuming on another machine,
where floating point may steer the policy elsewhere, wastes no real evaluation. Seconds spent outside
real evaluations (fitting, acquisition episodes, policy updates) are the controller's, reported
in `model_based.json` in the run folder.

This module holds the settings and the entry points; the rounds themselves, the acquisition
env's space and its tracker are `livgym.controllers.methods.model_based_loop`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from livgym.controllers.methods.contract import SearchContext, SearchMethod, param
from livgym.controllers.methods.model_based_loop import ModelBasedLoop
from livgym.controllers.methods.registry import get_method
from livgym.controllers.methods.surrogate import SURROGATE_MODELS

ACQUISITIONS: tuple[str, ...] = ("ucb", "mean")
POOLS: tuple[str, ...] = ("visited", "final")


@dataclass(frozen=True)
class SurrogateSettings:
    """The config's `surrogate:` section."""

    enabled: bool | None = param(None, "model-based search on or off; null: on for the RL methods")
    model: str = param("random_forest", "the surrogate model (livgym.controllers.methods.surrogate.SURROGATE_MODELS)")
    n_initial: int = param(10, "designs sampled from the space and evaluated before the first fit", minimum=1)
    batch: int = param(4, "proposals evaluated for real per round, together on the backend", minimum=1)
    episodes: int = param(128, "episodes the method finishes on the acquisition env per round", minimum=1)
    acquisition: str = param("ucb", "ucb: mean + kappa x std; mean: the prediction alone")
    kappa: float = param(1.0, "the exploration weight of ucb", minimum=0.0)
    elite_starts: float = param(0.5, "share of acquisition episodes that start from a best design so far", 0.0, 1.0)
    elites: int = param(8, "how many of the best real designs elite starts draw from", minimum=1)
    fallback_samples: int = param(256, "space samples scored when a round proposes nothing new", minimum=1)
    pool: str = param("visited", "a round's candidates: visited (every design its episodes reached) or final "
                      "(only the designs they ended in)")
    carry: int = param(256, "best candidates of a round that compete again in the next", minimum=0)
    lag: int = param(0, "rounds a proposal may run ahead of the results: 0 proposes each round from every "
                     "result so far; 1 queues the next round while the last one is still evaluating (proposed "
                     "without its results), so workers do not idle at a round's end", minimum=0)

    def __post_init__(self) -> None:
        if self.model not in SURROGATE_MODELS:
            raise ValueError(f"model={self.model!r} is not one of {sorted(SURROGATE_MODELS)}")
        if self.acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition={self.acquisition!r} is not one of {list(ACQUISITIONS)}")
        if self.pool not in POOLS:
            raise ValueError(f"pool={self.pool!r} is not one of {list(POOLS)}")

    def applies_to(self, method: str) -> bool:
        return get_method(method).model_based if self.enabled is None else self.enabled


#: `SurrogateSettings` checked like a method's parameters (errors name `surrogate.<key>`)
SURROGATE_SECTION = SearchMethod("surrogate", SurrogateSettings, lambda context, params: None,
                                 "the config's model-based search settings")


def parse_settings(given: Mapping[str, Any], where: str = "") -> SurrogateSettings:
    """The settings from a config's `surrogate:` mapping; an error names `surrogate.<key>`."""
    try:
        return SURROGATE_SECTION.parse(given, where)
    except ValueError as err:
        raise ValueError(str(err).replace("methods.surrogate", "surrogate")) from None


def model_based(method: SearchMethod, settings: SurrogateSettings) -> Callable[[SearchContext, Any], None]:
    """`method`'s run function made model-based: what `run_search` calls when the config's
    `surrogate` section applies to the method."""

    def run(context: SearchContext, params: Any) -> None:
        loop = ModelBasedLoop(context, settings)
        try:
            loop.run(method, params)
        finally:
            if context.out_dir is not None:
                (context.out_dir / "model_based.json").write_text(json.dumps(loop.report(), indent=1))

    return run


def enumerated_ceiling(context: SearchContext, settings: SurrogateSettings) -> None:
    """Model-based search whose acquisition is maximised exactly, by scoring every design of the
    space each round: the best any method can do with this surrogate and these settings (for
    spaces that list their designs, `SearchSpace.designs`)."""
    designs = context.env.space.designs()
    if designs is None:
        raise ValueError(f"{type(context.env.space).__name__} cannot list its designs, so the enumerated "
                         "ceiling does not apply")
    loop = ModelBasedLoop(context, settings)
    loop.initial_round()
    space = loop.space
    keys = [space.key(d) for d in designs]
    while not loop.finished:
        scores = loop.scores(list(designs))
        for i in np.argsort(-scores, kind="stable"):
            if keys[i] not in loop.evaluated:
                loop.proposals[keys[i]] = float(scores[i])
                loop.designs[keys[i]] = designs[i]
                if len(loop.proposals) >= settings.batch:
                    break
        loop.end_round()
    while loop.queued:
        loop.learn_queued()

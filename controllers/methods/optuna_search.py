"""Bayesian optimisation with Optuna over a space's flat integer encoding, by ask and tell.

Each trial is one vector of the space's encoding (`SearchSpace.encoding_bounds`, `decode`):
- every gene with low < high is a trial parameter `g<i>` (genes with low == high are fixed);
  by default a categorical one, since the LIV encoding's genes are mostly unordered choices
  (class ids, sharing distances): TPE's categorical estimator weighs each choice by how often it
  appears among good trials, while its integer estimator spreads a Gaussian kernel over
  neighbouring values, a nearness that means nothing between class 3 and class 4.
  `categorical: false` makes them integers, for spaces whose choices are ordered;
- a vector that decodes to no design (None) costs no budget and is never repaired: the sampler
  draws again. TPE and GP are told it as a completed trial that breaks a constraint (`decodes`
  = 1, the env's failure penalty as its value), so that they learn where the encoding's valid
  designs lie: both ignore failed trials, and then GP, which maximises its acquisition
  deterministically, proposes the same invalid vector again and again, and TPE on the LIV
  genome (where most vectors are no genome) never found a valid one in 1,000 asks after its
  startup trials (told as infeasible, it found 100 LIV-Bench designs in about 3,000 asks; the
  study keeps every such trial, so asks slow down as it grows). Random search is told a failed
  trial (it learns nothing either way).
  `MAX_INVALID_IN_A_ROW` invalid vectors in a row stop the search with a RuntimeError naming
  the space, rather than asking forever;
- the TPE and GP startup trials are designs drawn by the space's `sample` where it has one
  (valid by construction), rather than random vectors;
- a decoded design is finished through the env (`reset` in edit mode from it, then stop), so the
  tracker counts it like any other method's design; one already finished in this search is a
  free revisit and is told the value it got before. The tracker's `done` (budget, or patience
  on revisits) is the stopping rule;
- the told value is the design's reward (the tracker's: the env's scalar reward, its failure
  penalty for a failed design, the scalariser's penalty for one that breaks a hard constraint),
  maximised; or, with `objective: utilities`, its objective utilities, maximised together (TPE
  and GP handle several objectives), a failed design told the failure penalty in every
  component and one that breaks a hard constraint the scalariser's penalty, as the env's
  vector reward does.

With `batch` > 1, that many trials are asked, their new designs evaluated together on the
search's backend, then told; TPE's constant liar (on by default) keeps the trials of one batch
apart. The study lives in memory, and every sampler is seeded from the search's seed, so the
same seed proposes the same designs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import TrialState

from livgym.controllers.budget import EvaluationRecord, SearchTracker
from livgym.controllers.methods.contract import SearchContext, param
from livgym.envs.design_env import DesignEnv

SAMPLERS: tuple[str, ...] = ("tpe", "gp", "random")
OBJECTIVES: tuple[str, ...] = ("reward", "utilities")
#: vectors in a row that decode to no design before the search gives up on the space
MAX_INVALID_IN_A_ROW = 1000


@dataclass(frozen=True)
class OptunaParams:
    sampler: str = param("tpe", "tpe (tree-structured Parzen estimator), gp (Gaussian process) or random")
    n_startup_trials: int = param(10, "startup trials (space samples, or random) before TPE or GP models the results",
                                  minimum=0)
    batch: int = param(1, "trials asked, evaluated together (on the backend), then told", minimum=1)
    multivariate: bool = param(True, "TPE models the genes jointly rather than one at a time")
    objective: str = param("reward", "reward: the env's scalar reward; utilities: the objective utilities, "
                                     "multi-objective")
    space_startup: bool = param(True, "the startup trials are the space's own samples (valid designs) rather "
                                      "than random vectors")
    categorical: bool = param(True, "genes are unordered choices (categorical) rather than ordered integers")

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler={self.sampler!r} is not one of {SAMPLERS}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r} is not one of {OBJECTIVES}")


def optuna_search(context: SearchContext, params: OptunaParams) -> None:
    """Ask `batch` trials, decode them, evaluate the new designs together, tell their values;
    until the tracker is done."""
    env, tracker = context.env, context.tracker
    space = env.space
    low, high = _bounds(space)
    distributions = _distributions(low, high, params.categorical)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a search's progress is the tracker's to show
    n_values = 1 if params.objective == "reward" else len(env.objectives)
    study = optuna.create_study(directions=["maximize"] * n_values, sampler=_sampler(params, context.seed))
    values = _Values(env, tracker, params.objective, constrained=params.sampler != "random")
    env.reset(seed=context.seed)
    for design in _startup_designs(space, params, context.seed):
        vector = space.encode(design)
        study.enqueue_trial({name: int(vector[int(name[1:])]) for name in distributions})
    invalid = 0
    while not tracker.done:
        asked: list[tuple[optuna.Trial, Any]] = []
        while len(asked) < params.batch:
            trial = study.ask(distributions)
            vector = low.copy()
            for name, value in trial.params.items():
                vector[int(name[1:])] = int(value)
            design = space.decode(vector)
            if design is None:
                values.tell_invalid(study, trial)
                invalid += 1
                if invalid >= MAX_INVALID_IN_A_ROW:
                    raise RuntimeError(f"optuna search: {invalid} vectors in a row decoded to no design of space "
                                       f"{space.name!r} ({type(space).__name__}); its encoding is mostly invalid")
                continue
            invalid = 0
            asked.append((trial, design))
        new: dict[str, Any] = {}
        for _, design in asked:
            key = space.key(design)
            if not values.known(key):
                new.setdefault(key, design)
        context.evaluate_together(list(new.values()))
        for trial, design in asked:
            if tracker.done:
                break  # the budget ran out mid-batch: the rest stay unanswered in a discarded study
            values.tell(study, trial, design)


def _bounds(space: Any) -> tuple[np.ndarray, np.ndarray]:
    low, high = (np.asarray(b, dtype=np.int64) for b in space.encoding_bounds())
    if low.shape != high.shape or low.ndim != 1 or not len(low):
        raise ValueError(f"space {space.name!r}: encoding_bounds() gave shapes {low.shape} and {high.shape}, "
                         "expected two equal non-empty vectors")
    if np.any(low > high):
        gene = int(np.flatnonzero(low > high)[0])
        raise ValueError(f"space {space.name!r}: gene {gene} has low={low[gene]} above high={high[gene]}")
    return low, high


def _distributions(low: np.ndarray, high: np.ndarray, categorical: bool) -> dict[str, BaseDistribution]:
    """One trial parameter per gene that can vary; fixed genes keep their single value."""
    out: dict[str, BaseDistribution] = {}
    for i in np.flatnonzero(low < high):
        a, b = int(low[i]), int(high[i])
        out[f"g{i}"] = CategoricalDistribution(tuple(range(a, b + 1))) if categorical else IntDistribution(a, b)
    return out


def _startup_designs(space: Any, params: OptunaParams, seed: int) -> list[Any]:
    """TPE's and GP's random startup trials, drawn by the space's `sample` (valid by
    construction) where it has one: on a sparse encoding such as the LIV genome's, almost no
    uniformly random vector decodes to a design."""
    if params.sampler == "random" or not params.space_startup:
        return []
    rng = np.random.default_rng(seed)
    try:
        return [space.sample(rng) for _ in range(params.n_startup_trials)]
    except NotImplementedError:
        return []


def _sampler(params: OptunaParams, seed: int) -> optuna.samplers.BaseSampler:
    if params.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=params.n_startup_trials,
                                          multivariate=params.multivariate)
    if params.sampler == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=params.n_startup_trials)
    return optuna.samplers.RandomSampler(seed=seed)


class _Values:
    """The value told for each design this search finished, by key: computed once, when the
    design is first finished, and told again for every revisit."""

    def __init__(self, env: DesignEnv, tracker: SearchTracker, objective: str, constrained: bool) -> None:
        self.env, self.tracker, self.objective = env, tracker, objective
        self.constrained = constrained  # invalid vectors are infeasible trials rather than failed ones
        self._told: dict[str, float | list[float]] = {}
        self._records: dict[str, EvaluationRecord] = {}
        self._indexed = 0  # tracker records already in `_records`

    def known(self, key: str) -> bool:
        self._index()
        return key in self._told or key in self._records

    def tell(self, study: optuna.Study, trial: optuna.Trial, design: Any) -> None:
        """Finish `design` and tell the trial its value."""
        value = self.finish(design)
        if self.constrained:
            trial.set_constraint("decodes", 0.0)
        study.tell(trial, value)

    def tell_invalid(self, study: optuna.Study, trial: optuna.Trial) -> None:
        """Tell a trial whose vector decodes to no design: failed, or infeasible (see the module)."""
        if not self.constrained:
            study.tell(trial, state=TrialState.FAIL)
            return
        trial.set_constraint("decodes", 1.0)
        failure = self.env.failure_penalty
        study.tell(trial, failure if self.objective == "reward" else [failure] * len(self.env.objectives))

    def finish(self, design: Any) -> float | list[float]:
        """Finish `design` through the env (a revisit is free) and return its value."""
        self.env.reset(options={"mode": "edit", "start": design})
        info = self.env.step(0)[-1]
        key = info["genome_hash"]
        if key not in self._told:
            self._told[key] = self._value(key, info)
        return self._told[key]

    def _index(self) -> None:
        for record in self.tracker.records[self._indexed:]:
            self._records[record.genome_hash] = record
        self._indexed = len(self.tracker.records)

    def _value(self, key: str, info: dict[str, Any]) -> float | list[float]:
        env = self.env
        if self.objective == "reward":
            self._index()
            if key not in self._records:
                raise RuntimeError(f"optuna search: design {info['genome']!r} was finished but never reached the "
                                   "search's tracker (the env's evaluation callback)")
            return self._records[key].reward  # without the stop step's shaping
        n = len(env.objectives)
        utilities = np.asarray(info.get("utilities", np.full(n, np.nan)), dtype=np.float64)
        if info["status"] != "ok" or not np.all(np.isfinite(utilities)):
            return [env.failure_penalty] * n
        if info.get("violations"):
            return [float(getattr(env.scalariser, "penalty", env.failure_penalty))] * n
        return utilities.tolist()

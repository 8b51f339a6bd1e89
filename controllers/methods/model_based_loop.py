"""The rounds of model-based search (`livgym.controllers.methods.model_based` describes them):
the loop that evaluates for real and fits the surrogate, and the acquisition env's space and
tracker through which any method proposes designs to it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium.utils import seeding

from livgym.controllers.budget import SearchTracker
from livgym.controllers.methods.contract import SearchContext, SearchMethod
from livgym.controllers.methods.surrogate import make_surrogate
from livgym.envs.design_env import DesignEnv
from livgym.envs.space import Evaluation, SearchSpace
from livgym.envs.wrappers import SpaceWrapper

if TYPE_CHECKING:
    from livgym.controllers.methods.model_based import SurrogateSettings


class SurrogateSpace(SpaceWrapper):
    """The search's space with evaluations answered by the surrogate's acquisition.

    Everything else is the real space's, so the method sees the same actions, masks and
    observations, but for the start of episodes (elite starts), a note to the loop of each
    design an episode reaches (the `visited` pool), no backend jobs (the surrogate answers
    itself) and no closing (the real space is the search's to close).
    """

    def __init__(self, space: SearchSpace, loop: ModelBasedLoop) -> None:
        super().__init__(space)
        self.loop = loop

    @property
    def name(self) -> str:
        return f"surrogate({self.space.name})"

    def initial(self, mode: str, rng: np.random.Generator, start: Any = None) -> Any:
        if start is None:
            elite = self.loop.elite_start(rng)
            if elite is not None:
                return elite
        return self.space.initial(mode, rng, start)

    def observe(self, design: Any) -> dict[str, np.ndarray]:
        self.loop.visit(design)  # every design an episode reaches (the env asks once per design)
        return self.space.observe(design)

    def evaluate(self, design: Any) -> Evaluation:
        return self.loop.acquisition_evaluation(design)

    def job(self, design: Any) -> None:
        return None

    def close(self) -> None:
        pass


class RoundTracker(SearchTracker):
    """The acquisition env's tracker: it hands each finished episode's design and acquisition to
    the loop (which ends a round every `episodes` of them) and is done when the real search is.
    It keeps no records or archive: proposals are many and cheap."""

    def __init__(self, loop: ModelBasedLoop) -> None:
        super().__init__(loop.context.tracker.objectives, budget=2**62, patience=2**62)
        self.loop = loop

    @property
    def done(self) -> bool:
        return self.loop.finished

    def __call__(self, info: dict[str, Any], reward: Any) -> None:
        key = info["genome_hash"]
        # "new" is what the real search has not evaluated: an RL method's revisit penalty then
        # steers the policy off designs whose value is already known, not off its best proposals
        self.last_was_new = key not in self.loop.evaluated
        self.revisits += not self.last_was_new
        self.loop.propose(key, info["genome"], float(np.sum(reward)) if np.ndim(reward) else float(reward))


@dataclass
class RoundLog:
    """One round of the loop, as written to `model_based.json`."""

    round: int
    evaluations: int  # real unique evaluations after the round
    proposals: int  # distinct designs the method finished on the acquisition env this round
    fallback: bool  # the round's designs came from fresh samples (the method proposed nothing new)
    best_acquisition: float
    fit_seconds: float
    controller_seconds: float  # since the previous round, real evaluations excluded


class ModelBasedLoop:
    """The rounds of model-based search over one `SearchContext` (see the module docstring)."""

    def __init__(self, context: SearchContext, settings: SurrogateSettings) -> None:
        self.context, self.settings = context, settings
        self.real_env: DesignEnv = context.env
        self.space: SearchSpace = context.env.space
        self.rng = np.random.default_rng([context.seed, 7])  # the loop's own draws: samples, elites
        self.objectives = context.env.objectives.objectives
        self.predicted: tuple[str, ...] = ()  # metric keys the surrogate predicts
        self.surrogate: Any = None
        self.X: list[np.ndarray] = []
        self.y: list[list[float]] = []
        self.evaluated: set[str] = set()  # keys sent for real evaluation (finished or still queued)
        self.queued: deque[tuple[list[Any], Any]] = deque()  # rounds sent, not yet learned from: (designs, batch)
        self.designs: dict[str, Any] = {}  # key -> design, of every proposal seen
        self.proposals: dict[str, float] = {}  # this round's: key -> acquisition
        self.visited: dict[str, Any] = {}  # this round's designs reached by episodes (and carried ones)
        self._acquisitions: dict[str, Evaluation] = {}  # memo for this round's surrogate
        self._feature_memo: dict[str, np.ndarray] = {}
        self.episodes_in_round = 0
        self.finished = False
        self.rounds: list[RoundLog] = []
        self.evaluation_seconds = 0.0
        self._started = time.perf_counter()
        self._last_round_end = self._started
        self._evaluation_seconds_at_round = 0.0
        self.round_tracker = RoundTracker(self)

    # -- real evaluations ---------------------------------------------------------------------

    def evaluate_for_real(self, designs: list[Any]) -> None:
        """Evaluate `designs` (distinct, new) through the search's env, together on its backend."""
        self.send_for_real(designs)
        self.learn_queued()

    @property
    def in_flight(self) -> int:
        return sum(len(designs) for designs, _ in self.queued)

    def send_for_real(self, designs: list[Any]) -> None:
        """Queue `designs` (distinct, new) on the search's backend, behind the rounds queued
        before; `learn_queued` waits for the oldest and learns from it."""
        tracker = self.context.tracker
        designs = self._follow_record(designs[:max(tracker.remaining - self.in_flight, 0)])
        if not designs:
            return
        start = time.perf_counter()
        self.evaluated.update(self.space.key(d) for d in designs)
        self.queued.append((designs, self.context.submit_together(designs)))
        self.evaluation_seconds += time.perf_counter() - start

    def learn_queued(self) -> None:
        """Wait for the oldest queued round, step the search's env through its designs (so the
        tracker, the store and W&B see them) and learn from their results."""
        tracker = self.context.tracker
        designs, submitted = self.queued.popleft()
        start = time.perf_counter()
        self.context.accept_together(submitted)
        for design in designs:
            if tracker.done:
                break
            self.real_env.reset(options={"mode": "edit", "start": design})
            info = self.real_env.step(0)[-1]
            self._learn(design, info)
        self.evaluation_seconds += time.perf_counter() - start
        if tracker.done:
            self.finished = True

    def _follow_record(self, designs: list[Any]) -> list[Any]:
        """`designs`, or on a resumed run the designs its record holds at these positions (in the
        record's order; the loop's own choices fill the rest). On the machine that made the
        record the two are the same; elsewhere floating point may steer the surrogate and the
        policy another way, and the record keeps every real evaluation on the designs evaluated
        before."""
        sent = self.context.tracker.used + self.in_flight
        recorded = [self.space.parse(text) for text in self.context.replay[sent:sent + len(designs)]]
        if not recorded:
            return designs
        keys = {self.space.key(d) for d in recorded}
        own = [d for d in designs if self.space.key(d) not in keys]
        return (recorded + own)[:len(designs)]

    def _learn(self, design: Any, info: dict[str, Any]) -> None:
        key = info["genome_hash"]
        self.evaluated.add(key)
        self.designs[key] = design
        if not self.predicted:
            cheap = self.space.cheap_metrics(design)
            self.predicted = tuple(o.key for o in self.objectives if o.key not in cheap)
        metrics = info.get("metrics", {}) if info.get("status") == "ok" else {}
        self.X.append(self._features(design))
        self.y.append([self._to_model(k, float(metrics.get(k, math.nan))) for k in self.predicted])

    def _features(self, design: Any) -> np.ndarray:
        key = self.space.key(design)
        if key not in self._feature_memo:
            self._feature_memo[key] = np.asarray(self.space.features(design), dtype=np.float64)
        return self._feature_memo[key]

    def fit(self) -> float:
        """Refit the surrogate on every real result; returns the seconds it took.

        A design that failed to evaluate is given each metric's worst value seen so far, so the
        model learns to avoid it rather than forgetting it.
        """
        start = time.perf_counter()
        if self.predicted:
            y = np.array(self.y, dtype=np.float64).reshape(len(self.y), len(self.predicted))
            for j, key in enumerate(self.predicted):
                column = y[:, j]
                seen = column[np.isfinite(column)]
                if len(seen):
                    worst = seen.min() if self._direction(key) == "max" else seen.max()
                    column[~np.isfinite(column)] = worst
            self.surrogate = make_surrogate(self.settings.model, seed=self.context.seed + len(self.rounds))
            self.surrogate.fit(np.stack(self.X), y)
        self._acquisitions.clear()
        return time.perf_counter() - start

    def _objective(self, key: str) -> Any:
        return next(o for o in self.objectives if o.key == key)

    def _direction(self, key: str) -> str:
        return self._objective(key).direction

    def _to_model(self, key: str, value: float) -> float:
        """A metric as the surrogate models it: log10 for a log-scale objective (so guesses stay
        positive and errors are relative), as is otherwise."""
        objective = self._objective(key)
        if objective.scale != "log" or not math.isfinite(value):
            return value
        floor = objective.floor if objective.floor is not None else 1e-300
        return math.log10(max(value, floor))

    def _from_model(self, key: str, value: float) -> float:
        return 10.0 ** min(max(value, -300.0), 300.0) if self._objective(key).scale == "log" else value

    # -- the acquisition ----------------------------------------------------------------------

    def acquisition_metrics(self, designs: list[Any]) -> list[dict[str, float]]:
        """Each design's metrics as the acquisition env reports them: cheap ones exact, predicted
        ones optimistic by `kappa` standard deviations."""
        cheap = [self.space.cheap_metrics(d) for d in designs]
        if not self.predicted or self.surrogate is None:
            return cheap
        mean, std = self.surrogate.predict(np.stack([self._features(d) for d in designs]), return_std=True)
        mean, std = np.asarray(mean).reshape(len(designs), -1), np.asarray(std).reshape(len(designs), -1)
        kappa = self.settings.kappa if self.settings.acquisition == "ucb" else 0.0
        out = []
        for i, metrics in enumerate(cheap):
            metrics = dict(metrics)
            for j, key in enumerate(self.predicted):
                sign = 1.0 if self._direction(key) == "max" else -1.0
                metrics[key] = float(self._from_model(key, mean[i, j] + sign * kappa * std[i, j]))
            out.append(metrics)
        return out

    def acquisition_evaluation(self, design: Any) -> Evaluation:
        key = self.space.key(design)
        if key not in self._acquisitions:
            metrics = self.acquisition_metrics([design])[0]
            self._acquisitions[key] = Evaluation(metrics, "ok", cached=True, extra={"acquisition": True})
        return self._acquisitions[key]

    def scores(self, designs: list[Any]) -> np.ndarray:
        """The acquisition env's reward of each design (its scalariser over the optimistic
        utilities; a constraint's penalty where one is broken)."""
        env = self.real_env
        out = np.empty(len(designs))
        for i, metrics in enumerate(self.acquisition_metrics(designs)):
            utilities = env.objectives.vector(metrics)
            score = float(np.sum(utilities)) if env.vector_reward else env.scalariser(utilities, metrics)
            out[i] = score if math.isfinite(score) else env.failure_penalty
        return out

    def elite_start(self, rng: np.random.Generator) -> Any | None:
        if self.settings.elite_starts <= 0 or rng.random() >= self.settings.elite_starts:
            return None
        best = self.context.tracker.best(self.settings.elites)
        if not best:
            return None
        return self.designs[best[int(rng.integers(len(best)))].genome_hash]

    # -- rounds -------------------------------------------------------------------------------

    def visit(self, design: Any) -> None:
        """An acquisition episode reached `design` (a candidate when `pool` is "visited")."""
        if self.settings.pool == "visited":
            key = self.space.key(design)
            if key not in self.evaluated:
                self.visited.setdefault(key, design)

    def propose(self, key: str, text: str, acquisition: float) -> None:
        """One acquisition episode finished in the design `text` (its `describe`), keyed `key`."""
        if key not in self.evaluated:
            self.proposals[key] = max(acquisition, self.proposals.get(key, -math.inf))
            if key not in self.designs:
                self.designs[key] = self.space.parse(text)
        self.episodes_in_round += 1
        if self.episodes_in_round >= self.settings.episodes and not self.finished:
            self.end_round()

    def end_round(self) -> None:
        """Evaluate the round's best new proposals (or the best of fresh samples), then refit."""
        controller = (time.perf_counter() - self._last_round_end
                      - (self.evaluation_seconds - self._evaluation_seconds_at_round))
        self._score_visited()
        ranked = sorted(self.proposals, key=lambda k: -self.proposals[k])
        chosen = ranked[:self.settings.batch]
        carried = {k: self.designs[k] for k in ranked[self.settings.batch:self.settings.batch + self.settings.carry]}
        fallback = len(chosen) < self.settings.batch
        best_acquisition = self.proposals[chosen[0]] if chosen else -math.inf
        designs = [self.designs[k] for k in chosen]
        if fallback:
            designs += self._best_samples(self.settings.batch - len(chosen), set(chosen))
        proposals = len(self.proposals)
        tracker = self.context.tracker
        if designs:
            self.send_for_real(designs)
        elif not self.queued and not self.finished:
            self.finished = True  # nothing new anywhere the loop can look: the space is used up
            tracker.give_up()  # recorded as stalled
        # Learn from the oldest queued rounds until at most `lag` run ahead, and from all of
        # them once the budget is all sent or this round found nothing to send.
        while self.queued and (len(self.queued) > self.settings.lag or not designs
                               or tracker.remaining <= self.in_flight):
            self.learn_queued()
        fit_seconds = self.fit()
        self.proposals.clear()
        self.visited = {k: d for k, d in carried.items() if k not in self.evaluated}
        self.episodes_in_round = 0
        self.rounds.append(RoundLog(len(self.rounds) + 1, self.context.tracker.used, proposals, fallback,
                                    best_acquisition, fit_seconds, controller))
        self._last_round_end = time.perf_counter()
        self._evaluation_seconds_at_round = self.evaluation_seconds

    def _score_visited(self) -> None:
        """The round's visited designs (and the last round's best, carried) join its proposals,
        scored in one batch."""
        fresh = [(k, d) for k, d in self.visited.items() if k not in self.proposals and k not in self.evaluated]
        if fresh:
            for (key, design), score in zip(fresh, self.scores([d for _, d in fresh])):
                self.proposals[key] = float(score)
                self.designs.setdefault(key, design)

    def _best_samples(self, n: int, exclude: set[str]) -> list[Any]:
        samples: dict[str, Any] = {}
        for _ in range(self.settings.fallback_samples):
            design = self.space.sample(self.rng)
            key = self.space.key(design)
            if key not in self.evaluated and key not in exclude:
                samples.setdefault(key, design)
        if not samples:
            return []
        keys = list(samples)
        scores = self.scores([samples[k] for k in keys])
        return [samples[keys[i]] for i in np.argsort(-scores, kind="stable")[:n]]

    def initial_round(self) -> None:
        """`n_initial` distinct designs drawn from the space, evaluated for real; the first fit."""
        picked: dict[str, Any] = {}
        for _ in range(100 * self.settings.n_initial):
            if len(picked) >= self.settings.n_initial:
                break
            design = self.space.sample(self.rng)
            picked.setdefault(self.space.key(design), design)
        self.evaluate_for_real(list(picked.values()))
        self.fit()
        self._last_round_end = time.perf_counter()
        self._evaluation_seconds_at_round = self.evaluation_seconds

    # -- the acquisition env ------------------------------------------------------------------

    def make_acquisition_env(self) -> DesignEnv:
        """The search's env (same settings, shared memos: `DesignEnv.sibling`) over the surrogate
        space, reporting to the round tracker instead of the search's."""
        env = self.real_env.sibling(SurrogateSpace(self.space, self))
        env.add_evaluation_callback(self.round_tracker)
        # its own generator (the method's reset(seed=...) reseeds it), not the search env's
        env.np_random = seeding.np_random(int(self.rng.integers(2**31)))[0]
        return env

    def run(self, method: SearchMethod, params: Any) -> None:
        """The whole model-based search with `method` proposing designs."""
        self.initial_round()
        self.acquisition_env = self.make_acquisition_env()
        if not self.finished:
            inner = SearchContext(self.acquisition_env, self.make_acquisition_env, self.round_tracker,
                                  self.context.seed, None, self.context.out_dir, self.context.sb3_output)
            method.run(inner, params)
        while self.queued:  # a method that stopped by itself leaves no round unlearned
            self.learn_queued()

    def report(self) -> dict[str, Any]:
        total = time.perf_counter() - self._started
        used = max(self.context.tracker.used, 1)
        return {"settings": asdict(self.settings), "predicted": list(self.predicted),
                "evaluations": self.context.tracker.used, "seconds": total,
                "evaluation_seconds": self.evaluation_seconds,
                "controller_seconds": total - self.evaluation_seconds,
                "controller_seconds_per_evaluation": (total - self.evaluation_seconds) / used,
                "rounds": [asdict(r) for r in self.rounds]}

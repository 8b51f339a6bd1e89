"""`DesignEnv`: architecture design as a Gymnasium environment, over any `SearchSpace`.

The class docstring is the environment's manual. It is the only env class: every registered id
(`livgym.envs.registry`) is a `DesignEnv` over its space, built by `livgym.envs.build`, and a
space states the settings that follow from it (`SearchSpace.default_max_edits`, ...).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from livgym.envs.memo import Memo
from livgym.envs.space import MODES, Evaluation, SearchSpace
from livgym.known_names import check_known
from livgym.models.cost import COST_METRICS
from livgym.rewards.config_types import check_types
from livgym.rewards.objectives import (
    DEFAULT_OBJECTIVE_NAMES,
    DEFAULT_OBJECTIVES,
    HardConstraints,
    ObjectiveItem,
    Scalariser,
    declare_objectives,
    make_scalariser,
)

OBSERVATIONS: tuple[str, ...] = ("dict", "flat")
#: valid edits per episode when neither the caller nor the space says otherwise; the one home of
#: this default (a search config's `env` section leaves it to the env)
DEFAULT_MAX_EDITS = 16
RENDER_MODES: tuple[str, ...] = ("ansi", "rgb_array", "human")
#: the efficiency metrics every observation carries (as utilities), when the space reports them;
#: they are also the constraint metrics the env can enforce by masking (others are enforced by
#: the scalariser's penalty on the final design)
OBSERVED_METRICS: tuple[str, ...] = COST_METRICS
#: called with (info, reward) after each final evaluation (`DesignEnv.add_evaluation_callback`)
EvaluationCallback = Callable[[dict[str, Any], Any], None]


class DesignEnv(gym.Env):
    """Design a network one edit at a time; the final design's evaluation is the reward.

    ## Description
    An episode edits one design of a `SearchSpace` (for the LIV space: a `Genome`, a stack of
    LIV operator slots with featurizer and feature sharing). In **build** mode it starts from a
    minimal design and grows it; in **edit** mode it starts from a given or sampled design and
    may apply at most `max_edits` edits. When the agent stops (or the budget or the space's
    capacity runs out) the final design is evaluated through the space's evaluator and
    evaluation store, and the scalarised objectives are the reward.

    ## Action Space
    `Discrete(space.n_actions)`. Action 0 is *stop*; the others are the space's edits. For the
    LIV space they are, per position p and LIV class k (`ActionCodec`, `livgym.envs.liv.actions`):

    | block          | meaning                                                        | count              |
    |----------------|----------------------------------------------------------------|--------------------|
    | stop           | end the episode and evaluate the design                        | 1                  |
    | insert         | insert an independent slot of class k before position p        | (max_depth+1) x K  |
    | replace        | give slot p class k (its sharing is reset)                     | max_depth x K      |
    | remove         | delete slot p                                                  | max_depth          |
    | join           | slot p joins the featurizer / feature group of the nearest earlier slot it may share with | max_depth x 2 |
    | leave          | slot p leaves its featurizer / feature group                   | max_depth x 2      |
    | hyperparameter | step slot p's class gene (expansion, repeat, window, kernel, short_conv) one choice down / up | max_depth x 10 |

    With the defaults (max_depth 12, 19 classes) that is 656 actions. `action_masks()` is True
    exactly for the actions that lead to a valid design (and, with `constraints`, one within
    the budgets); stop is always allowed. An unmasked agent that picks a masked action gets
    `invalid_action_penalty` and the state does not change; its `max_invalid`-th masked action
    of an episode ends the episode as *stop* does, so an agent stuck on one still finishes a design.

    ## Observation Space
    `Dict` (or, with `observation="flat"`, the same flattened into one float32 `Box`, one-hot
    for the discrete parts):

    | key       | space                          | meaning                                                  |
    |-----------|--------------------------------|----------------------------------------------------------|
    | slots     | MultiDiscrete((max_depth * 8,)) | flat, 8 entries per slot (slot p at 8p..8p+7): class id (0 = empty), distance to the slot whose featurizer it uses, distance to the slot whose features it reads (0 = its own), and the choice index (+1; 0 = unused) of expansion, repeat, window, kernel, short_conv |
    | slot_mask | MultiBinary(max_depth)         | 1 for the slots the design has                           |
    | metrics   | Box(0, 1, (3,), float32)       | utilities of params, cache bytes and FLOPs per token (1 at the objective's ideal, 0 at its nadir, log scale, clipped) |
    | budget    | Box(0, 1, (1,), float32)       | fraction of the edit budget left                         |

    (`slots` and `slot_mask` are the LIV space's; another space supplies its own entries.)

    ## Rewards
    - Non-terminal steps: 0, plus potential-based shaping `gamma * phi(s') - phi(s)` when
      `shaping > 0`, with `phi = shaping x mean utility of the objectives the cheap (analytic)
      metrics cover` and `phi(terminal) = 0`, so the optimal policy is unchanged.
    - The final step: the scalariser applied to the final design's objective utilities (default:
      the mean of quality, params and cache-bytes utilities); `failure_penalty` when the
      evaluation failed, diverged or timed out; the scalariser's `penalty` when a hard
      constraint is violated.
    - An invalid action: `invalid_action_penalty`; the one that ends the episode (`max_invalid`)
      adds it to the final step's reward.
    - `vector_reward=True` (`livgym/DesignMO-v0`): the reward is the objective utility vector
      (float32, MO-Gymnasium's convention; zeros before the final step, penalties on every
      component, no shaping), and `reward_space` describes it.
    - Range: utilities are clipped to [0, 1] (raw values stay in `info["objectives"]`), so
      every reward lies in `reward_range` (scalar) or `reward_space` (vector), worked out from
      the scalariser's range over [0, 1] utilities, the penalties and the shaping; the default
      weighted sum's rewards are in [0, 1] plus penalties.

    ## Starting State
    Build mode: the space's minimal design (LIV: one gated-MLP slot, `91111`). Edit mode: the
    design given by `start` / `options["start"]`, else one drawn with the env's seeded RNG (LIV:
    a reference genome of depth `start_depth`).

    ## Episode End
    1. Termination: the agent takes *stop*.
    2. Termination: `max_edits` valid edits have been made.
    3. Termination (build mode): the design has reached the space's capacity (LIV: `max_depth` slots).
    4. Termination: `max_invalid` invalid actions have been taken; the design is evaluated as on *stop*.
    5. Truncation: `max_steps` steps (valid or not) have been taken; the design is not evaluated
       (with the default budgets, 2 or 4 always comes first).
    The final design is evaluated on termination; `info` then carries `genome`, `genome_hash`,
    `status`, `cache_hit`, `objectives` (raw values), `utilities`, `metrics` and `error`.

    ## Arguments
    `space` (a `SearchSpace`), `mode` ("build" / "edit"), `start`, `max_edits` (the space's
    `default_max_edits`, else 16), `max_invalid` (max_edits), `max_steps` (4 x max_edits),
    `objectives` (the space's `default_objectives`, else quality / params / cache_bytes, with
    the reference points the space knows, `SearchSpace.objective_overrides`: LIV the fidelity's
    quality range, a table's or a landscape's value ranges): names of known objectives or
    declarations against the space's own metrics, `{metric: accuracy, direction: max}` with
    optional `name`, `scale` (linear / log), `ideal`, `nadir`, `floor`; a space that knows its
    metric values (a table) gives the reference points nobody declared, and a metric it lacks or
    a value beyond declared ones is an error when the env is built), `objective_overrides`
    ({name: {ideal, nadir, ...}}), `scalariser` (name or instance, default "weighted_sum") and
    `scalariser_kwargs`, `constraints` (`HardConstraints` fields, e.g. `{"max_cache_bytes":
    1e6}`), `mask_constraints` (True), `invalid_action_penalty` (-0.1), `failure_penalty`
    (-1.0), `shaping` (0.0), `gamma` (0.99), `observation` ("dict" / "flat"), `vector_reward`
    (False), `render_mode`: "ansi" (one line of text: the design, its edit and step counts, and
    its objectives once evaluated), "rgb_array" (the design as a picture: for the LIV space its
    block diagram, one frame size per space; a space without pictures gives a text card) or
    "human" (that picture in a matplotlib window, drawn at each step where matplotlib has an
    interactive backend; headless, under Agg, nothing is drawn). `reset(options={"mode": ...,
    "start": ...})` overrides the mode and start for one episode.
    `add_evaluation_callback(callback)` has `callback(info, reward)` called after each final
    evaluation, in the env's process: how a search counts its budget.

    >>> import gymnasium as gym, livgym
    >>> env = gym.make("livgym/Design-v0", max_depth=8)
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(0)  # stop: evaluate the start design
    >>> terminated, info["genome"]
    (True, '91111@w64h4')
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}

    def __init__(self, space: SearchSpace, *, mode: str = "build", start: Any = None,
                 max_edits: int | None = None, max_steps: int | None = None, max_invalid: int | None = None,
                 objectives: Sequence[ObjectiveItem] | None = None,
                 objective_overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 scalariser: str | Scalariser = "weighted_sum", scalariser_kwargs: Mapping[str, Any] | None = None,
                 constraints: HardConstraints | Mapping[str, float] | None = None, mask_constraints: bool = True,
                 invalid_action_penalty: float = -0.1, failure_penalty: float = -1.0, shaping: float = 0.0,
                 gamma: float = 0.99, observation: str = "dict", vector_reward: bool = False,
                 render_mode: str | None = None) -> None:
        check_types(DesignEnv.__init__, {
            "mode": mode, "max_edits": max_edits, "max_steps": max_steps, "max_invalid": max_invalid,
            "objectives": objectives,
            "objective_overrides": objective_overrides, "scalariser": scalariser,
            "scalariser_kwargs": scalariser_kwargs, "constraints": constraints, "mask_constraints": mask_constraints,
            "invalid_action_penalty": invalid_action_penalty, "failure_penalty": failure_penalty,
            "shaping": shaping, "gamma": gamma, "observation": observation, "vector_reward": vector_reward,
            "render_mode": render_mode})  # config values: the wrong type is an error naming the argument
        given = locals()  # the arguments as given, so that `sibling` builds the same env over another space
        self._arguments = {name: given[name] for name in ENV_ARGUMENTS}
        if max_edits is None:
            max_edits = space.default_max_edits() or DEFAULT_MAX_EDITS
        if objectives is None:
            objectives = space.default_objectives() or DEFAULT_OBJECTIVE_NAMES
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {MODES}")
        if observation not in OBSERVATIONS:
            raise ValueError(f"observation={observation!r} is not one of {OBSERVATIONS}")
        if not isinstance(max_edits, (int, np.integer)) or max_edits < 1:
            raise ValueError(f"max_edits={max_edits!r} must be a positive integer")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must be in [0, 1]")
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode={render_mode!r} is not one of {RENDER_MODES} (or None)")
        self.space = space
        self.mode, self.start, self.render_mode = mode, start, render_mode
        self.max_edits = int(max_edits)
        self.max_steps = 4 * self.max_edits if max_steps is None else int(max_steps)
        if self.max_steps < self.max_edits:
            raise ValueError(f"max_steps={self.max_steps} must be at least max_edits={self.max_edits}")
        # Masked actions change nothing, so an agent that repeats one would otherwise loop until
        # max_steps with its design never evaluated: bounding them turns a stuck policy's
        # episode into a finished (evaluated) design, whose reward it can learn from.
        self.max_invalid = self.max_edits if max_invalid is None else max_invalid
        if not isinstance(self.max_invalid, (int, np.integer)) or self.max_invalid < 1:
            raise ValueError(f"max_invalid={max_invalid!r} must be a positive integer")
        self.max_invalid = int(self.max_invalid)
        # Checked against the metric values the space knows (a table's), here rather than at the first step.
        overrides = _merged_overrides(space.objective_overrides(objectives), objective_overrides)
        self.objectives = declare_objectives(objectives, overrides, space.metric_values())
        self.constraints = _constraints(constraints)
        self.scalariser = self._make_scalariser(scalariser, scalariser_kwargs)
        self.mask_constraints = bool(mask_constraints)
        self.invalid_action_penalty, self.failure_penalty = float(invalid_action_penalty), float(failure_penalty)
        self.shaping, self.gamma = float(shaping), float(gamma)
        self.vector_reward = bool(vector_reward)
        self._evaluation_callbacks: list[EvaluationCallback] = []
        self._masked_bounds = [b for b in (self.constraints.bounds() if self.constraints else ())
                               if b[1] in OBSERVED_METRICS] if self.mask_constraints else []
        self._observed = [DEFAULT_OBJECTIVES[m] for m in OBSERVED_METRICS]

        self.action_space = spaces.Discrete(space.n_actions)
        entries = dict(space.design_space().spaces)
        entries["metrics"] = spaces.Box(0.0, 1.0, (len(OBSERVED_METRICS),), np.float32)
        entries["budget"] = spaces.Box(0.0, 1.0, (1,), np.float32)
        self._dict_space = spaces.Dict(entries)
        self.observation = observation
        if observation == "flat":
            flat = spaces.flatten_space(self._dict_space)
            self.observation_space = spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32),
                                                dtype=np.float32)
        else:
            self.observation_space = self._dict_space
        self.reward_range = self._reward_bounds()
        if self.vector_reward:
            self.reward_space = spaces.Box(*self.reward_range, (len(self.objectives),), np.float32)

        self._constrained_masks: Memo[Any, np.ndarray] = Memo()
        self._observations: Memo[Any, dict[str, np.ndarray]] = Memo()
        self._design: Any = None
        self._edits = self._steps = self._invalid = 0
        self._episode_mode = mode
        self._last_info: dict[str, Any] = {}
        self._window: Any = None  # the `human` render mode's window, opened on first use

    # -- construction helpers -----------------------------------------------------------------

    def _make_scalariser(self, scalariser: str | Scalariser, kwargs: Mapping[str, Any] | None) -> Scalariser:
        if isinstance(scalariser, Scalariser):
            if kwargs:
                raise ValueError("scalariser_kwargs apply only when scalariser is given by name")
            made = scalariser
        else:
            kwargs = dict(kwargs or {})
            if scalariser in ("weighted_sum", "chebyshev") and "weights" not in kwargs:
                kwargs["weights"] = [1.0 / len(self.objectives)] * len(self.objectives)
            made = make_scalariser(scalariser, **kwargs)
        weights = getattr(made, "weights", None)
        if weights is not None and len(weights) != len(self.objectives):
            raise ValueError(f"scalariser weights {list(weights)} has {len(weights)} entries; the objectives "
                             f"{list(self.objectives.names)} need {len(self.objectives)}")
        if self.constraints is not None and made.constraints is None:
            made = replace(made, constraints=self.constraints)
        return made

    def _reward_bounds(self) -> tuple[float, float]:
        """(lowest, highest) reward a step can return, from the rules in the manual's Rewards.

        A final step scores the design (the scalariser over [0, 1] utilities, or the utilities
        themselves for a vector reward), a failure or a constraint penalty, plus the shaping's
        -phi(s) for a scalar reward and the invalid-action penalty when a masked action ended it.
        """
        invalid = self.invalid_action_penalty
        penalties = [self.failure_penalty, getattr(self.scalariser, "penalty", self.failure_penalty)]
        if self.vector_reward:
            final_low, final_high = min(0.0, *penalties), max(1.0, *penalties)
            lows, highs = [0.0, invalid, final_low, final_low + invalid], [0.0, invalid, final_high, final_high + invalid]
        else:
            score_low, score_high = self.scalariser.bounds(len(self.objectives))
            final_low, final_high = min(score_low, *penalties), max(score_high, *penalties)
            phi_low, phi_high = min(0.0, self.shaping), max(0.0, self.shaping)  # phi = shaping x mean utility
            lows = [self.gamma * phi_low - phi_high, invalid, final_low - phi_high, final_low - phi_high + invalid]
            highs = [self.gamma * phi_high - phi_low, invalid, final_high - phi_low, final_high - phi_low + invalid]
        return float(min(lows)), float(max(highs))

    # -- the Gymnasium API ----------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        check_known(options, {"mode", "start", "genome"}, "reset options")
        self._episode_mode = options.get("mode", self.mode)
        start = options.get("start", options.get("genome", self.start))
        self._design = self.space.initial(self._episode_mode, self.np_random, start)
        self._edits = self._steps = self._invalid = 0
        self._last_info = self._info()
        if self.render_mode == "human":
            self.render()
        return self._observe(), dict(self._last_info)

    def step(self, action):
        if self._design is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in the action space {self.action_space}")
        action = int(action)
        self._steps += 1
        before = self._design
        terminated = action == 0
        valid = True
        if not terminated:
            after = self._apply(action)
            if after is None:
                valid = False
                self._invalid += 1
                terminated = self._invalid >= self.max_invalid
            else:
                self._design = after
                self._edits += 1
                terminated = self._edits >= self.max_edits or (
                    self._episode_mode == "build" and self.space.at_capacity(after))
        truncated = not terminated and self._steps >= self.max_steps
        info = self._info(action=action, valid=valid, final=terminated or truncated)
        shaping = self._shaping(before, None if terminated else self._design) if valid or terminated else 0.0
        if terminated:
            evaluation = self.space.evaluate(self._design)
            reward = self._final_reward(evaluation, info)
            for callback in self._evaluation_callbacks:
                callback(info, reward)  # the design's reward, without this step's penalty or shaping
            if not valid:
                reward = reward + self._penalty(self.invalid_action_penalty)
        elif valid:
            reward = self._zero_reward() if self.vector_reward else shaping
        else:
            reward = self._penalty(self.invalid_action_penalty)
        if terminated and not self.vector_reward:
            reward += shaping
        self._last_info = info
        if self.render_mode == "human":
            self.render()
        return self._observe(), reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """True for each action that is allowed now (sb3-contrib's MaskablePPO reads this)."""
        if self._design is None:
            raise gym.error.ResetNeeded("call reset() before action_masks()")
        return self._mask(self._design)

    def final_design(self, action: int) -> Any:
        """The design `step(action)` would evaluate, or None when that step would not end the
        episode with an evaluation: lets a caller evaluate the designs of several envs together
        before stepping them (`livgym.controllers.methods.parallel`)."""
        if self._design is None:
            raise gym.error.ResetNeeded("call reset() before final_design()")
        action = int(action)
        if action == 0:
            return self._design
        after = self._apply(action)
        if after is None:  # a masked action: it ends the episode only when it is the last allowed
            return self._design if self._invalid + 1 >= self.max_invalid else None
        ends = self._edits + 1 >= self.max_edits or (self._episode_mode == "build" and self.space.at_capacity(after))
        return after if ends else None

    def add_evaluation_callback(self, callback: EvaluationCallback) -> None:
        """Call `callback(info, reward)` after each final evaluation (`info` as `step` returns
        it), in the env's process: a search attaches its budget accounting and logging to an env
        it has built, so the env's objectives exist before anything that records them."""
        self._evaluation_callbacks.append(callback)

    def masks_for(self, design: Any) -> np.ndarray:
        """The actions allowed from any `design` (budget masks included): for search operators
        (mutation, sampling) that edit designs outside an episode."""
        return self._mask(design)

    def render(self) -> str | np.ndarray | None:
        """The current design in `render_mode`: text ("ansi"), an RGB array ("rgb_array"), or
        None ("human", which draws into its window; no mode). Nothing is drawn unless asked."""
        if self._design is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        if self.render_mode == "ansi":
            return self._text()
        if self.render_mode == "rgb_array":
            return self._frame()
        if self.render_mode == "human":
            from livgym.models.diagram import FrameWindow  # matplotlib loads only for a rendering env

            if self._window is None:
                self._window = FrameWindow(f"livgym: {self.space.name}", self.metadata["render_fps"])
            if self._window.available():
                self._window.show(self._frame())
        return None

    def _text(self) -> str:
        info = self._last_info
        lines = [f"{self.space.describe(self._design)}  (edits {self._edits}/{self.max_edits}, step {self._steps})"]
        if "objectives" in info:
            lines.append("  " + ", ".join(f"{k}={v:.4g}" for k, v in info["objectives"].items())
                         + f"  status={info['status']}")
        return "\n".join(lines)

    def _frame(self) -> np.ndarray:
        """The space's picture of the design, else a text card of the ansi text."""
        frame = self.space.render(self._design)
        if frame is None:
            from livgym.models.diagram import text_card

            frame = text_card(self._text())
        return frame

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
        self.space.close()

    # -- the pieces -------------------------------------------------------------------------------

    @property
    def design(self) -> Any:
        """The design being edited."""
        return self._design

    @property
    def episode_mode(self) -> str:
        """The mode of the episode under way ("build" / "edit": `mode`, or reset's `options["mode"]`)."""
        return self._episode_mode

    def sibling(self, space: SearchSpace) -> DesignEnv:
        """A new env over `space` with the arguments this one was built with (no render mode),
        for a wrapper of this env's space that answers the same masks and observations
        (`livgym.envs.wrappers.SpaceWrapper`): model-based search's acquisition env. It shares
        this env's memos of masks and observations, so a design either env has seen is not
        worked out, or observed through `space`, again. It has no evaluation callbacks, and the
        generator of `np_random` until one is set or `reset(seed=...)` seeds it."""
        sibling = DesignEnv(space, **{**self._arguments, "render_mode": None})
        sibling._share_memos(self)
        return sibling

    def _share_memos(self, other: DesignEnv) -> None:
        self._constrained_masks, self._observations = other._constrained_masks, other._observations

    def _apply(self, action: int) -> Any:
        if self._masked_bounds and not self._mask(self._design)[action]:
            return None
        return self.space.apply(self._design, action)

    def _mask(self, design: Any) -> np.ndarray:
        if not self._masked_bounds:
            return self.space.mask(design)
        return self._constrained_masks.get(design, lambda: self.space.constrained_mask(design, self._within_budget))

    def _within_budget(self, current: Mapping[str, float], candidate: Mapping[str, float]) -> bool:
        """A candidate meets every masked bound, or (when the current design already breaks one)
        is no worse on the bound it breaks: an infeasible start can still be repaired."""
        for name, metric, bound in self._masked_bounds:
            if metric not in candidate or metric not in current:
                continue  # not a cheap metric of this space: the scalariser's penalty enforces it
            upper = name.startswith("max_")
            value = candidate[metric]
            if value <= bound if upper else value >= bound:
                continue
            now = current[metric]
            current_ok = now <= bound if upper else now >= bound
            if current_ok or (value > now if upper else value < now):
                return False
        return True

    def _observe(self) -> Any:
        obs = {k: v.copy() for k, v in self._design_observation(self._design).items()}
        obs["budget"] = np.array([1.0 - self._edits / self.max_edits], dtype=np.float32)
        if self.observation == "flat":
            return spaces.flatten(self._dict_space, obs).astype(np.float32)
        return obs

    def _design_observation(self, design: Any) -> dict[str, np.ndarray]:
        """The observation entries that depend on the design alone (memoised per design)."""

        def compute() -> dict[str, np.ndarray]:
            obs = dict(self.space.observe(design))
            metrics = self.space.cheap_metrics(design)
            obs["metrics"] = np.array([o.utility(metrics[o.key]) if o.key in metrics else 0.0
                                       for o in self._observed], dtype=np.float32)
            return obs

        return self._observations.get(design, compute)

    def _potential(self, design: Any) -> float:
        if self.shaping == 0.0 or design is None:
            return 0.0
        metrics = self.space.cheap_metrics(design)
        covered = [o.utility(o.raw(metrics)) for o in self.objectives.objectives if o.key in metrics]
        return self.shaping * float(np.mean(covered)) if covered else 0.0

    def _shaping(self, before: Any, after: Any) -> float:
        """gamma * phi(s') - phi(s), with phi(terminal) = 0 (`after` None)."""
        if self.shaping == 0.0:
            return 0.0
        return self.gamma * self._potential(after) - self._potential(before)

    def _zero_reward(self) -> Any:
        return np.zeros(len(self.objectives), dtype=np.float32) if self.vector_reward else 0.0

    def _penalty(self, value: float) -> Any:
        return np.full(len(self.objectives), value, dtype=np.float32) if self.vector_reward else float(value)

    def _final_reward(self, evaluation: Evaluation, info: dict[str, Any]) -> Any:
        info.update(status=evaluation.status, cache_hit=evaluation.cached, error=evaluation.error,
                    metrics=dict(evaluation.metrics), **evaluation.extra)
        if not evaluation.ok:
            return self._penalty(self.failure_penalty)
        utilities = self.objectives.vector(evaluation.metrics)
        info["objectives"] = dict(zip(self.objectives.names, self.objectives.raw(evaluation.metrics).tolist()))
        info["utilities"] = utilities.astype(np.float32)
        if self.constraints is not None:
            info["violations"] = self.constraints.violations(evaluation.metrics)
        if self.vector_reward:
            if not np.all(np.isfinite(utilities)):
                return self._penalty(self.failure_penalty)
            if info.get("violations"):
                return self._penalty(getattr(self.scalariser, "penalty", self.failure_penalty))
            return utilities.astype(np.float32)
        reward = self.scalariser(utilities, evaluation.metrics)
        return float(reward) if math.isfinite(reward) else self.failure_penalty

    def _info(self, action: int | None = None, valid: bool = True, final: bool = True) -> dict[str, Any]:
        """Step counters always; the design's text and hash after reset and at the episode's end
        (mid-episode they would cost more than the step: read `env.unwrapped.design`)."""
        info: dict[str, Any] = {"edits": self._edits, "invalid_actions": self._invalid, "mode": self._episode_mode}
        if final:
            info["genome"] = self.space.describe(self._design)
            info["genome_hash"] = self.space.key(self._design)
        if action is not None:
            info["action"] = self.space.describe_action(action)
            info["valid_action"] = valid
        return info

    def __getstate__(self) -> dict[str, Any]:
        # Memos are rebuilt on demand; leaving them behind keeps pickles (SubprocVecEnv) small.
        return {k: v for k, v in self.__dict__.items() if k not in ("_constrained_masks", "_observations", "_window")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._constrained_masks, self._observations = Memo(), Memo()
        self._window = None

    def __repr__(self) -> str:
        return f"DesignEnv({self.space!r}, mode={self.mode!r}, max_edits={self.max_edits})"


#: the keyword arguments of `DesignEnv` (an env id's others go to its space)
ENV_ARGUMENTS: frozenset[str] = frozenset(inspect.signature(DesignEnv.__init__).parameters) - {"self", "space"}


def _merged_overrides(own: Mapping[str, Mapping[str, Any]], given: Mapping[str, Mapping[str, Any]] | None
                      ) -> dict[str, dict[str, Any]]:
    """The space's reference points (`own`) with the caller's `given` overrides on top, field by field."""
    given = {} if given is None else given
    if not isinstance(given, Mapping) or not all(isinstance(v, Mapping) for v in given.values()):
        raise ValueError(f"objective_overrides={given!r} must map objective names to {{field: value}} mappings")
    merged = {name: dict(fields) for name, fields in own.items()}
    for name, fields in given.items():
        merged[name] = {**merged.get(name, {}), **fields}
    return merged


def _constraints(constraints: HardConstraints | Mapping[str, float] | None) -> HardConstraints | None:
    if constraints is None or isinstance(constraints, HardConstraints):
        return constraints
    return HardConstraints.from_dict(constraints)

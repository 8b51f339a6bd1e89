"""Ranges that hold: over every shipped fidelity and env, utilities stay in [0, 1], hypervolume
ratios in [0, 1] and rewards inside the env's declared `reward_range` / `reward_space`, whatever
the metrics (a proxy far beyond its references, a zero cache, a failed evaluation)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import livgym  # noqa: F401  (registers the ids)
from livgym.envs.livbench.bench import WEIGHTINGS, known_optima
from livgym.envs.space import Evaluation
from livgym.rewards.evaluation.evaluator import FIDELITIES, make_evaluator
from livgym.rewards.evaluators.zero_cost import QUALITY_REFERENCES
from livgym.rewards.objectives import DEFAULT_OBJECTIVES
from livgym.rewards.pareto import ParetoArchive
from livgym.rewards.training.zero_cost_proxies import ZERO_COST_PROXIES

QUALITY_SET = ("quality", "params", "cache_bytes", "flops")
#: each shipped fidelity's objectives: the metrics it reports that an objective reads
FIDELITY_OBJECTIVES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(["mad-lite", "mad-lite-short", "mad-lite-long", "livbench", "byte-lm", "zero-cost"], QUALITY_SET),
    "efficiency": ("params", "cache_bytes", "flops", "latency"),
    "analytic": ("params", "cache_bytes", "flops"),
}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Raw metrics far outside every objective's references: proxies of any size, negative
# qualities (a byte model worse than uniform), zero and huge costs.
METRIC_VALUES = {
    "quality": st.floats(-1e6, 1e6, allow_nan=False),
    "params": st.floats(0.0, 1e13, allow_nan=False),
    "cache_bytes": st.floats(0.0, 1e13, allow_nan=False),
    "flops": st.floats(0.0, 1e13, allow_nan=False),
    "latency": st.floats(0.0, 1e3, allow_nan=False),
}
EPISODE = st.lists(st.tuples(st.booleans(), st.integers(0, 10_000)), min_size=0, max_size=12)


def test_every_fidelity_has_an_objective_set_here_and_states_known_objectives():
    import livgym.rewards.evaluators  # noqa: F401  (registers every fidelity)

    # Only livgym's own: other tests register stand-in fidelities (tests/crash_fidelity.py).
    shipped = {name for name, factory in FIDELITIES.items() if factory.__module__.startswith("livgym.")}
    assert set(FIDELITY_OBJECTIVES) == shipped, "a new fidelity needs its objective set in this test"
    for fidelity in shipped:
        assert set(make_evaluator(fidelity).objective_overrides()) <= set(DEFAULT_OBJECTIVES), fidelity
    assert set(QUALITY_REFERENCES) == set(ZERO_COST_PROXIES)
    for proxy in ZERO_COST_PROXIES:
        quality = make_evaluator("zero-cost", quality_proxy=proxy).objective_overrides()["quality"]
        assert quality == {"nadir": QUALITY_REFERENCES[proxy][0], "ideal": QUALITY_REFERENCES[proxy][1]}


def run_episode(env: gym.Env, steps: list[tuple[bool, int]]) -> list:
    """Rewards of one episode: each step a masked (valid) or unmasked (any) action picked by the
    integer, then stop; the env may end it earlier (edit budget, invalid-action budget)."""
    rewards = []
    env.reset(seed=0)
    for masked, pick in [*steps, (True, 0)]:  # the last: stop (action 0 is always allowed)
        mask = env.unwrapped.action_masks()
        choices = np.flatnonzero(mask) if masked else np.arange(len(mask))
        _, reward, terminated, truncated, info = env.step(int(choices[pick % len(choices)]))
        rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated, "stop, the edit budget or the invalid-action budget ends every episode"
    return rewards + [info]


def check_utilities(info: dict) -> None:
    if "utilities" in info:
        utilities = np.asarray(info["utilities"], dtype=np.float64)
        assert np.all((utilities >= 0.0) & (utilities <= 1.0)), info["utilities"]


@pytest.mark.parametrize("fidelity", sorted(FIDELITY_OBJECTIVES))
@SETTINGS
@given(data=st.data(), steps=EPISODE, ok=st.booleans(), scalariser=st.sampled_from(["weighted_sum", "chebyshev"]),
       shaping=st.sampled_from([0.0, 0.5]))
def test_design_env_rewards_and_utilities_stay_in_their_ranges(fidelity, data, steps, ok, scalariser, shaping):
    names = FIDELITY_OBJECTIVES[fidelity]
    metrics = {name: data.draw(METRIC_VALUES[name], label=name) for name in names}
    weights = data.draw(st.lists(st.floats(0.01, 3.0), min_size=len(names), max_size=len(names)), label="weights")
    env = gym.make("livgym/Design-v0", max_depth=4, max_edits=4, fidelity=fidelity, objectives=names,
                   scalariser=scalariser, scalariser_kwargs={"weights": weights}, shaping=shaping)
    # The evaluator is stood in for: any metrics a fidelity could report, at no cost.
    env.unwrapped.space.evaluate = lambda design: Evaluation(metrics, "ok" if ok else "failed")
    low, high = env.unwrapped.reward_range
    *rewards, info = run_episode(env, steps)
    assert all(low <= r <= high for r in rewards), (rewards, (low, high))
    check_utilities(info)
    if ok:
        assert info["objectives"] == pytest.approx(metrics), "the raw metrics are kept beside the clipped utilities"


@pytest.mark.parametrize("fidelity", sorted(FIDELITY_OBJECTIVES))
@SETTINGS
@given(data=st.data(), steps=EPISODE)
def test_design_mo_vector_rewards_stay_in_the_reward_space(fidelity, data, steps):
    names = FIDELITY_OBJECTIVES[fidelity]
    metrics = {name: data.draw(METRIC_VALUES[name], label=name) for name in names}
    env = gym.make("livgym/DesignMO-v0", max_depth=4, max_edits=4, fidelity=fidelity, objectives=names)
    env.unwrapped.space.evaluate = lambda design: Evaluation(metrics)
    *rewards, info = run_episode(env, steps)
    space = env.unwrapped.reward_space
    assert all(space.contains(np.asarray(r, dtype=np.float32)) for r in rewards), (rewards, space)
    check_utilities(info)
    archive = ParetoArchive(env.unwrapped.objectives)
    archive.add("final", metrics)
    assert 0.0 <= archive.hypervolume_ratio() <= 1.0


@pytest.mark.parametrize("weighting", sorted(WEIGHTINGS))
@settings(max_examples=15, deadline=None)
@given(episodes=st.lists(EPISODE, min_size=1, max_size=4))
def test_livbench_rewards_utilities_and_hypervolume_ratio_stay_in_range(weighting, episodes):
    weights = WEIGHTINGS[weighting]
    env = gym.make("livgym/LIVBench-v0", scalariser_kwargs={"weights": list(weights)})
    low, high = env.unwrapped.reward_range
    archive = ParetoArchive(env.unwrapped.objectives)
    for steps in episodes:
        *rewards, info = run_episode(env, steps)
        assert all(low <= r <= high for r in rewards), (rewards, (low, high))
        check_utilities(info)
        if info.get("status") == "ok":
            archive.add(info["genome_hash"], info["metrics"])
    optima = known_optima(weights)
    assert low <= optima.best_reward <= high
    assert 0.0 <= optima.hypervolume_ratio(archive.hypervolume()) <= 1.0
    assert 0.0 <= archive.hypervolume_ratio() <= 1.0


@settings(max_examples=6, deadline=None)
@given(steps=st.lists(st.integers(0, 10_000), min_size=1, max_size=8))
def test_real_zero_cost_designs_score_inside_the_unit_range(steps):
    """The quickstart's fidelity, evaluated for real: its unbounded proxy stays a utility."""
    env = gym.make("livgym/Design-v0", max_depth=8, max_edits=8, scalariser_kwargs={"weights": [0.5, 0.25, 0.25]})
    low, high = env.unwrapped.reward_range
    assert (low, high) == (-1.1, 1.0)
    *rewards, info = run_episode(env, [(True, pick) for pick in steps])
    assert info["status"] == "ok" and all(low <= r <= high for r in rewards)
    check_utilities(info)
    assert not math.isnan(info["objectives"]["quality"])


def test_compare_bands_of_the_hypervolume_stay_in_the_unit_range(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    from livgym.controllers.compare import SERIES, Comparison, plot_comparison

    bands = []
    original = Axes.fill_between
    monkeypatch.setattr(Axes, "fill_between", lambda ax, x, y1, y2, **kw: bands.append(
        (np.asarray(y1), np.asarray(y2))) or original(ax, x, y1, y2, **kw))
    rng = np.random.default_rng(0)
    # Three seeds spread near both ends of [0, 1]: a t-interval alone would leave the range.
    hypervolume = np.clip(np.stack([np.linspace(0.0, 1.0, 10)] * 3) + rng.normal(0, 0.2, (3, 10)), 0.0, 1.0)
    curves = {"random": {"best_reward": rng.normal(0.5, 0.3, (3, 10)), "hypervolume": hypervolume}}
    plot_comparison(Comparison(("random",), (0, 1, 2), 10, curves), tmp_path / "compare.png")
    assert len(bands) == len(SERIES)  # one band per series, in SERIES order
    low, high = bands[SERIES.index("hypervolume")]
    assert np.all(low >= 0.0) and np.all(high <= 1.0)
    assert np.any(high == 1.0) and np.any(low == 0.0), "the test's spread reaches both bounds"

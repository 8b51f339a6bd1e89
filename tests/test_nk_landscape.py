"""The NK landscape env: exact optima against brute force, the Gymnasium contract, regret."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import livgym  # noqa: F401  (registers the envs)
from livgym.controllers.config import SearchConfig
from livgym.controllers.search import run_search
from livgym.envs import ENVS
from livgym.envs.build import make_registered_env
from livgym.envs.nk import NKLandscape, NKLandscapeSpace, known_optimum

SMALL = {"n": 8, "choices": 3, "k": 2, "seed": 1}


def brute_force(landscape: NKLandscape) -> np.ndarray:
    designs = np.array(list(itertools.product(range(landscape.choices), repeat=landscape.n)), dtype=np.int64)
    return designs, landscape.fitness_many(designs)


@pytest.mark.parametrize(("n", "choices", "k"), [(6, 3, 2), (6, 3, 0), (5, 2, 4), (7, 2, 1)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optimum_and_worst_match_brute_force(n, choices, k, seed):
    landscape = NKLandscape(n=n, choices=choices, k=k, seed=seed)
    designs, values = brute_force(landscape)
    best, best_value = landscape.optimum()
    worst, worst_value = landscape.worst()
    assert best == tuple(designs[values.argmax()]) and best_value == pytest.approx(values.max(), abs=1e-12)
    assert worst == tuple(designs[values.argmin()]) and worst_value == pytest.approx(values.min(), abs=1e-12)
    assert best_value == landscape.fitness(best) and worst_value == landscape.fitness(worst)
    assert 0.0 <= worst_value < best_value <= 1.0


def test_fitness_is_the_mean_of_truncated_adjacent_windows():
    landscape = NKLandscape(n=4, choices=3, k=2, seed=5)
    design = (2, 0, 1, 2)
    tables = landscape.tables
    assert [t.ndim for t in tables] == [3, 3, 2, 1]
    expected = (tables[0][2, 0, 1] + tables[1][0, 1, 2] + tables[2][1, 2] + tables[3][2]) / 4
    assert landscape.fitness(design) == pytest.approx(expected, abs=1e-15)


def test_the_default_landscape_is_too_large_to_enumerate_and_its_optimum_is_known():
    landscape = NKLandscape()
    assert (landscape.n, landscape.choices, landscape.k) == (20, 4, 2)
    assert landscape.size == 4 ** 20 >= 1e12
    optima = known_optimum()
    design, value = landscape.optimum()
    assert optima.best_genome == "-".join(map(str, design)) and optima.best_reward == 1.0
    assert optima.front == (optima.best_genome,) and optima.regret(1.0) == 0.0
    rng = np.random.default_rng(0)
    assert landscape.fitness_many(rng.integers(4, size=(2000, 20))).max() < value


def test_landscapes_are_seeded():
    a, b, c = NKLandscape(seed=3), NKLandscape(seed=3), NKLandscape(seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.tables, b.tables)) and a == b
    assert not np.array_equal(a.tables[0], c.tables[0]) and a.optimum() == b.optimum()
    first, second = gym.make("livgym/NK-v0", mode="edit", **SMALL), gym.make("livgym/NK-v0", mode="edit", **SMALL)
    assert first.reset(seed=7)[1]["genome"] == second.reset(seed=7)[1]["genome"]
    assert first.step(0)[1] == second.step(0)[1]


def test_the_env_passes_gymnasiums_checker():
    check_env(gym.make("livgym/NK-v0", **SMALL).unwrapped, skip_render_check=True)
    check_env(gym.make("livgym/NK-v0", observation="flat", mode="edit", **SMALL).unwrapped, skip_render_check=True)
    kind = ENVS["livgym/NK-v0"]
    assert not (kind.store or kind.backend or kind.device or kind.vector_reward)
    assert kind.space_arguments == {"n", "choices", "k", "seed"}


def test_the_optimum_scores_one_and_the_worst_zero():
    env = gym.make("livgym/NK-v0", **SMALL)
    landscape = env.unwrapped.space.landscape
    assert env.unwrapped.max_edits == SMALL["n"]
    for (design, value), expected in ((landscape.optimum(), 1.0), (landscape.worst(), 0.0)):
        env.reset(options={"mode": "edit", "start": "-".join(map(str, design))})
        _, reward, terminated, _, info = env.step(0)
        assert terminated and reward == expected and info["objectives"]["quality"] == value
    assert known_optimum(**SMALL).best_reward == 1.0


def test_every_design_is_reachable_from_the_build_start():
    env = gym.make("livgym/NK-v0", **SMALL)
    space = env.unwrapped.space
    best, _ = space.landscape.optimum()
    best = (2,) * SMALL["n"] if best == (0,) * SMALL["n"] else best
    env.reset(seed=0)
    terminated, reward = False, None
    for position, choice in enumerate(best):
        if choice:
            _, reward, terminated, _, info = env.step(space.action(position, choice))
    if not terminated:
        _, reward, terminated, _, info = env.step(0)
    assert terminated and info["genome"] == "-".join(map(str, best))


def test_the_space_answers_the_protocol():
    space = NKLandscapeSpace(n=5, choices=3, k=1, seed=0)
    rng = np.random.default_rng(0)
    design = space.sample(rng)
    mask = space.mask(design)
    assert mask[0] and mask.sum() == 1 + 5 * 2
    for action in range(1, space.n_actions):
        assert mask[action] == (space.apply(design, action) is not None)
    assert space.apply(design, space.action(2, (design[2] + 1) % 3))[2] == (design[2] + 1) % 3
    assert space.parse(space.describe(design)) == design and space.key(design) == space.describe(design)
    assert space.describe_action(space.action(4, 1)) == "set position 4 to choice 1"
    features = space.features(design)
    assert features.shape == (15,) and features.sum() == 5 and features.reshape(5, 3).argmax(1).tolist() == list(design)
    low, high = space.encoding_bounds()
    assert low.tolist() == [0] * 5 and high.tolist() == [2] * 5
    assert space.decode(space.encode(design)) == design and space.decode([0, 0, 0, 0, 3]) is None
    assert space.designs() is None and space.cheap_metrics(design) == {}
    evaluation = space.evaluate(design)
    assert evaluation.ok and not evaluation.cached and set(evaluation.metrics) == {"quality"}
    assert space.initial("build", rng) == (0,) * 5 and space.initial("edit", rng, "1-2-0-1-2") == (1, 2, 0, 1, 2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="k=6 must be below n=6"):
        NKLandscape(n=6, k=6)
    with pytest.raises(ValueError, match="choices=1 must be an integer >= 2"):
        NKLandscape(choices=1)
    with pytest.raises(ValueError, match="is not 5 choice indices"):
        NKLandscapeSpace(n=5, choices=3, k=1).parse("1-2-3")
    with pytest.raises(ValueError, match="scores quality only"):
        make_registered_env("livgym/NK-v0", objectives=["quality", "params"], **SMALL)
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['max_depth'\]"):
        make_registered_env("livgym/NK-v0", max_depth=4, **SMALL)


@pytest.mark.parametrize("method", ["random", "evolution"])
def test_a_search_on_a_small_landscape_has_non_negative_regret(method):
    config = SearchConfig(name="nk", method=method, budget=16, seed=0, env_id="livgym/NK-v0", space=SMALL)
    result = run_search(config, None)
    assert result.tracker.used == 16
    assert 0.0 <= known_optimum(**SMALL).regret(result.tracker.best_reward) <= 1.0


def test_the_module_docstring_example_runs():
    import doctest

    from livgym.envs import nk as nk_landscape

    failures, _ = doctest.testmod(nk_landscape, raise_on_error=False)
    assert failures == 0

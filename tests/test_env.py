"""The design environment: Gymnasium / SB3 compatibility, masks, rewards, spaces, pickling."""

from __future__ import annotations

import doctest
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import livgym  # noqa: F401  (registers the ids)
from livgym.envs import design_env
from livgym.envs.tables import space as table_space
from livgym.envs.design_env import DesignEnv
from livgym.envs.build import make_registered_env
from livgym.envs.liv.space import LIVSearchSpace
from livgym.envs.space import Evaluation, SearchSpace
from livgym.envs.tables.space import TableSearchSpace
from livgym.models import Genome, Insert, apply_edit, efficiency, reference_genome
from livgym.rewards.evaluation.evaluator import make_evaluator
from livgym.rewards.objectives import DEFAULT_OBJECTIVES
from strategies import edited_genomes

# Analytic costs only (microseconds per evaluation), so the objectives are costs too.
FAST = {"max_depth": 6, "fidelity": "analytic", "objectives": ("params", "cache_bytes")}
IDS = ("livgym/Design-v0", "livgym/DesignMO-v0")


def liv_env(**kwargs) -> DesignEnv:
    """`livgym/Design-v0` without Gymnasium's wrappers."""
    return make_registered_env("livgym/Design-v0", **kwargs)


def masked_action(env, rng: np.random.Generator, allow_stop: bool = False) -> int:
    mask = env.unwrapped.action_masks()
    choices = np.flatnonzero(mask if allow_stop else mask[1:]) + (0 if allow_stop else 1)
    return int(rng.choice(choices)) if len(choices) else 0


# -- Gymnasium and SB3 compatibility ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*must be a float, int, np.integer:UserWarning")  # the vector reward
@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("observation", ["dict", "flat"])
def test_both_env_checkers_pass(env_id, observation):
    env = gym.make(env_id, max_depth=6, observation=observation)  # the default zero-cost fidelity
    gym_check_env(env.unwrapped)
    if env_id.endswith("MO-v0"):
        # SB3 takes scalar rewards only: an SB3 user scalarises the vector with MO-Gymnasium.
        mo_gym = pytest.importorskip("mo_gymnasium")
        env = mo_gym.wrappers.LinearReward(env, weight=np.array([0.5, 0.25, 0.25]))
    sb3_check_env(env, warn=True)


@pytest.mark.parametrize("env_id", IDS)
def test_make_through_the_module_prefix_and_defaults(env_id):
    env = gym.make(f"livgym.envs:{env_id}")
    assert env.action_space.n == 656  # the docstring's figure for the defaults
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert info["genome"] == "91111@w64h4"


def test_one_registry_of_spaces_builds_every_id():
    from livgym.envs import ENVS, SPACE_ENV_ID, SPACES
    from livgym.envs.space_spec import SpaceSpec

    ids = {SPACE_ENV_ID} | {s.env_id for s in SPACES.values()} | {s.vector_env_id for s in SPACES.values()}
    assert set(ENVS) == ids - {None} and all(env_id in gym.registry for env_id in ENVS)
    for name, shipped in SPACES.items():
        assert SpaceSpec.parse(name).env_id() == shipped.env_id
        env = gym.make(shipped.env_id).unwrapped
        assert type(env) is DesignEnv and type(env.space) is shipped.space_class()
        direct = DesignEnv(shipped.space_class()())  # the space brings its defaults, however it is built
        assert (direct.max_edits, direct.objectives) == (env.max_edits, env.objectives), name
    assert gym.make("livgym/DesignMO-v0", max_depth=4).unwrapped.vector_reward
    with pytest.raises(ValueError, match="always has a vector reward; use livgym/Design-v0 for a scalar one"):
        gym.make("livgym/DesignMO-v0", vector_reward=False)


def test_docstring_action_table_matches_the_codec():
    env = liv_env(**FAST)
    blocks = list(env.unwrapped.space.codec.blocks)
    doc = DesignEnv.__doc__
    table = doc[doc.index("## Action Space"):doc.index("## Observation Space")]
    assert [line.split("|")[1].strip() for line in table.splitlines()
            if line.strip().startswith("|") and "---" not in line][1:] == blocks
    for key in env.observation_space.spaces:
        assert f"| {key} " in doc, f"observation key {key!r} is not documented"


def documented_observation_space(doc: str, max_depth: int) -> dict[str, tuple]:
    """The docstring's Observation Space table, each space column evaluated at `max_depth` into
    (type name, shape, low, high, dtype) (None where a kind of space has no such field)."""
    def box(low, high, shape, dtype):
        return ("Box", tuple(shape), float(low), float(high), np.dtype(dtype))

    names = {"MultiDiscrete": lambda shape: ("MultiDiscrete", tuple(shape), None, None, np.dtype(np.int64)),
             "MultiBinary": lambda n: ("MultiBinary", (n,), None, None, np.dtype(np.int8)),
             "Box": box, "float32": np.float32, "max_depth": max_depth}
    table = doc[doc.index("## Observation Space"):doc.index("## Rewards")]
    rows = [[cell.strip() for cell in line.split("|")[1:3]] for line in table.splitlines()
            if line.strip().startswith("|") and "---" not in line][1:]
    return {key: eval(space, {"__builtins__": {}}, names) for key, space in rows}


@pytest.mark.parametrize("max_depth", [3, 12])
def test_docstring_observation_table_is_the_real_space(max_depth):
    env = liv_env(**{**FAST, "max_depth": max_depth})
    real = {}
    for key, space in env.observation_space.spaces.items():
        low = float(space.low.min()) if isinstance(space, gym.spaces.Box) else None
        high = float(space.high.max()) if isinstance(space, gym.spaces.Box) else None
        if isinstance(space, gym.spaces.Box):
            assert np.all(space.low == low) and np.all(space.high == high), key
        real[key] = (type(space).__name__, space.shape, low, high, space.dtype)
    assert documented_observation_space(DesignEnv.__doc__, max_depth) == real
    obs, _ = env.reset(seed=0)
    assert obs["slots"].shape == (max_depth * 8,), "flat: 8 entries per slot"


def test_docstring_examples_run():
    for module in (design_env, table_space):
        failures, _ = doctest.testmod(module, raise_on_error=False)
        assert failures == 0, module.__name__


def test_make_vec_and_sb3_subproc_vec_env():
    vec = gym.make_vec("livgym/Design-v0", num_envs=2, vectorization_mode="sync", **FAST)
    obs, _ = vec.reset(seed=1)
    assert obs["slots"].shape == (2, 6 * 8)
    vec.step(np.zeros(2, dtype=np.int64))
    vec.close()

    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    # Spawned workers have not imported livgym: the module prefix makes gym.make import it.
    venv = make_vec_env("livgym.envs:livgym/Design-v0", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
                        vec_env_kwargs={"start_method": "spawn"}, env_kwargs=FAST)
    try:
        venv.reset()
        masks = np.stack(venv.env_method("action_masks"))
        assert masks.shape == (2, venv.action_space.n) and masks[:, 0].all()
        actions = np.array([np.flatnonzero(m[1:])[0] + 1 for m in masks])
        _, rewards, dones, infos = venv.step(actions)
        assert not dones.any() and all(info["valid_action"] for info in infos)
        _, rewards, dones, infos = venv.step(np.zeros(2, dtype=np.int64))
        assert dones.all() and all(info["status"] == "ok" for info in infos)
    finally:
        venv.close()


def test_env_pickles_mid_episode():
    env = liv_env(**FAST)
    env.reset(seed=3)
    env.step(masked_action(env, np.random.default_rng(0)))
    copy = pickle.loads(pickle.dumps(env))
    assert copy.design == env.design
    assert np.array_equal(copy.action_masks(), env.action_masks())
    _, reward, terminated, _, info = copy.step(0)
    assert terminated and info["status"] == "ok" and isinstance(reward, float)


# -- episodes, masks and invalid actions ------------------------------------------------------------


@settings(max_examples=15)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["build", "edit"]))
def test_random_masked_episodes_reach_only_valid_genomes(seed, mode):
    env = liv_env(mode=mode, max_edits=12, **FAST)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    terminated = truncated = False
    while not (terminated or truncated):
        action = masked_action(env, rng, allow_stop=True)
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["valid_action"], info["action"]
        Genome.from_string(env.design.to_string())  # re-validates from text (steps skip validation)
        assert env.design.depth <= 6 and env.observation_space.contains(obs)
    assert terminated and info["status"] == "ok"


@settings(max_examples=25)
@given(edited_genomes(max_depth=6))
def test_mask_is_true_exactly_where_apply_succeeds(genome):
    space = LIVSearchSpace(max_depth=6, width=genome.width, heads=genome.heads, fidelity="analytic")
    fresh = LIVSearchSpace(max_depth=6, width=genome.width, heads=genome.heads, fidelity="analytic")
    mask = space.mask(genome)
    for action in range(1, space.n_actions):
        assert (space.apply(genome, action) is not None) == mask[action], space.describe_action(action)
        # without a mask at hand, apply validates by itself (and must agree)
        assert (fresh.apply(genome, action) is not None) == mask[action], space.describe_action(action)


@settings(max_examples=20)
@given(st.integers(0, 2**31 - 1))
def test_a_masked_action_taken_anyway_is_penalised_and_changes_nothing(seed):
    env = liv_env(mode="edit", invalid_action_penalty=-0.25, **FAST)
    obs, _ = env.reset(seed=seed)
    invalid = np.flatnonzero(~env.action_masks())
    action = int(np.random.default_rng(seed).choice(invalid))
    before = env.design
    after_obs, reward, terminated, truncated, info = env.step(action)
    assert reward == -0.25 and not terminated and not truncated
    assert not info["valid_action"] and info["invalid_actions"] == 1
    assert env.design == before
    for key in obs:
        assert np.array_equal(obs[key], after_obs[key]), key


def test_unmasked_agent_is_truncated_after_max_steps():
    env = liv_env(max_edits=2, max_steps=5, max_invalid=10, **FAST)
    env.reset(seed=0)
    invalid = int(np.flatnonzero(~env.action_masks())[0])
    results = [env.step(invalid) for _ in range(5)]
    assert [r[3] for r in results] == [False] * 4 + [True]
    assert not any(r[2] for r in results) and "status" not in results[-1][4]


@pytest.mark.parametrize("env_id", IDS)
def test_an_agent_stuck_on_a_masked_action_still_finishes_its_design(env_id):
    env = gym.make(env_id, max_edits=3, invalid_action_penalty=-0.25, **FAST)
    env.reset(seed=0)
    design = env.unwrapped.design
    invalid = int(np.flatnonzero(~env.unwrapped.action_masks())[0])
    assert env.unwrapped.max_invalid == 3, "one masked action per edit by default"
    assert env.unwrapped.final_design(invalid) is None
    for _ in range(2):
        _, reward, terminated, truncated, info = env.step(invalid)
        assert not (terminated or truncated) and np.all(np.asarray(reward) == -0.25)
    assert env.unwrapped.final_design(invalid) == design, "the next masked action ends the episode"
    _, reward, terminated, truncated, info = env.step(invalid)
    assert terminated and not truncated and not info["valid_action"] and info["status"] == "ok"
    assert info["genome"] == design.to_string() and info["invalid_actions"] == 3
    utilities = np.asarray(info["utilities"], dtype=np.float64)
    design_reward = utilities if env_id.endswith("MO-v0") else utilities.mean()  # the default equal weights
    np.testing.assert_allclose(reward, design_reward - 0.25, rtol=1e-6)


def test_max_invalid_is_checked():
    with pytest.raises(ValueError, match="max_invalid=0 must be a positive integer"):
        liv_env(max_invalid=0, **FAST)


def test_seeded_resets_are_reproducible():
    env = liv_env(mode="edit", **FAST)
    starts = [env.reset(seed=s)[1]["genome"] for s in range(8)]
    assert starts == [env.reset(seed=s)[1]["genome"] for s in range(8)]
    assert len(set(starts)) > 1, "edit mode samples different reference genomes"
    first, _ = env.reset(seed=5)
    again, _ = liv_env(mode="edit", **FAST).reset(seed=5)
    assert all(np.array_equal(first[k], again[k]) for k in first)


def test_episode_ends_at_the_edit_budget_and_at_max_depth():
    env = liv_env(mode="edit", max_edits=3, **FAST)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    assert [env.step(masked_action(env, rng))[2] for _ in range(3)] == [False, False, True]

    build = liv_env(max_edits=20, **FAST)
    build.reset(seed=0)
    insert = next(i for i in range(1, build.action_space.n) if build.space.describe_action(i) == "insert SA-1 at 0")
    ends = [build.step(insert)[2] for _ in range(5)]  # depth 1 -> 6 = max_depth
    assert ends == [False] * 4 + [True] and build.design.depth == 6


def test_reset_options_choose_mode_and_start():
    env = liv_env(**FAST)
    start = reference_genome("mamba-like", depth=4, width=64, heads=4)
    _, info = env.reset(options={"mode": "edit", "genome": start.to_string()})
    assert info["genome"] == start.to_string() and info["mode"] == "edit"
    _, info = env.reset(options={"start": "11111-91111"})
    assert info["genome"] == "11111-91111@w64h4", "a start genome is moved to the env's width"
    with pytest.raises(ValueError, match="unknown key"):
        env.reset(options={"genome_string": "11111"})
    with pytest.raises(ValueError, match="max_depth=6"):
        env.reset(options={"start": "-".join(["91111"] * 7)})


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown argument.*'max_dept'"):
        gym.make("livgym/Design-v0", max_dept=8)
    with pytest.raises(ValueError, match="mode='grow'"):
        liv_env(mode="grow")
    with pytest.raises(ValueError, match="unknown fidelity 'mad-light'"):
        liv_env(fidelity="mad-light")
    with pytest.raises(ValueError, match="unknown constraint"):
        liv_env(constraints={"max_kv": 1})
    with pytest.raises(ValueError, match="weights"):
        liv_env(scalariser_kwargs={"weights": [1.0]})
    with pytest.raises(ValueError, match="classes"):
        liv_env(classes=[1, 42])
    env = liv_env(**FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action 9999"):
        env.step(9999)


# -- rewards --------------------------------------------------------------------------------------


def test_terminal_reward_is_the_scalarised_objectives_and_the_store_answers_revisits(tmp_path):
    env = liv_env(max_depth=6, store=tmp_path / "store.sqlite", objectives=("quality", "params"),
                  scalariser_kwargs={"weights": [0.75, 0.25]})
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and info["status"] == "ok" and info["cache_hit"] is False
    u = info["utilities"]
    assert reward == pytest.approx(0.75 * u[0] + 0.25 * u[1], rel=1e-6)
    assert set(info["objectives"]) == {"quality", "params"} and info["genome_hash"]
    env.reset(seed=1)
    assert env.step(0)[4]["cache_hit"] is True
    other = liv_env(max_depth=6, store=tmp_path / "store.sqlite")  # another env, same store file
    other.reset()
    assert other.step(0)[4]["cache_hit"] is True


class _FailingTable(TableSearchSpace):
    def evaluate(self, design):
        return Evaluation({}, "failed", error="boom") if design == (1, 1) else super().evaluate(design)


def _table(**kwargs):
    table = {(a, b): {"quality": 0.1 * a + 0.2 * b, "params": 1e4 * (1 + a + b), "cache_bytes": 1e3 * (1 + b)}
             for a in range(3) for b in range(2)}
    return _FailingTable(table, choices=(3, 2), minimal=(0, 0), **kwargs)


def test_failed_evaluation_gives_the_failure_penalty_not_an_exception():
    space = _table()
    env = DesignEnv(space, failure_penalty=-2.0)
    env.reset(options={"start": "1-1"})
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == -2.0 and info["status"] == "failed" and info["error"] == "boom"
    mo = DesignEnv(space, failure_penalty=-2.0, vector_reward=True)
    mo.reset(options={"start": (1, 1)})
    assert np.array_equal(mo.step(0)[1], np.full(3, -2.0, dtype=np.float32))


def test_hard_constraints_mask_edits_and_penalise_infeasible_final_designs():
    space = _table(cheap=("params", "cache_bytes"))  # costs known before evaluation: the env masks by them
    env = DesignEnv(space, constraints={"max_params": 3.5e4})  # only (2, 1) has more: 4e4
    env.reset(options={"start": "2-0"})
    assert not env.action_masks()[space.action(1, 1)]
    assert env.step(space.action(1, 1))[4]["valid_action"] is False

    tight = DesignEnv(space, constraints={"max_params": 2.5e4})
    tight.reset(options={"start": "2-0"})  # 3e4: infeasible, so only edits that do not add params are open
    mask = tight.action_masks()
    assert mask[space.action(0, 0)] and mask[space.action(0, 1)], "(0, 0) is feasible, (1, 0) at least no worse"
    assert not mask[space.action(1, 1)], "(2, 1) has more parameters than the infeasible start"
    _, reward, terminated, _, info = tight.step(0)
    assert terminated and reward == -1.0, "the scalariser's penalty for a violated constraint"
    assert info["violations"] == ["params=30000 > max_params=25000"]


@settings(max_examples=15)
@given(edited_genomes(max_depth=6))
def test_fast_constrained_mask_equals_applying_every_edit(genome):
    space = LIVSearchSpace(max_depth=6, width=genome.width, heads=genome.heads, fidelity="analytic")
    metrics = space.cheap_metrics(genome)
    bound = {"params": metrics["params"] * 1.05, "cache_bytes": metrics["cache_bytes"] * 1.02 + 1,
             "flops": metrics["flops"] * 1.05}

    def allowed(current, candidate):
        return all(candidate[k] <= v for k, v in bound.items())

    assert np.array_equal(space.constrained_mask(genome, allowed), SearchSpace.constrained_mask(space, genome, allowed))


def test_cache_budget_holds_along_masked_episodes():
    budget = 2e6
    env = liv_env(**{**FAST, "max_depth": 8}, constraints={"max_cache_bytes": budget}, max_edits=16)
    rng = np.random.default_rng(0)
    for seed in range(5):
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(masked_action(env, rng, allow_stop=False))
            assert info["valid_action"]
            assert env.space.cheap_metrics(env.design)["cache_bytes"] <= budget
            done = terminated or truncated
        assert info["violations"] == []


def test_one_context_length_sets_the_budget_mask_the_observation_and_the_reward():
    length = 512
    with_attention = apply_edit(Genome.from_string("91111@w64h4"), Insert(0, 1))  # the build start, SA-1 first
    cache = efficiency(with_attention, context_length=length).cache_bytes
    assert cache < efficiency(with_attention).cache_bytes, "the default context is longer"
    arguments = {**FAST, "max_depth": 4, "constraints": {"max_cache_bytes": cache}}
    env = liv_env(**arguments, context_length=length)
    env.reset(seed=0)
    insert = next(a for a in range(env.space.n_actions) if env.space.describe_action(a) == "insert SA-1 at 0")
    assert env.action_masks()[insert], "within the budget at the env's context length"
    default = liv_env(**arguments)
    default.reset(seed=0)
    assert not default.action_masks()[insert], "over the budget at the default context length"

    obs, *_ = env.step(insert)
    observed = obs["metrics"][design_env.OBSERVED_METRICS.index("cache_bytes")]
    assert observed == pytest.approx(DEFAULT_OBJECTIVES["cache_bytes"].utility(cache), rel=1e-6)
    _, _, terminated, _, info = env.step(0)
    assert terminated and info["genome"] == with_attention.to_string()
    assert info["objectives"]["cache_bytes"] == info["metrics"]["cache_bytes"] == cache


def test_the_space_gives_its_context_length_to_any_fidelity_and_refuses_a_second_one():
    space = LIVSearchSpace(fidelity="zero-cost", context_length=1024)
    assert space.evaluator.config.context_length == 1024
    # a backend rebuilds the evaluator from the fidelity and overrides: the same evaluator
    assert make_evaluator("zero-cost", **space.fidelity_overrides).config_hash() == space.evaluator.config_hash()
    assert LIVSearchSpace(fidelity="zero-cost").fidelity_overrides == {}, "defaults leave the config (and its hash)"
    with pytest.raises(ValueError, match="context_length=2048 .*set context_length once, on the space"):
        LIVSearchSpace(fidelity="zero-cost", fidelity_overrides={"context_length": 2048})
    with pytest.raises(ValueError, match="vocab_size=512: fidelity 'mad-lite' has no vocab_size setting"):
        LIVSearchSpace(fidelity="mad-lite", vocab_size=512)


def test_potential_based_shaping_telescopes():
    env = liv_env(shaping=1.0, gamma=1.0, **FAST)
    plain = liv_env(**FAST)
    rng = np.random.default_rng(4)
    env.reset(seed=0), plain.reset(seed=0)
    phi0 = env._potential(env.design)
    total = plain_total = 0.0
    for _ in range(5):
        action = masked_action(env, rng)
        total += env.step(action)[1]
        plain_total += plain.step(action)[1]
    total += env.step(0)[1]
    plain_total += plain.step(0)[1]
    assert phi0 != 0.0
    assert total == pytest.approx(plain_total - phi0)


def test_vector_reward_follows_mo_gymnasium():
    env = gym.make("livgym/DesignMO-v0", **FAST)
    env.reset(seed=0)
    _, reward, *_ = env.step(masked_action(env, np.random.default_rng(0)))
    assert reward.dtype == np.float32 and reward.shape == (2,) and not reward.any()
    _, reward, terminated, _, info = env.step(0)
    assert terminated and np.allclose(reward, info["utilities"])
    assert env.unwrapped.reward_space.contains(reward)

    mo_gym = pytest.importorskip("mo_gymnasium")
    linear = mo_gym.wrappers.LinearReward(gym.make("livgym/DesignMO-v0", **FAST),
                                          weight=np.array([0.5, 0.5]))
    linear.reset(seed=0)
    _, scalar, _, _, info = linear.step(0)
    assert scalar == pytest.approx(float(np.dot([0.5, 0.5], info["vector_reward"])))


# -- other search spaces ---------------------------------------------------------------------------


def test_a_table_space_plugs_in_and_keeps_unknown_designs_unreachable():
    table = {(a, b): {"quality": 0.1 * a + 0.2 * b, "params": 1e4, "cache_bytes": 1e3}
             for a in range(3) for b in range(2) if (a, b) != (2, 1)}
    space = TableSearchSpace(table, choices=(3, 2), minimal=(0, 0))
    env = DesignEnv(space, max_edits=4)
    gym_check_env(env, skip_render_check=True)  # render modes: tests/test_render.py
    sb3_check_env(env, warn=True)
    env.reset(options={"start": "2-0"})
    assert not env.action_masks()[space.action(1, 1)], "(2, 1) is not in the table"
    env.reset(seed=0)
    env.step(space.action(1, 1))
    env.step(space.action(0, 2))  # (2, 1): masked
    assert env.design == (0, 1)
    with pytest.raises(ValueError, match="not in the table"):
        env.reset(options={"start": (2, 1)})


def test_the_docs_carry_the_env_manual_verbatim():
    import inspect
    from pathlib import Path

    doc = inspect.cleandoc(DesignEnv.__doc__)
    manual = doc[doc.index("## Description"):doc.index(">>>")].strip()
    page = (Path(__file__).resolve().parents[1] / "docs" / "environment.md").read_text()
    assert manual in page, "docs/environment.md's manual differs from DesignEnv's docstring"

"""`SpaceWrapper` forwards the whole `SearchSpace` protocol, and an env over a wrapper (or a
`DesignEnv.sibling` over one) behaves as the env over the wrapped space."""

from __future__ import annotations

import inspect
from unittest.mock import Mock

import numpy as np
import pytest

from livgym.controllers.methods.model_based_loop import SurrogateSpace
from livgym.envs.build import build_env
from livgym.envs.design_env import DesignEnv
from livgym.envs.space import SearchSpace
from livgym.envs.wrappers import SpaceWrapper

FAST = {"max_depth": 6, "fidelity": "analytic"}
ENV = {"objectives": ["params", "cache_bytes"], "max_edits": 6}


def protocol_members() -> list[str]:
    """Every public method and attribute of the protocol."""
    return sorted({n for n in dir(SearchSpace) if not n.startswith("_")} | set(SearchSpace.__annotations__))


def test_every_protocol_member_is_forwarded_explicitly():
    missing = [name for name in protocol_members() if name not in vars(SpaceWrapper)]
    assert not missing, f"SpaceWrapper does not forward {missing}"
    assert not SpaceWrapper.__abstractmethods__


@pytest.mark.parametrize("name", protocol_members())
def test_each_member_answers_as_the_wrapped_space(name):
    inner = Mock()
    wrapper = SpaceWrapper(inner)
    member = getattr(SearchSpace, name, None)
    if not callable(member):  # an attribute
        assert getattr(wrapper, name) is getattr(inner, name)
        return
    arguments = [object() for p in inspect.signature(member).parameters.values() if p.name != "self"]
    result = getattr(wrapper, name)(*arguments)
    getattr(inner, name).assert_called_once_with(*arguments)
    if name not in ("accept", "close"):
        assert result is getattr(inner, name).return_value


def test_attributes_outside_the_protocol_are_read_through():
    env = build_env("livgym/Design-v0", FAST, ENV)
    wrapper = SpaceWrapper(env.space)
    assert wrapper.codec is env.space.codec and wrapper.max_depth == 6
    assert repr(wrapper) == f"SpaceWrapper({env.space!r})"
    with pytest.raises(AttributeError):
        wrapper.no_such_attribute


def episodes(env: DesignEnv, seed: int = 0, steps: int = 60) -> list:
    rng, out = np.random.default_rng(seed), []
    env.reset(seed=seed)
    for _ in range(steps):
        action = int(rng.choice(np.flatnonzero(env.action_masks())))
        obs, reward, terminated, truncated, info = env.step(action)
        out.append((action, reward, terminated, info.get("genome"), obs["slots"].tolist()))
        if terminated or truncated:
            env.reset()
    return out


def test_an_env_over_a_wrapper_is_the_env_over_the_space():
    env = build_env("livgym/LIVBench-v0", env={"max_edits": 5})
    wrapped = DesignEnv(SpaceWrapper(env.space), max_edits=5)
    assert wrapped.objectives == env.objectives and wrapped.reward_range == env.reward_range
    assert episodes(wrapped) == episodes(env)


def test_a_sibling_has_the_settings_and_memos_but_not_the_callbacks():
    env = build_env("livgym/Design-v0", FAST, {**ENV, "render_mode": "ansi", "mode": "edit"})
    seen = []
    env.add_evaluation_callback(lambda info, reward: seen.append(info["genome"]))
    sibling = env.sibling(SpaceWrapper(env.space))
    assert (sibling.max_edits, sibling.mode, sibling.objectives, sibling.render_mode) == (6, "edit", env.objectives,
                                                                                          None)
    assert episodes(sibling) == episodes(env) and len(seen) > 0
    count = len(seen)
    sibling.reset(seed=1)
    sibling.step(0)
    assert len(seen) == count, "the sibling reports to no callback of the env's"
    design = sibling.design
    assert env._observations.peek(design) is not None, "the memo is shared"


def test_the_surrogate_space_overrides_only_what_it_changes():
    own = {name for name in vars(SurrogateSpace) if name in protocol_members()}
    assert own == {"name", "initial", "observe", "evaluate", "job", "close"}
    loop = Mock()
    space = SurrogateSpace(build_env("livgym/Design-v0", FAST, ENV).space, loop)
    assert space.name == "surrogate(liv)" and space.job("any design") is None
    space.observe(space.space.build_start)
    loop.visit.assert_called_once_with(space.space.build_start)

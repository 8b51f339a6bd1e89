"""The RL methods' features extractors: `slots` reads only the slots a design has, shares one
encoder across positions, trains inside a search, and is refused with a clear error where the
observation has no slots."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.preprocessing import preprocess_obs

import livgym  # noqa: F401  (registers the envs)
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.extractors import SlotSetExtractor
from livgym.controllers.methods.registry import get_method
from livgym.controllers.search import run_search


def _features(extractor: SlotSetExtractor, space: gym.spaces.Dict, obs: dict) -> torch.Tensor:
    batch = {k: torch.as_tensor(np.asarray(v))[None] for k, v in obs.items()}
    with torch.no_grad():
        return extractor(preprocess_obs(batch, space))


def test_slot_features_ignore_absent_slots_and_share_one_encoder():
    env = gym.make("livgym/Design-v0", fidelity="zero-cost", max_depth=4)
    space = env.observation_space
    obs, _ = env.reset(seed=0)
    torch.manual_seed(0)
    extractor = SlotSetExtractor(space, slot_dim=8)
    depth = int(obs["slot_mask"].sum())
    assert extractor.features_dim == 4 * 8 + 8 + 3 + 1
    features = _features(extractor, space, obs)
    assert features.shape == (1, extractor.features_dim)

    garbage = {**obs, "slots": obs["slots"].copy()}
    garbage["slots"][depth * 8:] = 1  # genes written into slots the design does not have
    torch.testing.assert_close(_features(extractor, space, garbage), features)
    assert torch.all(features[0, depth * 8:4 * 8] == 0), "absent slots encode as zeros"

    n_params = sum(p.numel() for p in extractor.parameters())
    per_slot = int(space["slots"].nvec[:8].sum())
    assert n_params == (per_slot + 4) * 64 + 64 + 64 * 8 + 8, "one encoder, whatever the depth"


def test_maskable_ppo_searches_with_the_slot_extractor(tmp_path):
    config = SearchConfig.from_yaml("runs/livbench.yaml").with_overrides(
        budget=6, surrogate={"enabled": False},
        methods={"maskable_ppo": {"extractor": "slots", "n_epochs": 1}})
    result = run_search(config, tmp_path, plots=False)
    assert result.tracker.used == 6
    from sb3_contrib import MaskablePPO

    policy = MaskablePPO.load(tmp_path / "controller.zip").policy
    assert isinstance(policy.features_extractor, SlotSetExtractor)


def test_an_unknown_or_unfit_extractor_is_named():
    with pytest.raises(ValueError, match=r"methods\.ppo: extractor='deepsets' is unknown; known: \['combined', 'slots'\]"):
        get_method("ppo").parse({"extractor": "deepsets"})
    nk = gym.make("livgym/NK-v0").observation_space
    with pytest.raises(ValueError, match="extractor 'slots' needs a Dict observation with 'slots' and 'slot_mask'"):
        SlotSetExtractor(nk)

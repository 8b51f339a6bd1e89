"""Rendering: the design as text (ansi), as a picture (rgb_array: the LIV block diagram, a text
card for spaces without pictures) and in a window (human, nothing drawn when headless), as
SB3's vector envs and video recorder use them."""

from __future__ import annotations

import warnings

import gymnasium as gym
import matplotlib
import numpy as np
import pytest

import livgym  # noqa: F401  (registers the ids)
from livgym.envs.design_env import RENDER_MODES, DesignEnv
from livgym.envs.tables.space import TableSearchSpace
from livgym.models.diagram import FrameWindow, draw_genome, genome_rgb
from livgym.models.genome import Genome

matplotlib.use("Agg")  # headless, as on CI: `human` has no window to open
FAST = {"max_depth": 6, "fidelity": "analytic", "objectives": ("params", "cache_bytes")}
ENVS = {"livgym/Design-v0": FAST, "livgym/LIVBench-v0": {}}


def masked_steps(env: gym.Env, n: int, seed: int = 0) -> list[np.ndarray]:
    """Frames after reset and after each of `n` random valid edits."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    frames = [env.render()]
    for _ in range(n):
        allowed = np.flatnonzero(env.unwrapped.action_masks()[1:]) + 1
        _, _, terminated, truncated, _ = env.step(int(rng.choice(allowed)))
        frames.append(env.render())
        if terminated or truncated:
            break
    return frames


@pytest.mark.filterwarnings("ignore:.*render_mode='rgb' that is not in the possible:UserWarning")  # gymnasium's
def test_every_render_mode_is_declared_and_an_unknown_one_is_refused():
    assert DesignEnv.metadata["render_modes"] == list(RENDER_MODES) == ["ansi", "rgb_array", "human"]
    with pytest.raises(ValueError, match="render_mode='rgb'"):
        gym.make("livgym/Design-v0", render_mode="rgb", **FAST)


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_rgb_array_is_the_design_in_frames_of_one_size(env_id):
    env = gym.make(env_id, render_mode="rgb_array", **ENVS[env_id])
    frames = masked_steps(env, 3)
    assert len(frames) >= 3
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert frame.shape == frames[0].shape, "a video needs one frame size"
        assert frame.shape[0] % 2 == 0 and frame.shape[1] % 2 == 0, "H.264 needs even sides"
        assert frame.min() < 128 < frame.max(), "something is drawn"
    assert not np.array_equal(frames[0], frames[1]), "an edit changes the picture"
    space = env.unwrapped.space
    np.testing.assert_array_equal(frames[-1], genome_rgb(env.unwrapped.design, columns=space.max_depth))


def test_frames_are_drawn_only_when_asked():
    env = gym.make("livgym/Design-v0", render_mode="rgb_array", **FAST)
    drawn = []
    space = env.unwrapped.space
    original = space.render
    space.render = lambda design: drawn.append(design) or original(design)
    masked_steps_without_render(env, 3)
    assert drawn == []
    env.render()
    assert drawn == [env.unwrapped.design]


def masked_steps_without_render(env: gym.Env, n: int) -> None:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(n):
        env.step(int(rng.choice(np.flatnonzero(env.unwrapped.action_masks()[1:]) + 1)))


def test_ansi_is_kept_and_render_before_reset_is_an_error():
    env = DesignEnv(TableSearchSpace({(0,): {"quality": 0.5, "params": 1e4, "cache_bytes": 1e3}}, choices=(1,)),
                    render_mode="ansi")
    with pytest.raises(gym.error.ResetNeeded):
        env.render()
    env.reset(seed=0)
    assert env.render() == "0  (edits 0/16, step 0)"
    env.step(0)
    assert env.render().splitlines()[1].strip().startswith("quality=0.5")


def test_a_space_without_pictures_renders_a_text_card_of_one_size():
    table = {(a, b): {"quality": 0.1 * a + 0.2 * b, "params": 1e4, "cache_bytes": 1e3} for a in range(3) for b in range(2)}
    space = TableSearchSpace(table, choices=(3, 2), minimal=(0, 0))
    assert space.render((0, 0)) is None
    env = DesignEnv(space, max_edits=4, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    env.step(space.action(position=0, choice=2))
    second = env.render()
    assert first.dtype == np.uint8 and first.shape == second.shape and first.shape[2] == 3
    assert not np.array_equal(first, second), "the card shows the design and its counts"


def test_human_draws_nothing_without_a_display():
    assert not FrameWindow.available(), "Agg has no window"
    env = gym.make("livgym/Design-v0", render_mode="human", **FAST)
    env.reset(seed=0)
    assert env.render() is None
    env.step(0)
    env.close()


def test_a_deep_design_fits_the_space_and_columns_are_checked():
    genome = Genome.from_string("91111-11111-91111@w64h4")
    assert genome_rgb(genome, columns=12).shape[1] > genome_rgb(genome).shape[1]
    with pytest.raises(ValueError, match="columns=2 is fewer than the genome's 3 slots"):
        draw_genome(genome, columns=2)


def test_make_vec_env_does_not_warn_about_render_modes():
    from stable_baselines3.common.env_util import make_vec_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        venv = make_vec_env("livgym/Design-v0", n_envs=2, seed=0, env_kwargs=FAST)  # asks for rgb_array
    venv.close()
    assert not [w for w in caught if "render" in str(w.message)], [str(w.message) for w in caught]


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_sb3_video_recorder_records_frames(env_id, tmp_path):
    pytest.importorskip("moviepy")
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecVideoRecorder

    venv = make_vec_env(env_id, n_envs=2, seed=0, env_kwargs=ENVS[env_id])
    recorder = VecVideoRecorder(venv, str(tmp_path), record_video_trigger=lambda step: step == 0, video_length=4,
                                name_prefix="design")
    recorder.reset()
    frames = []
    for _ in range(5):
        masks = np.stack(recorder.env_method("action_masks"))
        recorder.step(np.array([np.flatnonzero(m[1:])[0] + 1 for m in masks]))
        frames.append(len(recorder.recorded_frames))
    recorder.close()
    assert max(frames) >= 4, frames
    [video] = tmp_path.glob("design*.mp4")
    assert video.stat().st_size > 1000

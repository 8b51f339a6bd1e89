"""SB3 in a user's own script logs its training metrics to W&B through `WandbCallback`: the README's
snippet, run as written (offline), leaves `train/*` and `rollout/*` series in the run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from test_tracking import history, offline_run, read_records

from livgym.controllers import WandbCallback
from livgym.controllers.reporting.wandb_run import WandbOutputFormat

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_snippet() -> str:
    """The README's Python block that uses `WandbCallback`."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    found = [block for block in blocks if "WandbCallback(run)" in block]
    assert len(found) == 1, "the README shows WandbCallback in exactly one Python block"
    return found[0]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: two threads per update only contend
    yield tmp_path
    torch.set_num_threads(threads)


def test_the_readme_snippet_logs_sb3_train_and_rollout_metrics(tmp_path):
    # A fresh process, as a user runs it: W&B reads its directory and mode once per process.
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true",
           "OMP_NUM_THREADS": "1"}  # a shared 2-core machine: two torch threads per update only contend
    subprocess.run([sys.executable, "-c", readme_snippet()], cwd=tmp_path, env=env, check=True, timeout=300)
    rows = history(read_records(offline_run(tmp_path)))
    keys = {key for row in rows for key in row}
    assert any(k.startswith("train/") for k in keys), f"no train/* metric among {sorted(keys)}"
    assert "rollout/ep_rew_mean" in keys and "time/fps" in keys
    steps = [row["sb3/timesteps"] for row in rows if "rollout/ep_rew_mean" in row]
    assert steps == sorted(steps) and steps[-1] == 256, "one row per dump, against SB3's timesteps"


def test_the_callback_leaves_the_logger_as_it_found_it_and_can_start_its_own_run(in_tmp):
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[]))
    callback = WandbCallback(dir=str(in_tmp))  # no run given, none active: its own offline run, ended with training
    model.learn(total_timesteps=64, callback=callback)
    assert model.logger.output_formats == [], "the W&B output is taken out when training ends"
    assert callback.run is None
    rows = history(read_records(offline_run(in_tmp)))
    assert any("train/loss" in row for row in rows) and any("time/fps" in row for row in rows)
    assert not any(isinstance(f, WandbOutputFormat) for f in model.logger.output_formats)
    with pytest.raises(ValueError, match="W&B mode 'ofline'"):
        WandbCallback(mode="ofline")

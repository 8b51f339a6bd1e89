"""rl-baselines3-zoo trains livgym's envs from the shipped hyperparameter files (`runs/zoo/`),
as its users run it: `python -m rl_zoo3.train --gym-packages livgym`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import yaml
from stable_baselines3 import A2C, PPO

import livgym  # noqa: F401 - registers the envs

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "runs" / "zoo"
ALGOS = {"ppo": PPO, "a2c": A2C}
SB3_KEYS = ("n_envs", "n_steps", "batch_size", "n_epochs", "learning_rate", "ent_coef", "gamma")


@pytest.mark.parametrize("algo", sorted(ALGOS))
@pytest.mark.parametrize("env_id", ["livgym/LIVBench-v0", "livgym/Design-v0"])
def test_rl_zoo3_trains_and_saves_a_policy_that_acts(tmp_path, algo, env_id):
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", algo, "--env", env_id, "--gym-packages", "livgym",
               "-conf", str(ZOO / f"{algo}.yml"), "-n", "256", "-f", "logs", "--seed", "0", "--eval-freq", "-1"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    [saved] = (tmp_path / "logs" / algo).glob("*/*.zip")
    model = ALGOS[algo].load(saved, device="cpu")
    env = gym.make(env_id, **_env_kwargs(algo, env_id, tmp_path))
    obs, _ = env.reset(seed=0)
    terminated = truncated = False
    while not (terminated or truncated):
        action, _ = model.predict(obs, deterministic=True)
        obs, reward, terminated, truncated, info = env.step(action)
    assert terminated or truncated
    if env_id == "livgym/Design-v0":  # the env_kwargs reached the env: its store is where the file says
        assert (tmp_path / "runs" / "evaluations.sqlite").exists()
    if algo == "ppo":
        _enjoy(tmp_path, algo, env_id)


def _enjoy(folder: Path, algo: str, env_id: str) -> None:
    """`rl_zoo3.enjoy` replays the trained policy with its default rendering (`human`), headless."""
    command = [sys.executable, "-m", "rl_zoo3.enjoy", "--algo", algo, "--env", env_id, "--gym-packages", "livgym",
               "-f", "logs", "-n", "40", "--seed", "0"]
    run = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "Episode Reward" in run.stdout or "Mean reward" in run.stdout, run.stdout[-2000:]


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_zoo_livbench_settings_are_the_search_configs(algo):
    zoo = yaml.safe_load((ZOO / f"{algo}.yml").read_text())["livgym/LIVBench-v0"]
    search = yaml.safe_load((ROOT / "runs" / "livbench.yaml").read_text())["methods"][algo]
    assert {k: zoo[k] for k in SB3_KEYS if k in zoo} == {k: search[k] for k in SB3_KEYS if k in search}


def _env_kwargs(algo: str, env_id: str, folder: Path) -> dict:
    kwargs = dict(yaml.safe_load((ZOO / f"{algo}.yml").read_text())[env_id].get("env_kwargs") or {})
    if "store" in kwargs:
        kwargs["store"] = str(folder / kwargs["store"])
    return kwargs

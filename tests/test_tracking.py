"""W&B tracking: "disabled" writes nothing, "offline" writes a run whose history, summary and media
hold the search's evaluations, SB3's training metrics (with no step conflicts) and the front."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from wandb.proto import wandb_internal_pb2

from livgym.controllers.config import SearchConfig
from livgym.controllers.reporting.plots import plot_progress
from livgym.controllers.search import run_search
from livgym.controllers.reporting.wandb_run import MODES, WandbTracker

torch.set_num_threads(1)  # a shared 2-core machine
CONFIG = SearchConfig(name="tiny", method="random", budget=6, space={"max_depth": 4, "fidelity": "analytic"},
                      env={"max_edits": 3, "objectives": ["params", "cache_bytes"]})
STEP_WARNING = "less than the current step"  # W&B's message when it drops a record logged out of order


@pytest.fixture(autouse=True)
def quiet_wandb(monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")


def read_records(run_dir: Path, timeout: float = 60.0) -> list[wandb_internal_pb2.Record]:
    """The records of an offline run, once complete: `run.finish()` can return before W&B's
    service process has written the log, so wait for its final `exit` record."""
    deadline = time.monotonic() + timeout
    while True:
        records = parse_log(next(run_dir.glob("*.wandb")).read_bytes())
        if any(r.WhichOneof("record_type") == "exit" for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


def parse_log(data: bytes) -> list[wandb_internal_pb2.Record]:
    """Parse a `.wandb` file: a LevelDB-style log (7-byte file header, 32 KiB blocks of chunks with
    a 7-byte header: CRC, length, type) of protobuf `Record`s, up to the last complete chunk.
    W&B 0.31 has no Python reader of its own and writes no `wandb-summary.json` offline."""
    assert b":W&B".startswith(data[:4]), "not a W&B transaction log"
    records, chunk, position, block = [], b"", 7, 32768
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + 7])
        if position + 7 + length > len(data):  # still being written
            break
        chunk += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            records.append(wandb_internal_pb2.Record.FromString(chunk))
            chunk = b""
    return records


def history(records) -> list[dict]:
    return [{item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in r.history.item}
            for r in records if r.WhichOneof("record_type") == "history"]


def summary(records) -> dict:
    values = {}
    for record in records:
        if record.WhichOneof("record_type") == "summary":
            values.update({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                           for item in record.summary.update})
    return values


def offline_run(directory: Path) -> Path:
    runs = list((directory / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, f"expected one offline run under {directory}/wandb, found {runs}"
    return runs[0]


def test_disabled_writes_nothing(tmp_path):
    result = run_search(CONFIG, None, store=tmp_path.parent / f"{tmp_path.name}.sqlite")
    target = tmp_path / "wandb-dir"
    tracker = WandbTracker(CONFIG, "disabled", target)
    tracker.log_new(result.tracker)
    tracker.sb3_output().write({"train/loss": 0.5}, {"train/loss": None}, step=64)
    tracker.finish(result.tracker, tmp_path)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_invalid_mode_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"W&B mode 'offlien' is not one of"):
        WandbTracker(CONFIG, "offlien", tmp_path)
    assert MODES == ("offline", "online", "disabled")


def test_offline_run_holds_evaluations_front_summary_and_plots(tmp_path):
    out = tmp_path / "run"
    with WandbTracker(CONFIG, "offline", tmp_path, group="tests") as wb:
        result = run_search(CONFIG, out, store=tmp_path / "store.sqlite", progress=wb.log_new)
        plot_progress(result.tracker, out / "progress.png")
        wb.finish(result.tracker, out)
    run_dir = offline_run(tmp_path)
    records = read_records(run_dir)
    rows = [row for row in history(records) if "evaluation/index" in row]
    assert [row["evaluation/index"] for row in rows] == list(range(1, 7)), "every evaluation once, in order"
    last = result.tracker.records[-1]
    assert rows[-1]["evaluation/best_reward"] == pytest.approx(last.best_reward)
    assert rows[-1]["evaluation/hypervolume"] == pytest.approx(last.hypervolume)
    assert rows[-1]["objective/params"] == pytest.approx(last.metrics["params"])
    assert {"evaluation/reward", "evaluation/revisits", "objective/cache_bytes"} <= set(rows[0])
    values = summary(records)
    assert values["evaluations"] == 6 and values["best_reward"] == pytest.approx(result.tracker.best_reward)
    assert values["hypervolume"] == pytest.approx(result.tracker.archive.hypervolume())
    assert values["pareto/front/_type"] == "table-file" and values["plots/progress/_type"] == "image-file"
    table = json.loads(next((run_dir / "files" / "media" / "table").glob("pareto/front*.table.json")).read_text())
    assert table["columns"] == ["genome", "genome_hash", "params", "cache_bytes", "utility_params",
                                "utility_cache_bytes"]
    assert len(table["data"]) == len(result.tracker.archive.front())
    assert list((run_dir / "files" / "media" / "images").glob("plots/progress*.png"))
    run = next(r.run for r in records if r.WhichOneof("record_type") == "run")
    assert run.display_name == "tiny-random-seed0" and run.run_group == "tests"
    for path in run_dir.rglob("*"):  # W&B's links to its service log, outside the run, became copies
        assert not path.is_symlink() or path.resolve().is_relative_to(tmp_path), path
    assert (run_dir / "logs" / "debug-core.log").is_file()


def test_sb3_metrics_interleave_with_evaluations_without_step_conflicts(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("WANDB_SILENT", "false")  # W&B reports a dropped out-of-order record on stderr
    result = run_search(CONFIG, None, store=tmp_path / "store.sqlite")
    wb = WandbTracker(CONFIG, "offline", tmp_path)
    for record in result.tracker.records[:3]:
        wb.log_evaluation(record, result.tracker.objectives)
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[wb.sb3_output()]))
    model.learn(total_timesteps=128)
    wb.log_new(result.tracker)  # the rest, after SB3 has logged at much larger steps
    wb.finish(result.tracker)
    assert STEP_WARNING not in capfd.readouterr().err
    rows = history(read_records(offline_run(tmp_path)))
    assert [row["evaluation/index"] for row in rows if "evaluation/index" in row] == list(range(1, 7))
    trained = [row for row in rows if "train/loss" in row]
    assert trained and all(row["sb3/timesteps"] in (64, 128) for row in trained)
    assert any("time/fps" in row for row in rows)


def test_an_offline_search_logs_evaluations_sb3_metrics_and_plots(tmp_path):
    config = SearchConfig(name="wired", method="maskable_ppo", budget=6,
                          space={"max_depth": 4, "fidelity": "analytic"},
                          env={"max_edits": 3, "objectives": ["params", "cache_bytes"]},
                          methods={"maskable_ppo": {"n_steps": 8, "batch_size": 8}},  # an update before the budget ends
                          surrogate={"n_initial": 2, "batch": 2, "episodes": 8})  # model-based rounds that train
    out = tmp_path / "run"
    run_search(config, out, store=tmp_path / "s.sqlite", wandb="offline")
    for png in ("pareto.png", "progress.png"):
        assert (out / png).stat().st_size > 1000, png
    assert list((out / "front").glob("*.png")), "block diagrams of the front's members"
    assert "![Pareto front](pareto.png)" in (out / "summary.md").read_text()
    rows = history(read_records(offline_run(out)))
    indices = [row["evaluation/index"] for row in rows if "evaluation/index" in row]
    assert indices == list(range(1, 7)), "one W&B row per unique evaluation"
    assert any(key.startswith("train/") for row in rows for key in row), "SB3's training metrics reach W&B"

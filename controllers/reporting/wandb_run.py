"""Weights & Biases logging of one search run: each unique evaluation, SB3's training metrics, and
at the end the Pareto front, summary values and the run's plots.

Evaluation series are keyed by `evaluation/index`, the count of unique evaluations that is every
method's budget, so a baseline and an RL controller chart on one x axis; SB3's metrics keep their
own x axis, `sb3/timesteps`. Both are declared with `define_metric` and nothing passes `step=` to
`log`, so the two kinds of record, interleaved during RL training, never break W&B's rule that
steps only increase (a record logged at a lower step is dropped, with a warning).

Modes: "offline" (the default) needs no account and writes `<directory>/wandb/offline-run-*`,
uploadable later with `wandb sync`; "online" streams to the W&B server (needs `wandb login`);
"disabled" writes nothing, for tests and dry runs. `run.finish()` can return before W&B's service
process has written an offline run's `.wandb` file to the end; it finishes in the background.

```python
with WandbTracker(config, "offline", out_dir, group="compare-methods") as wb:
    result = run_search(config, out_dir, store, progress=wb.log_new)
    plot_pareto(result.tracker, out_dir / "pareto.png")
    wb.finish(result.tracker, out_dir)
```

The objectives logged are the tracker's (which are its env's), so the run needs no env of its own.

In your own SB3 script, `WandbCallback` sends the model's training metrics to a W&B run the same
way (no TensorBoard needed):

```python
run = wandb.init(project="livgym", mode="offline")
model.learn(total_timesteps=2048, callback=WandbCallback(run))
run.finish()
```
"""

from __future__ import annotations

import math
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import wandb
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter

from livgym.controllers.budget import EvaluationRecord, SearchTracker
from livgym.controllers.choices import DEFAULT_WANDB_MODE as DEFAULT_MODE
from livgym.controllers.choices import WANDB_MODES as MODES
from livgym.controllers.config import SearchConfig
from livgym.rewards.objectives import ObjectiveSet

PROJECT = "livgym"
EVALUATION_STEP = "evaluation/index"  # x axis of evaluation/* and objective/*: unique evaluations
SB3_STEP = "sb3/timesteps"  # x axis of SB3's train/*, rollout/*, time/*: env steps of the controller
SB3_FORMAT = "wandb"  # the name SB3's `exclude=` uses to keep a key away from this writer


class WandbTracker:
    """One search run on W&B: `log_evaluation` (or `log_new` as `run_search`'s `progress` hook),
    `sb3_output` for an RL controller's logger, and `finish` with the front and plots."""

    def __init__(self, config: SearchConfig, mode: str = DEFAULT_MODE, directory: Path = Path("."),
                 group: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"W&B mode {mode!r} is not one of {MODES}; use 'offline' to log without an "
                             "account (upload later with `wandb sync`) or 'disabled' to log nothing")
        self.mode = mode
        disabled = mode == "disabled"
        if not disabled:
            Path(directory).mkdir(parents=True, exist_ok=True)
        # create_new: several trackers (e.g. one per method of a comparison) may be open at once, so
        # everything goes through this run object, never the global `wandb.log`.
        self.run = wandb.init(project=PROJECT, name=f"{config.name}-{config.method}-seed{config.seed}",
                              config=config.resolved(), mode=mode, group=group,
                              dir=None if disabled else str(directory),  # disabled W&B still makes `dir`
                              job_type=config.method, reinit="create_new")
        self.run.define_metric(EVALUATION_STEP)
        for prefix in ("evaluation", "objective"):
            self.run.define_metric(f"{prefix}/*", step_metric=EVALUATION_STEP)
        self.logged = 0  # index of the last evaluation logged
        self.finished = False

    def log_evaluation(self, record: EvaluationRecord, objectives: ObjectiveSet) -> None:
        """One unique evaluation: reward, best reward and hypervolume so far, revisits, and the raw
        value of each of the search's `objectives` (absent for a failed design, which has no metrics)."""
        values: dict[str, Any] = {
            EVALUATION_STEP: record.index,
            "evaluation/reward": record.reward,
            "evaluation/best_reward": record.best_reward,
            "evaluation/hypervolume": record.hypervolume,
            "evaluation/revisits": record.revisits,
        }
        values.update({f"objective/{o.name}": record.metrics[o.key]
                       for o in objectives.objectives if o.key in record.metrics})
        self.run.log(values)
        self.logged = max(self.logged, record.index)

    def log_new(self, tracker: SearchTracker) -> None:
        """Log the tracker's records not logged yet: pass as `run_search(..., progress=...)`."""
        for record in tracker.records[self.logged:]:
            self.log_evaluation(record, tracker.objectives)

    def sb3_output(self) -> WandbOutputFormat:
        """An SB3 logger output for this run: `model.set_logger(Logger(None, [tracker.sb3_output()]))`."""
        return WandbOutputFormat(self.run)

    def finish(self, tracker: SearchTracker, out_dir: Path | None = None) -> None:
        """Log what is left of the tracker, the Pareto front as a table, summary values and every
        PNG in `out_dir` (e.g. from `livgym.controllers.reporting.plots`), then end the run."""
        self.log_new(tracker)
        media: dict[str, Any] = {"pareto/front": pareto_table(tracker)}
        if out_dir is not None:
            media.update({f"plots/{png.stem}": wandb.Image(str(png)) for png in sorted(Path(out_dir).glob("*.png"))})
        self.run.log(media)
        self.run.summary.update(summary_values(tracker))
        self.close()

    def close(self, exit_code: int = 0) -> None:
        """End the run (idempotent); `finish` calls it, and so does leaving a `with` block."""
        if not self.finished:
            self.finished = True
            self.run.finish(exit_code=exit_code)
            if self.mode != "disabled":
                copy_outside_logs(Path(self.run.settings.log_dir))

    def __enter__(self) -> WandbTracker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close(exit_code=0 if kind is None else 1)  # a failed search shows as failed in W&B


class WandbOutputFormat(KVWriter):
    """SB3 logger output that forwards numeric values (`train/...`, `rollout/...`, `time/...`) to a
    W&B run, against `sb3/timesteps` (declared per key prefix the first time it is seen)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.run.define_metric(SB3_STEP)
        self.defined: set[str] = set()

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...] | None],
              step: int = 0) -> None:
        values = {key: _number(value) for key, value in key_values.items()
                  if SB3_FORMAT not in (key_excluded.get(key) or ()) and _number(value) is not None}
        for name in {_metric_glob(key) for key in values} - self.defined:
            self.run.define_metric(name, step_metric=SB3_STEP)
            self.defined.add(name)
        self.run.log({SB3_STEP: step, **values})

    def close(self) -> None:
        """Nothing to release: the run belongs to whoever started it (a `WandbTracker`, a script)."""


class WandbCallback(BaseCallback):
    """Logs an SB3 model's training metrics (`train/*`, `rollout/*`, `time/*`) to a W&B run.

    SB3 reports its metrics through its logger; W&B's own `wandb.integration.sb3.WandbCallback`
    only saves the model and gradients and leaves the metrics to TensorBoard syncing (which
    needs the tensorboard package). This callback puts a `WandbOutputFormat` among the model's
    logger outputs when training starts, whatever logger the model has, and takes it out when
    training ends, so every dump SB3 makes (one per rollout for PPO / A2C) becomes one W&B row
    against `sb3/timesteps`. `verbose` and any other outputs are untouched.

    `run` is the W&B run to log to; without one, the active run (`wandb.run`), else a run the
    callback starts itself with `wandb.init(project=project, mode=mode, **init_kwargs)` (offline
    by default: no account, `wandb sync` uploads it later) and finishes when training ends.
    """

    def __init__(self, run: Any | None = None, mode: str = DEFAULT_MODE, project: str = PROJECT,
                 verbose: int = 0, **init_kwargs: Any) -> None:
        super().__init__(verbose)
        if mode not in MODES:
            raise ValueError(f"W&B mode {mode!r} is not one of {MODES}")
        self.run, self.mode, self.project, self.init_kwargs = run, mode, project, init_kwargs
        self.output: WandbOutputFormat | None = None
        self._owns_run = False

    def _on_training_start(self) -> None:
        if self.run is None:
            self.run = wandb.run
        if self.run is None:
            self.run = wandb.init(**{"reinit": "create_new", **self.init_kwargs}, project=self.project,
                                  mode=self.mode)
            self._owns_run = True
        self.output = WandbOutputFormat(self.run)
        self.model.logger.output_formats.append(self.output)

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        formats = self.model.logger.output_formats
        if self.output in formats:  # a later `learn()` without this callback logs nowhere finished
            formats.remove(self.output)
        self.output = None
        if self._owns_run:
            self.run.finish()
            self.run, self._owns_run = None, False


def pareto_table(tracker: SearchTracker) -> wandb.Table:
    """The front, best first utility first: genome, hash, each objective's raw value and utility."""
    objectives = tracker.objectives.objectives
    columns = ["genome", "genome_hash", *(o.name for o in objectives), *(f"utility_{o.name}" for o in objectives)]
    rows = [[entry.payload.get("genome", entry.key), entry.key, *(entry.metrics[o.key] for o in objectives),
             *entry.utilities] for entry in sorted(tracker.archive.front(), key=lambda e: -e.utilities[0])]
    return wandb.Table(columns=columns, data=rows)


def summary_values(tracker: SearchTracker) -> dict[str, float | int]:
    """Run summary: evaluations, revisits, hypervolume, front size and (once any) best reward."""
    values: dict[str, float | int] = {"evaluations": tracker.used, "revisits": tracker.revisits,
                                      "hypervolume": tracker.archive.hypervolume(),
                                      "front_size": len(tracker.archive.front())}
    if math.isfinite(tracker.best_reward):  # -inf before the first evaluation is not JSON
        values["best_reward"] = tracker.best_reward
    return values


def copy_outside_logs(log_dir: Path) -> None:
    """Replace each link in a run's `logs/` folder that leads out of it with a copy of its file.

    W&B links `debug-core.log` to its service process's log in the user's cache folder
    (`$WANDB_CACHE_DIR`, default `~/.cache/wandb/logs`), one file for every run of the process,
    and has no setting that places it elsewhere. A copy taken when the run ends keeps the run
    folder whole when it is moved, archived or synced from another machine."""
    for link in Path(log_dir).glob("*"):
        if not link.is_symlink():
            continue
        target = link.resolve()
        if target.is_file() and not target.is_relative_to(Path(log_dir).resolve().parent):
            contents = target.read_bytes()
            link.unlink()
            link.write_bytes(contents)


def _number(value: Any) -> float | None:
    """A plain float for a numeric scalar (Python, NumPy or 0-d tensor), else None (SB3 also logs
    strings, videos and figures, which are not series)."""
    if isinstance(value, (bool, int, float, np.number)):
        return float(value)
    if hasattr(value, "ndim") and value.ndim == 0 and hasattr(value, "item"):
        return float(value.item())
    return None


def _metric_glob(key: str) -> str:
    """`train/loss` -> `train/*`: one define_metric per SB3 section; a key without one as itself."""
    prefix, slash, _ = key.partition("/")
    return f"{prefix}/*" if slash else key

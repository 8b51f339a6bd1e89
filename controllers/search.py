"""`run_search`: from a `SearchConfig` to a run folder with the Pareto front and best designs.

Read top to bottom: build the env (space, evaluator, store, reward) from the config, attach the
search's bookkeeping to it (the budget tracker over the env's own objectives, W&B logging,
progress), let the configured method finish designs until the budget is spent, then write what
was found (`reporting.run_report.write_outputs`). `resume_search` continues a run folder by
replaying it; `run_state` says whether there is anything left to continue.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import yaml

from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.contract import SearchContext
from livgym.controllers.methods.registry import get_method
from livgym.controllers.methods.model_based import model_based
from livgym.controllers.reporting.run_report import write_outputs
from livgym.controllers.reporting.wandb_run import WandbTracker
from livgym.controllers.run_record import RunRecord
from livgym.envs import ENVS
from livgym.envs.design_env import DesignEnv
from livgym.rewards.backends import make_backend
from livgym.version import __version__


@dataclass(frozen=True)
class SearchResult:
    out_dir: Path | None
    tracker: SearchTracker
    config: SearchConfig
    replayed: int = 0  # records of the earlier run that the resumed run reproduced exactly


def run_search(config: SearchConfig, out_dir: Path | None, store: str | Path | None = None,
               progress: Callable[[SearchTracker], None] | None = None, wandb: str = "disabled",
               plots: bool = True, group: str | None = None, replay: Sequence[str] = ()) -> SearchResult:
    """Run `config.method` until `config.budget` unique designs are evaluated; write `out_dir`.

    `wandb` is "offline" (a run under `out_dir/wandb/`, `wandb sync` uploads it), "online" or
    "disabled"; `plots` adds the PNGs (Pareto front, progress, front members' block diagrams).
    The folder's `run.yaml` records the store, the W&B mode and how far the run got, for
    `resume_search`. `replay`: an earlier run's designs (descriptions) in the order it evaluated
    them, which model-based rounds evaluate first (`SearchContext.replay`; `resume_search` passes
    the run folder's own).
    """
    if wandb != "disabled" and out_dir is None:
        raise ValueError(f"wandb={wandb!r} needs a run folder (out_dir) for its files")
    torch.set_num_threads(1)  # evaluations and the policy are small; threads would only contend
    method, params = get_method(config.method), config.method_params()
    run = model_based(method, config.surrogate_settings()) if config.model_based() else method.run
    env = config.make_env(store)
    tracker = SearchTracker(env.objectives, config.budget, config.patience)
    board = WandbTracker(config, wandb, out_dir or Path("."), group=group)

    def on_evaluation(info: dict[str, Any], reward: Any) -> None:
        tracker(info, reward)
        board.log_new(tracker)
        if progress is not None:
            progress(tracker)

    def make_env() -> DesignEnv:  # another copy on the same bookkeeping (RL methods' `n_envs`)
        copy = config.make_env(store)
        copy.add_evaluation_callback(on_evaluation)
        return copy

    env.add_evaluation_callback(on_evaluation)
    backend_config = config.backend_config()
    backend = make_backend(backend_config, env.space.store) \
        if backend_config.kind != "inline" and ENVS[config.env_id].backend else None  # into the search's store
    record = RunRecord(__version__, None if store is None else str(Path(store).resolve()), wandb, plots,
                       config.budget)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.yaml").write_text(yaml.safe_dump(config.resolved(), sort_keys=False))
        record.write(out_dir)
    finished = False
    try:
        run(SearchContext(env, make_env, tracker, config.seed, backend, out_dir, board.sb3_output(), tuple(replay)),
            params)
        finished = True
    except BaseException:
        board.close(exit_code=1)
        raise
    finally:
        if backend is not None:
            backend.close()
        env.close()
        if out_dir is not None:  # also after Ctrl-C: what was evaluated is written
            write_outputs(out_dir, tracker, config, env.space, plots=plots)
            replace(record, evaluations=tracker.used, finished=finished,
                    stopped_early=finished and tracker.stalled).write(out_dir)
    board.finish(tracker, out_dir)
    return SearchResult(out_dir, tracker, config)


def resume_search(run_dir: Path, store: str | Path | None = None,
                  progress: Callable[[SearchTracker], None] | None = None, wandb: str | None = None,
                  budget: int | None = None, replay: Sequence[str] | None = None) -> SearchResult:
    """Continue a run in its own folder, by deterministic replay: an interrupted run to its
    budget, or a finished one to a larger `budget`.

    Every method's choices flow from the seed, so re-running the saved config reproduces the
    earlier run step by step; each design it had evaluated is answered by the evaluation store
    (nothing is trained again), an RL controller passes through the same policy updates again
    (fast: only the evaluations were slow), and the run then carries on to the budget. The run
    keeps how it was started: its config (method, seed, space and device, backend), and from
    `run.yaml` its store and W&B mode unless `store` / `wandb` are given. `replayed` counts the
    records reproduced exactly. On another machine or library version replay may diverge: the
    store still answers every design evaluated before, and a model-based run evaluates the
    recorded designs first, in their order, so it spends no real evaluation off the record
    while the record lasts (a method without a surrogate goes its own way from the divergence).

    `replay` is the record to follow (`run_search`), if not the folder's own `evaluations.csv`:
    e.g. a longer copy of it kept elsewhere.

    A finished run without a larger budget is an error (`run_state` says so beforehand), and so
    is one that stopped early: replayed, it stops at the same place whatever the budget.
    """
    run_dir = Path(run_dir)
    config_path = run_dir / "config.yaml"
    if not config_path.exists():
        raise ValueError(f"--resume {run_dir}: no config.yaml there; is it a livgym search run folder?")
    config = SearchConfig.from_yaml(config_path)
    state = run_state(run_dir, budget)
    if state is not None:
        raise ValueError(f"--resume {run_dir}: {state}")
    if budget is not None:
        if budget < config.budget:
            raise ValueError(f"--budget {budget}: the run's budget is {config.budget}; resuming can keep or "
                             "extend a budget, not shrink it")
        config = config.with_overrides(budget=budget)
    recorded = RunRecord.read(run_dir)
    if store is None and recorded is not None:
        store = recorded.store
    if wandb is None:
        wandb = recorded.wandb if recorded is not None else "disabled"
    plots = recorded.plots if recorded is not None else True
    before = _recorded_genomes(run_dir / "evaluations.csv")
    result = run_search(config, run_dir, store=store, progress=progress, wandb=wandb, plots=plots,
                        replay=before if replay is None else replay)
    now = [r.genome for r in result.tracker.records]
    replayed = next((i for i, (a, b) in enumerate(zip(before, now)) if a != b), min(len(before), len(now)))
    return SearchResult(result.out_dir, result.tracker, config, replayed)


def run_state(run_dir: Path, budget: int | None = None) -> str | None:
    """Why resuming the run folder (to `budget`, else its own) would do nothing, or None when it
    has work left: not finished, or finished below a larger `budget`."""
    record = RunRecord.read(Path(run_dir))
    if record is None or not record.finished:
        return None
    if record.stopped_early:
        return (f"finished: it stopped early after {record.evaluations} unique evaluations, when its method "
                "kept revisiting designs (patience), and a resumed run replays to the same stop")
    if budget is not None and budget > record.budget:
        return None
    return (f"finished: {record.evaluations} of {record.budget} unique evaluations; give a larger budget "
            "(--budget N) to extend it")


def _recorded_genomes(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [row["genome"] for row in csv.DictReader(handle)]

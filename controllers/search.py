"""`run_search`: from a `SearchConfig` to a run folder with the Pareto front and best designs.

Read top to bottom: build the env (space, evaluator, store, reward) from the config, attach the
search's bookkeeping to it (the budget tracker over the env's own objectives, W&B logging,
progress), let the configured method finish designs until the budget is spent, then write what
was found.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import yaml

from livgym.controllers.budget import EvaluationRecord, SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.methods.contract import SearchContext
from livgym.controllers.methods.registry import get_method
from livgym.controllers.methods.model_based import model_based
from livgym.controllers.reporting.plots import plot_genome, plot_pareto, plot_picture, plot_progress, reference_metrics
from livgym.controllers.run_record import RunRecord
from livgym.controllers.reporting.wandb_run import WandbTracker
from livgym.envs import ENVS
from livgym.envs.design_env import DesignEnv
from livgym.envs.liv.space import DEFAULT_FIDELITY, LIVSearchSpace
from livgym.envs.space import SearchSpace
from livgym.models.genome import Genome
from livgym.rewards.backends import make_backend
from livgym.version import __version__

BEST_DESIGNS = 5
FRONT_DIAGRAMS = 32  # block diagrams of front members (highest first utility first); a bound on plotting time


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


def write_outputs(out_dir: Path, tracker: SearchTracker, config: SearchConfig,
                  space: SearchSpace | None = None, plots: bool = True) -> None:
    """evaluations.csv (every unique evaluation), pareto.csv (the front), archive.json (every
    archived design, reloadable), best/ (one file per best design and designs.csv), summary.md
    and, with `plots` and the search's space, the plots: pareto.png, progress.png, front/*.png.

    Designs are written as the space describes them. A LIV genome's best file is its genome JSON
    (`Genome.from_json`), any other design's a text file of its description."""
    tracker.to_csv(out_dir / "evaluations.csv")
    write_front_csv(out_dir / "pareto.csv", tracker)
    tracker.archive.to_json(out_dir / "archive.json")
    best_dir = out_dir / "best"
    best_dir.mkdir(exist_ok=True)
    for stale in [*best_dir.glob("*.json"), *best_dir.glob("*.txt")]:  # a resumed run's best replace the earlier
        stale.unlink()
    best_files = []
    for rank, record in enumerate(tracker.best(BEST_DESIGNS), 1):
        genome = liv_genome(space, record.genome)
        if genome is not None:
            path = best_dir / f"{rank:02d}-{record.genome_hash}.json"
            path.write_text(genome.to_json())
        else:
            path = best_dir / f"{rank:02d}-{_file_name(record.genome_hash)}.txt"
            path.write_text(record.genome + "\n")
        best_files.append((record, path))
    write_best_csv(best_dir / "designs.csv", tracker, best_files, out_dir)
    if plots and space is not None:
        write_plots(out_dir, tracker, space)
    (out_dir / "summary.md").write_text(summary(tracker, config, best_files, out_dir, space))


def liv_genome(space: SearchSpace | None, text: str) -> Genome | None:
    """The LIV genome a design's text stands for, or None when the design is not one (another
    space's design; without a space, text that is no genome string)."""
    try:
        design = space.parse(text) if space is not None else Genome.from_string(text)
    except (TypeError, ValueError):
        return None
    return design if isinstance(design, Genome) else None


def _file_name(key: str) -> str:
    """A design key as a file name: letters, digits, `.`, `_` and `-` kept, anything else `_`."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in key)[:80] or "design"


def write_front_csv(path: Path, tracker: SearchTracker) -> None:
    """The Pareto front, one row per member, highest first utility first: genome, hash, reward,
    each objective's raw value and utility, then every other metric."""
    by_hash = {r.genome_hash: r for r in tracker.records}
    front = sorted(tracker.archive.front(), key=lambda e: -e.utilities[0])
    _write_designs(path, [by_hash[e.key] for e in front], tracker, {})


def write_best_csv(path: Path, tracker: SearchTracker, best_files: list[tuple[EvaluationRecord, Path]],
                   out_dir: Path) -> None:
    """The best designs by reward, one row each with its file (`best/NN-<key>.json`, a genome
    JSON that `Genome.from_json` reads, or `best/NN-<key>.txt`, the design's text), reward,
    utilities and metrics."""
    files = {record.genome_hash: str(file.relative_to(out_dir)) for record, file in best_files}
    _write_designs(path, [record for record, _ in best_files], tracker, files)


def _write_designs(path: Path, records: list[EvaluationRecord], tracker: SearchTracker,
                   files: dict[str, str]) -> None:
    objectives = tracker.objectives.objectives
    keys = [o.key for o in objectives]
    others = sorted({k for r in records for k in r.metrics} - set(keys))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", *(["file"] if files else []), "genome", "genome_hash", "reward",
                         *(o.name for o in objectives), *(f"utility_{o.name}" for o in objectives), *others])
        for rank, r in enumerate(records, 1):
            writer.writerow([rank, *([files[r.genome_hash]] if files else []), r.genome, r.genome_hash,
                             repr(r.reward), *(repr(r.metrics[k]) if k in r.metrics else "" for k in keys),
                             *(repr(u) for u in r.utilities), *(repr(r.metrics[m]) if m in r.metrics else ""
                                                                 for m in others)])


def write_plots(out_dir: Path, tracker: SearchTracker, space: SearchSpace) -> None:
    """pareto.png and progress.png for any space; front/*.png: LIV genomes' block diagrams, or
    the space's own pictures of its designs (`SearchSpace.render`), where it has any. Reference
    genomes are marked on a LIV space's Pareto plot only."""
    references = reference_metrics(space.width, space.heads, space.start_depth, space.context_length,
                                   space.vocab_size) if isinstance(space, LIVSearchSpace) else None
    plot_pareto(tracker, out_dir / "pareto.png", reference_points=references)
    plot_progress(tracker, out_dir / "progress.png")
    front = sorted(tracker.archive.front(), key=lambda e: -e.utilities[0])[:FRONT_DIAGRAMS]
    for stale in (out_dir / "front").glob("*.png"):  # a resumed run's front replaces the earlier one
        stale.unlink()
    for rank, entry in enumerate(front, 1):
        text = entry.payload["genome"]
        genome = liv_genome(space, text)
        target = out_dir / "front" / f"{rank:02d}-{_file_name(entry.key)}.png"
        if genome is not None:
            plot_genome(genome, target)
            continue
        try:
            picture = space.render(space.parse(text))
        except (TypeError, ValueError):
            picture = None
        if picture is not None:
            plot_picture(picture, target)


def summary(tracker: SearchTracker, config: SearchConfig, best_files: list, out_dir: Path,
            space: SearchSpace | None = None) -> str:
    names = tracker.objectives.names
    trained = sum(not r.from_store for r in tracker.records)
    genome_files = bool(best_files) and all(path.suffix == ".json" for _, path in best_files)
    if ENVS[config.env_id].device:  # a space whose fidelity trains: say which
        source = f"fidelity `{config.space.get('fidelity', DEFAULT_FIDELITY)}`"
    else:
        source = f"space `{space.name if space is not None else config.env_id}`"
    lines = [
        f"# Search `{config.name}`: {config.method}, seed {config.seed}",
        "",
        f"livgym {__version__}; {source}; "
        f"{tracker.used} of {config.budget} unique evaluations"
        + (f" ({trained} computed, {tracker.used - trained} read from the store)" if ENVS[config.env_id].store
           else "") + f", {tracker.revisits} revisits (free)."
        + (f" **Stopped early**: {tracker.patience} revisits in a row found nothing new, so the "
           f"method had converged (or the space is smaller than the budget)." if tracker.stalled else ""),
        "",
        f"Best reward {tracker.best_reward:.4f}; hypervolume {tracker.archive.hypervolume():.4f} "
        f"(utility space, reference point at the nadirs).",
        "",
        "## Pareto front",
        "",
        "| design | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for entry in sorted(tracker.archive.front(), key=lambda e: -e.utilities[0]):
        lines.append(f"| `{entry.payload.get('genome', entry.key)}` | "
                     + " | ".join(_fmt(entry.metrics[o.key]) for o in tracker.objectives.objectives) + " |")
    if (out_dir / "pareto.png").exists():
        lines += ["", "![Pareto front](pareto.png)", "", "![Best reward and hypervolume](progress.png)"]
    lines += ["", "## Best designs by reward", "", "| rank | reward | design | file |", "|---|---|---|---|"]
    for rank, (record, path) in enumerate(best_files, 1):
        lines.append(f"| {rank} | {record.reward:.4f} | `{record.genome}` | `{path.relative_to(out_dir)}` |")
    if genome_files:
        lines += ["", "Build one as a PyTorch module:", "", "```python",
                  "from livgym.models import Genome, build_model",
                  f"model = build_model(Genome.from_json(open('{best_files[0][1]}').read()), vocab_size=256)",
                  "```"]
    front_pictures = any((out_dir / "front").glob("*.png"))
    lines += ["", "Files: `config.yaml` (the resolved config) and `run.yaml` (store, W&B mode, progress: for "
              "`--resume`), `evaluations.csv` (every unique evaluation, with best reward and hypervolume so far), "
              "`pareto.csv` (the Pareto front), `archive.json` (every archived design with its utilities, "
              "reloadable with `ParetoArchive.from_json`), "
              + ("`best/*.json` (the best genomes)" if genome_files else "`best/*.txt` (the best designs, as the "
                 "space writes them)")
              + " with `best/designs.csv` (their reward, utilities and metrics)"
              + (", `pareto.png`, `progress.png`" if (out_dir / "pareto.png").exists() else "")
              + ((", `front/*.png` (block diagrams of front members)" if genome_files
                  else ", `front/*.png` (pictures of front members)") if front_pictures else "")
              + (", `controller.zip` (the trained policy)" if (out_dir / "controller.zip").exists() else "")
              + (", `model_based.json` (model-based search's rounds)" if (out_dir / "model_based.json").exists()
                 else "")
              + (", `wandb/` (the W&B run; `wandb sync` uploads it)" if (out_dir / "wandb").exists() else "") + ".", ""]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"

"""`run_search`: from a `SearchConfig` to a run folder with the Pareto front and best designs.

Read top to bottom: build the env (space, evaluator, store, reward) from the config, attach the
search's bookkeeping to it (the budget tracker over the env's own objectives, W&B logging,
progress), let the configured method finish designs until the budget is spent, then write what
was found.
"""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import yaml

from livgym.controllers.budget import SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.contract import SearchContext
from livgym.controllers.methods import get_method
from livgym.controllers.plots import plot_genome, plot_pareto, plot_progress, reference_metrics
from livgym.controllers.wandb_run import WandbTracker
from livgym.envs import ENVS
from livgym.envs.design_env import DesignEnv
from livgym.envs.liv_space import DEFAULT_FIDELITY, LIVSearchSpace
from livgym.models.genome import Genome
from livgym.rewards.backends import make_backend
from livgym.version import __version__

BEST_DESIGNS = 5
FRONT_DIAGRAMS = 32  # block diagrams of front members (highest first utility first); a bound on plotting time


RUN_FILE = "run.yaml"  # where a run folder records its store and library version, for --resume


@dataclass(frozen=True)
class SearchResult:
    out_dir: Path | None
    tracker: SearchTracker
    config: SearchConfig
    replayed: int = 0  # records of an interrupted run that the resumed run reproduced exactly


def run_search(config: SearchConfig, out_dir: Path | None, store: str | Path | None = None,
               progress: Callable[[SearchTracker], None] | None = None, wandb: str = "disabled",
               plots: bool = True, group: str | None = None) -> SearchResult:
    """Run `config.method` until `config.budget` unique designs are evaluated; write `out_dir`.

    `wandb` is "offline" (a run under `out_dir/wandb/`, `wandb sync` uploads it), "online" or
    "disabled"; `plots` adds the PNGs (Pareto front, progress, front members' block diagrams).
    """
    if wandb != "disabled" and out_dir is None:
        raise ValueError(f"wandb={wandb!r} needs a run folder (out_dir) for its files")
    torch.set_num_threads(1)  # evaluations and the policy are small; threads would only contend
    method, params = get_method(config.method), config.method_params()
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
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.yaml").write_text(yaml.safe_dump(config.resolved(), sort_keys=False))
        run = {"livgym": __version__, "store": None if store is None else str(Path(store).resolve())}
        (out_dir / RUN_FILE).write_text(yaml.safe_dump(run, sort_keys=False))
    try:
        method.run(SearchContext(env, make_env, tracker, config.seed, backend, out_dir, board.sb3_output()), params)
    except BaseException:
        board.close(exit_code=1)
        raise
    finally:
        if backend is not None:
            backend.close()
        env.close()
        if out_dir is not None:  # also after Ctrl-C: what was evaluated is written
            write_outputs(out_dir, tracker, config, env.space if plots else None)
    board.finish(tracker, out_dir)
    return SearchResult(out_dir, tracker, config)


def resume_search(run_dir: Path, store: str | Path | None = None,
                  progress: Callable[[SearchTracker], None] | None = None, wandb: str = "disabled") -> SearchResult:
    """Continue an interrupted run in its own folder, by deterministic replay.

    Every method's choices flow from the seed, so re-running the saved config reproduces the
    interrupted run step by step; each design it had evaluated is answered by the evaluation
    store (nothing is trained again), the RL controller passes through the same updates, and
    the run then carries on to its budget. `replayed` counts the records reproduced exactly;
    on another machine or library version replay may diverge, and the store still answers every
    design evaluated before.
    """
    run_dir = Path(run_dir)
    config_path, run_path = run_dir / "config.yaml", run_dir / RUN_FILE
    if not config_path.exists():
        raise ValueError(f"--resume {run_dir}: no config.yaml there; is it a livgym search run folder?")
    config = SearchConfig.from_yaml(config_path)
    if store is None and run_path.exists():
        store = (yaml.safe_load(run_path.read_text()) or {}).get("store")
    before = _recorded_genomes(run_dir / "evaluations.csv")
    result = run_search(config, run_dir, store=store, progress=progress, wandb=wandb)
    now = [r.genome for r in result.tracker.records]
    replayed = next((i for i, (a, b) in enumerate(zip(before, now)) if a != b), min(len(before), len(now)))
    return SearchResult(result.out_dir, result.tracker, config, replayed)


def _recorded_genomes(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [row["genome"] for row in csv.DictReader(handle)]


def write_outputs(out_dir: Path, tracker: SearchTracker, config: SearchConfig,
                  space: LIVSearchSpace | None = None) -> None:
    """evaluations.csv, pareto.csv / .json, best/*.json, summary.md and, given the search's
    space, the plots: pareto.png (reference genomes marked), progress.png, front/*.png."""
    tracker.to_csv(out_dir / "evaluations.csv")
    tracker.archive.to_csv(out_dir / "pareto.csv")
    tracker.archive.to_json(out_dir / "pareto.json")
    best_dir = out_dir / "best"
    best_dir.mkdir(exist_ok=True)
    best_files = []
    for rank, record in enumerate(tracker.best(BEST_DESIGNS), 1):
        path = best_dir / f"{rank:02d}-{record.genome_hash}.json"
        path.write_text(Genome.from_string(record.genome).to_json())
        best_files.append((record, path))
    if space is not None:
        write_plots(out_dir, tracker, space)
    (out_dir / "summary.md").write_text(summary(tracker, config, best_files, out_dir))


def write_plots(out_dir: Path, tracker: SearchTracker, space: LIVSearchSpace) -> None:
    references = reference_metrics(space.width, space.heads, space.start_depth, space.context_length, space.vocab_size)
    plot_pareto(tracker, out_dir / "pareto.png", reference_points=references)
    plot_progress(tracker, out_dir / "progress.png")
    front = sorted(tracker.archive.front(), key=lambda e: -e.utilities[0])[:FRONT_DIAGRAMS]
    for rank, entry in enumerate(front, 1):
        plot_genome(Genome.from_string(entry.payload["genome"]), out_dir / "front" / f"{rank:02d}-{entry.key}.png")


def summary(tracker: SearchTracker, config: SearchConfig, best_files: list, out_dir: Path) -> str:
    names = tracker.objectives.names
    trained = sum(not r.from_store for r in tracker.records)
    lines = [
        f"# Search `{config.name}`: {config.method}, seed {config.seed}",
        "",
        f"livgym {__version__}; fidelity `{config.space.get('fidelity', DEFAULT_FIDELITY)}`; "
        f"{tracker.used} of {config.budget} unique evaluations ({trained} computed, "
        f"{tracker.used - trained} read from the store), {tracker.revisits} revisits (free)."
        + (f" **Stopped early**: {tracker.patience} revisits in a row found nothing new, so the "
           f"method had converged (or the space is smaller than the budget)." if tracker.stalled else ""),
        "",
        f"Best reward {tracker.best_reward:.4f}; hypervolume {tracker.archive.hypervolume():.4f} "
        f"(utility space, reference point at the nadirs).",
        "",
        "## Pareto front",
        "",
        "| genome | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for entry in sorted(tracker.archive.front(), key=lambda e: -e.utilities[0]):
        lines.append(f"| `{entry.payload.get('genome', entry.key)}` | "
                     + " | ".join(_fmt(entry.metrics[o.key]) for o in tracker.objectives.objectives) + " |")
    if (out_dir / "pareto.png").exists():
        lines += ["", "![Pareto front](pareto.png)", "", "![Best reward and hypervolume](progress.png)"]
    lines += ["", "## Best designs by reward", "", "| rank | reward | genome | file |", "|---|---|---|---|"]
    for rank, (record, path) in enumerate(best_files, 1):
        lines.append(f"| {rank} | {record.reward:.4f} | `{record.genome}` | `{path.relative_to(out_dir)}` |")
    if best_files:
        lines += ["", "Build one as a PyTorch module:", "", "```python",
                  "from livgym.models import Genome, build_model",
                  f"model = build_model(Genome.from_json(open('{best_files[0][1]}').read()), vocab_size=256)",
                  "```"]
    lines += ["", "Files: `config.yaml` (resolved config), `evaluations.csv` (every unique evaluation, with best "
              "reward and hypervolume so far), `pareto.csv` / `pareto.json` (the archive)"
              + (", `pareto.png`, `progress.png`, `front/*.png` (block diagrams)" if (out_dir / "pareto.png").exists() else "")
              + (", `controller.zip` (the trained policy)" if (out_dir / "controller.zip").exists() else "")
              + (", `wandb/` (the W&B run; `wandb sync` uploads it)" if (out_dir / "wandb").exists() else "") + ".", ""]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"


def print_progress(tracker: SearchTracker, stream=sys.stderr) -> None:
    """Evaluations done, best reward, best quality and hypervolume: one updating line on a
    terminal, a line every ten evaluations otherwise (logs)."""
    quality = f"best quality {tracker.best_quality:.4f}  " if math.isfinite(tracker.best_quality) else ""
    line = (f"  evaluations {tracker.used}/{tracker.budget}  best reward {tracker.best_reward:.4f}  {quality}"
            f"hypervolume {tracker.archive.hypervolume():.4f}  revisits {tracker.revisits}")
    if tracker.stalled:
        line += f"  (stopping: {tracker.patience} revisits in a row, nothing new)"
    elif not tracker.last_was_new:
        return  # a revisit: nothing new to show
    if stream.isatty():
        print("\r" + line, end="\n" if tracker.done else "", file=stream, flush=True)
    elif tracker.used % 10 == 0 or tracker.done:
        print(line, file=stream, flush=True)

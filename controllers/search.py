"""`run_search`: from a `SearchConfig` to a run folder with the Pareto front and best designs.

Read top to bottom: build the env (space, evaluator, store, reward) with a tracker on its
evaluation hook, let the configured method finish designs until the budget is spent, then
write what was found.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import yaml

from livgym.controllers.config import SearchConfig
from livgym.controllers.methods import METHODS
from livgym.controllers.tracker import SearchTracker
from livgym.envs.liv_env import LIVDesignEnv
from livgym.models.genome import Genome
from livgym.version import __version__

BEST_DESIGNS = 5


RUN_FILE = "run.yaml"  # where a run folder records its store and library version, for --resume


@dataclass(frozen=True)
class SearchResult:
    out_dir: Path | None
    tracker: SearchTracker
    config: SearchConfig
    replayed: int = 0  # records of an interrupted run that the resumed run reproduced exactly


def run_search(config: SearchConfig, out_dir: Path | None, store: str | Path | None = None,
               progress: Callable[[SearchTracker], None] | None = None) -> SearchResult:
    """Run `config.method` until `config.budget` unique designs are evaluated; write `out_dir`."""
    torch.set_num_threads(1)  # evaluations and the policy are small; threads would only contend
    env_args = dict(config.env)
    tracker = SearchTracker(_objectives(env_args), config.budget)

    def on_evaluation(info: dict[str, Any], reward: Any) -> None:
        tracker(info, reward)
        if progress is not None:
            progress(tracker)

    env = LIVDesignEnv(**config.space, store=store, **env_args, on_evaluation=on_evaluation)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.yaml").write_text(yaml.safe_dump(config.resolved(), sort_keys=False))
        run = {"livgym": __version__, "store": None if store is None else str(Path(store).resolve())}
        (out_dir / RUN_FILE).write_text(yaml.safe_dump(run, sort_keys=False))
    try:
        METHODS[config.method](env, tracker, config.method_params(), config.seed, out_dir)
    finally:
        env.close()
        if out_dir is not None:  # also after Ctrl-C: what was evaluated is written
            write_outputs(out_dir, tracker, config)
    return SearchResult(out_dir, tracker, config)


def resume_search(run_dir: Path, store: str | Path | None = None,
                  progress: Callable[[SearchTracker], None] | None = None) -> SearchResult:
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
    result = run_search(config, run_dir, store=store, progress=progress)
    now = [r.genome for r in result.tracker.records]
    replayed = next((i for i, (a, b) in enumerate(zip(before, now)) if a != b), min(len(before), len(now)))
    return SearchResult(result.out_dir, result.tracker, config, replayed)


def _recorded_genomes(path: Path) -> list[str]:
    if not path.exists():
        return []
    import csv

    with path.open() as handle:
        return [row["genome"] for row in csv.DictReader(handle)]


def _objectives(env_args: dict[str, Any]):
    """The env's ObjectiveSet, built the way the env builds it (so the archive agrees)."""
    from livgym.rewards.objectives import ObjectiveSet

    names = tuple(env_args.get("objectives", ("quality", "params", "cache_bytes")))
    return ObjectiveSet.from_names(names, **dict(env_args.get("objective_overrides") or {}))


def write_outputs(out_dir: Path, tracker: SearchTracker, config: SearchConfig) -> None:
    """evaluations.csv, pareto.csv / .json, best/*.json and summary.md."""
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
    (out_dir / "summary.md").write_text(summary(tracker, config, best_files, out_dir))


def summary(tracker: SearchTracker, config: SearchConfig, best_files: list, out_dir: Path) -> str:
    names = tracker.objectives.names
    trained = sum(not r.from_store for r in tracker.records)
    lines = [
        f"# Search `{config.name}`: {config.method}, seed {config.seed}",
        "",
        f"livgym {__version__}; fidelity `{config.space.get('fidelity', 'zero-cost')}`; "
        f"{tracker.used} of {config.budget} unique evaluations ({trained} computed, "
        f"{tracker.used - trained} read from the store), {tracker.revisits} revisits (free).",
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
    lines += ["", "## Best designs by reward", "", "| rank | reward | genome | file |", "|---|---|---|---|"]
    for rank, (record, path) in enumerate(best_files, 1):
        lines.append(f"| {rank} | {record.reward:.4f} | `{record.genome}` | `{path.relative_to(out_dir)}` |")
    lines += ["", "Build one as a PyTorch module:", "", "```python",
              "from livgym.models import Genome, build_model",
              f"model = build_model(Genome.from_json(open('{best_files[0][1] if best_files else 'best/01-….json'}').read()), vocab_size=256)",
              "```", "", "Files: `config.yaml` (resolved config), `evaluations.csv` (every unique evaluation, with best "
              "reward and hypervolume so far), `pareto.csv` / `pareto.json` (the archive)"
              + (", `controller.zip` (the trained policy)." if (out_dir / "controller.zip").exists() else "."), ""]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"


def print_progress(tracker: SearchTracker, stream=sys.stderr) -> None:
    """Evaluations done, best reward and hypervolume: one updating line on a terminal, a line
    every ten evaluations otherwise (logs)."""
    line = (f"  evaluations {tracker.used}/{tracker.budget}  best reward {tracker.best_reward:.4f}  "
            f"hypervolume {tracker.archive.hypervolume():.4f}  revisits {tracker.revisits}")
    if stream.isatty():
        print("\r" + line, end="\n" if tracker.exhausted else "", file=stream, flush=True)
    elif tracker.used % 10 == 0 or tracker.exhausted:
        print(line, file=stream, flush=True)

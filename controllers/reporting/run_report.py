"""What a search run leaves in its folder, written from its tracker: `write_outputs`.

evaluations.csv (every unique evaluation), pareto.csv (the front), archive.json, best/ (the
best designs' files and designs.csv), summary.md and the plots. `run_search` calls it at the
end of a run, and after an interruption, so a run folder always holds what was evaluated.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from livgym.controllers.budget import EvaluationRecord, SearchTracker
from livgym.controllers.config import SearchConfig
from livgym.controllers.reporting.plots import plot_genome, plot_pareto, plot_picture, plot_progress, reference_metrics
from livgym.envs import ENVS
from livgym.envs.liv.space import DEFAULT_FIDELITY, LIVSearchSpace
from livgym.envs.space import SearchSpace
from livgym.models.genome import Genome
from livgym.version import __version__

BEST_DESIGNS = 5
FRONT_DIAGRAMS = 32  # block diagrams of front members (highest first utility first); a bound on plotting time


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
    """summary.md: what ran and how far, the Pareto front, the best designs and a guide to the
    folder's files (only those present: written after the files it names)."""
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
    """A metric in a table: four significant digits, scientific from 1e4 up."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"

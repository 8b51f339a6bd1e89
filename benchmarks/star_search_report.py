"""The STAR-search benchmark's report (`star_search.py --report-only`): what the searches found
and what the confirmation at `mad-lite-long` says, from the shipped run orders and an
evaluation store; the tables, `star_search.png` and the confirmed designs' JSON files.

`star_search.py` runs the study and calls `report`; the study's choices that the report reads
(the seeds, the references, how many designs are confirmed) live here with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common import machine, markdown_table
from livgym.controllers.reporting.stats import mean_interval

if TYPE_CHECKING:
    from star_search import Study

LABELS = {"maskable_ppo": "model-based MaskablePPO", "evolution": "regularized evolution", "nsga2": "NSGA-II"}
SEED = 0
CONFIRM_SEEDS = (0, 1, 2)
TOP_QUALITY = 5  # the union front's highest-quality designs that are confirmed
MAX_CONFIRMED = 10  # at most this many found designs are confirmed (highest quality first)
REFERENCES = ("transformer++", "striped-hybrid", "mamba-like", "gated-conv")
REFERENCE_DEPTH = 8
COST_WIDTH, COST_HEADS, COST_CONTEXT = 768, 12, 4096  # where the report's cache and parameters are costed


@dataclass(frozen=True)
class Design:
    """One evaluated design: its genome (proxy width) and search metrics (mad-lite seed 0)."""

    genome: str
    quality: float
    cache_bytes: float  # at the search's own setting (proxy width, 4096 tokens)

    def point(self) -> np.ndarray:
        return np.array([self.quality, -self.cache_bytes])  # both maximised


# --- what the searches found -------------------------------------------------------------------

def run_order(study: Study, method: str) -> list[dict]:
    """The shipped evaluations of one method's run, in order (empty before it ran)."""
    path = study.shipped / f"{method}.csv"
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def designs(rows: list[dict]) -> list[Design]:
    return [Design(r["genome"], float(r["quality"]), float(r["cache_bytes"])) for r in rows if r["status"] == "ok"]


def front(candidates: list[Design]) -> list[Design]:
    """The non-dominated designs (quality up, cache down), highest quality first, one per genome."""
    from livgym.rewards.pareto import dominates

    unique = {d.genome: d for d in candidates}.values()
    kept = [d for d in unique if not any(dominates(o.point(), d.point()) for o in unique)]
    return sorted(kept, key=lambda d: -d.quality)


def reference_genomes() -> dict[str, str]:
    from livgym.models import reference_genome

    return {name: reference_genome(name, depth=REFERENCE_DEPTH, width=64, heads=4).to_string()
            for name in REFERENCES}


def reference_designs(study: Study, store) -> dict[str, Design]:
    """The references' mad-lite quality (seed 0, from the store) and cache at the search's setting."""
    from livgym.models import Genome
    from livgym.rewards.evaluation.evaluator import make_evaluator

    evaluator = make_evaluator(study.search_fidelity)
    out = {}
    for name, text in reference_genomes().items():
        result = store.lookup(Genome.from_string(text), evaluator, seed=SEED)
        if result is not None and result.status == "ok":
            out[name] = Design(text, float(result.metrics["quality"]), float(result.metrics["cache_bytes"]))
    return out


def to_confirm(study: Study, store, methods: list[str]) -> list[str]:
    """Found designs to train longer: the union front's best by quality, and any front design
    dominating a reference; at most `MAX_CONFIRMED`, highest quality first."""
    from livgym.rewards.pareto import dominates

    union = front([d for m in methods for d in designs(run_order(study, m))])
    refs = list(reference_designs(study, store).values())
    refs_text = {r.genome for r in refs}
    chosen = [d for i, d in enumerate(union)
              if i < TOP_QUALITY or any(dominates(d.point(), r.point()) for r in refs)]
    return [d.genome for d in chosen if d.genome not in refs_text][:MAX_CONFIRMED]


# --- report ------------------------------------------------------------------------------------

def costed(text: str) -> tuple[int, int]:
    """(cache bytes at 4096 tokens, parameters) at width 768, the report's setting."""
    from livgym.models import Genome, efficiency

    genome = Genome.from_string(text).with_width(COST_WIDTH, COST_HEADS)
    cost = efficiency(genome, context_length=COST_CONTEXT)
    return cost.cache_bytes, cost.params


def long_quality(study: Study, store, text: str) -> list[float]:
    from livgym.models import Genome
    from livgym.rewards.evaluation.evaluator import make_evaluator

    evaluator, genome = make_evaluator(study.confirm_fidelity), Genome.from_string(text)
    results = [store.lookup(genome, evaluator, seed=s) for s in CONFIRM_SEEDS]
    return [float(r.metrics["quality"]) for r in results if r is not None and r.status == "ok"]


def operators(text: str) -> str:
    """The design's LIV classes (count x name) and its sharing, in a few words."""
    from livgym.models import CLASSES_BY_ID, Genome

    genome = Genome.from_string(text)
    names = [CLASSES_BY_ID[s.liv_class].name for s in genome.slots]
    counts = ", ".join(f"{names.count(n)}x {n}" for n in dict.fromkeys(names))
    shared = [f"{sum(s.shares_featurizer for s in genome.slots)} featurizer-sharing",
              f"{sum(s.shares_features for s in genome.slots)} feature-sharing"]
    return f"{counts}; {', '.join(shared)} slot(s)"


def report(study: Study, store_path: Path, methods: list[str]) -> None:
    from livgym.rewards.evaluation.store import EvaluationStore

    with EvaluationStore(store_path, readonly=True) as store:
        print(f"machine: {machine()}\n")
        hypervolume_table(study, methods)
        compute_time(study)
        refs = reference_designs(study, store)
        measured = confirmed_table(study, store, methods, refs)
        plot(study, methods, refs, measured, study.shipped / "star_search.png")
        front_operators(study, methods)


def compute_time(study: Study) -> None:
    """The worker time the shipped dataset's evaluations took, per fidelity."""
    from livgym.rewards.evaluation.dataset import read_dataset

    seconds: dict[str, list[float]] = {}
    for result in read_dataset(study.dataset_path):
        seconds.setdefault(result.fidelity, []).append(result.wall_time)
    for fidelity, times in seconds.items():
        print(f"{fidelity}: {len(times)} evaluations, {sum(times) / 3600:.1f} h of worker time "
              f"({np.mean(times):.0f} s each on average)")
    print()


def hypervolume_table(study: Study, methods: list[str]) -> None:
    rows = []
    for method in methods:
        order = run_order(study, method)
        at = [f"{float(order[n - 1]['hypervolume']):.4f}" if len(order) >= n else "-" for n in (50, 100, 150)]
        ok = designs(order)
        best = max((d.quality for d in ok), default=float("nan"))
        failed = sum(r["status"] != "ok" for r in order)
        rows.append([LABELS[method], len(order), *at, f"{best:.3f}", len(front(ok)), failed])
    print(markdown_table(["method (seed 0)", "evaluations", "HV @ 50", "HV @ 100", "HV @ 150",
                          "best mad-lite quality", "front size", "not ok"], rows) + "\n")


def confirmed_table(study: Study, store, methods: list[str], refs: dict[str, Design]) -> dict:
    """The confirmation table and the answer; returns {label: (mad-lite-long qualities, mean, cache bytes)}."""
    found = to_confirm(study, store, methods)
    search_quality = {d.genome: d.quality for m in methods for d in designs(run_order(study, m))}
    search_quality.update({d.genome: d.quality for d in refs.values()})
    rows, measured = [], {}
    labels = {**{g: f"found {i + 1}" for i, g in enumerate(found)}, **{t: n for n, t in reference_genomes().items()}}
    for text, label in labels.items():
        values = long_quality(study, store, text)
        mean, half = mean_interval(values)
        cache, params = costed(text)
        measured[label] = (values, mean, cache)
        rows.append([label, f"{search_quality.get(text, float('nan')):.3f}",
                     f"{mean:.3f} ± {half:.3f}" if values else "-", len(values), f"{cache / 2**20:.1f}",
                     f"{params / 1e6:.1f}", operators(text), f"`{text}`"])
    print(markdown_table(["design", "mad-lite (seed 0)", "mad-lite-long, mean ± 95 % (3 seeds)", "seeds",
                          "cache MiB @ 4096, w768", "params M @ w768", "operators", "genome"], rows) + "\n")
    answer(found, labels, measured)
    export_designs(study, found, measured)
    return measured


def front_operators(study: Study, methods: list[str]) -> None:
    """Which LIV classes and sharing the union front's designs use (at mad-lite, seed 0)."""
    from collections import Counter

    from livgym.models import CLASSES_BY_ID, Genome

    union = front([d for m in methods for d in designs(run_order(study, m))])
    genomes = [Genome.from_string(d.genome) for d in union]
    slots = Counter(CLASSES_BY_ID[s.liv_class].name for g in genomes for s in g.slots)
    using = Counter(name for g in genomes for name in {CLASSES_BY_ID[s.liv_class].name for s in g.slots})
    depths = sorted(len(g.slots) for g in genomes)
    sharing = [sum(any(getattr(s, kind) for s in g.slots) for g in genomes)
               for kind in ("shares_featurizer", "shares_features")]
    print(f"Union front: {len(genomes)} designs of {depths[0] if depths else 0}-{depths[-1] if depths else 0} slots "
          f"(median {depths[len(depths) // 2] if depths else 0}); {sharing[0]} share a featurizer, {sharing[1]} "
          "share features. Classes, by the slots they fill: "
          + ", ".join(f"{name} {n} slots in {using[name]} designs" for name, n in slots.most_common()) + ".\n")


def answer(found: list[str], labels: dict[str, str], measured: dict) -> None:
    """Is there a found design that dominates Transformer++ and the striped hybrid at mad-lite-long?"""
    targets = [n for n in ("transformer++", "striped-hybrid") if len(measured[n][0]) == len(CONFIRM_SEEDS)]
    complete = [labels[g] for g in found if len(measured[labels[g]][0]) == len(CONFIRM_SEEDS)]
    if len(targets) < 2 or not complete:
        print(f"Answer: not yet; confirmation incomplete ({len(complete)} of {len(found)} found designs and "
              f"{len(targets)} of 2 references have all {len(CONFIRM_SEEDS)} seeds).\n")
        return
    for name in targets:
        values, mean, cache = measured[name]
        better = [f for f in complete if measured[f][1] >= mean and measured[f][2] < cache]
        every_seed = [f for f in better if min(measured[f][0]) >= max(values)]
        if better:
            best = min(better, key=lambda f: measured[f][2])
            verb = "dominates" if len(better) == 1 else "dominate"
            print(f"- Against {name} (quality {mean:.3f}, cache {cache / 2**20:.1f} MiB): {', '.join(better)} "
                  f"{verb} it in the mean; {', '.join(every_seed) or 'none'} on every seed. The smallest cache "
                  f"at equal or better quality is {best}'s, {100 * (1 - measured[best][2] / cache):.1f} % smaller.")
        else:
            print(f"- Against {name} (quality {mean:.3f}): no confirmed design has equal or better quality "
                  "with a smaller cache.")
    both = [f for f in complete if all(measured[f][1] >= measured[n][1] and measured[f][2] < measured[n][2]
                                       for n in targets)]
    print(f"- Dominating both in the mean: {', '.join(both) or 'none'}.\n")


def export_designs(study: Study, found: list[str], measured: dict) -> None:
    """Each confirmed found design as a genome JSON file (build it with `livgym.models.build_model`)."""
    from livgym.models import Genome

    folder = study.shipped / "designs"
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(found):
        if measured[f"found {i + 1}"][0]:
            genome = Genome.from_string(text)
            (folder / f"found-{i + 1:02d}-{genome.canonical_hash()}.json").write_text(genome.to_json() + "\n")


def plot(study: Study, methods: list[str], refs: dict[str, Design], measured: dict, path: Path) -> None:
    """Left: each method's front at mad-lite (seed 0). Right: the confirmation at mad-lite-long."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, right) = plt.subplots(1, 2, figsize=(12, 4.8), sharex=True)
    for method, marker in zip(methods, "osD"):
        ok = designs(run_order(study, method))
        if not ok:
            continue
        ax.scatter([costed(d.genome)[0] / 2**20 for d in ok], [d.quality for d in ok], s=8, alpha=0.25, marker=marker)
        best = front(ok)
        ax.step([costed(d.genome)[0] / 2**20 for d in best][::-1], [d.quality for d in best][::-1], where="post",
                marker=marker, label=f"{LABELS[method]} ({len(ok)} evaluated)")
    for name, d in refs.items():
        ax.scatter([costed(d.genome)[0] / 2**20], [d.quality], marker="*", s=160, color="black", zorder=5)
        ax.annotate(name, (costed(d.genome)[0] / 2**20, d.quality), textcoords="offset points", xytext=(6, -10))
    ax.set_ylabel("mad-lite quality (seed 0)")
    ax.set_title("Fronts found on (quality, cache), references marked")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    clusters: list[list[tuple[float, float, str]]] = []  # found designs close in the plot share one label
    for label, (values, mean, cache) in measured.items():
        if not values:
            continue
        reference = not label.startswith("found")
        right.errorbar([cache / 2**20], [mean], yerr=[np.nan_to_num(mean_interval(values)[1])], capsize=3,
                       marker="*" if reference else "o", markersize=12 if reference else 6,
                       color="black" if reference else "tab:blue", zorder=5 if reference else 4)
        if reference:
            right.annotate(label, (cache / 2**20, mean), textcoords="offset points", xytext=(6, 4), fontsize=8)
    found = sorted((c / 2**20, m + np.nan_to_num(mean_interval(v)[1]), k.removeprefix("found "))
                   for k, (v, m, c) in measured.items() if v and k.startswith("found"))  # (x, top of its bar, n)
    for x, y, number in found:
        last = clusters[-1][-1] if clusters else None
        if last and x < 1.5 * last[0] and abs(y - last[1]) < 0.05:
            clusters[-1].append((x, y, number))
        else:
            clusters.append([(x, y, number)])
    for cluster in clusters:
        x = float(np.exp(np.mean([np.log(max(c[0], 1e-6)) for c in cluster])))
        right.annotate(", ".join(sorted((c[2] for c in cluster), key=int)), (x, max(c[1] for c in cluster)),
                       textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    right.set_ylabel(f"{study.confirm_fidelity} quality, mean and 95 % interval ({len(CONFIRM_SEEDS)} seeds)")
    right.set_title("Confirmed: found designs (numbered) and references")
    for a in (ax, right):
        a.set_xscale("log")
        a.set_xlabel(f"inference cache at {COST_CONTEXT} tokens, width {COST_WIDTH} (MiB, log)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"plot: {path}\n")

"""STAR's headline in miniature: real searches on mad-lite quality against the inference cache.

    python benchmarks/star_search.py [--stage search|confirm|all] [--budget 150] [--workers 2]
        [--methods maskable_ppo,evolution,nsga2]
    python benchmarks/star_search.py --report-only      # from the shipped data: no training

`search`: model-based MaskablePPO, regularized evolution and NSGA-II (seed 0 each) search the
LIV space of `configs/star_search.yaml` (up to 8 slots at proxy width 64, `mad-lite` quality
and the analytic cache at 4096 tokens) through one evaluation store, on pool workers. They
advance together, 50 evaluations at a time (each run is resumed to the next checkpoint), so a
session that stops early leaves every method at a comparable budget.

`confirm`: the union front's five highest-quality designs, and every front design that
dominates a reference on (quality, cache), are trained at `mad-lite-long` with three seeds,
next to Transformer++, the striped hybrid, mamba-like and gated-conv at depth 8.

Nothing finished is ever lost: each evaluation is exported at once to the shipped dataset
`rewards/data/star_search.jsonl.gz` (with the `proxy_fidelity` dataset, which already holds
the references at depth 8, imported into the store first), and each run's order of evaluations
is copied to `results/star_search/<method>.csv` after each evaluation. A killed run resumes by
replay (`resume_search`), with the store answering every design it had evaluated.
`--report-only` imports the datasets into a temporary store and regenerates the report
(`star_search_report.py`), the plot (`star_search.png`) and the confirmed designs' JSON files
(`results/star_search/designs/`).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import machine
from star_search_report import CONFIRM_SEEDS, REFERENCES, SEED, reference_genomes, report, run_order, to_confirm

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "star_search.yaml"
WORK = HERE.parent / "runs" / "benchmarks" / "star_search"  # the store and run folders (ignored)
SHIPPED = HERE / "results" / "star_search"  # run orders and confirmed designs (committed)
METHODS = ("maskable_ppo", "evolution", "nsga2")
CHECKPOINT_STEP = 50


@dataclass(frozen=True)
class Study:
    """Where the study keeps its files and what it trains (a smoke test swaps in cheap settings)."""

    work: Path = WORK
    shipped: Path = SHIPPED
    dataset: Path | None = None  # default: rewards/data/star_search.jsonl.gz
    search_fidelity: str = "mad-lite"
    confirm_fidelity: str = "mad-lite-long"
    step: int = CHECKPOINT_STEP

    @property
    def dataset_path(self) -> Path:
        from livgym.rewards.evaluation.dataset import DATA_DIR, SUFFIX

        return self.dataset if self.dataset is not None else DATA_DIR / f"star_search{SUFFIX}"

    @property
    def store_path(self) -> Path:
        return self.work / "evaluations.sqlite"

    def config(self, method: str, budget: int, workers: int):
        from livgym.controllers.config import SearchConfig

        base = SearchConfig.from_yaml(CONFIG)
        return base.with_overrides(method=method, budget=budget, seed=SEED,
                                   backend={"kind": "pool", "workers": workers},
                                   space={**base.space, "fidelity": self.search_fidelity})


def proxy_dataset() -> Path:
    from livgym.rewards.evaluation.dataset import DATA_DIR, SUFFIX

    return DATA_DIR / f"proxy_fidelity{SUFFIX}"


def open_store(study: Study, path: Path) -> None:
    """Create the store if needed and import the shipped datasets (idempotent)."""
    from livgym.rewards.evaluation.dataset import import_dataset
    from livgym.rewards.evaluation.store import EvaluationStore

    path.parent.mkdir(parents=True, exist_ok=True)
    with EvaluationStore(path) as store:
        for source in (proxy_dataset(), study.dataset_path):
            if source.exists():
                report = import_dataset(source, store)
                print(f"{source.name}: {report.added} evaluations added, {report.present} already in the store")


def export(study: Study) -> int:
    """Write every search and confirmation result the proxy-fidelity dataset lacks to this study's dataset."""
    from livgym.rewards.evaluation.evaluator import make_evaluator
    from livgym.rewards.evaluation.dataset import export_dataset, read_dataset
    from livgym.rewards.evaluation.store import EvaluationStore

    hashes = {make_evaluator(f).config_hash() for f in (study.search_fidelity, study.confirm_fidelity)}
    elsewhere = {r.key for r in read_dataset(proxy_dataset())} if proxy_dataset().exists() else set()
    with EvaluationStore(study.store_path, readonly=True) as store:
        keys = [r.key for r in store.results() if r.config_hash in hashes and r.key not in elsewhere]
        return export_dataset(store, study.dataset_path, keys=keys)


# --- search ------------------------------------------------------------------------------------

def search(study: Study, methods: list[str], budget: int, workers: int) -> None:
    """Advance every method to each checkpoint in turn (50, 100, ... budget)."""
    targets = sorted({*range(study.step, budget, study.step), budget})
    for target in targets:
        for method in methods:
            advance(study, method, target, workers)


def advance(study: Study, method: str, target: int, workers: int) -> None:
    """Run (or resume) one method's search to `target` unique evaluations."""
    from livgym.controllers.run_record import RunRecord
    from livgym.controllers.search import resume_search, run_search, run_state

    run_dir = study.work / f"{method}-seed{SEED}"
    exported = {"used": -1}
    start = time.perf_counter()

    def progress(tracker) -> None:
        if tracker.used == exported["used"]:
            return
        exported["used"] = tracker.used
        export(study)
        shipped = study.shipped / f"{method}.csv"
        if len(run_order(study, method)) < tracker.used:  # a replay does not shorten the shipped order
            study.shipped.mkdir(parents=True, exist_ok=True)
            tracker.to_csv(shipped)
        last = tracker.records[-1]
        print(f"  {method:<13} {tracker.used:>4}/{target}  {last.status:<8} "
              f"quality {last.metrics.get('quality', float('nan')):.3f}  {time.perf_counter() - start:7.0f} s  "
              f"{last.genome}", flush=True)

    # The shipped order is the record a model-based run follows on another machine, where
    # floating point may steer its policy elsewhere (`SearchContext.replay`); it is never shorter
    # than the run folder's own.
    replay = [row["genome"] for row in run_order(study, method)]
    if (run_dir / "config.yaml").exists():
        record = RunRecord.read(run_dir)
        if record is not None and not record.finished:
            target = max(target, record.budget)  # a killed run goes on to the budget it was started with
        state = run_state(run_dir, target)
        if state is not None:
            print(f"{method}: {state}")
        else:
            print(f"{method}: resuming to {target}")
            resume_search(run_dir, store=study.store_path, progress=progress, wandb="disabled", budget=target,
                          replay=replay)
    else:
        following = f", following its shipped order ({len(replay)} evaluations)" if replay else ""
        print(f"{method}: starting, to {target}{following}")
        run_search(study.config(method, target, workers), run_dir, store=study.store_path, progress=progress,
                   wandb="disabled", replay=replay)
    export(study)
    ship_order(run_dir / "evaluations.csv", study.shipped / f"{method}.csv")


def ship_order(run_csv: Path, shipped: Path) -> bool:
    """Copy a run's order of evaluations to the shipped one unless it is shorter: a run that
    replays a longer shipped order up to an earlier checkpoint must not cut the record it follows."""
    if not run_csv.exists():
        return False
    if shipped.exists() and count_rows(run_csv) < count_rows(shipped):
        return False
    shipped.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_csv, shipped)
    return True


def count_rows(path: Path) -> int:
    with path.open() as handle:
        return sum(1 for _ in csv.DictReader(handle))


# --- confirm -----------------------------------------------------------------------------------

def confirm(study: Study, methods: list[str], workers: int) -> None:
    """Train the chosen designs and the references at mad-lite-long, seed by seed, exporting each batch."""
    from livgym.rewards.backends import EvaluationJob, make_backend
    from livgym.rewards.evaluation.store import EvaluationStore

    with EvaluationStore(study.store_path, readonly=True) as store:
        found = to_confirm(study, store, methods)
        genomes = [*found, *reference_genomes().values()]
        jobs = [EvaluationJob.of(study.confirm_fidelity, g, seed) for g in genomes for seed in CONFIRM_SEEDS]
        stored = sum(store.get(*job.key) is not None for job in jobs)
        jobs = [job for job in jobs if store.get(*job.key) is None]
    # Dearest first (by the FLOPs hint), one genome's seeds side by side: the two jobs that run
    # together then cost about the same, so neither worker idles long, and each genome's seeds
    # finish together (a design is confirmed only with all of them).
    jobs.sort(key=lambda job: -job.cost_hint)
    print(f"confirming {len(found)} found designs and {len(REFERENCES)} references: {len(jobs)} jobs to run, "
          f"{stored} already stored")
    with make_backend({"kind": "pool", "workers": workers}, study.store_path) as backend:
        for i in range(0, len(jobs), workers):
            batch = jobs[i:i + workers]
            for k, (job, outcome) in enumerate(zip(batch, backend.run(batch)), i + 1):
                r = outcome.result
                how = "stored" if outcome.from_store else f"{r.wall_time:.0f} s"
                print(f"  [{k}/{len(jobs)}] seed {job.seed} {r.status:<8} "
                      f"quality {r.metrics.get('quality', float('nan')):.3f} {how:>7}  {job.genome}", flush=True)
            export(study)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=("search", "confirm", "all"), default="all")
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--report-only", action="store_true", help="report from the shipped data (no training)")
    # a smoke test's cheap settings (the defaults are the study's)
    parser.add_argument("--work", type=Path, default=WORK, help=argparse.SUPPRESS)
    parser.add_argument("--shipped", type=Path, default=SHIPPED, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fidelities", nargs=2, default=("mad-lite", "mad-lite-long"), help=argparse.SUPPRESS)
    parser.add_argument("--step", type=int, default=CHECKPOINT_STEP, help=argparse.SUPPRESS)
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown method(s) {unknown}; known: {list(METHODS)}")
    study = Study(args.work, args.shipped, args.dataset, *args.fidelities, step=args.step)
    if args.report_only:
        with tempfile.TemporaryDirectory() as tmp:
            store_path = Path(tmp) / "from-datasets.sqlite"
            open_store(study, store_path)
            report(study, store_path, methods)
        return
    open_store(study, study.store_path)
    print(f"machine: {machine()}; {args.workers} pool workers")
    if args.stage in ("search", "all"):
        search(study, methods, args.budget, args.workers)
    if args.stage in ("confirm", "all"):
        confirm(study, methods, args.workers)
    report(study, study.store_path, methods)


if __name__ == "__main__":
    main()

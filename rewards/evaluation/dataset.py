"""Evaluation datasets: evaluation results kept as compact files, shipped in the package.

An expensive evaluation (a `mad-lite` training run costs minutes of CPU) is worth keeping
beyond the evaluation store it was made in: a study's results are exported to a dataset file,
committed under `rewards/data/`, and imported into any store later, so a report regenerates
from the repository alone and a search starts with those designs already evaluated.

Format: gzip-compressed JSON lines, one result per line, keys in a fixed order:
genome_hash, genome, evaluator, fidelity, config_hash, seed, status, metrics, wall_time
(seconds), library_version, timestamp, ran_on (where it trained, when recorded) and error
(its first line). The evaluator's full config is not kept: `config_hash` names it, and a store
answers a later query only under that exact hash. Files are written sorted by key, with a
fixed gzip header, so exporting the same results twice gives the same bytes.

    >>> from livgym.rewards.evaluation.dataset import import_dataset, shipped_datasets
    >>> with EvaluationStore("runs/evaluations.sqlite") as store:  # doctest: +SKIP
    ...     for path in shipped_datasets():
    ...         import_dataset(path, store)
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from livgym.known_names import check_known
from livgym.rewards.evaluation.result import STATUSES, EvaluationResult, TRANSIENT_STATUSES

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SUFFIX = ".jsonl.gz"
FIELDS: tuple[str, ...] = ("genome_hash", "genome", "evaluator", "fidelity", "config_hash", "seed", "status",
                           "metrics", "wall_time", "library_version", "timestamp", "ran_on", "error")
REQUIRED: tuple[str, ...] = FIELDS[:8]


@dataclass(frozen=True)
class ImportReport:
    """What `import_dataset` did: results added to the store, and results it already had."""

    added: int
    present: int


def to_record(result: EvaluationResult) -> dict:
    """The dataset line of one result (see the module docstring)."""
    data = result.to_dict()  # NaN metrics become null
    ran_on = (result.config or {}).get("ran_on")
    error = result.error.splitlines()[0] if result.error else None
    record = {name: data[name] for name in FIELDS[:-2]}
    record.update(ran_on=ran_on, error=error)
    return record


def from_record(record: dict, where: str = "dataset") -> EvaluationResult:
    """The result a dataset line holds; a ValueError naming the line's problem otherwise."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: a line must be a JSON object, got {type(record).__name__}")
    missing = [name for name in REQUIRED if name not in record]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    check_known(record, list(FIELDS), where, "field")
    if record["status"] not in STATUSES:
        raise ValueError(f"{where}: status={record['status']!r} is not one of {STATUSES}")
    if not isinstance(record["metrics"], dict):
        raise ValueError(f"{where}: metrics must be an object of numbers")
    fields = {name: record[name] for name in FIELDS[:-2] if name in record}
    fields["config"] = {"ran_on": record["ran_on"]} if record.get("ran_on") else {}
    fields["error"] = record.get("error")
    try:
        return EvaluationResult.from_dict(fields)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def write_dataset(path: str | Path, results: Iterable[EvaluationResult]) -> int:
    """Write `results` (one per key; `lost` ones are skipped) to `path`, sorted; returns how many."""
    kept: dict[tuple, EvaluationResult] = {}
    for result in results:
        if result.status not in TRANSIENT_STATUSES:
            kept.setdefault(result.key, result)
    lines = [json.dumps(to_record(kept[key]), allow_nan=False) for key in sorted(kept)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as handle:
        handle.write("".join(line + "\n" for line in lines).encode())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)  # a reader never sees a half-written file
    return len(lines)


def read_dataset(path: str | Path) -> Iterator[EvaluationResult]:
    """The results of a dataset file, in file order; a ValueError names the file and line."""
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{where}: not JSON ({err})") from None
                yield from_record(record, where)
    except (OSError, EOFError, zlib.error) as err:  # zlib.error: damaged compressed data
        raise ValueError(f"{path}: not a readable gzip dataset ({err})") from None


def export_dataset(store, path: str | Path, evaluators: Iterable[str] | None = None,
                   config_hashes: Iterable[str] | None = None, keys: Iterable[tuple] | None = None) -> int:
    """Write the store's results to `path` (optionally only some evaluators, config hashes or
    keys), merged with what `path` already holds; returns the number of results written."""
    wanted_evaluators = set(evaluators) if evaluators is not None else None
    wanted_hashes = set(config_hashes) if config_hashes is not None else None
    wanted_keys = {tuple(k) for k in keys} if keys is not None else None
    chosen = [r for r in store.results()
              if (wanted_evaluators is None or r.evaluator in wanted_evaluators)
              and (wanted_hashes is None or r.config_hash in wanted_hashes)
              and (wanted_keys is None or r.key in wanted_keys)]
    existing = list(read_dataset(path)) if Path(path).exists() else []
    return write_dataset(path, [*existing, *chosen])  # the file's result wins: stored results are kept for good


def import_dataset(path: str | Path, store) -> ImportReport:
    """Put every result of `path` into `store` (`EvaluationStore.put`, which never overwrites):
    importing twice adds nothing the second time."""
    added = present = 0
    for result in read_dataset(path):
        if store.put(result):
            added += 1
        else:
            present += 1
    return ImportReport(added=added, present=present)


def shipped_datasets() -> list[Path]:
    """The dataset files shipped with livgym (`rewards/data/*.jsonl.gz`), sorted by name."""
    return sorted(DATA_DIR.glob(f"*{SUFFIX}"))


def shipped_dataset(name: str) -> Path:
    """The shipped dataset `name` (file name without `.jsonl.gz`); an error listing them if unknown."""
    path = DATA_DIR / f"{name}{SUFFIX}"
    if not path.exists():
        known = [p.name[: -len(SUFFIX)] for p in shipped_datasets()]
        raise ValueError(f"no shipped dataset {name!r}; shipped: {known}")
    return path

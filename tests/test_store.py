"""The evaluation store: round trips, insert-or-keep, concurrent writers, bad files, read-only use."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import COLUMNS, SCHEMA_VERSION, EvaluationStore, StoreError


def make_result(genome_hash: str = "g0", seed: int = 0, **changes: object) -> EvaluationResult:
    fields_ = dict(genome_hash=genome_hash, genome="11111-91111", evaluator="fake", fidelity="fake-short",
                   config_hash="c0", seed=seed, status="ok", metrics={"quality": 0.5, "params": 1234.0})
    fields_.update(changes)
    return EvaluationResult(**fields_)  # type: ignore[arg-type]


def same(a: EvaluationResult, b: EvaluationResult) -> bool:
    """Field-by-field equality where NaN metrics count as equal (to_dict maps them to None)."""
    return a.to_dict() == b.to_dict()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "evaluations.sqlite"


def test_every_result_field_has_a_column() -> None:
    assert COLUMNS == tuple(f.name for f in fields(EvaluationResult))


def test_round_trip_keeps_every_field(store_path: Path) -> None:
    result = make_result(
        status="failed", metrics={"quality": math.nan, "loss": math.inf, "params": 86_016.0},
        config={"evaluator": "fake", "steps": 200, "lr": 1e-3, "tasks": ["recall", "copy"], "nested": {"a": None}},
        error="RuntimeError: boom\n  line 2 ü", wall_time=1.25, library_version="9.9.9", timestamp=1700000000.5)
    with EvaluationStore(store_path) as store:
        assert store.put(result)
        back = store.get(*result.key)
    assert back is not None
    assert math.isnan(back.metrics["quality"]) and math.isnan(back.metrics["loss"])  # inf is not JSON: NaN
    assert back.metrics["params"] == 86_016.0
    assert back.config == result.config and back.error == result.error
    assert (back.status, back.wall_time) == ("failed", 1.25)
    assert (back.library_version, back.timestamp) == ("9.9.9", 1700000000.5)
    assert same(back, result)


def test_missing_key_is_none_and_parent_dirs_are_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "store.sqlite"
    with EvaluationStore(path) as store:
        assert store.get("nope", "fake", "c0", 0) is None
        assert len(store) == 0
    assert path.is_file()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_put_never_overwrites(store_path: Path) -> None:
    first, second = make_result(metrics={"quality": 0.1}), make_result(metrics={"quality": 0.9})
    with EvaluationStore(store_path) as store:
        assert store.put(first) is True
        assert store.put(second) is False
        assert store.get(*first.key).metrics == {"quality": 0.1}  # type: ignore[union-attr]
        assert len(store) == 1


def test_results_in_insertion_order_and_filtered(store_path: Path) -> None:
    rows = [make_result("b"), make_result("a"), make_result("c", evaluator="other"),
            make_result("a", config_hash="c1"), make_result("a", seed=1)]
    with EvaluationStore(store_path) as store:
        for row in rows:
            assert store.put(row)
        assert [r.key for r in store.results()] == [r.key for r in rows]
        assert [r.genome_hash for r in store.results(evaluator="other")] == ["c"]
        filtered = store.results(evaluator="fake", config_hash="c0")
        assert [r.key for r in filtered] == [rows[0].key, rows[1].key, rows[4].key]
    with EvaluationStore(store_path) as reopened:  # persisted
        assert len(reopened) == 5


_WORKER = """
import sys
from livgym.rewards.evaluation.result import EvaluationResult
from livgym.rewards.evaluation.store import EvaluationStore
assert "torch" not in sys.modules, "the store must not import torch"
path, worker = sys.argv[1], int(sys.argv[2])
won = False
with EvaluationStore(path) as store:
    for i in range(50):
        assert store.put(EvaluationResult(genome_hash=f"w{worker}-{i}", genome="11111", evaluator="fake",
                                          fidelity="fake", config_hash="c0", seed=0, status="ok",
                                          metrics={"quality": i / 50}))
        if i == 25:
            won = store.put(EvaluationResult(genome_hash="shared", genome="11111", evaluator="fake",
                                             fidelity="fake", config_hash="c0", seed=0, status="ok",
                                             metrics={"quality": float(worker)}))
print("won" if won else "lost")
"""


def test_concurrent_writers_lose_nothing(store_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(store_path), str(w)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    outcomes = []
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]  # exactly one first put of a shared key
    with EvaluationStore(store_path, readonly=True) as store:
        keys = {r.genome_hash for r in store.results()}
        assert len(store) == 201
    assert keys == {f"w{w}-{i}" for w in range(4) for i in range(50)} | {"shared"}


def test_corrupt_file_is_refused_and_left_unchanged(store_path: Path) -> None:
    junk = b"this is not a database\n" * 100
    store_path.write_bytes(junk)
    with pytest.raises(StoreError, match="not a SQLite database") as err:
        EvaluationStore(store_path)
    assert str(store_path) in str(err.value)
    assert store_path.read_bytes() == junk
    assert sorted(p.name for p in store_path.parent.iterdir()) == [store_path.name]  # no -wal / -shm


def test_foreign_sqlite_database_is_refused_and_left_unchanged(store_path: Path) -> None:
    conn = sqlite3.connect(store_path)
    conn.execute("CREATE TABLE other (x)")
    conn.commit()
    conn.close()
    before = store_path.read_bytes()
    with pytest.raises(StoreError, match="not an evaluation store") as err:
        EvaluationStore(store_path)
    assert str(store_path) in str(err.value)
    assert store_path.read_bytes() == before


def test_schema_mismatch_is_refused(store_path: Path) -> None:
    EvaluationStore(store_path).close()
    conn = sqlite3.connect(store_path)
    conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"schema version 999.*version {SCHEMA_VERSION}") as err:
        EvaluationStore(store_path)
    assert str(store_path) in str(err.value)


def test_readonly_store_reads_and_refuses_writes(store_path: Path) -> None:
    with EvaluationStore(store_path) as store:
        store.put(make_result("a"))
    with EvaluationStore(store_path, readonly=True) as store:
        assert store.readonly
        assert store.get("a", "fake", "c0", 0) is not None
        assert len(store) == 1 and len(store.results()) == 1
        with pytest.raises(StoreError, match="read-only") as err:
            store.put(make_result("b"))
        assert str(store_path) in str(err.value)
    with EvaluationStore(store_path) as store:
        assert len(store) == 1


def test_readonly_open_of_missing_file_fails(store_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        EvaluationStore(store_path, readonly=True)
    assert not store_path.exists()


def test_unwritable_file_and_directory_is_read_only(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "store.sqlite"
    with EvaluationStore(path) as store:
        store.put(make_result("a"))
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("permissions do not stop writes for this user (root): covered by readonly=True")
        with EvaluationStore(path) as store:
            assert store.readonly and store.get("a", "fake", "c0", 0) is not None
            with pytest.raises(StoreError, match="read-only") as err:
                store.put(make_result("b"))
            assert str(path) in str(err.value)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def test_lock_held_past_busy_timeout_is_a_clear_error(store_path: Path) -> None:
    with EvaluationStore(store_path, busy_timeout=0.3) as store:
        holder = sqlite3.connect(store_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            start = time.monotonic()
            with pytest.raises(StoreError, match="locked") as err:
                store.put(make_result("a"))
            assert time.monotonic() - start < 5
            assert str(store_path) in str(err.value)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.put(make_result("a"))  # usable once the lock is gone


def test_evaluate_cached_evaluates_once(store_path: Path) -> None:
    from livgym.models.genome import Genome
    from livgym.rewards.evaluation.evaluator import Evaluator

    @dataclass(frozen=True)
    class CountingConfig:
        steps: int = 3

    class CountingEvaluator(Evaluator):
        name = "counting"

        def __init__(self) -> None:
            super().__init__(CountingConfig())
            self.calls = 0

        def _measure(self, genome: Genome, seed: int) -> dict[str, float]:
            self.calls += 1
            return {"quality": 0.25 + seed, "depth": float(len(genome.to_string()))}

    evaluator, genome = CountingEvaluator(), Genome.from_string("11111-91111")
    with EvaluationStore(store_path) as store:
        assert store.lookup(genome, evaluator, 0) is None
        first, hit_first = store.evaluate_cached(evaluator, genome, 0)
        second, hit_second = store.evaluate_cached(evaluator, genome, 0)
        assert (hit_first, hit_second, evaluator.calls) == (False, True, 1)
        assert same(first, second) and second.config == {"evaluator": "counting", "steps": 3}
        assert store.lookup(genome, evaluator, 0) is not None
        _, hit_other_seed = store.evaluate_cached(evaluator, genome, 1)
        assert (hit_other_seed, evaluator.calls) == (False, 2)


def test_a_lost_result_is_listed_answers_no_lookup_and_is_replaced(store_path: Path) -> None:
    lost = make_result(status="lost", metrics={}, error="the worker process died while starting (exit code 4)")
    with EvaluationStore(store_path) as store:
        assert store.put(lost)
        assert store.get(*lost.key) is None, "a lost result is no answer: the design is evaluated again"
        assert [r.status for r in store.results()] == ["lost"], "but it is recorded, with its cause"
        assert store.put(make_result(status="lost", error="again")), "a newer lost result replaces it too"
        assert store.put(make_result(metrics={"quality": 0.7}))
        assert store.get(*lost.key).metrics == {"quality": 0.7}  # type: ignore[union-attr]
        assert not store.put(make_result(status="lost")), "a permanent result is never replaced"
        assert not store.put(make_result(metrics={"quality": 0.1}))
        assert len(store) == 1 and store.get(*lost.key).metrics == {"quality": 0.7}  # type: ignore[union-attr]


def test_who_computed_a_result_round_trips_and_evaluate_cached_records_this_process(store_path: Path) -> None:
    from livgym.models.genome import Genome
    from livgym.rewards.evaluation.evaluator import make_evaluator

    who = {"backend": "pool", "host": "node-7", "pid": 4242}
    with EvaluationStore(store_path) as store:
        store.put(make_result(computed_by=who))
        assert store.get("g0", "fake", "c0", 0).computed_by == who  # type: ignore[union-attr]
        result, _ = store.evaluate_cached(make_evaluator("analytic"), Genome.from_string("91111@w64h4"))
    assert result.computed_by["backend"] == "inline" and result.computed_by["pid"] == os.getpid()
    assert result.key[2] == make_evaluator("analytic").config_hash(), "who computed it is not in the key"


def _old_store(path: Path) -> None:
    """A store as written before results recorded who computed them (no computed_by column)."""
    conn = sqlite3.connect(path)
    old_columns = [name for name in COLUMNS if name != "computed_by"]
    types = {"seed": "INTEGER NOT NULL", "wall_time": "REAL NOT NULL", "timestamp": "REAL NOT NULL", "error": "TEXT"}
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}')")
    conn.execute("CREATE TABLE evaluations (" + ", ".join(f"{c} {types.get(c, 'TEXT NOT NULL')}" for c in old_columns)
                 + ", UNIQUE (genome_hash, evaluator, config_hash, seed))")
    conn.execute(f"INSERT INTO evaluations ({', '.join(old_columns)}) VALUES "
                 "('old', '11111', 'fake', 'fake-short', 'c0', 0, 'ok', '{\"quality\": 0.5}', '{}', NULL, 1.5, "
                 "'0.1.0', 1700000000.0)")
    conn.commit()
    conn.close()


def test_an_old_store_is_read_as_it_is_and_gains_the_new_column_when_written(store_path: Path) -> None:
    _old_store(store_path)
    with EvaluationStore(store_path, readonly=True) as store:  # read-only: nothing is changed
        old = store.get("old", "fake", "c0", 0)
        assert old is not None and old.metrics == {"quality": 0.5} and old.computed_by == {}
        assert [r.genome_hash for r in store.results()] == ["old"]
    columns = [row[1] for row in sqlite3.connect(store_path).execute("PRAGMA table_info(evaluations)")]
    assert "computed_by" not in columns
    with EvaluationStore(store_path) as store:
        assert store.get("old", "fake", "c0", 0).wall_time == 1.5  # type: ignore[union-attr]
        assert store.put(make_result("new", computed_by={"backend": "inline"}))
        assert [r.computed_by for r in store.results()] == [{}, {"backend": "inline"}]
    columns = [row[1] for row in sqlite3.connect(store_path).execute("PRAGMA table_info(evaluations)")]
    assert columns == list(COLUMNS), "the column was added in place"

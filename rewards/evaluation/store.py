"""The evaluation store: every evaluation of every genome, persisted in one SQLite file.

A search asks the store before it trains a candidate, so a genome is evaluated once per
(genome hash, evaluator, config hash, seed) across runs, restarts and worker processes. The
first result stored under a key is kept for good: `put` never overwrites (a second worker that
raced to the same key gets `False` back and should use the stored result). The one exception is
a `lost` result (its worker never ran the design, or a fault outside the design ended it): it
is listed by `results` but answers no `get`, and the next `put` under its key replaces it, so
the next run evaluates that design again.

Concurrency: several processes may write to one file at once. The file is in WAL mode (readers
never block the writer), each write is one short transaction, SQLite's busy handler waits up to
`busy_timeout` seconds for a lock, and a lock error that escapes it is retried with exponential
backoff until the same deadline; past it, a `StoreError` names the file.

Files: the parent directory of a new store is created. An existing file that is not a SQLite
database, or a SQLite database that is not an evaluation store, is refused with a `StoreError`
and left untouched; so is a store written with a different `SCHEMA_VERSION`. A store written
before a column of `ADDED_COLUMNS` existed is read as it is (the column reads as empty) and,
when writable, gains the column in place. A store opened with `readonly=True`, or whose file or
directory the process may not write, serves reads and refuses writes.

This module imports neither torch nor the model code, so worker processes and tools that only
read results start fast; `Genome` and `Evaluator` are used by duck typing.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar
from urllib.parse import quote

from livgym.rewards.evaluation.result import TRANSIENT_STATUSES, EvaluationResult

if TYPE_CHECKING:
    from livgym.models.genome import Genome
    from livgym.rewards.evaluation.evaluator import Evaluator

SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
DEFAULT_BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's lock

KEY_COLUMNS: tuple[str, ...] = ("genome_hash", "evaluator", "config_hash", "seed")
JSON_COLUMNS: frozenset[str] = frozenset({"metrics", "config", "computed_by"})
# One column per EvaluationResult field, so a new field cannot be silently dropped.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(EvaluationResult))
# Columns that stores of this schema version may lack (written before the column existed): nullable.
ADDED_COLUMNS: tuple[str, ...] = ("computed_by",)
_SQL_TYPES: dict[str, str] = {"seed": "INTEGER NOT NULL", "wall_time": "REAL NOT NULL",
                              "timestamp": "REAL NOT NULL", "error": "TEXT",
                              **{name: "TEXT" for name in ADDED_COLUMNS}}

T = TypeVar("T")


class StoreError(Exception):
    """An evaluation store that cannot be opened, read or written; the message names the file."""


def _create_table_sql() -> str:
    columns = ",\n  ".join(f"{name} {_SQL_TYPES.get(name, 'TEXT NOT NULL')}" for name in COLUMNS)
    # The implicit rowid records insertion order; the UNIQUE key makes `put` insert-or-keep.
    return (f"CREATE TABLE IF NOT EXISTS evaluations (\n  {columns},\n"
            f"  UNIQUE ({', '.join(KEY_COLUMNS)})\n)")


def _is_lock_error(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class EvaluationStore:
    """A persistent map from (genome hash, evaluator, config hash, seed) to `EvaluationResult`.

    >>> with EvaluationStore("runs/evaluations.sqlite") as store:  # doctest: +SKIP
    ...     result, cached = store.evaluate_cached(evaluator, genome, seed=0)
    """

    def __init__(self, path: str | Path, readonly: bool = False,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.busy_timeout = float(busy_timeout)
        self._readonly_reason: str | None = "it was opened with readonly=True" if readonly else None
        self._select = ", ".join(COLUMNS)  # what a read selects (an old read-only store: NULL for a new column)
        self._check_existing_file()
        if self._readonly_reason is None and self.path.exists():
            self._readonly_reason = _unwritable_reason(self.path)
        self._conn = self._connect()
        try:
            self._retry(self._prepare_schema)
        except BaseException:
            self._conn.close()
            raise

    # -- opening ---------------------------------------------------------------------------

    @property
    def readonly(self) -> bool:
        return self._readonly_reason is not None

    def _check_existing_file(self) -> None:
        """Refuse a file that is not SQLite before SQLite touches it (so it stays byte-identical)."""
        if self.path.is_dir():
            raise StoreError(f"evaluation store {self.path}: is a directory, not a file")
        if not self.path.exists():
            if self._readonly_reason is not None:
                raise StoreError(f"evaluation store {self.path}: does not exist (opened read-only)")
            return
        try:
            with self.path.open("rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as err:
            raise StoreError(f"evaluation store {self.path}: cannot be read: {err}") from err
        # An empty file is a valid, empty SQLite database.
        if header and header != SQLITE_HEADER:
            raise StoreError(f"evaluation store {self.path}: is not a SQLite database "
                             f"(header {header!r}); the file was left unchanged")

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                uri = f"file:{quote(str(self.path.resolve()))}?mode=ro{self._immutable_flag()}"
                conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"evaluation store {self.path}: cannot be opened: {err}") from err
        return conn

    def _immutable_flag(self) -> str:
        """`&immutable=1` when no writer is active and SQLite could not create its WAL index.

        A read-only WAL reader needs the -shm file, or a directory to create it in; without
        either, a store that no process is writing (no -wal file) is read as immutable.
        """
        wal, shm = (self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-shm"))
        directory_writable = os.access(self.path.parent, os.W_OK | os.X_OK)
        return "" if directory_writable or wal.exists() or shm.exists() else "&immutable=1"

    def _prepare_schema(self) -> None:
        """Check (and, when writable, create) the tables and the schema version."""
        tables = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StoreError(f"evaluation store {self.path}: is a SQLite database but not an evaluation "
                             f"store (tables {sorted(tables)}); it was left unchanged")
        if not tables:
            if self.readonly:
                raise StoreError(f"evaluation store {self.path}: is empty and {self._readonly_reason}, "
                                 "so it cannot be initialised")
            self._initialise()
        found = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if found is None or found[0] != str(SCHEMA_VERSION):
            raise StoreError(f"evaluation store {self.path}: has schema version "
                             f"{None if found is None else found[0]}, this livgym reads version "
                             f"{SCHEMA_VERSION}; use a new store file or a matching livgym")
        self._add_missing_columns()
        if not self.readonly:
            self._conn.execute("PRAGMA journal_mode=WAL")  # idempotent; persists in the file
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL commits survive a process crash

    def _missing_columns(self) -> list[str]:
        present = {row[1] for row in self._conn.execute("PRAGMA table_info(evaluations)")}
        missing = [name for name in COLUMNS if name not in present]
        unknown = [name for name in missing if name not in ADDED_COLUMNS]
        if unknown:
            raise StoreError(f"evaluation store {self.path}: its evaluations table lacks column(s) {unknown}; "
                             "it was left unchanged")
        return missing

    def _add_missing_columns(self) -> None:
        """Give a store written before a column of `ADDED_COLUMNS` existed that column (NULL in
        its old rows); a read-only one is read with the column as NULL."""
        missing = self._missing_columns()
        if missing and self.readonly:
            self._select = ", ".join(f"NULL AS {name}" if name in missing else name for name in COLUMNS)
            return
        if missing:
            with self._transaction():  # another process may have added them since
                for name in self._missing_columns():
                    self._conn.execute(f"ALTER TABLE evaluations ADD COLUMN {name} {_SQL_TYPES[name]}")

    def _initialise(self) -> None:
        # IMMEDIATE takes the write lock first, so two processes creating one store serialise;
        # IF NOT EXISTS / OR IGNORE make the loser's statements no-ops.
        with self._transaction():
            self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._conn.execute(_create_table_sql())
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on the autocommit connection."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _retry(self, operation: Callable[[], T]) -> T:
        """Run `operation`, retrying lock errors with backoff until `busy_timeout` has passed."""
        deadline = time.monotonic() + self.busy_timeout
        delay, shortened = 0.01, False
        try:
            while True:
                try:
                    return operation()
                except sqlite3.OperationalError as err:
                    remaining = deadline - time.monotonic()
                    if not _is_lock_error(err):
                        raise self._error(err) from err
                    if remaining <= 0:
                        raise StoreError(f"evaluation store {self.path}: still locked by another process "
                                         f"after {self.busy_timeout:g} s ({err})") from err
                    time.sleep(min(delay * (1 + random.random()), remaining))
                    delay = min(delay * 2, 1.0)
                    # SQLite's own busy handler should wait no longer than the time that is left.
                    self._set_busy_timeout(deadline - time.monotonic())
                    shortened = True
                except sqlite3.Error as err:
                    raise self._error(err) from err
        finally:
            if shortened:
                self._set_busy_timeout(self.busy_timeout)

    def _set_busy_timeout(self, seconds: float) -> None:
        self._conn.execute(f"PRAGMA busy_timeout={max(1, int(seconds * 1000))}")

    def _error(self, err: sqlite3.Error) -> StoreError:
        if "readonly" in str(err).replace("-", "").replace(" ", "").lower():
            return StoreError(f"evaluation store {self.path}: is read-only ({err})")
        return StoreError(f"evaluation store {self.path}: {err}")

    # -- reading and writing ---------------------------------------------------------------

    def get(self, genome_hash: str, evaluator: str, config_hash: str, seed: int) -> EvaluationResult | None:
        """The stored result under this key, or None (also for a `lost` one: no answer)."""
        where = " AND ".join(f"{name}=?" for name in KEY_COLUMNS)
        row = self._retry(lambda: self._conn.execute(
            f"SELECT {self._select} FROM evaluations WHERE {where} AND status NOT IN ({_TRANSIENT})",
            (genome_hash, evaluator, config_hash, int(seed), *TRANSIENT_STATUSES)).fetchone())
        return None if row is None else _from_row(row)

    def put(self, result: EvaluationResult) -> bool:
        """Store `result`; False (and the stored row kept) when its key already holds a
        permanent result. A `lost` row under the key is replaced."""
        if self.readonly:
            raise StoreError(f"evaluation store {self.path}: cannot store {result.key}: "
                             f"the store is read-only because {self._readonly_reason}")
        row = _to_row(result, self.path)
        updates = ", ".join(f"{name}=excluded.{name}" for name in COLUMNS)
        sql = (f"INSERT INTO evaluations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
               f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {updates} "
               f"WHERE evaluations.status IN ({_TRANSIENT})")
        cursor = self._retry(lambda: self._conn.execute(sql, (*row, *TRANSIENT_STATUSES)))
        return cursor.rowcount == 1

    def results(self, evaluator: str | None = None, config_hash: str | None = None) -> list[EvaluationResult]:
        """Every stored result, in insertion order, optionally only one evaluator / config hash."""
        filters = {"evaluator": evaluator, "config_hash": config_hash}
        where = [f"{name}=?" for name, value in filters.items() if value is not None]
        params = [value for value in filters.values() if value is not None]
        sql = (f"SELECT {self._select} FROM evaluations"
               f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY rowid")
        rows = self._retry(lambda: self._conn.execute(sql, params).fetchall())
        return [_from_row(row) for row in rows]

    def __len__(self) -> int:
        return int(self._retry(lambda: self._conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]))

    def __iter__(self) -> Iterator[EvaluationResult]:
        return iter(self.results())

    # -- genome / evaluator conveniences ---------------------------------------------------

    def lookup(self, genome: Genome, evaluator: Evaluator, seed: int = 0) -> EvaluationResult | None:
        """The stored result of `evaluator` (under its exact config) on `genome` with `seed`."""
        return self.get(genome.canonical_hash(), evaluator.name, evaluator.config_hash(), seed)

    def evaluate_cached(self, evaluator: Evaluator, genome: Genome, seed: int = 0) -> tuple[EvaluationResult, bool]:
        """(result, True) from the store, or evaluate in this process, store and return (result, False).

        Failed, diverged and timed-out results are stored too (they are results); when another
        process stored the same key first, its result is returned so every caller agrees.
        """
        cached = self.lookup(genome, evaluator, seed)
        if cached is not None:
            return cached, True
        result = evaluator.evaluate(genome, seed).computed_here("inline")
        if self.put(result):
            return result, False
        stored = self.get(*result.key)
        return (stored if stored is not None else result), False

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EvaluationStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EvaluationStore({str(self.path)!r}{', readonly=True' if self.readonly else ''})"


def _unwritable_reason(path: Path) -> str | None:
    """Why this process may not write an existing store (WAL also writes beside the file)."""
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"its directory {path.parent} is not writable"
    return None


_TRANSIENT = ", ".join("?" for _ in TRANSIENT_STATUSES)  # SQL placeholders for TRANSIENT_STATUSES


def _to_row(result: EvaluationResult, path: Path) -> tuple[Any, ...]:
    data = result.to_dict()  # NaN / inf metrics become null, read back as NaN
    try:
        for name in JSON_COLUMNS:
            data[name] = json.dumps(data[name], sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise StoreError(f"evaluation store {path}: cannot store {result.key}: "
                         f"its {name} is not JSON-serialisable ({err})") from err
    return tuple(data[name] for name in COLUMNS)


def _from_row(row: tuple[Any, ...]) -> EvaluationResult:
    data = dict(zip(COLUMNS, row))
    for name in JSON_COLUMNS:
        data[name] = {} if data[name] is None else json.loads(data[name])  # None: an added column's old row
    return EvaluationResult.from_dict(data)

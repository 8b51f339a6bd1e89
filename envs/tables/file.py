"""A `TableSearchSpace` read from a file of designs: CSV or JSON (the standard library), Parquet
(pyarrow, when installed).

One row per design. Some columns are the design's *choices* (a few discrete options each: an
operator, a depth, a kernel size), the others its *metrics* (numbers: accuracy, latency, ...):

- `choices`: the choice columns, as a list (each column's options are its distinct values,
  in numeric order when they are all numbers, else in text order) or a mapping {column: [its
  options in order]}; by default the columns whose names start with `choice_`, or, when
  `metrics` is given, every other column;
- `metrics`: the metric columns (default: every column that is not a choice); with `metrics`
  given, columns that are neither are ignored;
- `cheap`: metric columns that cost nothing to know before a design is evaluated (a parameter
  count); none by default, so a costly metric never leaks into observations or shaping;
- `minimal`: where a build episode starts (a design as `describe` writes it, `op=conv depth=2`:
  each choice column, without its `choice_` prefix, and the option).

An empty metric cell (or `nan`) is a design without that measurement: a failed evaluation.
Every mistake is a one-line ValueError naming the file and the column, row or value.

CSV: a header row, then one row per design. JSON: a list of objects ({column: value}), or
{"columns": [...], "rows": [[...], ...]}. Parquet: any table pyarrow reads.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from livgym.envs.tables.space import TableSearchSpace

#: file suffixes a table may have, and what reads each
SUFFIXES: tuple[str, ...] = (".csv", ".json", ".parquet")
#: the arguments a table space takes besides its path (`read_table_space`)
TABLE_ARGUMENTS: tuple[str, ...] = ("choices", "metrics", "cheap", "minimal", "name")
#: the prefix that marks a choice column when `choices` and `metrics` are both left out
CHOICE_PREFIX = "choice_"
_MISSING = ("", "nan", "NaN", "NAN", "null", "None", "NA")


def read_table_space(path: str | Path, choices: Sequence[str] | Mapping[str, Sequence[Any]] | None = None,
                     metrics: Sequence[str] | None = None, cheap: Sequence[str] | None = None,
                     minimal: str | None = None, name: str | None = None) -> TableSearchSpace:
    """The table space in the file at `path` (see the module docstring for the arguments)."""
    where = f"space table {path}"
    columns, rows = read_rows(path)
    choice_columns, options = _choice_columns(where, columns, choices, metrics)
    metric_columns = _names(where, "metrics", metrics) if metrics is not None else \
        [c for c in columns if c not in choice_columns]
    _present(where, "metrics", metric_columns, columns)
    overlap = sorted(set(metric_columns) & set(choice_columns))
    if overlap:
        raise ValueError(f"{where}: column(s) {overlap} cannot be both choices and metrics")
    if not metric_columns:
        raise ValueError(f"{where}: no metric columns (every column is a choice: {choice_columns})")
    cheap_columns = _names(where, "cheap", cheap) if cheap is not None else []
    stray = sorted(set(cheap_columns) - set(metric_columns))
    if stray:
        raise ValueError(f"{where}: cheap={cheap_columns}: {stray} are not metric columns ({metric_columns})")
    if options is None:
        options = {c: _ordered({_text(row.get(c)) for row in rows}) for c in choice_columns}
    index = {c: {value: i for i, value in enumerate(options[c])} for c in choice_columns}
    table: dict[tuple[int, ...], dict[str, float]] = {}
    first_row: dict[tuple[int, ...], int] = {}
    for n, row in enumerate(rows, 1):
        design = []
        for c in choice_columns:
            value = _text(row.get(c))
            if value not in index[c]:
                raise ValueError(f"{where}: row {n}: column {c!r} has {value!r}, not one of its declared options "
                                 f"{list(options[c])}")
            design.append(index[c][value])
        key = tuple(design)
        if key in table:
            raise ValueError(f"{where}: rows {first_row[key]} and {n} are the same design "
                             f"({', '.join(f'{c}={_text(row.get(c))}' for c in choice_columns)})")
        first_row[key] = n
        table[key] = {m: _number(where, n, m, row.get(m)) for m in metric_columns}
    if not table:
        raise ValueError(f"{where}: has no rows")
    return TableSearchSpace(table, choices=[len(options[c]) for c in choice_columns], minimal=minimal,
                            cheap=cheap_columns, names=_display_names(choice_columns),
                            labels=[options[c] for c in choice_columns], name=name or Path(path).stem)


def _display_names(columns: list[str]) -> list[str]:
    """The choice columns as designs show them: `choice_op` as `op`, unless that would repeat a name."""
    short = [c[len(CHOICE_PREFIX):] if c.startswith(CHOICE_PREFIX) and len(c) > len(CHOICE_PREFIX) else c
             for c in columns]
    return short if len(set(short)) == len(short) else list(columns)


def read_rows(path: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """(column names, rows as {column: cell}) of a CSV, JSON or Parquet file."""
    path = Path(path)
    suffix = path.suffix.lower()
    where = f"space table {path}"
    if suffix not in SUFFIXES:
        raise ValueError(f"{where}: unknown file type {suffix!r}; a table is one of {list(SUFFIXES)}")
    if not path.is_file():
        raise ValueError(f"{where}: no such file")
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as parquet
        except ImportError:
            raise ValueError(f"{where}: reading Parquet needs pyarrow, which is not installed "
                             "(pip install pyarrow), or save the table as CSV") from None
        data = parquet.read_table(path)
        return list(data.column_names), data.to_pylist()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{where}: cannot be read: {err}") from None
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        columns = list(reader.fieldnames or [])
        if not columns:
            raise ValueError(f"{where}: has no header row")
        if len(set(columns)) != len(columns):
            raise ValueError(f"{where}: repeated column name(s) {sorted({c for c in columns if columns.count(c) > 1})}")
        rows = []
        for n, row in enumerate(reader, 1):
            if None in row or any(v is None for v in row.values()):
                raise ValueError(f"{where}: row {n} does not have one cell per column (the header has {len(columns)})")
            rows.append(row)
        return columns, rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: is not valid JSON: {err}") from None
    if isinstance(data, Mapping) and isinstance(data.get("columns"), list) and isinstance(data.get("rows"), list):
        columns = [str(c) for c in data["columns"]]
        rows = []
        for n, row in enumerate(data["rows"], 1):
            if not isinstance(row, list) or len(row) != len(columns):
                raise ValueError(f"{where}: row {n} must be a list of {len(columns)} cells, one per column")
            rows.append(dict(zip(columns, row)))
        return columns, rows
    if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        columns = list(dict.fromkeys(str(k) for row in data for k in row))
        return columns, [dict(row) for row in data]
    raise ValueError(f'{where}: expected a list of objects, or {{"columns": [...], "rows": [[...], ...]}}')


def _choice_columns(where: str, columns: list[str], choices: Any, metrics: Sequence[str] | None
                    ) -> tuple[list[str], dict[str, list[str]] | None]:
    """(choice columns, their declared options or None)."""
    options = None
    if isinstance(choices, Mapping):
        names = _names(where, "choices", list(choices))
        options = {}
        for c in names:
            values = choices[c]
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise ValueError(f"{where}: choices.{c}={values!r} must be a non-empty list of the column's options")
            texts = [_text(v) for v in values]
            if len(set(texts)) != len(texts):
                raise ValueError(f"{where}: choices.{c} repeats an option: {texts}")
            options[c] = texts
    elif choices is not None:
        names = _names(where, "choices", choices)
    elif metrics is not None:
        metric_names = set(_names(where, "metrics", metrics))
        names = [c for c in columns if c not in metric_names]
    else:
        names = [c for c in columns if c.startswith(CHOICE_PREFIX)]
        if not names:
            raise ValueError(f"{where}: which columns are the choices? Give choices: [...] (or metrics: [...]), or "
                             f"name the choice columns {CHOICE_PREFIX}*; the columns are {columns}")
    _present(where, "choices", names, columns)
    if not names:
        raise ValueError(f"{where}: no choice columns")
    return names, options


def _names(where: str, what: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {what}={value!r} must be a list of column names")
    if len(set(value)) != len(value):
        raise ValueError(f"{where}: {what}={list(value)} names a column twice")
    return list(value)


def _present(where: str, what: str, names: list[str], columns: list[str]) -> None:
    missing = [c for c in names if c not in columns]
    if missing:
        raise ValueError(f"{where}: {what} names column(s) {missing} that the table does not have; its columns: "
                         f"{columns}")


def _text(value: Any) -> str:
    """A choice cell as text: the same option whether the file or the config wrote it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _ordered(values: set[str]) -> list[str]:
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def _number(where: str, row: int, column: str, value: Any) -> float:
    if value is None or (isinstance(value, str) and value.strip() in _MISSING):
        return math.nan
    if isinstance(value, bool):
        raise ValueError(f"{where}: row {row}: metric {column!r} has {value!r}, not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: row {row}: metric {column!r} has {value!r}, not a number") from None

"""The files of a benchmark directory: written incrementally, read back safely.

``results.csv`` gets one line per finished task and ``predictions.csv`` the
out-of-fold scores of that task, each flushed as soon as it is written, so a
killed run loses at most the task in flight. A kill can leave half a line at
the end of a file; :func:`repair_csv` cuts it off before the run resumes.
A task counts as done once a *valid* line is in ``results.csv``: the one
reader, :func:`scan_results`, checks every line (field count, keys, finite
scores and timings of a fold that did not fail) and leaves out the others,
which the planner then computes again. Predictions are written before their
result line, so a task interrupted between the two is computed again and its
prediction rows, now present twice, are deduplicated on reading.

Text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return; a data file named
``=1+2.csv``) are written with a leading ``'`` (the OWASP "CSV injection"
convention) and read back without it, so that names still match on resume.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skfocal.benchmark._atomic import atomic_path, atomic_write_text, naming
from skfocal.benchmark._metrics import METRICS
from skfocal.benchmark._threshold import TUNED_METRICS

RESULTS_FILE = "results.csv"
PREDICTIONS_FILE = "predictions.csv"
CONFIG_FILE = "config.json"
#: Version of the layout of ``config.json``; another one cannot be resumed.
CONFIG_FORMAT = 1

KEY_COLUMNS = ["dataset", "method", "repeat", "fold"]
_COUNT_COLUMNS = ["n_train", "n_test"]
_TIME_COLUMNS = ["fit_time", "predict_time"]
_TEXT_COLUMNS = ["dataset", "method", "best_params", "note", "error"]
RESULT_COLUMNS = [
    *KEY_COLUMNS,
    *METRICS,
    *_TIME_COLUMNS,
    *_COUNT_COLUMNS,
    "best_params",
    "note",
    "error",
]
#: What a fold that did not fail must have, finite: every metric of
#: :data:`~skfocal.benchmark._metrics.METRICS` (so new metrics are checked
#: without a change here), the timings and the fold sizes. Tuned-threshold
#: metrics are the exception: they are NaN, by design, when the training fold
#: is too small to split (:func:`~skfocal.benchmark._threshold.tune_on_inner_split`).
REQUIRED_COLUMNS = [
    *(metric for metric in METRICS if metric not in TUNED_METRICS),
    *_TIME_COLUMNS,
    *_COUNT_COLUMNS,
]
PREDICTION_COLUMNS = [*KEY_COLUMNS, "row", "y_true", "score"]
_PREDICTION_INTEGERS = ["repeat", "fold", "row", "y_true"]

# OWASP: cells starting with these are formulas to Excel, LibreOffice and
# Google Sheets; "'" itself is escaped too, so that unescaping is exact.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"


class BenchmarkDirectoryError(ValueError):
    """The output directory cannot hold this run (other configuration, bad file)."""


def escape_text(value: str) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula.

    Examples
    --------
    >>> from skfocal.benchmark._store import escape_text, unescape_text
    >>> escape_text("=1+2"), escape_text("churn")
    ("'=1+2", 'churn')
    >>> unescape_text(escape_text("'quoted")) == "'quoted"
    True
    """
    if value.startswith((*_FORMULA_START, _ESCAPE)):
        return _ESCAPE + value
    return value


def unescape_text(value: str) -> str:
    """The text that :func:`escape_text` turned into ``value``."""
    return value[1:] if value.startswith(_ESCAPE) else value


def _map_text(frame: pd.DataFrame, function) -> pd.DataFrame:
    """``frame`` with ``function`` applied to its dataset and method cells."""
    frame = frame.copy()
    for column in ("dataset", "method"):
        frame[column] = frame[column].astype(str).map(function)
    return frame


def _cell(value: Any) -> Any:
    # Empty cells for missing numbers; csv writes floats with repr(), which
    # round-trips exactly, so resumed and fresh runs read back identical bits.
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, np.floating):
        return "" if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _header(path: Path) -> str:
    with path.open("rb") as fh:
        first = fh.readline()
    return first.decode("utf-8", errors="replace").rstrip("\r\n")


def repair_csv(path: Path, columns: list[str]) -> None:
    """Make ``path`` a CSV with header ``columns`` whose last line is complete.

    Creates the file with its header if it is missing or empty; cuts off a
    trailing partial line left by a killed writer. Reads only the first line
    and the end of the file, however large it is.

    Raises
    ------
    BenchmarkDirectoryError
        If the file has another header.
    """
    header = ",".join(columns)
    if not path.exists() or path.stat().st_size == 0:
        atomic_write_text(path, header + "\n")
        return
    with path.open("rb+") as fh:
        end = fh.seek(0, os.SEEK_END)
        fh.seek(end - 1)
        if fh.read(1) != b"\n":
            # Search backwards for the last complete line.
            position = end
            while position > 0:
                start = max(0, position - 65536)
                fh.seek(start)
                newline = fh.read(position - start).rfind(b"\n")
                if newline >= 0:
                    position = start + newline + 1
                    break
                position = start
            fh.truncate(position)
    if path.stat().st_size == 0:
        # Even the header was cut short.
        atomic_write_text(path, header + "\n")
    elif _header(path) != header:
        raise BenchmarkDirectoryError(
            f"'{path}' does not have the columns this version of skfocal writes "
            f"({', '.join(columns)}); use a new --output directory."
        )


def _csv_lines(text: str) -> Iterator[list[str]]:
    """The fields of every line of ``text``, each line parsed on its own.

    The writers never put a line break inside a field, so a damaged line (a
    stray quote) cannot swallow the lines after it, as it would if the text
    were parsed as one CSV stream.
    """
    for line in text.split("\n"):
        yield next(csv.reader([line.rstrip("\r")]), [])


def _parse_result(record: dict[str, str], required: list[str]) -> dict[str, Any] | None:
    """One ``results.csv`` line as typed values, or ``None`` if it is not valid."""
    row: dict[str, Any] = {}
    for column in RESULT_COLUMNS:
        text = record.get(column)
        if column in _TEXT_COLUMNS:
            row[column] = unescape_text(text or "")
        elif column in ("repeat", "fold", *_COUNT_COLUMNS):
            try:
                row[column] = int(text) if text else -1
            except ValueError:
                return None
        else:
            try:
                row[column] = float(text) if text else math.nan
            except ValueError:
                return None
    if not row["dataset"] or not row["method"] or min(row["repeat"], row["fold"]) < 0:
        return None
    if row["error"]:
        return row
    # A fold that did not fail has every required value: a line cut short,
    # or overwritten, does not.
    for column in required:
        value = row[column]
        if not math.isfinite(value):
            return None
        if column in _COUNT_COLUMNS and value <= 0:
            return None
    return row


def scan_results(path: Path) -> tuple[pd.DataFrame, int]:
    """Read ``results.csv``: its valid rows, one per task, and how many were not.

    The one reader of ``results.csv``. A line is valid if it has one field
    per column of its header, a dataset, a method and non-negative repeat
    and fold numbers, and, unless it records an error, finite values in
    :data:`REQUIRED_COLUMNS` that the header has (files written before a
    metric was added are still read). Invalid lines (NUL bytes from a crash,
    a line cut short, a stray fragment) are left out and counted. A task
    written twice keeps its last valid line.

    Parameters
    ----------
    path : pathlib.Path
        The file; a missing file has no rows.

    Returns
    -------
    results : pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`, text unescaped.
    n_invalid : int
        Lines left out.

    Raises
    ------
    BenchmarkDirectoryError
        If the header lacks the key columns.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfocal.benchmark._store import scan_results
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "results.csv"
    ...     _ = path.write_text("dataset,method,repeat,fold,error\\n"
    ...                         "d,ce,0,0,MemoryError\\n\\0\\0\\0\\n")
    ...     frame, n_invalid = scan_results(path)
    >>> frame[["dataset", "error"]].values.tolist(), n_invalid
    ([['d', 'MemoryError']], 1)
    """
    if not path.exists():
        return _typed(pd.DataFrame(columns=RESULT_COLUMNS)), 0
    # Invalid UTF-8 and NUL bytes (Python 3.10's csv rejects those) become
    # U+FFFD: such a line then fails the checks instead of the whole read.
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        text = fh.read().replace("\x00", "\ufffd")
    lines = _csv_lines(text)
    header = next(lines, [])
    if not set(KEY_COLUMNS) <= set(header):
        raise BenchmarkDirectoryError(
            f"'{path}' is not a benchmark results file (its first line lacks "
            f"the columns {', '.join(KEY_COLUMNS)}); use a new --output directory."
        )
    known = {column for column in header if column in RESULT_COLUMNS}
    # Columns the file predates (a metric added since) are not required.
    required = [column for column in REQUIRED_COLUMNS if column in known]
    rows: dict[tuple, dict[str, Any]] = {}
    n_invalid = 0
    for fields in lines:
        if not fields:
            continue
        row = None
        if len(fields) == len(header):
            record = {
                column: value
                for column, value in zip(header, fields, strict=True)
                if column in known
            }
            row = _parse_result(record, required)
        if row is None:
            n_invalid += 1
            continue
        key = tuple(row[column] for column in KEY_COLUMNS)
        rows.pop(key, None)
        rows[key] = row
    frame = pd.DataFrame(list(rows.values()), columns=RESULT_COLUMNS)
    return _typed(frame), n_invalid


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    integers = ["repeat", "fold", *_COUNT_COLUMNS]
    floats = [c for c in RESULT_COLUMNS if c not in integers + _TEXT_COLUMNS]
    frame = frame.astype({**dict.fromkeys(integers, "int64")})
    frame = frame.astype({**dict.fromkeys(floats, "float64")})
    frame = frame.astype({**dict.fromkeys(_TEXT_COLUMNS, object)})
    return frame.reset_index(drop=True)


def read_results(path: Path) -> pd.DataFrame:
    """The valid rows of ``results.csv``, one per task (see :func:`scan_results`)."""
    return scan_results(path)[0]


def write_results(path: Path, frame: pd.DataFrame) -> None:
    """Rewrite ``results.csv`` with the rows of ``frame``, atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in frame[RESULT_COLUMNS].itertuples(index=False):
        writer.writerow([_cell(value) for value in row])
    atomic_write_text(path, buffer.getvalue())


def scan_predictions(path: Path) -> tuple[pd.DataFrame, bool]:
    """The valid rows of ``predictions.csv``, and whether any line was not.

    A row (dataset, method, repeat, fold, row) written twice keeps its last
    line. Lines with a wrong field count, a non-integer key or a non-finite
    score are left out.
    """
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=PREDICTION_COLUMNS), False
    with path.open("rb") as fh:
        chunks = iter(lambda: fh.read(1 << 20), b"")
        n_lines = sum(chunk.count(b"\n") for chunk in chunks)
    try:
        frame = pd.read_csv(
            path,
            dtype={"dataset": str, "method": str},
            keep_default_na=False,
            na_values={c: [""] for c in PREDICTION_COLUMNS[2:]},
            on_bad_lines="skip",
            encoding_errors="replace",
        )
    except pd.errors.ParserError:
        # A stray quote makes the fast parser read to the end of the file;
        # then parse line by line (slower, and only for a damaged file).
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            lines = _csv_lines(fh.read().replace("\x00", "\ufffd"))
            header = next(lines, [])
            frame = pd.DataFrame(
                [fields for fields in lines if len(fields) == len(header)],
                columns=header,
            )
    if list(frame.columns) != PREDICTION_COLUMNS:
        raise BenchmarkDirectoryError(
            f"'{path}' does not have the columns this version of skfocal writes "
            f"({', '.join(PREDICTION_COLUMNS)}); use a new --output directory."
        )
    numbers = frame[PREDICTION_COLUMNS[2:]].apply(pd.to_numeric, errors="coerce")
    valid = (
        np.isfinite(numbers.to_numpy(dtype=float)).all(axis=1)
        & (frame["dataset"] != "")
        & (frame["method"] != "")
    )
    clean = (len(frame) == n_lines - 1) and bool(valid.all())
    frame = pd.concat(
        [
            _map_text(frame.loc[valid, ["dataset", "method"]], unescape_text),
            numbers.loc[valid].astype(
                {**dict.fromkeys(_PREDICTION_INTEGERS, "int64"), "score": "float64"}
            ),
        ],
        axis=1,
    )
    frame = frame.drop_duplicates([*KEY_COLUMNS, "row"], keep="last")
    return frame.reset_index(drop=True), not clean


def read_predictions(path: Path, done: pd.DataFrame) -> pd.DataFrame:
    """Read ``predictions.csv``, keeping the rows of tasks listed in ``done``."""
    frame = scan_predictions(path)[0]
    return frame.merge(done[KEY_COLUMNS], on=KEY_COLUMNS, how="inner")


def incomplete_predictions(
    predictions: pd.DataFrame, expected: pd.DataFrame
) -> list[tuple[str, str, int, int]]:
    """Tasks of ``expected`` whose out-of-fold scores are not all there.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Rows of ``predictions.csv`` (:func:`scan_predictions`).
    expected : pandas.DataFrame
        Results rows (key columns and ``n_test``) that must have one
        prediction per test row.

    Returns
    -------
    list of tuple
        Their keys.
    """
    counts = predictions.groupby(KEY_COLUMNS).size().rename("n_predicted")
    merged = expected[[*KEY_COLUMNS, "n_test"]].merge(
        counts.reset_index(), on=KEY_COLUMNS, how="left"
    )
    short = merged["n_predicted"].fillna(0).astype(int) != merged["n_test"]
    return [tuple(key) for key in merged.loc[short, KEY_COLUMNS].to_numpy().tolist()]


def write_predictions(path: Path, frame: pd.DataFrame) -> None:
    """Rewrite ``predictions.csv`` with the rows of ``frame``, atomically."""
    escaped = _map_text(frame[PREDICTION_COLUMNS], escape_text)
    with atomic_path(path) as partial:
        escaped.to_csv(partial, index=False, lineterminator="\n")


def task_keys(frame: pd.DataFrame) -> set[tuple[str, str, int, int]]:
    """The (dataset, method, repeat, fold) of every row of ``frame``."""
    return set(
        zip(
            frame["dataset"].astype(str),
            frame["method"].astype(str),
            frame["repeat"].astype(int),
            frame["fold"].astype(int),
            strict=True,
        )
    )


def _row_key(row: dict[str, Any]) -> tuple[str, str, int, int]:
    return (
        str(row["dataset"]),
        str(row["method"]),
        int(row["repeat"]),
        int(row["fold"]),
    )


class ResultWriter:
    """Append result and prediction lines, flushing after every task.

    Only the process that owns the directory writes (in a parallel or Dask
    run, the one that collects the results), and each task at most once: a
    row whose (dataset, method, repeat, fold) is in ``done`` (the tasks
    already in ``results.csv``) or was written through this writer is
    skipped, so that a result delivered twice cannot duplicate a line. A
    failed write (a full disk) raises an :class:`OSError` naming the file.

    Parameters
    ----------
    directory : pathlib.Path
        The benchmark directory, whose CSV files exist with their header.
    done : iterable of tuple, default=()
        Keys of the tasks already written.
    """

    def __init__(
        self, directory: Path, done: Iterable[tuple[str, str, int, int]] = ()
    ) -> None:
        self._written = set(done)
        self._paths = (directory / RESULTS_FILE, directory / PREDICTIONS_FILE)
        self._results = self._paths[0].open("a", encoding="utf-8", newline="")
        try:
            self._predictions = self._paths[1].open("a", encoding="utf-8", newline="")
        except BaseException:
            self._results.close()
            raise

    @staticmethod
    def _append(fh, path: Path, text: str) -> None:
        # One write call per task and file, so that a kill leaves at most one
        # partial line, at the end.
        try:
            fh.write(text)
            fh.flush()
        except OSError as exc:
            named = naming(exc, path)
            raise named from (None if named is exc else exc)

    def write(self, row: dict[str, Any], predictions: pd.DataFrame | None) -> bool:
        """Append ``row`` and its ``predictions``; ``False`` if already there."""
        key = _row_key(row)
        if key in self._written:
            return False
        if predictions is not None and len(predictions):
            escaped = _map_text(predictions[PREDICTION_COLUMNS], escape_text)
            buffer = io.StringIO()
            escaped.to_csv(buffer, header=False, index=False, lineterminator="\n")
            self._append(self._predictions, self._paths[1], buffer.getvalue())
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            [_cell(row.get(col, "")) for col in RESULT_COLUMNS]
        )
        self._append(self._results, self._paths[0], buffer.getvalue())
        self._written.add(key)
        return True

    def close(self) -> None:
        files = (self._predictions, self._results)
        for fh, path in zip(files, self._paths[::-1], strict=True):
            try:
                fh.close()
            except OSError as exc:
                # Closing flushes: a full disk can surface here too.
                named = naming(exc, path)
                raise named from (None if named is exc else exc)

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


_PROTOCOL_KEYS = {"folds": 2, "repeats": 1, "seed": 0, "max_epochs": 1, "tune": None}


def _config_problem(config: Any) -> str | None:
    """What makes ``config`` not a benchmark configuration, or ``None``."""
    if not isinstance(config, dict):
        return f"it holds a JSON {type(config).__name__}, not an object"
    if config.get("format") != CONFIG_FORMAT:
        return (
            f"its format is {config.get('format')!r}, not {CONFIG_FORMAT} "
            "(written by another version of skfocal?)"
        )
    protocol = config.get("protocol")
    if not isinstance(protocol, dict):
        return f"'protocol' is {protocol!r}, not an object"
    for key, low in _PROTOCOL_KEYS.items():
        value = protocol.get(key)
        if low is None:
            if not isinstance(value, bool):
                return f"'protocol.{key}' is {value!r}, not true or false"
        elif isinstance(value, bool) or not isinstance(value, int) or value < low:
            return f"'protocol.{key}' is {value!r}, not an integer >= {low}"
    datasets = config.get("datasets")
    if not isinstance(datasets, dict) or not all(
        isinstance(value, dict) for value in datasets.values()
    ):
        return "'datasets' is not an object of objects"
    for key in ("methods", "skfocal_versions"):
        value = config.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"'{key}' is not a list of strings"
    if not isinstance(config.get("mlp", {}), dict):
        return "'mlp' is not an object"
    return None


def read_config(directory: Path) -> dict | None:
    """The ``config.json`` of ``directory``, or ``None`` if there is none.

    Raises
    ------
    BenchmarkDirectoryError
        If the file is not JSON or not a benchmark configuration (wrong
        types, another format, nested too deeply).
    """
    path = directory / CONFIG_FILE
    if not path.exists():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problem = f"not JSON: {exc}"
    except RecursionError:
        problem = "nested too deeply"
    else:
        problem = _config_problem(config)
    if problem is not None:
        raise BenchmarkDirectoryError(
            f"'{path}' is not a valid benchmark configuration ({problem}); use a "
            "new --output directory."
        )
    return config


def write_config(directory: Path, config: dict) -> None:
    """Write ``config.json`` atomically (a kill never leaves half a file)."""
    atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2) + "\n")

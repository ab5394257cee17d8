"""The files of a benchmark directory: written incrementally, read back safely.

``results.csv`` gets one line per finished task and ``predictions.csv`` the
out-of-fold scores of that task, each flushed as soon as it is written, so a
killed run loses at most the task in flight. A kill can leave half a line at
the end of a file; :func:`repair_csv` cuts it off before the run resumes.
A task counts as done once its line is in ``results.csv``; its predictions
are written first, so a task interrupted between the two is computed again
and its prediction rows, now present twice, are deduplicated on reading. A
task that failed (an error row) is dropped by :func:`drop_failed_rows` and
computed again when the run resumes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skfocal.benchmark._metrics import METRICS

RESULTS_FILE = "results.csv"
PREDICTIONS_FILE = "predictions.csv"
CONFIG_FILE = "config.json"

KEY_COLUMNS = ["dataset", "method", "repeat", "fold"]
RESULT_COLUMNS = [
    *KEY_COLUMNS,
    *METRICS,
    "fit_time",
    "predict_time",
    "n_train",
    "n_test",
    "best_params",
    "note",
    "error",
]
_TEXT_COLUMNS = ["dataset", "method", "best_params", "note", "error"]
PREDICTION_COLUMNS = [*KEY_COLUMNS, "row", "y_true", "score"]


class BenchmarkDirectoryError(ValueError):
    """The output directory cannot hold this run (other configuration, bad file)."""


def _cell(value: Any) -> Any:
    # Empty cells for missing numbers; csv writes floats with repr(), which
    # round-trips exactly, so resumed and fresh runs read back identical bits.
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, np.floating):
        return "" if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def repair_csv(path: Path, columns: list[str]) -> None:
    """Make ``path`` a CSV with header ``columns`` whose last line is complete.

    Creates the file with its header if it is missing or empty; cuts off a
    trailing partial line left by a killed writer.

    Raises
    ------
    BenchmarkDirectoryError
        If the file has another header.
    """
    header = ",".join(columns) + "\n"
    if not path.exists() or path.stat().st_size == 0:
        path.write_text(header, encoding="utf-8")
        return
    with path.open("rb+") as fh:
        data = fh.read()
        if not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if not first:
        # Even the header was cut short.
        path.write_text(header, encoding="utf-8")
    elif first + "\n" != header:
        raise BenchmarkDirectoryError(
            f"'{path}' does not have the columns this version of skfocal writes "
            f"({', '.join(columns)}); use a new --output directory."
        )


def read_results(path: Path) -> pd.DataFrame:
    """Read ``results.csv``; a task written twice keeps its last line."""
    frame = pd.read_csv(
        path,
        dtype={col: str for col in _TEXT_COLUMNS},
        keep_default_na=False,
        na_values={col: [""] for col in RESULT_COLUMNS if col not in _TEXT_COLUMNS},
    )
    return frame.drop_duplicates(KEY_COLUMNS, keep="last").reset_index(drop=True)


def drop_failed_rows(path: Path, datasets: list[str], methods: list[str]) -> int:
    """Remove the error rows of ``datasets`` x ``methods`` from ``results.csv``.

    A fold that failed (an error row, NaN scores) is not done: resuming
    computes it again, which recovers from passing failures (memory, a killed
    worker) and picks up a fixed method. The file is rewritten atomically,
    and only when there is something to remove.

    Returns
    -------
    int
        How many rows were removed.
    """
    if not path.exists():
        return 0
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    failed = (
        (frame["error"] != "")
        & frame["dataset"].isin(datasets)
        & frame["method"].isin(methods)
    )
    n_failed = int(failed.sum())
    if n_failed:
        tmp = path.with_name(path.name + ".tmp")
        frame[~failed].to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
    return n_failed


def read_predictions(path: Path, done: pd.DataFrame) -> pd.DataFrame:
    """Read ``predictions.csv``, keeping the rows of tasks listed in ``done``."""
    if not path.exists():
        return pd.DataFrame(columns=PREDICTION_COLUMNS)
    frame = pd.read_csv(
        path, dtype={"dataset": str, "method": str}, keep_default_na=False
    )
    frame = frame.drop_duplicates([*KEY_COLUMNS, "row"], keep="last")
    return frame.merge(done[KEY_COLUMNS], on=KEY_COLUMNS, how="inner")


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
    row whose (dataset, method, repeat, fold) is already in ``results.csv``
    (or was written through this writer) is skipped, so that a result
    delivered twice cannot duplicate a line.
    """

    def __init__(self, directory: Path) -> None:
        results = directory / RESULTS_FILE
        self._written: set[tuple[str, str, int, int]] = set()
        if results.exists() and results.stat().st_size:
            done = read_results(results)
            self._written = set(
                zip(
                    done["dataset"].astype(str),
                    done["method"].astype(str),
                    done["repeat"].astype(int),
                    done["fold"].astype(int),
                    strict=True,
                )
            )
        self._results = results.open("a", encoding="utf-8", newline="")
        self._predictions = (directory / PREDICTIONS_FILE).open(
            "a", encoding="utf-8", newline=""
        )

    def write(self, row: dict[str, Any], predictions: pd.DataFrame | None) -> bool:
        """Append ``row`` and its ``predictions``; ``False`` if already there."""
        key = _row_key(row)
        if key in self._written:
            return False
        if predictions is not None and len(predictions):
            buffer = io.StringIO()
            predictions[PREDICTION_COLUMNS].to_csv(
                buffer, header=False, index=False, lineterminator="\n"
            )
            self._predictions.write(buffer.getvalue())
            self._predictions.flush()
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            [_cell(row.get(col, "")) for col in RESULT_COLUMNS]
        )
        # One write call per line, so that a kill leaves at most one partial
        # line, at the end.
        self._results.write(buffer.getvalue())
        self._results.flush()
        self._written.add(key)
        return True

    def close(self) -> None:
        self._predictions.close()
        self._results.close()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_config(directory: Path) -> dict | None:
    """The ``config.json`` of ``directory``, or ``None`` if there is none."""
    path = directory / CONFIG_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchmarkDirectoryError(
            f"'{path}' is not a valid configuration file ({exc}); use a new "
            "--output directory."
        ) from exc


def write_config(directory: Path, config: dict) -> None:
    """Write ``config.json`` atomically (a kill never leaves half a file)."""
    path = directory / CONFIG_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)

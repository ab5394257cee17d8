"""The task unit: load a dataset, fit one method on one fold, score it.

A task is one (dataset, method, repeat, fold). This module is a leaf of the
benchmark: the planner builds :class:`Task` objects, and the local runner
(:mod:`skfocal.benchmark._local`) and the Dask runner
(:mod:`skfocal.benchmark._dask`) both call :func:`run_task`, in this process,
in loky worker processes or on Dask workers. Neither runner imports the
other, and nothing here imports a runner.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV

from skfocal._decision import ThresholdRule
from skfocal.benchmark._methods import make_method
from skfocal.benchmark._metrics import METRICS, score_predictions
from skfocal.benchmark._store import PREDICTION_COLUMNS
from skfocal.benchmark._threshold import tune_on_inner_split
from skfocal.datasets import load_dataset, load_table

__all__ = [
    "DatasetSource",
    "LoadedDataset",
    "TableSource",
    "Task",
    "fingerprint",
    "load",
    "run_task",
    "task_seed",
]

# Long error messages (tracebacks of nested estimators) would bloat the CSV.
_MAX_ERROR_LENGTH = 300
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class TableSource:
    """A user's CSV/TSV/Parquet table as a benchmark dataset.

    Parameters
    ----------
    path : str
        The file; read with :func:`skfocal.datasets.load_table`.
    target : str
        The label column.
    name : str or None, default=None
        Name in the results; ``None`` uses the file name without extension.

    Examples
    --------
    >>> from skfocal.benchmark import TableSource
    >>> TableSource("data/churn.csv", "label").label
    'churn'
    """

    path: str
    target: str
    name: str | None = None

    @property
    def label(self) -> str:
        """The dataset's name in the results."""
        return self.name or Path(self.path).stem


DatasetSource = str | TableSource


@dataclass(frozen=True)
class LoadedDataset:
    """A loaded dataset with labels coded 0..C-1 (binary: minority is 1).

    ``dropped_missing_target`` lists the 0-based rows of a user's table that
    :func:`skfocal.datasets.load_table` dropped because their label is
    missing.
    """

    X: pd.DataFrame
    y: np.ndarray
    classes: tuple[str, ...]
    minority: int
    dropped_missing_target: tuple[int, ...] = ()


def encode_labels(labels: pd.Series) -> tuple[np.ndarray, tuple[str, ...], int]:
    """Integer codes of ``labels``, the class names, and the minority's code.

    Binary labels code the minority as 1, so that average precision and the
    predictions file always score the minority class.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark._task import encode_labels
    >>> codes, classes, minority = encode_labels(pd.Series(["yes", "no", "no"]))
    >>> codes.tolist(), classes, minority
    ([1, 0, 0], ('no', 'yes'), 1)
    """
    values, inverse, counts = np.unique(
        labels.to_numpy(dtype=object).astype(str),
        return_inverse=True,
        return_counts=True,
    )
    # Rarest class; among equally rare ones the last, so the choice is stable.
    minority = int(len(counts) - 1 - np.argmin(counts[::-1]))
    if len(values) == 2:
        codes = (inverse == minority).astype(np.int64)
        classes = (str(values[1 - minority]), str(values[minority]))
        return codes, classes, 1
    return inverse.astype(np.int64), tuple(str(v) for v in values), minority


def load(source: DatasetSource) -> LoadedDataset:
    """Load and encode a bundled dataset or a user's table (cached per process).

    Examples
    --------
    >>> from skfocal.benchmark._task import load
    >>> data = load("ecoli3")
    >>> data.classes, data.minority, len(data.y) == len(data.X)
    (('0', '1'), 1, True)
    """
    stamp = None
    if isinstance(source, TableSource) and Path(source.path).is_file():
        # A file rewritten in place must not be served from the cache.
        stat = Path(source.path).stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    return _load_cached(source, stamp)


def _dropped_rows(*frames: Any) -> tuple[int, ...]:
    # skfocal.datasets.load_table records the rows it dropped for a missing
    # target in DataFrame.attrs["dropped_missing_target"].
    for frame in frames:
        rows = getattr(frame, "attrs", {}).get("dropped_missing_target")
        if rows:
            return tuple(int(row) for row in rows)
    return ()


@functools.lru_cache(maxsize=4)
def _load_cached(source: DatasetSource, stamp: tuple[int, int] | None) -> LoadedDataset:
    # Cached per process: loky workers load each dataset once, instead of
    # receiving a pickled copy of the table with every task.
    if isinstance(source, TableSource):
        X, labels = load_table(source.path, source.target)
    else:
        X, labels = load_dataset(source)
    y, classes, minority = encode_labels(labels)
    return LoadedDataset(X, y, classes, minority, _dropped_rows(X, labels))


def fingerprint(source: DatasetSource) -> dict[str, str]:
    """What identifies a dataset's data in ``config.json``.

    Examples
    --------
    >>> from skfocal.benchmark._task import fingerprint
    >>> fingerprint("ecoli3")
    {'source': 'bundled'}
    """
    if isinstance(source, TableSource):
        digest = hashlib.sha256()
        with Path(source.path).open("rb") as fh:
            for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
                digest.update(chunk)
        return {
            "source": "file",
            "path": str(Path(source.path).resolve()),
            "target": source.target,
            "sha256": digest.hexdigest(),
        }
    return {"source": "bundled"}


def task_seed(seed: int, dataset: str, repeat: int, fold: int) -> int:
    """The random state of every method on one fold of one dataset.

    The same for every method on a fold (paired comparison: same initial
    weights, same sampler draws), different across folds and datasets.
    crc32, unlike :func:`hash`, does not change between processes.

    Examples
    --------
    >>> from skfocal.benchmark._task import task_seed
    >>> task_seed(0, "ecoli3", 0, 1) == task_seed(0, "ecoli3", 0, 1)
    True
    """
    entropy = [seed, zlib.crc32(dataset.encode()), repeat, fold]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


@dataclass(frozen=True)
class Task:
    """One method on one fold of one dataset."""

    source: DatasetSource
    dataset: str
    method: str
    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray
    random_state: int
    max_epochs: int
    tune: bool

    @property
    def key(self) -> tuple[str, str, int, int]:
        """(dataset, method, repeat, fold), as in ``results.csv``."""
        return (self.dataset, self.method, self.repeat, self.fold)


def _short_error(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text[:_MAX_ERROR_LENGTH]


def _fitted_pipeline(model):
    return model.best_estimator_ if isinstance(model, GridSearchCV) else model


def _tuned_rules(
    build: Callable[[], Any], X_train: pd.DataFrame, y_train: np.ndarray, task: Task
) -> tuple[dict[str, ThresholdRule], str]:
    """Decision rules tuned on the training fold alone, and a note.

    A fresh copy of the method is fitted on part of the training fold
    (:func:`~skfocal.benchmark._threshold.tune_on_inner_split`); the test
    fold is not an argument, so it cannot leak into the rules. If that inner
    fit fails, the tuned metrics are NaN and the fold's other scores stand.
    """
    try:
        return tune_on_inner_split(build, X_train, y_train, seed=task.random_state), ""
    except Exception as exc:
        return {}, f"threshold tuning failed ({_short_error(exc)})"


def run_task(
    task: Task, data: LoadedDataset | None = None
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Fit and score one method on one fold; errors become an error row.

    Parameters
    ----------
    task : Task
        What to compute.
    data : LoadedDataset or None, default=None
        The loaded dataset when the caller ships it (a Dask run sends a user
        table to the cluster, whose workers may not see the file); ``None``
        loads ``task.source`` in this process.

    Returns
    -------
    row : dict
        The task's ``results.csv`` row.
    predictions : pandas.DataFrame or None
        Out-of-fold scores of the minority class (first repeat of a binary
        dataset), else ``None``.
    """
    if data is None:
        data = load(task.source)
    row: dict[str, Any] = {
        "dataset": task.dataset,
        "method": task.method,
        "repeat": task.repeat,
        "fold": task.fold,
        **dict.fromkeys(METRICS, math.nan),
        "fit_time": math.nan,
        "predict_time": math.nan,
        "n_train": len(task.train),
        "n_test": len(task.test),
        "best_params": "",
        "note": "",
        "error": "",
    }
    predictions = None
    # One torch thread per task: tasks run in parallel processes, and with 2
    # threads per small MLP on a loaded machine training was much slower.
    # Fixed in every process so that results do not depend on --n-jobs.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X_train, y_train = data.X.iloc[task.train], data.y[task.train]
        X_test, y_test = data.X.iloc[task.test], data.y[task.test]

        def build():
            return make_method(
                task.method,
                data.X,
                random_state=task.random_state,
                max_epochs=task.max_epochs,
                tune=task.tune,
                n_train=len(task.train),
            )

        model = build()
        with warnings.catch_warnings():
            # Convergence and small-fold warnings of hundreds of fits would
            # bury the progress bar; the scores speak for themselves.
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            model.fit(X_train, y_train)
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            proba = model.predict_proba(X_test)
            predict_time = time.perf_counter() - start
            # The decision metrics score the model's own rule (a threshold
            # parameter, for instance), not the argmax of its probabilities.
            y_pred = model.predict(X_test)
            rules, tuning_note = _tuned_rules(build, X_train, y_train, task)
            scores = score_predictions(
                y_test, proba, data.minority, rules=rules, y_pred=y_pred
            )
        row.update(scores, fit_time=fit_time, predict_time=predict_time)
        if isinstance(model, GridSearchCV):
            row["best_params"] = ";".join(
                f"{key.split('__', 1)[1]}={value}"
                for key, value in sorted(model.best_params_.items())
            )
        sampler = _fitted_pipeline(model).named_steps.get("sampler")
        row["note"] = "; ".join(
            text for text in (getattr(sampler, "note_", ""), tuning_note) if text
        )
        if task.repeat == 0 and len(data.classes) == 2:
            predictions = pd.DataFrame(
                {
                    "dataset": task.dataset,
                    "method": task.method,
                    "repeat": task.repeat,
                    "fold": task.fold,
                    "row": task.test,
                    "y_true": y_test,
                    "score": proba[:, 1],
                },
                columns=PREDICTION_COLUMNS,
            )
    except Exception as exc:
        # One failing fold (a sampler that cannot run on it, a diverged fit)
        # must not end the run: it is recorded with NaN scores instead.
        row["error"] = _short_error(exc)
    finally:
        torch.set_num_threads(threads)
    return row, predictions

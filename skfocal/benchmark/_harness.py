"""The cross-validation loop: plan the tasks, run what is missing, record it.

A task is one (dataset, method, repeat, fold). Every method sees the same
folds (:class:`~sklearn.model_selection.RepeatedStratifiedKFold` seeded with
``seed``) and, on a given fold, the same random state, so the comparison is
paired. Finished tasks are appended to ``results.csv`` at once; running the
same benchmark again on the same directory computes only the missing ones.
Tasks run in this process, in loky worker processes (``n_jobs``) or on a
Dask cluster (``client``, :mod:`skfocal.benchmark._dask`); results are always
written here, by the same code.
"""

from __future__ import annotations

import functools
import hashlib
import math
import signal
import sys
import threading
import time
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold
from tqdm import tqdm

from skfocal import __version__
from skfocal.benchmark._methods import (
    DEFAULT_METHODS,
    EARLY_STOPPING_MIN_ROWS,
    METHODS,
    MLP_DEFAULTS,
    make_method,
)
from skfocal.benchmark._metrics import METRICS, score_predictions
from skfocal.benchmark._store import (
    CONFIG_FILE,
    PREDICTION_COLUMNS,
    PREDICTIONS_FILE,
    RESULT_COLUMNS,
    RESULTS_FILE,
    BenchmarkDirectoryError,
    ResultWriter,
    drop_failed_rows,
    read_config,
    read_results,
    repair_csv,
    write_config,
)
from skfocal.datasets import get_suite, load_dataset, load_table, make_preprocessor

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "BenchmarkPlan",
    "TableSource",
    "plan_benchmark",
]

#: Epochs of every MLP when ``max_epochs`` is not given: half the estimators'
#: default of 100, which would double the cost of the MLP methods (most of a
#: run) while changing the mean average precision of the quick suite's
#: datasets by less than 0.05 in our measurements.
DEFAULT_MAX_EPOCHS = 50
_CONFIG_FORMAT = 1
# Long error messages (tracebacks of nested estimators) would bloat the CSV.
_MAX_ERROR_LENGTH = 300


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
    """

    path: str
    target: str
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or Path(self.path).stem


DatasetSource = str | TableSource


@dataclass(frozen=True)
class _Dataset:
    """A loaded dataset with labels coded 0..C-1 (binary: minority is 1)."""

    X: pd.DataFrame
    y: np.ndarray
    classes: tuple[str, ...]
    minority: int


def _encode_labels(labels: pd.Series) -> tuple[np.ndarray, tuple[str, ...], int]:
    values, inverse, counts = np.unique(
        labels.to_numpy(dtype=object).astype(str),
        return_inverse=True,
        return_counts=True,
    )
    # Rarest class; among equally rare ones the last, so the choice is stable.
    minority = int(len(counts) - 1 - np.argmin(counts[::-1]))
    if len(values) == 2:
        # Binary: code the minority as 1 so that average precision and the
        # predictions file always score the minority class.
        codes = (inverse == minority).astype(np.int64)
        classes = (str(values[1 - minority]), str(values[minority]))
        return codes, classes, 1
    return inverse.astype(np.int64), tuple(str(v) for v in values), minority


def _load(source: DatasetSource) -> _Dataset:
    stamp = None
    if isinstance(source, TableSource) and Path(source.path).is_file():
        # A file rewritten in place must not be served from the cache.
        stat = Path(source.path).stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    return _load_cached(source, stamp)


@functools.lru_cache(maxsize=4)
def _load_cached(source: DatasetSource, stamp: tuple[int, int] | None) -> _Dataset:
    # Cached per process: loky workers load each dataset once, instead of
    # receiving a pickled copy of the table with every task.
    if isinstance(source, TableSource):
        X, labels = load_table(source.path, source.target)
    else:
        X, labels = load_dataset(source)
    y, classes, minority = _encode_labels(labels)
    return _Dataset(X, y, classes, minority)


def _fingerprint(source: DatasetSource) -> dict[str, str]:
    if isinstance(source, TableSource):
        digest = hashlib.sha256(Path(source.path).read_bytes()).hexdigest()
        return {
            "source": "file",
            "path": str(Path(source.path).resolve()),
            "target": source.target,
            "sha256": digest,
        }
    return {"source": "bundled"}


def _task_seed(seed: int, dataset: str, repeat: int, fold: int) -> int:
    # The same for every method on a fold (paired comparison: same initial
    # weights, same sampler draws), different across folds and datasets.
    # crc32, unlike hash(), does not change between processes.
    entropy = [seed, zlib.crc32(dataset.encode()), repeat, fold]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


@dataclass(frozen=True)
class _Task:
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


def _short_error(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text[:_MAX_ERROR_LENGTH]


def _fitted_pipeline(model):
    return model.best_estimator_ if isinstance(model, GridSearchCV) else model


def _run_task(
    task: _Task, data: _Dataset | None = None
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Fit and score one method on one fold; errors become an error row.

    ``data`` is the loaded dataset when the caller ships it (a Dask run
    sends a user table to the cluster, whose workers may not see the file);
    ``None`` loads ``task.source`` in this process.
    """
    if data is None:
        data = _load(task.source)
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
        model = make_method(
            task.method,
            data.X,
            random_state=task.random_state,
            max_epochs=task.max_epochs,
            tune=task.tune,
            n_train=len(task.train),
        )
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
            scores = score_predictions(y_test, proba, data.minority)
        row.update(scores, fit_time=fit_time, predict_time=predict_time)
        if isinstance(model, GridSearchCV):
            row["best_params"] = ";".join(
                f"{key.split('__', 1)[1]}={value}"
                for key, value in sorted(model.best_params_.items())
            )
        sampler = _fitted_pipeline(model).named_steps.get("sampler")
        row["note"] = getattr(sampler, "note_", "")
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


class _InterruptGuard:
    """Remember a Ctrl-C even when a library swallows the KeyboardInterrupt.

    skorch catches KeyboardInterrupt in its training loop and returns the
    half-trained net as if training had finished; without this guard the
    interrupted fold would be scored and written as a normal result. The
    handler still raises KeyboardInterrupt (to stop training at once) and
    also sets a flag that :meth:`check` turns into an exception once the
    task returns, so the task's result is dropped and recomputed on resume.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._installed = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    def __enter__(self) -> _InterruptGuard:
        # Signal handlers can only be set from the main thread; elsewhere
        # the guard does nothing. A process that ignores SIGINT (started in
        # the background by a shell) keeps ignoring it.
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if current is not signal.SIG_IGN:
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous or signal.SIG_DFL)
            self._installed = False


def _resolve_sources(datasets: Sequence[DatasetSource] | str) -> list[DatasetSource]:
    if isinstance(datasets, str):
        return list(get_suite(datasets))
    sources: list[DatasetSource] = []
    for item in datasets:
        sources.extend([item] if isinstance(item, TableSource) else get_suite(item))
    return sources


def _check_methods(methods: Sequence[str]) -> list[str]:
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise ValueError(
            f"Unknown method(s) {', '.join(map(repr, unknown))}. "
            f"Available: {', '.join(METHODS)}"
        )
    if not methods:
        raise ValueError(f"No method given. Available: {', '.join(METHODS)}")
    return list(dict.fromkeys(methods))


@dataclass
class BenchmarkPlan:
    """A validated benchmark: its directory, its grid and the tasks still to do.

    Built by :func:`plan_benchmark`; :meth:`run` computes the missing tasks.

    Attributes
    ----------
    output : pathlib.Path
        The benchmark directory.
    datasets : list of str
        Dataset names, in order.
    methods : list of str
        Method names, in order.
    config : dict
        What ``config.json`` holds.
    n_total : int
        Tasks of this grid (datasets x methods x repeats x folds).
    n_done : int
        Of those, already in ``results.csv``.
    n_retried : int
        Failed tasks of an earlier run (error rows), removed from
        ``results.csv`` to be computed again.
    """

    output: Path
    datasets: list[str]
    methods: list[str]
    config: dict
    n_total: int
    n_done: int
    _tasks: list[_Task] = field(repr=False)
    n_retried: int = 0

    @property
    def n_missing(self) -> int:
        """Tasks still to compute."""
        return len(self._tasks)

    def run(
        self,
        *,
        n_jobs: int = 1,
        progress: bool = True,
        client: Any = None,
        retries: int = 2,
    ) -> pd.DataFrame:
        """Compute the missing tasks and return the results of this grid.

        Each finished task is appended to ``results.csv`` (and its out-of-fold
        scores to ``predictions.csv``) before the next one is reported, so an
        interruption (KeyboardInterrupt, a killed process) keeps everything
        finished so far. Only this process writes, once per task.

        Parameters
        ----------
        n_jobs : int, default=1
            Tasks run in parallel processes (joblib's loky backend); ``-1``
            uses every CPU. Results do not depend on it. Ignored with
            ``client``.
        progress : bool, default=True
            Show a progress bar with an ETA on stderr.
        client : distributed.Client or None, default=None
            Run the tasks on this Dask cluster instead (needs the ``dask``
            extra). Results stream back as tasks finish and are written here,
            by this process; the numbers are those of a local run. A task
            whose worker dies is rescheduled on another worker by the
            scheduler (up to its ``allowed-failures`` setting).
        retries : int, default=2
            With ``client``: how many times a task that raised on a worker
            (for example while unpickling it) is resubmitted. Errors of the
            method itself (a sampler that fails on a fold) are not retried:
            they become error rows, as in a local run.

        Returns
        -------
        pandas.DataFrame
            The rows of ``results.csv`` for this plan's datasets and methods.

        Raises
        ------
        RuntimeError
            With ``client``, if some tasks could not be computed on the
            cluster (for example because every worker that ran them died).
            The other results are written; running again computes the rest.

        Examples
        --------
        On a Dask cluster (see the "Scaling out with Dask" page):

        >>> from distributed import Client  # doctest: +SKIP
        >>> with Client("tcp://scheduler:8786") as client:  # doctest: +SKIP
        ...     results = plan.run(client=client)
        """
        bar = tqdm(
            total=self.n_total,
            initial=self.n_done,
            desc="skfocal benchmark",
            unit="fold",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        )
        written: set[tuple[str, str, int, int]] = set()
        try:
            with _InterruptGuard() as guard, ResultWriter(self.output) as writer, bar:
                for row, predictions in self._results(n_jobs, client, retries):
                    guard.check()
                    if not writer.write(row, predictions):
                        continue
                    written.add(
                        (row["dataset"], row["method"], row["repeat"], row["fold"])
                    )
                    bar.set_postfix_str(
                        f"{row['dataset']} {row['method']}", refresh=False
                    )
                    bar.update()
        finally:
            # After an interruption or failed tasks, what is left to do.
            self._tasks = [
                task
                for task in self._tasks
                if (task.dataset, task.method, task.repeat, task.fold) not in written
            ]
            self.n_done = self.n_total - len(self._tasks)
        return self.results()

    def _results(
        self, n_jobs: int, client: Any = None, retries: int = 2
    ) -> Iterator[tuple[dict, pd.DataFrame | None]]:
        if client is not None:
            from skfocal.benchmark._dask import run_on_cluster

            yield from run_on_cluster(client, self._tasks, retries=retries)
            return
        if n_jobs == 1 or len(self._tasks) <= 1:
            for task in self._tasks:
                yield _run_task(task)
            return
        with Parallel(n_jobs=n_jobs, return_as="generator_unordered") as parallel:
            yield from parallel(delayed(_run_task)(task) for task in self._tasks)

    def results(self) -> pd.DataFrame:
        """The rows of ``results.csv`` for this grid, in grid order."""
        frame = read_results(self.output / RESULTS_FILE)
        frame = frame[
            frame["dataset"].isin(self.datasets) & frame["method"].isin(self.methods)
        ]
        order = {
            "dataset": {name: i for i, name in enumerate(self.datasets)},
            "method": {name: i for i, name in enumerate(self.methods)},
        }
        return frame.sort_values(
            ["dataset", "method", "repeat", "fold"],
            key=lambda col: col.map(order[col.name]) if col.name in order else col,
        ).reset_index(drop=True)


def _differences(stored: dict, current: dict) -> list[str]:
    """``"key <stored> there, <current> now"`` for every key whose value differs."""
    return [
        f"{key} {stored.get(key)!r} there, {current.get(key)!r} now"
        for key in dict.fromkeys([*current, *stored])
        if stored.get(key) != current.get(key)
    ]


def _merge_config(output: Path, config: dict) -> dict:
    """Check ``config`` against the directory's, return what to store.

    The protocol (folds, repeats, seed, epochs, tuning) and the MLP settings
    must match exactly, since mixing them would make the rows incomparable.
    New datasets and methods may be added: their tasks use the same folds and
    seeds, so the extended grid is what one run with all of them would have
    produced. The skfocal versions that wrote to the directory are listed.
    """
    previous = read_config(output)
    if previous is None:
        if (output / RESULTS_FILE).exists():
            raise BenchmarkDirectoryError(
                f"'{output}' holds a {RESULTS_FILE} but no {CONFIG_FILE}, so it "
                "cannot be resumed safely; use a new --output directory."
            )
        return config
    if previous.get("format") != _CONFIG_FORMAT:
        raise BenchmarkDirectoryError(
            f"'{output / CONFIG_FILE}' was written by another version of the "
            "benchmark; use a new --output directory."
        )
    differences = _differences(previous["protocol"], config["protocol"])
    if differences:
        raise BenchmarkDirectoryError(
            f"'{output}' holds a benchmark with another configuration "
            f"({'; '.join(differences)}); rerun with the same options to resume, "
            "or choose a new --output directory."
        )
    # Directories written before the MLP settings were recorded have none.
    changed = _differences(previous.get("mlp", config["mlp"]), config["mlp"])
    if changed:
        raise BenchmarkDirectoryError(
            f"'{output}' was computed with other MLP settings "
            f"({'; '.join(changed)}) by skfocal "
            f"{', '.join(previous.get('skfocal_versions', ['(unknown)']))}; "
            "choose a new --output directory."
        )
    for name, fingerprint in config["datasets"].items():
        stored = previous["datasets"].get(name)
        if stored is None:
            continue
        same = {k: v for k, v in stored.items() if k != "path"} == {
            k: v for k, v in fingerprint.items() if k != "path"
        }
        if not same:
            raise BenchmarkDirectoryError(
                f"Dataset {name!r} in '{output}' came from other data "
                f"({stored.get('path', 'bundled')}); rename the file or choose a "
                "new --output directory."
            )
    return {
        **previous,
        "mlp": config["mlp"],
        "skfocal_versions": list(
            dict.fromkeys(
                [*previous.get("skfocal_versions", []), *config["skfocal_versions"]]
            )
        ),
        "datasets": {**previous["datasets"], **config["datasets"]},
        "methods": list(dict.fromkeys([*previous["methods"], *config["methods"]])),
    }


def plan_benchmark(
    datasets: Sequence[DatasetSource] | str = "default",
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    output: str | Path = "benchmark-results",
    n_splits: int = 5,
    n_repeats: int = 2,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    tune: bool = False,
    seed: int = 0,
) -> BenchmarkPlan:
    """Validate a benchmark, prepare its directory and list the missing tasks.

    Loads every dataset (to check it and build its folds), creates ``output``,
    writes or checks ``config.json``, and repairs ``results.csv`` and
    ``predictions.csv`` after an interrupted run (a trailing partial line is
    cut off). Folds that failed in an earlier run (error rows) are removed
    from ``results.csv`` and planned again. Nothing is fitted.

    Parameters
    ----------
    datasets : str or sequence of (str or TableSource), default="default"
        A suite or dataset names (anything
        :func:`skfocal.datasets.get_suite` accepts) and user tables.
    methods : sequence of str, default=DEFAULT_METHODS
        Keys of :data:`METHODS`.
    output : str or path-like, default="benchmark-results"
        The benchmark directory, created if needed.
    n_splits : int, default=5
        Folds per repeat, at least 2; every class needs at least this many
        rows.
    n_repeats : int, default=2
        Repeats of the cross-validation, with other shuffles.
    max_epochs : int, default=DEFAULT_MAX_EPOCHS
        Training budget of every MLP.
    tune : bool, default=False
        Grid-search each method's hyperparameters inside every outer fold.
    seed : int, default=0
        Seeds the folds and every random state: the same seed gives the same
        numbers.

    Returns
    -------
    BenchmarkPlan

    Raises
    ------
    ValueError
        For an unknown dataset or method, a bad number, a dataset with a class
        smaller than ``n_splits``, or a directory made with another
        configuration (:class:`BenchmarkDirectoryError`).
    FileNotFoundError, PermissionError
        For a missing table or an unwritable directory.

    Examples
    --------
    >>> import tempfile
    >>> from skfocal.benchmark import plan_benchmark
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plan = plan_benchmark("ecoli3", ["ce", "rus"], output=tmp, n_splits=2,
    ...                           n_repeats=1, max_epochs=2)
    ...     results = plan.run(progress=False)
    >>> plan.n_total, len(results), bool(results["error"].eq("").all())
    (4, 4, True)
    """
    for label, value, low in (
        ("n_splits", n_splits, 2),
        ("n_repeats", n_repeats, 1),
        ("max_epochs", max_epochs, 1),
        ("seed", seed, 0),
    ):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}; got {value!r}.")
    methods = _check_methods(list(methods))
    sources = _resolve_sources(datasets)
    names = [s.label if isinstance(s, TableSource) else s for s in sources]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(
            f"Two datasets are named {', '.join(map(repr, duplicated))}; give the "
            "files different names."
        )
    loaded = {}
    for name, source in zip(names, sources, strict=True):
        data = _load(source)
        try:
            # Unsupported columns (dates, ...) would fail every fold; say so now.
            make_preprocessor(data.X)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Dataset {name!r}: {exc}") from exc
        smallest = int(np.bincount(data.y).min())
        if smallest < n_splits:
            rare = data.classes[int(np.argmin(np.bincount(data.y)))]
            raise ValueError(
                f"Dataset {name!r}: class {rare!r} has {smallest} row(s), fewer "
                f"than the {n_splits} folds; lower --folds or drop that class."
            )
        loaded[name] = data
    config = {
        "format": _CONFIG_FORMAT,
        "protocol": {
            "folds": int(n_splits),
            "repeats": int(n_repeats),
            "seed": int(seed),
            "max_epochs": int(max_epochs),
            "tune": bool(tune),
        },
        # What else decides the numbers; JSON has lists, not tuples.
        "mlp": {
            **{
                key: list(value) if isinstance(value, tuple) else value
                for key, value in MLP_DEFAULTS.items()
            },
            "early_stopping_min_rows": EARLY_STOPPING_MIN_ROWS,
        },
        "skfocal_versions": [__version__],
        "datasets": {
            name: _fingerprint(source)
            for name, source in zip(names, sources, strict=True)
        },
        "methods": methods,
    }
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise BenchmarkDirectoryError(f"Output '{output}' exists and is not a folder.")
    output.mkdir(parents=True, exist_ok=True)
    config = _merge_config(output, config)
    write_config(output, config)
    repair_csv(output / RESULTS_FILE, RESULT_COLUMNS)
    repair_csv(output / PREDICTIONS_FILE, PREDICTION_COLUMNS)
    n_retried = drop_failed_rows(output / RESULTS_FILE, names, methods)
    done = read_results(output / RESULTS_FILE)
    done_keys = set(
        zip(done["dataset"], done["method"], done["repeat"], done["fold"], strict=True)
    )
    tasks: list[_Task] = []
    n_done = 0
    for name, source in zip(names, sources, strict=True):
        splitter = RepeatedStratifiedKFold(
            n_splits=n_splits, n_repeats=n_repeats, random_state=seed
        )
        splits = list(splitter.split(np.zeros(len(loaded[name].y)), loaded[name].y))
        for method in methods:
            for index, (train, test) in enumerate(splits):
                repeat, fold = divmod(index, n_splits)
                if (name, method, repeat, fold) in done_keys:
                    n_done += 1
                    continue
                tasks.append(
                    _Task(
                        source=source,
                        dataset=name,
                        method=method,
                        repeat=repeat,
                        fold=fold,
                        train=train,
                        test=test,
                        random_state=_task_seed(seed, name, repeat, fold),
                        max_epochs=int(max_epochs),
                        tune=bool(tune),
                    )
                )
    return BenchmarkPlan(
        output=output,
        datasets=names,
        methods=methods,
        config=config,
        n_total=n_done + len(tasks),
        n_done=n_done,
        _tasks=tasks,
        n_retried=n_retried,
    )

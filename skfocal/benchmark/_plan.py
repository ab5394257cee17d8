"""Plan a benchmark, then run what is missing.

Every method sees the same folds
(:class:`~sklearn.model_selection.RepeatedStratifiedKFold` seeded with
``seed``) and, on a given fold, the same random state, so the comparison is
paired. Finished tasks are appended to ``results.csv`` at once; running the
same benchmark again on the same directory computes only the missing ones,
and the ones whose rows are not valid. Tasks run in this process, in loky
worker processes (:mod:`skfocal.benchmark._local`) or on a Dask cluster
(:mod:`skfocal.benchmark._dask`); results are always written here, by the
same code, while this process holds the directory's lock.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold
from tqdm import tqdm

from skfocal.benchmark._config import build_config, merge_config
from skfocal.benchmark._dask import DEFAULT_WORKER_TIMEOUT, run_on_cluster
from skfocal.benchmark._interrupt import InterruptGuard
from skfocal.benchmark._local import run_locally
from skfocal.benchmark._lock import LOCK_FILE, directory_lock, remove_if_unused
from skfocal.benchmark._methods import (
    DEFAULT_METHODS,
    METHODS,
    OPTIONAL_METHODS,
    parse_method,
)
from skfocal.benchmark._store import (
    KEY_COLUMNS,
    PREDICTION_COLUMNS,
    PREDICTIONS_FILE,
    RESULT_COLUMNS,
    RESULTS_FILE,
    BenchmarkDirectoryError,
    ResultWriter,
    incomplete_predictions,
    read_results,
    repair_csv,
    scan_predictions,
    scan_results,
    task_keys,
    write_config,
    write_predictions,
    write_results,
)
from skfocal.benchmark._task import (
    DatasetSource,
    LoadedDataset,
    TableSource,
    Task,
    fingerprint,
    load,
    task_seed,
)
from skfocal.datasets import get_suite, make_preprocessor

__all__ = ["DEFAULT_MAX_EPOCHS", "BenchmarkPlan", "plan_benchmark"]

#: Epochs of every MLP when ``max_epochs`` is not given: half the estimators'
#: default of 100, which would double the cost of the MLP methods (most of a
#: run) while changing the mean average precision of the quick suite's
#: datasets by less than 0.05 in our measurements.
DEFAULT_MAX_EPOCHS = 50


def _resolve_sources(datasets: Sequence[DatasetSource] | str) -> list[DatasetSource]:
    if isinstance(datasets, str):
        return list(get_suite(datasets))
    sources: list[DatasetSource] = []
    for item in datasets:
        sources.extend([item] if isinstance(item, TableSource) else get_suite(item))
    return sources


def _check_methods(methods: Sequence[str]) -> list[str]:
    for name in methods:
        if "[" in name:
            parse_method(name)  # a variant, 'focal[threshold=prior]'
    unknown = [name for name in methods if name not in METHODS and "[" not in name]
    if unknown:
        raise ValueError(
            f"Unknown method(s) {', '.join(map(repr, unknown))}. "
            f"Available: {', '.join(METHODS)}"
        )
    if not methods:
        raise ValueError(f"No method given. Available: {', '.join(METHODS)}")
    # An optional method's library (named like the method and its extra) is
    # checked before any dataset loads, not in every fold.
    for name in {parse_method(name)[0] for name in methods} & set(OPTIONAL_METHODS):
        if importlib.util.find_spec(name) is None:
            raise ImportError(
                f"The {name!r} method needs the {name} package, which is not "
                f'installed: pip install "skfocal[{name}]"'
            )
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
    n_invalid : int
        Lines of ``results.csv`` that were not valid (cut short, corrupted)
        and tasks whose out-of-fold predictions were incomplete: removed, and
        their tasks computed again.
    dropped_rows : dict
        Dataset name to the 0-based rows of the user's table dropped because
        their target is missing (only datasets with such rows).
    """

    output: Path
    datasets: list[str]
    methods: list[str]
    config: dict
    n_total: int
    n_done: int
    _tasks: list[Task] = field(repr=False)
    n_retried: int = 0
    n_invalid: int = 0
    dropped_rows: dict[str, tuple[int, ...]] = field(default_factory=dict)

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
        worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
    ) -> pd.DataFrame:
        """Compute the missing tasks and return the results of this grid.

        Each finished task is appended to ``results.csv`` (and its out-of-fold
        scores to ``predictions.csv``) before the next one is reported, so an
        interruption (KeyboardInterrupt, a killed process) keeps everything
        finished so far. Only this process writes, once per task, and only
        while it holds the directory's lock.

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
        worker_timeout : float, default=120
            With ``client``: seconds the cluster may have no worker at all
            before the run gives up.

        Returns
        -------
        pandas.DataFrame
            The rows of ``results.csv`` for this plan's datasets and methods.

        Raises
        ------
        DirectoryInUseError
            If another process is running a benchmark in ``output``.
        RuntimeError
            With ``client``, if some tasks could not be computed on the
            cluster (every worker that ran them died, or no worker was left
            for ``worker_timeout`` seconds). The other results are written;
            running again computes the rest.
        OSError
            If a file cannot be written (a full disk); the error names it.

        Examples
        --------
        On a Dask cluster (see the "Scaling out with Dask" page):

        >>> from distributed import Client  # doctest: +SKIP
        >>> with Client("tcp://scheduler:8786") as client:  # doctest: +SKIP
        ...     results = plan.run(client=client)
        """
        _check_run_options(n_jobs, retries, worker_timeout)
        with directory_lock(self.output):
            # Another process may have finished tasks since the plan was made.
            done = task_keys(read_results(self.output / RESULTS_FILE))
            self._tasks = [task for task in self._tasks if task.key not in done]
            self.n_done = self.n_total - len(self._tasks)
            self._run(done, n_jobs, progress, client, retries, worker_timeout)
        return self.results()

    def _run(
        self,
        done: set[tuple[str, str, int, int]],
        n_jobs: int,
        progress: bool,
        client: Any,
        retries: int,
        worker_timeout: float,
    ) -> None:
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
            with InterruptGuard() as guard, ResultWriter(self.output, done) as writer:
                results = self._results(n_jobs, client, retries, worker_timeout)
                # Closing the generator at once stops the workers or cancels
                # the cluster's tasks, also after an error or a Ctrl-C.
                with bar, contextlib.closing(results):
                    for row, predictions in results:
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
            self._tasks = [task for task in self._tasks if task.key not in written]
            self.n_done = self.n_total - len(self._tasks)

    def _results(
        self, n_jobs: int, client: Any, retries: int, worker_timeout: float
    ) -> Generator[tuple[dict, pd.DataFrame | None], None, None]:
        if client is not None:
            return run_on_cluster(
                client, self._tasks, retries=retries, worker_timeout=worker_timeout
            )
        return run_locally(self._tasks, n_jobs)

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
            KEY_COLUMNS,
            key=lambda col: col.map(order[col.name]) if col.name in order else col,
        ).reset_index(drop=True)


def _check_run_options(n_jobs: Any, retries: Any, worker_timeout: Any) -> None:
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, int | np.integer)
        or n_jobs == 0
    ):
        raise ValueError(
            f"n_jobs must be a non-zero integer (-1 for every CPU); got {n_jobs!r}."
        )
    _check_numbers(retries=(retries, 0))
    if (
        isinstance(worker_timeout, bool)
        or not isinstance(worker_timeout, int | float)
        or not 0 < worker_timeout < float("inf")
    ):
        raise ValueError(
            "worker_timeout must be a positive number of seconds; got "
            f"{worker_timeout!r}."
        )


def _check_numbers(**numbers: tuple[Any, int]) -> None:
    for label, (value, low) in numbers.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value < low
        ):
            raise ValueError(f"{label} must be an integer >= {low}; got {value!r}.")


def _load_checked(name: str, source: DatasetSource, n_splits: int) -> LoadedDataset:
    data = load(source)
    try:
        # Unsupported columns (dates, ...) would fail every fold; say so now.
        make_preprocessor(data.X)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Dataset {name!r}: {exc}") from exc
    counts = np.bincount(data.y)
    if counts.min() < n_splits:
        rare = data.classes[int(np.argmin(counts))]
        raise ValueError(
            f"Dataset {name!r}: class {rare!r} has {int(counts.min())} row(s), "
            f"fewer than the {n_splits} folds; lower --folds or drop that class."
        )
    return data


def _listed(frame: pd.DataFrame, keys: set[tuple]) -> np.ndarray:
    """Whether each row's (dataset, method, repeat, fold) is in ``keys``."""
    if frame.empty or not keys:
        return np.zeros(len(frame), dtype=bool)
    return pd.MultiIndex.from_frame(frame[KEY_COLUMNS]).isin(list(keys))


def _prepare_directory(
    output: Path,
    config: dict,
    datasets: list[str],
    methods: list[str],
    binary: set[str],
) -> tuple[dict, set[tuple[str, str, int, int]], int, int]:
    """Merge the configuration and clean the CSV files; hold the lock to call.

    Returns the stored configuration, the keys of the valid finished tasks of
    the directory, how many failed tasks of this grid and how many invalid
    rows (or tasks with incomplete predictions) were removed.
    """
    config = merge_config(output, config)
    write_config(output, config)
    results_path, predictions_path = output / RESULTS_FILE, output / PREDICTIONS_FILE
    repair_csv(results_path, RESULT_COLUMNS)
    repair_csv(predictions_path, PREDICTION_COLUMNS)
    results, n_invalid = scan_results(results_path)
    # A fold that failed (an error row) is not done: resuming computes it
    # again, which recovers from passing failures (memory, a killed worker)
    # and picks up a fixed method.
    in_grid = results["dataset"].isin(datasets) & results["method"].isin(methods)
    failed = in_grid & (results["error"] != "")
    # The first repeat of a binary dataset has one score per test row; a cut
    # predictions file would silently lose points of the PR curves.
    expected = results[
        in_grid & ~failed & (results["repeat"] == 0) & results["dataset"].isin(binary)
    ]
    predictions, predictions_damaged = scan_predictions(predictions_path)
    incomplete = set(incomplete_predictions(predictions, expected))
    keep = ~failed & ~_listed(results, incomplete)
    if n_invalid or not keep.all():
        write_results(results_path, results[keep])
    if predictions_damaged or incomplete:
        stale = _listed(predictions, incomplete)
        write_predictions(predictions_path, predictions[~stale])
    kept = results[keep]
    return config, task_keys(kept), int(failed.sum()), n_invalid + len(incomplete)


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
    ``predictions.csv`` after an interrupted run: a trailing partial line is
    cut off, lines that are not valid (cut short, corrupted, a stray
    duplicate) are removed, and so are the results of tasks whose
    out-of-fold predictions are incomplete. Folds that failed in an earlier
    run (error rows) are removed too. All of those are planned again.
    Nothing is fitted.

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
        configuration or in use by another process
        (:class:`BenchmarkDirectoryError`).
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
    _check_numbers(
        n_splits=(n_splits, 2),
        n_repeats=(n_repeats, 1),
        max_epochs=(max_epochs, 1),
        seed=(seed, 0),
    )
    methods = _check_methods(list(methods))
    sources = _resolve_sources(datasets)
    if not sources:
        raise ValueError("No dataset given: name a suite, datasets or tables.")
    names = [s.label if isinstance(s, TableSource) else s for s in sources]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(
            f"Two datasets are named {', '.join(map(repr, duplicated))}; give the "
            "files different names."
        )
    loaded = {
        name: _load_checked(name, source, n_splits)
        for name, source in zip(names, sources, strict=True)
    }
    dropped = {
        name: data.dropped_missing_target
        for name, data in loaded.items()
        if data.dropped_missing_target
    }
    protocol = {
        "folds": int(n_splits),
        "repeats": int(n_repeats),
        "seed": int(seed),
        "max_epochs": int(max_epochs),
        "tune": bool(tune),
    }
    config = build_config(
        protocol,
        {name: fingerprint(s) for name, s in zip(names, sources, strict=True)},
        methods,
        dropped,
    )
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise BenchmarkDirectoryError(f"Output '{output}' exists and is not a folder.")
    created = not output.exists()
    had_lock_file = (output / LOCK_FILE).exists()
    output.mkdir(parents=True, exist_ok=True)
    binary = {name for name, data in loaded.items() if len(data.classes) == 2}
    try:
        with directory_lock(output):
            config, done_keys, n_retried, n_invalid = _prepare_directory(
                output, config, names, methods, binary
            )
    except BaseException:
        # E.g. a full disk while writing config.json: leave no directory (or
        # lock file) behind that holds no benchmark.
        if not had_lock_file:
            remove_if_unused(output, remove_directory=created)
        raise
    tasks: list[Task] = []
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
                    Task(
                        source=source,
                        dataset=name,
                        method=method,
                        repeat=repeat,
                        fold=fold,
                        train=train,
                        test=test,
                        random_state=task_seed(seed, name, repeat, fold),
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
        n_invalid=n_invalid,
        dropped_rows=dropped,
    )

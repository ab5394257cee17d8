"""The ``skfocal`` command line.

``skfocal benchmark`` runs the cross-validated comparison of imbalance losses
and resampling methods and writes its results and report to a directory,
locally or on a Dask cluster (``--dask``, ``--scheduler``);
``skfocal datasets`` lists the bundled datasets. ``python -m skfocal`` is the
same command. Nothing in the package imports this module, and this module
imports only the standard library at start-up: torch, scikit-learn, pandas
and the benchmark are imported inside the commands that need them, so that
``skfocal --help`` answers at once.

Examples
--------
>>> from skfocal.cli import build_parser
>>> args = build_parser().parse_args(["benchmark", "--suite", "quick", "--folds", "3"])
>>> args.suite, args.folds, args.repeats, args.output
('quick', 3, 2, 'benchmark-results')
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["build_parser", "main"]

PROG = "skfocal"
# Exit codes: 2 for bad input (as argparse), 130 for Ctrl-C (128 + SIGINT).
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_FAILURE = 1
# Duplicated from skfocal.benchmark so that building the parser (and
# `skfocal datasets`) does not import torch, imbalanced-learn and matplotlib;
# a test checks that they agree.
_DEFAULT_MAX_EPOCHS = 50
_DEFAULT_N_JOBS = -1
_DEFAULT_WORKER_TIMEOUT = 120.0
# Dropped row numbers shown on the console (config.json lists more).
_SHOWN_ROWS = 10
# Errors of the user's paths (exit 2); other OSErrors (a full disk) exit 1.
_INPUT_ERRORS = (
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``skfocal: error: ...`` and exit 2."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see '{self.prog} --help')")


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(code)


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}, got {text!r}"
            )
        return value

    return parse


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"must be a non-zero integer (-1 for every CPU), got {text!r}"
        )
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or value == math.inf:
        raise argparse.ArgumentTypeError(
            f"must be a positive number of seconds, got {text!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``skfocal``.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog=PROG,
        description="MLPs with losses for class imbalance, and their benchmark.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    bench = commands.add_parser(
        "benchmark",
        help="compare imbalance losses and resampling methods in cross-validation",
        description=(
            "Cross-validate every method on every dataset (preprocessing and "
            "resampling inside each training fold), append each finished fold "
            "to OUTPUT/results.csv and write OUTPUT/summary.md with tables, "
            "tests (two or more datasets: ranks, Friedman, Nemenyi and "
            "Wilcoxon-Holm; one dataset: corrected resampled t-tests over the "
            "folds, Holm-adjusted) and PNG plots. Rerunning "
            "the same command resumes an interrupted run; a directory may be "
            "extended with more datasets or methods, but not reused with other "
            "--folds, --repeats, --seed, --max-epochs or --tune."
        ),
    )
    bench.add_argument(
        "--suite",
        metavar="quick|default|full|NAME,...",
        help="bundled datasets: a suite or dataset names separated by commas "
        "(default: 'default', unless --data is given); see 'skfocal datasets'",
    )
    bench.add_argument(
        "--data", metavar="FILE", help="your own CSV, TSV or Parquet table"
    )
    bench.add_argument("--target", metavar="COLUMN", help="label column of --data")
    bench.add_argument(
        "--methods",
        metavar="NAME,...",
        help="methods separated by commas (default: all 15: ce, balanced_ce, "
        "focal, ghm, ros, smote, adasyn, borderline_smote, rus, smote_tomek, "
        "logreg_balanced, balanced_rf, easy_ensemble, lightgbm, xgboost; with "
        "--suite quick, the 11 of them that keep it a few minutes: no adasyn, "
        "borderline_smote, smote_tomek, easy_ensemble)",
    )
    bench.add_argument(
        "--folds", type=_int_at_least(2), default=5, help="folds (default: 5)"
    )
    bench.add_argument(
        "--repeats",
        type=_int_at_least(1),
        default=2,
        help="repeats of the cross-validation (default: 2)",
    )
    bench.add_argument(
        "--max-epochs",
        type=_int_at_least(1),
        default=_DEFAULT_MAX_EPOCHS,
        help=f"epochs of every MLP (default: {_DEFAULT_MAX_EPOCHS})",
    )
    bench.add_argument(
        "--tune",
        action="store_true",
        help="grid-search gamma/alpha (focal), bins (ghm), alpha (balanced_ce) "
        "and k_neighbors (smote) in 3 inner folds of each outer training fold",
    )
    bench.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=_DEFAULT_N_JOBS,
        help="parallel worker processes, -1 for every CPU (default: -1); the "
        "numbers do not depend on it. Lower it for big tables on many-core "
        "machines: each worker holds its own copy of the data. With --dask, "
        "the number of Dask workers",
    )
    cluster = bench.add_mutually_exclusive_group()
    cluster.add_argument(
        "--dask",
        action="store_true",
        help="run the folds on a local Dask cluster of --n-jobs worker "
        "processes, one thread each, listening on 127.0.0.1 only (needs the "
        "dask extra: pip install 'skfocal[dask]')",
    )
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the folds on the Dask cluster whose scheduler is at ADDRESS "
        "(e.g. tcp://10.0.0.5:8786); --n-jobs is ignored. The workers need "
        "skfocal with its benchmark extra; results are written here, and a "
        "fold whose worker dies is recomputed on another. The cluster is "
        "trusted: results come back pickled",
    )
    bench.add_argument(
        "--worker-timeout",
        type=_positive_seconds,
        default=_DEFAULT_WORKER_TIMEOUT,
        metavar="SECONDS",
        help="with --dask or --scheduler: give up when the cluster has had no "
        "worker for SECONDS, keeping the finished folds (default: "
        f"{_DEFAULT_WORKER_TIMEOUT:g})",
    )
    bench.add_argument(
        "--seed",
        type=_int_at_least(0),
        default=0,
        help="seed of the folds and of every model: same seed, same numbers "
        "(default: 0)",
    )
    bench.add_argument(
        "--output",
        metavar="DIR",
        default="benchmark-results",
        help="results directory (default: benchmark-results)",
    )
    bench.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr"
    )
    bench.set_defaults(func=_benchmark)

    datasets = commands.add_parser(
        "datasets",
        help="list the bundled datasets",
        description="List the bundled (offline) imbalanced datasets: without "
        "--suite, how many each suite holds; with it, the size, imbalance and "
        "source of each dataset. Nothing is loaded.",
    )
    datasets.add_argument(
        "--suite",
        metavar="quick|default|full|NAME,...",
        help="list the datasets of a suite, or the datasets named",
    )
    datasets.set_defaults(func=_datasets)
    return parser


def _os_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: '{exc.filename}'"
    return str(exc)


# Columns of `skfocal datasets --suite ...`: the fields of
# skfocal.datasets.DatasetInfo, and how each number is written.
_DATASET_FORMATS = {
    "name": "",
    "n_samples": "d",
    "n_features": "d",
    "n_classes": "d",
    "imbalance_ratio": ".1f",
    "minority_share": ".3f",
    "task": "",
    "source": "",
}


def _format_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
) -> str:
    """Columns padded to their widest cell; ``right`` ones right-aligned.

    Plain string formatting: ``skfocal datasets`` imports no pandas.
    """
    cells = [list(header), *map(list, rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(width) if to_right else cell.ljust(width)
            for cell, width, to_right in zip(row, widths, right, strict=True)
        ).rstrip()
        for row in cells
    )


def _suite_counts() -> str:
    """One line per suite: how many datasets, of what size and imbalance."""
    from skfocal.datasets import SUITES, dataset_info

    rows = []
    for suite, names in SUITES.items():
        infos = [dataset_info(name) for name in names]
        binary = sum(info.task == "binary" for info in infos)
        sizes = [info.n_samples for info in infos]
        ratios = [info.imbalance_ratio for info in infos]
        rows.append(
            [
                suite,
                str(len(infos)),
                str(binary),
                str(len(infos) - binary),
                f"{min(sizes):,} to {max(sizes):,}",
                f"{min(ratios):.1f} to {max(ratios):.1f}",
            ]
        )
    header = ["suite", "datasets", "binary", "multiclass", "rows", "imbalance ratio"]
    every = {name for names in SUITES.values() for name in names}
    return (
        f"{_format_table(header, rows, [False] + [True] * 5)}\n\n"
        f"{len(every)} bundled datasets, "
        "offline. 'skfocal datasets --suite NAME' lists the datasets of a suite "
        "(or the datasets named, separated by commas)."
    )


def _datasets(args: argparse.Namespace) -> int:
    from skfocal.datasets import dataset_info, get_suite

    if args.suite is None:
        print(_suite_counts())
        return 0
    try:
        infos = [dataset_info(name) for name in get_suite(args.suite)]
    except ValueError as exc:
        _fail(str(exc))
    rows = [
        [
            format(value, spec)
            for value, spec in zip(info, _DATASET_FORMATS.values(), strict=True)
        ]
        for info in infos
    ]
    right = [bool(spec) for spec in _DATASET_FORMATS.values()]
    print(_format_table(list(_DATASET_FORMATS), rows, right))
    return 0


def _split_names(text: str | None) -> list[str] | None:
    """Comma-separated names; commas inside a variant's brackets stay."""
    if text is None:
        return None
    from skfocal._text import split_top_level

    return [name.strip() for name in split_top_level(text) if name.strip()]


def _chosen_methods(args: argparse.Namespace) -> list[str]:
    """``--methods``, or the default list for the chosen datasets."""
    from skfocal.benchmark import DEFAULT_METHODS, QUICK_METHODS

    if args.methods is not None:
        return _split_names(args.methods) or []
    quick = args.suite == "quick" and args.data is None
    return list(QUICK_METHODS if quick else DEFAULT_METHODS)


def _check_output(output: Path) -> list[Path]:
    """Fail early, before any data is loaded, if ``output`` cannot be written.

    Returns the directories it had to create, deepest last, so that a run
    that fails on its input does not leave them behind, empty.
    """
    if output.exists() and not output.is_dir():
        _fail(f"output '{output}' exists and is not a directory")
    created = [
        folder for folder in reversed([output, *output.parents]) if not folder.exists()
    ]
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / ".skfocal-write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        _remove_empty(created)
        _fail(f"cannot write to output directory '{output}': {_os_message(exc)}")
    return created


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest last) that hold nothing but a lock file.

    A plan that fails after taking the directory's lock (a full disk while
    writing config.json) leaves the lock file in a folder that is otherwise
    empty: that is no benchmark either.
    """
    from skfocal.benchmark._lock import remove_if_unused

    for folder in reversed(folders):
        remove_if_unused(folder)


def _benchmark(args: argparse.Namespace) -> int:
    if (args.data is None) != (args.target is None):
        _fail("--data and --target go together: give both or neither")
    try:
        from skfocal import benchmark
        from skfocal.benchmark._lock import directory_lock
    except ImportError as exc:
        _fail(str(exc))

    datasets: list = []
    suite = args.suite if args.suite is not None or args.data else "default"
    if suite is not None:
        datasets.extend(_split_names(suite) or [suite])
    if args.data is not None:
        datasets.append(benchmark.TableSource(args.data, args.target))
    methods = _chosen_methods(args)
    output = Path(args.output)
    created = _check_output(output)
    try:
        plan = benchmark.plan_benchmark(
            datasets,
            methods,
            output=output,
            n_splits=args.folds,
            n_repeats=args.repeats,
            max_epochs=args.max_epochs,
            tune=args.tune,
            seed=args.seed,
        )
    except (OSError, ValueError, ImportError) as exc:
        # ImportError: a Parquet file without pyarrow or fastparquet.
        _remove_empty(created)
        # A missing or unreadable file is bad input; a full disk is not.
        bad_input = not isinstance(exc, OSError) or isinstance(exc, _INPUT_ERRORS)
        _fail(
            _os_message(exc) if isinstance(exc, OSError) else str(exc),
            EXIT_USAGE if bad_input else EXIT_FAILURE,
        )

    _print_plan(plan, output)
    try:
        with _dask_client(args, plan.n_missing) as client:
            plan.run(
                n_jobs=args.n_jobs,
                progress=not args.no_progress,
                client=client,
                worker_timeout=args.worker_timeout,
            )
    except KeyboardInterrupt:
        done = len(plan.results())
        print(
            f"\n{PROG}: interrupted; the {done} finished folds are kept in "
            f"'{output / 'results.csv'}'. Run the same command again to resume.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except OSError as exc:
        _fail(_os_message(exc), EXIT_FAILURE)
    except benchmark.BenchmarkDirectoryError as exc:
        # Another run took the directory between planning and running.
        _fail(str(exc))
    except RuntimeError as exc:
        # Folds that the Dask cluster could not compute; the rest is saved.
        _fail(f"{exc} Run the same command again.", EXIT_FAILURE)
    try:
        with directory_lock(output):
            summary = benchmark.build_summary(
                output, datasets=plan.datasets, methods=plan.methods
            )
            report = summary.write()
    except OSError as exc:
        _fail(
            f"cannot write the report in '{output}': {_os_message(exc)}; the "
            f"results are complete in '{output / 'results.csv'}'",
            EXIT_FAILURE,
        )
    except benchmark.BenchmarkDirectoryError as exc:
        _fail(str(exc))
    # The dropped rows were said on stderr before the run (_print_plan), where
    # they are seen before hours of training, and on every resume; the report
    # lists them again, the console does not repeat them.
    print(summary.console_text(dropped=False))
    print(f"Results: {output / 'results.csv'}\nReport: {report}")
    return 0


def _print_plan(plan: Any, output: Path) -> None:
    """Say on stderr what the plan found: dropped rows, resumed, repaired folds."""
    for name, rows in plan.dropped_rows.items():
        shown = ", ".join(map(str, rows[:_SHOWN_ROWS]))
        more = ", ..." if len(rows) > _SHOWN_ROWS else ""
        print(
            f"Dataset {name!r}: {len(rows)} row(s) dropped because the target is "
            f"missing (data rows {shown}{more}, counting from 0); recorded in "
            f"'{output / 'config.json'}'.",
            file=sys.stderr,
        )
    if plan.n_done or plan.n_retried or plan.n_invalid:
        again = [
            f"{count} {what} will be computed again"
            for count, what in (
                (plan.n_retried, "that failed before"),
                (plan.n_invalid, "whose saved results were damaged"),
            )
            if count
        ]
        print(
            f"Resuming in '{output}': {plan.n_done} of {plan.n_total} folds "
            f"done{''.join('; ' + text for text in again)}.",
            file=sys.stderr,
        )


@contextlib.contextmanager
def _dask_client(args: argparse.Namespace, n_missing: int) -> Iterator[Any]:
    """The Dask client that ``--dask`` or ``--scheduler`` asks for, else None."""
    if not (args.dask or args.scheduler) or n_missing == 0:
        yield None
        return
    try:
        from skfocal.benchmark import _dask
    except ImportError as exc:  # pragma: no cover - needs the benchmark extra
        _fail(str(exc))
    try:
        distributed = _dask.import_distributed()
    except ImportError as exc:
        _fail(str(exc))
    with contextlib.ExitStack() as stack:
        if args.dask:
            n_workers = _dask.n_workers(args.n_jobs)
            cluster = stack.enter_context(_dask.start_local_cluster(n_workers))
            where = f"a local Dask cluster of {n_workers} worker(s)"
            address = cluster
        else:
            where = f"the Dask scheduler at {args.scheduler}"
            address = args.scheduler
        try:
            client = stack.enter_context(distributed.Client(address))
        except (OSError, ValueError) as exc:
            _fail(f"cannot connect to {where}: {exc}", EXIT_FAILURE)
        print(
            f"Running {n_missing} folds on {where} ({len(client.nthreads())} "
            "worker(s) now).",
            file=sys.stderr,
        )
        yield client


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``skfocal`` with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : sequence of str or None, default=None

    Returns
    -------
    int
        The exit status: 0 on success, 2 for bad input, 130 after Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED

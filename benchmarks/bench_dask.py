"""Speed-up of a grid search on a Dask ``LocalCluster`` of 2 workers over 1.

A ``GridSearchCV`` over ``FocalClassifier`` (``gamma`` x ``alpha``, 8
candidates, 3 folds: 24 fits) runs under ``joblib.parallel_backend("dask")``
on a ``LocalCluster`` of 1 worker process and on one of 2 worker processes
(one thread each, on 127.0.0.1); for reference also on 1 worker process
with 2 threads, and sequentially in this process without Dask. The
clusters stay up for the whole run and the set-ups take turns within every
repeat, so that load from other processes hits all of them alike; cluster
start-up and the workers' first imports (one warm-up search per cluster)
are not timed. The script reports medians and minimums, the ratio of the
medians of 1 and 2 workers, and how many repeats of each set-up found
exactly the ``cv_results_`` of the sequential search.

Examples
--------
Default (5 repeats, 3000 rows, 20 epochs; about two minutes on 2 cores)::

    python benchmarks/bench_dask.py

With a markdown report::

    python benchmarks/bench_dask.py --repeats 7 --output bench_dask.md
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from skfocal import FocalClassifier

GRID = {"gamma": [0.0, 1.0, 2.0, 3.0], "alpha": [None, 0.75]}
CV = 3
ONE = "LocalCluster, 1 worker"
TWO = "LocalCluster, 2 workers"


def _search(max_epochs: int, n_jobs: int) -> GridSearchCV:
    estimator = FocalClassifier(
        max_epochs=max_epochs, early_stopping=False, random_state=0
    )
    return GridSearchCV(
        estimator,
        GRID,
        cv=CV,
        scoring="average_precision",
        n_jobs=n_jobs,
        refit=False,
    )


def _run(
    client: Client | None, X: np.ndarray, y: np.ndarray, max_epochs: int
) -> tuple[float, np.ndarray]:
    if client is None:
        search = _search(max_epochs, n_jobs=1)
        start = time.perf_counter()
        search.fit(X, y)
    else:
        search = _search(max_epochs, n_jobs=-1)
        with joblib.parallel_backend("dask", client=client):
            start = time.perf_counter()
            search.fit(X, y)
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def _cluster(n_workers: int, threads_per_worker: int) -> LocalCluster:
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=3000)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--output", type=Path, help="also write a markdown report")
    args = parser.parse_args(argv)

    # The sequential reference trains in this process: one torch thread, as
    # the estimators' n_threads=1 gives on the workers.
    torch.set_num_threads(1)
    X, y = make_classification(
        n_samples=args.n_samples,
        n_features=20,
        n_informative=6,
        weights=[0.9],
        random_state=0,
    )
    load_before = os.getloadavg()
    setups: dict[str, Client | None] = {"sequential, no Dask": None}
    layouts = {ONE: (1, 1), TWO: (2, 1), "LocalCluster, 1 worker, 2 threads": (1, 2)}
    clusters = [_cluster(*layout) for layout in layouts.values()]
    clients = [Client(cluster) for cluster in clusters]
    try:
        for (name, layout), client in zip(layouts.items(), clients, strict=True):
            client.wait_for_workers(layout[0], timeout=120)
            setups[name] = client
            _run(client, X, y, max_epochs=1)  # warm-up: imports on the workers
        times: dict[str, list[float]] = {name: [] for name in setups}
        scores: dict[str, list[np.ndarray]] = {name: [] for name in setups}
        for repeat in range(args.repeats):
            for name, client in setups.items():
                seconds, score = _run(client, X, y, args.max_epochs)
                times[name].append(seconds)
                scores[name].append(score)
                print(f"repeat {repeat}: {name}: {seconds:.2f} s", file=sys.stderr)
    finally:
        for client in clients:
            client.close()
        for cluster in clusters:
            cluster.close()
    load_after = os.getloadavg()
    reference = scores["sequential, no Dask"][0]
    same = {
        name: sum(np.array_equal(score, reference) for score in values)
        for name, values in scores.items()
    }

    medians = {name: statistics.median(values) for name, values in times.items()}
    one, two = medians[ONE], medians[TWO]
    lines = [
        f"GridSearchCV over FocalClassifier: {len(GRID['gamma']) * len(GRID['alpha'])}"
        f" candidates x {CV} folds = {len(GRID['gamma']) * len(GRID['alpha']) * CV} "
        f"fits; {args.n_samples} rows x 20 features, max_epochs={args.max_epochs}, "
        f"{args.repeats} repeats.",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__}; load average (1, 5, 15 min) "
        f"{tuple(round(v, 2) for v in load_before)} before, "
        f"{tuple(round(v, 2) for v in load_after)} after.",
        "",
        "| set-up | median (s) | min (s) | all (s) | same scores |",
        "|---|---:|---:|---|---:|",
    ]
    for name, values in times.items():
        lines.append(
            f"| {name} | {medians[name]:.2f} | {min(values):.2f} | "
            f"{', '.join(f'{v:.2f}' for v in values)} | "
            f"{same[name]}/{len(values)} |"
        )
    lines += [
        "",
        f"Speed-up of 2 workers over 1 (ratio of medians): {one / two:.2f}x.",
        "",
        "'same scores': repeats whose cv_results_ mean_test_score equal the "
        "sequential search's exactly.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Decisions and probabilities under imbalance: the table behind the docs.

Reads the committed run in ``docs/benchmark-decisions/results.csv`` (14
datasets of the default suite, FARS left out for time; 5 folds x 2 repeats,
seed 0) and prints, per method, the mean over datasets of each metric, then
paired Wilcoxon signed-rank tests over the 14 dataset means for the claims
of ``docs/user_guide/decisions.rst``.

The run was made with the benchmark command, in two directories joined here
(the second adds one method under the same folds)::

    SUITE=yeast1,vehicle0,segment0,ecoli3,page-blocks0,satimage,\\
    digits-8-vs-rest,car-vgood,yeast4,winequality-white-3_vs_7,shuttle-2_vs_5,\\
    kddcup-rootkit-imap_vs_back,abalone19,page-blocks
    skfocal benchmark --suite $SUITE --n-jobs 2 --output decisions --methods \\
      "ce,ce[threshold=prior],balanced_ce[calibration=None],\\
    balanced_ce[calibration=prior,threshold=prior],\\
    balanced_ce[calibration=temperature,threshold=prior],focal,\\
    focal[threshold=prior],focal[calibration=temperature,threshold=prior],\\
    ghm,ghm[calibration=temperature,threshold=prior],lightgbm,balanced_rf"
    skfocal benchmark --suite $SUITE --n-jobs 2 --output focal-posterior \\
      --methods "focal[calibration=prior,threshold=prior]"

``focal`` and ``focal[threshold=prior]`` were run with the focal models'
probabilities as trained (before the focal posterior transform existed, the
same as ``calibration=None``); ``focal[calibration=prior,threshold=prior]``
is ``FocalClassifier()``'s decision defaults on the network of version 0.1
(the run predates the backbone defaults; ``docs/performance.md``).

Usage: ``python benchmarks/decisions_table.py [results.csv]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from scipy.stats import wilcoxon

RESULTS = Path(__file__).parents[1] / "docs" / "benchmark-decisions" / "results.csv"
METRICS = [
    "average_precision",
    "balanced_accuracy",
    "minority_recall",
    "brier_loss",
    "ece_loss",
    "log_loss",
]
# (method, reference, metric): the comparisons the docs quote.
CLAIMS = [
    (
        "focal[calibration=prior,threshold=prior]",
        "balanced_ce[calibration=None]",
        "balanced_accuracy",
    ),
    (
        "focal[calibration=temperature,threshold=prior]",
        "balanced_ce[calibration=None]",
        "balanced_accuracy",
    ),
    ("focal", "balanced_ce[calibration=None]", "balanced_accuracy"),
    ("focal[calibration=prior,threshold=prior]", "focal", "average_precision"),
    ("focal[calibration=prior,threshold=prior]", "ce", "brier_loss"),
    ("focal[calibration=prior,threshold=prior]", "ce", "ece_loss"),
    ("balanced_ce[calibration=prior,threshold=prior]", "ce", "brier_loss"),
    ("balanced_ce[calibration=prior,threshold=prior]", "ce", "ece_loss"),
    ("balanced_ce[calibration=None]", "ce", "brier_loss"),
    ("balanced_ce[calibration=None]", "ce", "ece_loss"),
    (
        "balanced_ce[calibration=prior,threshold=prior]",
        "balanced_ce[calibration=None]",
        "balanced_accuracy",
    ),
    ("ce[threshold=prior]", "balanced_ce[calibration=None]", "balanced_accuracy"),
    (
        "ghm[calibration=temperature,threshold=prior]",
        "balanced_ce[calibration=None]",
        "balanced_accuracy",
    ),
]


def main(path: Path = RESULTS) -> None:
    results = pd.read_csv(path)
    results = results[results["error"].isna()]
    per_dataset = results.groupby(["method", "dataset"])[METRICS].mean()
    table = per_dataset.groupby("method").mean()
    table["ap_rank"] = (
        per_dataset["average_precision"]
        .unstack("method")
        .rank(axis=1, ascending=False)
        .mean()
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.sort_values("balanced_accuracy", ascending=False).round(4))
    print()
    for method, reference, metric in CLAIMS:
        x = per_dataset.loc[method, metric]
        y = per_dataset.loc[reference, metric]
        x, y = x.align(y, join="inner")
        p = wilcoxon(x, y).pvalue if (x != y).any() else 1.0
        print(
            f"{metric}: {method} {x.mean():.4f} vs {reference} {y.mean():.4f} "
            f"(diff {x.mean() - y.mean():+.4f}, Wilcoxon p = {p:.3f}, "
            f"{len(x)} datasets)"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS)

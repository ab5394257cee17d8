"""The numbers of the benchmark report: tables, ranks, tests, winner sentences.

For two or more datasets, a metric is analysed across datasets (Demšar
2006): average ranks, the Friedman test, the Nemenyi critical difference
after a Friedman rejection, and Wilcoxon signed-rank tests against the best
method. One dataset has one score per method: there is nothing to rank
across, so the comparison is over its repeated folds instead, with the
corrected resampled t-test (Nadeau and Bengio 2003) against the best mean,
Holm-adjusted. Loss metrics (names ending in ``_loss``) rank ascending.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skfocal.benchmark._metrics import METRICS, higher_is_better
from skfocal.benchmark._stats import (
    FriedmanResult,
    average_ranks,
    critical_difference,
    friedman_test,
    paired_fold_tests,
    wilcoxon_holm,
)

__all__ = [
    "ALPHA",
    "MetricAnalysis",
    "analyse_metric",
    "failed_folds",
    "format_p",
    "p_equals",
    "summary_tables",
]

#: Significance level of every test in the report.
ALPHA = 0.05


def format_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_equals(p: float) -> str:
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _quoted(methods: Sequence[str]) -> str:
    return ", ".join(f"`{m}`" for m in methods)


def summary_tables(
    results: pd.DataFrame, metric: str, datasets: Sequence[str], methods: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and standard deviation over folds of one metric.

    Failed folds (NaN scores) are left out of the mean.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of ``results.csv``.
    metric : str
        A column of :data:`METRICS`.
    datasets, methods : sequence of str
        Row and column order.

    Returns
    -------
    means, sds : pandas.DataFrame
        One row per dataset, one column per method.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark import summary_tables
    >>> results = pd.DataFrame(
    ...     {"dataset": ["d"] * 4, "method": ["a", "a", "b", "b"],
    ...      "roc_auc": [0.8, 0.9, 0.7, None]}
    ... )
    >>> means, sds = summary_tables(results, "roc_auc", ["d"], ["a", "b"])
    >>> means.round(2).to_dict("records"), sds.round(3).to_dict("records")
    ([{'a': 0.85, 'b': 0.7}], [{'a': 0.071, 'b': nan}])
    """
    grouped = results.groupby(["dataset", "method"])[metric]
    means = grouped.mean().unstack("method")
    sds = grouped.std(ddof=1).unstack("method")
    means = means.reindex(index=list(datasets), columns=list(methods))
    sds = sds.reindex(index=list(datasets), columns=list(methods))
    return means, sds


def failed_folds(
    results: pd.DataFrame, metric: str, datasets: Sequence[str], methods: Sequence[str]
) -> pd.DataFrame:
    """Folds with a NaN ``metric`` per dataset (rows) and method (columns)."""
    failed = results[metric].isna().groupby([results["dataset"], results["method"]])
    table = failed.sum().unstack("method")
    return table.reindex(index=list(datasets), columns=list(methods)).fillna(0)


@dataclass
class MetricAnalysis:
    """Everything the report says about one metric.

    Attributes
    ----------
    metric : str
        A key of :data:`METRICS`.
    means, sds, n_failed : pandas.DataFrame
        Per dataset (rows) and method (columns): mean and sd over the folds
        that did not fail, and how many failed.
    order : list of str
        Methods from the best to the worst (average rank over datasets, or
        mean over folds for one dataset).
    pairwise : pandas.DataFrame
        The other methods against ``order[0]``: Wilcoxon-Holm over datasets
        (:func:`~skfocal.benchmark.wilcoxon_holm`), or the corrected
        resampled t-test over folds
        (:func:`~skfocal.benchmark._stats.paired_fold_tests`) for one dataset.
    winner : str
        The Markdown sentence of the ``## Winners`` section.
    ranks : pandas.Series or None
        Average ranks over datasets; ``None`` for one dataset.
    friedman : FriedmanResult or None
        ``None`` for one dataset.
    cd : float
        Nemenyi critical difference; NaN when not computed, infinite when
        the Friedman test did not reject.
    folds : pandas.DataFrame or None
        One dataset: the score of every fold (rows) and method (columns).
    """

    metric: str
    means: pd.DataFrame
    sds: pd.DataFrame
    n_failed: pd.DataFrame
    order: list[str]
    pairwise: pd.DataFrame
    winner: str
    ranks: pd.Series | None = None
    friedman: FriedmanResult | None = None
    cd: float = math.nan
    folds: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        """The metric's readable name."""
        return METRICS.get(self.metric, self.metric)


def _verdict(pairwise: pd.DataFrame, best: str, test: str) -> str:
    beaten = pairwise[
        (pairwise["pvalue_holm"] < ALPHA) & (pairwise["losses"] > pairwise["wins"])
    ]["method"].tolist()
    if len(pairwise) == 0:
        return "there is nothing to compare it with"
    if beaten:
        verdict = (
            f"it is significantly better than {_quoted(beaten)} ({test}, α = {ALPHA})"
        )
        if len(beaten) < len(pairwise):
            verdict += ", and not significantly different from the rest"
        return verdict
    return f"no other method differs significantly from `{best}` ({test}, α = {ALPHA})"


def _winner_sentence(
    label: str,
    ranks: pd.Series,
    n_datasets: int,
    friedman: FriedmanResult,
    pairwise: pd.DataFrame,
) -> str:
    best = ranks.index[0]
    tied = [m for m in ranks.index if ranks[m] == ranks.iloc[0]]
    if len(tied) > 1:
        lead = (
            f"{_quoted(tied)} share the best average rank "
            f"({ranks.iloc[0]:.2f} over {n_datasets} datasets)"
        )
    else:
        lead = (
            f"`{best}` has the best average rank ({ranks.iloc[0]:.2f} over "
            f"{n_datasets} dataset{'s' if n_datasets != 1 else ''})"
        )
    if np.isfinite(friedman.pvalue):
        test = f"Friedman {p_equals(friedman.pvalue)}"
    else:
        test = f"no Friedman test ({friedman.note})"
    verdict = _verdict(pairwise, best, "Wilcoxon-Holm")
    return f"- **{label}**: {lead}; {test}; {verdict}."


def _single_winner_sentence(analysis: MetricAnalysis) -> str:
    means = analysis.means.iloc[0]
    best = analysis.order[0]
    tied = [m for m in analysis.order if means[m] == means[best]]
    n_folds = int(analysis.folds[best].notna().sum())
    spread = f"{means[best]:.3f} ± {analysis.sds.iloc[0][best]:.3f}"
    if len(tied) > 1:
        lead = f"{_quoted(tied)} share the best mean ({spread} over {n_folds} folds)"
    else:
        lead = f"`{best}` has the best mean ({spread} over {n_folds} folds)"
    verdict = _verdict(
        analysis.pairwise, best, "corrected resampled t-test over folds, Holm"
    )
    return f"- **{analysis.label}**: {lead}; {verdict}."


def _analyse_datasets(
    metric: str, means: pd.DataFrame, sds, n_failed, n_methods: int
) -> MetricAnalysis:
    direction = higher_is_better(metric)
    ranks = average_ranks(means, higher_is_better=direction)
    friedman = friedman_test(means, higher_is_better=direction)
    pairwise = wilcoxon_holm(
        means, reference=ranks.index[0], higher_is_better=direction
    )
    if n_methods < 2:
        cd = math.nan
    elif friedman.pvalue >= ALPHA:
        # Demšar (2006): the Nemenyi post-hoc test only follows a Friedman
        # test that rejects; otherwise no two methods are told apart.
        cd = math.inf
    else:
        cd = critical_difference(n_methods, len(means))
    winner = _winner_sentence(
        METRICS.get(metric, metric), ranks, len(means), friedman, pairwise
    )
    return MetricAnalysis(
        metric, means, sds, n_failed, list(ranks.index), pairwise, winner,
        ranks=ranks, friedman=friedman, cd=cd,
    )  # fmt: skip


def _analyse_folds(
    metric: str, results: pd.DataFrame, methods: list[str], tables
) -> MetricAnalysis:
    means, sds, n_failed = tables
    folds = results.pivot_table(
        index=["repeat", "fold"], columns="method", values=metric, dropna=False
    ).reindex(columns=methods)
    direction = higher_is_better(metric)
    pairwise = paired_fold_tests(
        folds,
        n_train=float(results["n_train"].mean()),
        n_test=float(results["n_test"].mean()),
        higher_is_better=direction,
    )
    order = list(
        folds.mean(axis=0).sort_values(ascending=not direction, kind="stable").index
    )
    analysis = MetricAnalysis(
        metric, means, sds, n_failed, order, pairwise, "", folds=folds
    )
    analysis.winner = _single_winner_sentence(analysis)
    return analysis


def analyse_metric(
    metric: str,
    results: pd.DataFrame,
    datasets: Sequence[str],
    methods: Sequence[str],
) -> MetricAnalysis:
    """Analyse one metric: across datasets, or across folds for one dataset.

    Parameters
    ----------
    metric : str
        A column of ``results``.
    results : pandas.DataFrame
        Rows of ``results.csv`` for ``datasets`` x ``methods``.
    datasets : sequence of str
        Datasets with results, in order (at least one).
    methods : sequence of str
        Methods, in order.

    Returns
    -------
    MetricAnalysis
    """
    means, sds = summary_tables(results, metric, datasets, methods)
    n_failed = failed_folds(results, metric, datasets, methods)
    if len(datasets) == 1:
        return _analyse_folds(metric, results, list(methods), (means, sds, n_failed))
    return _analyse_datasets(metric, means, sds, n_failed, len(methods))

"""Comparison of methods over several datasets (Demšar 2006), or over the folds
of one dataset (Nadeau and Bengio 2003).

The input of the cross-dataset functions is a table of one score per dataset
(rows) and method (columns), typically the mean over the cross-validation
folds. Higher scores are better unless ``higher_is_better=False`` (losses
such as the Brier score).

On a single dataset there is nothing to rank across: the comparison is over
the repeated cross-validation folds instead (:func:`paired_fold_tests`), with
the corrected resampled t-test, whose variance correction accounts for the
overlap of the training sets of different folds (folds are not independent,
so a plain paired t-test is far too liberal).

References
----------
.. [1] J. Demšar. "Statistical Comparisons of Classifiers over Multiple Data
   Sets". Journal of Machine Learning Research 7, 1-30, 2006.
.. [2] S. Holm. "A Simple Sequentially Rejective Multiple Test Procedure".
   Scandinavian Journal of Statistics 6(2), 65-70, 1979.
.. [3] C. Nadeau and Y. Bengio. "Inference for the Generalization Error".
   Machine Learning 52, 239-281, 2003.
.. [4] R. R. Bouckaert and E. Frank. "Evaluating the Replicability of
   Significance Tests for Comparing Learning Algorithms". PAKDD 2004.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FriedmanResult",
    "TTestResult",
    "average_ranks",
    "corrected_resampled_ttest",
    "critical_difference",
    "friedman_test",
    "holm_correction",
    "paired_fold_tests",
    "rank_methods",
    "wilcoxon_holm",
]


def rank_methods(table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.DataFrame:
    """Rank the methods on each dataset: 1 is the best, ties share the mean rank.

    A missing score (every fold of that method failed) ranks last, because a
    method that produced nothing must not look better than one that did.

    Parameters
    ----------
    table : pandas.DataFrame
        Scores, one row per dataset and one column per method.
    higher_is_better : bool, default=True
        ``False`` for losses: the lowest score ranks 1.

    Returns
    -------
    pandas.DataFrame
        Ranks, same shape.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark import rank_methods
    >>> table = pd.DataFrame({"a": [0.9, 0.5], "b": [0.8, 0.5], "c": [0.7, 0.1]})
    >>> rank_methods(table)
         a    b    c
    0  1.0  2.0  3.0
    1  1.5  1.5  3.0
    """
    return table.rank(
        axis=1, ascending=not higher_is_better, method="average", na_option="bottom"
    )


def average_ranks(table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
    """Mean rank of each method over the datasets, best (lowest) first.

    Parameters
    ----------
    table : pandas.DataFrame
        Scores, one row per dataset and one column per method.
    higher_is_better : bool, default=True
        ``False`` for losses.

    Returns
    -------
    pandas.Series
        Average rank per method, sorted ascending; ties keep column order.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark import average_ranks
    >>> table = pd.DataFrame({"a": [0.9, 0.5], "b": [0.8, 0.5], "c": [0.7, 0.1]})
    >>> average_ranks(table).to_dict()
    {'a': 1.25, 'b': 1.75, 'c': 3.0}
    """
    ranks = rank_methods(table, higher_is_better=higher_is_better)
    return ranks.mean(axis=0).sort_values(kind="stable")


def holm_correction(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of p-values for multiple comparisons.

    The i-th smallest of ``m`` p-values is multiplied by ``m - i + 1``, the
    results are made non-decreasing in that order and capped at 1. Rejecting
    where the adjusted p-value is below ``alpha`` controls the family-wise
    error rate at ``alpha``. Missing values stay missing and do not count in
    ``m``.

    Parameters
    ----------
    pvalues : array-like of shape (m,)

    Returns
    -------
    ndarray of shape (m,)
        Adjusted p-values, in the input order.

    Examples
    --------
    >>> from skfocal.benchmark import holm_correction
    >>> holm_correction([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    pvalues = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full_like(pvalues, np.nan)
    valid = np.flatnonzero(~np.isnan(pvalues))
    m = len(valid)
    order = valid[np.argsort(pvalues[valid], kind="stable")]
    running_max = 0.0
    for position, index in enumerate(order):
        running_max = max(running_max, (m - position) * pvalues[index])
        adjusted[index] = min(1.0, running_max)
    return adjusted


class FriedmanResult(NamedTuple):
    """Friedman test: statistic and p-value (NaN when not applicable), and why."""

    statistic: float
    pvalue: float
    note: str


def friedman_test(
    table: pd.DataFrame, *, higher_is_better: bool = True
) -> FriedmanResult:
    """Friedman's test that all methods rank equally well across datasets.

    Uses :func:`scipy.stats.friedmanchisquare` on the per-dataset ranks of
    :func:`rank_methods` (the same statistic as on the scores, with missing
    scores ranked last). It needs at least 3 methods and 2 datasets; in other
    cases, and when every method ties on every dataset, it returns NaN with a
    note instead of raising.

    Parameters
    ----------
    table : pandas.DataFrame
        Scores, one row per dataset and one column per method.
    higher_is_better : bool, default=True
        ``False`` for losses (matters only for how missing scores rank).

    Returns
    -------
    FriedmanResult

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark import friedman_test
    >>> table = pd.DataFrame(
    ...     {"a": [0.9, 0.8, 0.7], "b": [0.8, 0.7, 0.6], "c": [0.7, 0.6, 0.5]}
    ... )
    >>> result = friedman_test(table)
    >>> round(result.statistic, 3), round(result.pvalue, 4)
    (6.0, 0.0498)
    >>> friedman_test(table[["a", "b"]]).note
    'the Friedman test needs at least 3 methods (got 2)'
    """
    n_datasets, n_methods = table.shape
    if n_methods < 3:
        return FriedmanResult(
            math.nan,
            math.nan,
            f"the Friedman test needs at least 3 methods (got {n_methods})",
        )
    if n_datasets < 2:
        return FriedmanResult(
            math.nan,
            math.nan,
            f"the Friedman test needs at least 2 datasets (got {n_datasets})",
        )
    ranks = rank_methods(table, higher_is_better=higher_is_better).to_numpy()
    if np.all(ranks == ranks[:, :1]):
        return FriedmanResult(
            math.nan, math.nan, "every method ties on every dataset: nothing to test"
        )
    statistic, pvalue = stats.friedmanchisquare(*ranks.T)
    return FriedmanResult(float(statistic), float(pvalue), "")


def wilcoxon_holm(
    table: pd.DataFrame,
    reference: str | None = None,
    *,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Wilcoxon signed-rank test of every method against a reference, Holm-adjusted.

    Each test is two-sided and paired over the datasets where both scores
    exist (:func:`scipy.stats.wilcoxon`, which drops zero differences). The
    p-values of the ``k - 1`` comparisons are adjusted with
    :func:`holm_correction`.

    Parameters
    ----------
    table : pandas.DataFrame
        Scores, one row per dataset and one column per method.
    reference : str or None, default=None
        The method to compare against; ``None`` takes the best average rank.
    higher_is_better : bool, default=True
        ``False`` for losses: a win is then a lower score.

    Returns
    -------
    pandas.DataFrame
        One row per other method, in order of average rank, with columns
        ``method``, ``wins``, ``ties``, ``losses`` (of the method against
        the reference, by dataset), ``statistic``, ``pvalue``,
        ``pvalue_holm`` and ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark import wilcoxon_holm
    >>> table = pd.DataFrame(
    ...     {
    ...         "a": [0.91, 0.82, 0.73, 0.64, 0.95, 0.86],
    ...         "b": [0.81, 0.72, 0.63, 0.54, 0.85, 0.76],
    ...         "c": [0.90, 0.83, 0.72, 0.65, 0.94, 0.87],
    ...     }
    ... )
    >>> wilcoxon_holm(table)[["method", "wins", "losses", "pvalue", "pvalue_holm"]]
      method  wins  losses   pvalue  pvalue_holm
    0      c     3       3  1.00000       1.0000
    1      b     0       6  0.03125       0.0625
    """
    order = list(average_ranks(table, higher_is_better=higher_is_better).index)
    sign = 1.0 if higher_is_better else -1.0
    if reference is None:
        reference = order[0]
    if reference not in table.columns:
        raise ValueError(f"Unknown reference method {reference!r}")
    rows = []
    for method in order:
        if method == reference:
            continue
        pair = table[[reference, method]].dropna()
        difference = sign * (pair[method] - pair[reference]).to_numpy()
        row = {
            "method": method,
            "wins": int(np.sum(difference > 0)),
            "ties": int(np.sum(difference == 0)),
            "losses": int(np.sum(difference < 0)),
            "statistic": math.nan,
            "pvalue": math.nan,
            "note": "",
        }
        if len(difference) == 0:
            row["note"] = "no dataset with both scores"
        elif np.all(difference == 0):
            row["pvalue"] = 1.0
            row["note"] = "identical scores on every dataset"
        else:
            with warnings.catch_warnings():
                # Few datasets and ties make scipy warn about its normal
                # approximation; the p-value is still what we report.
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", UserWarning)
                result = stats.wilcoxon(pair[reference], pair[method])
            row["statistic"] = float(result.statistic)
            row["pvalue"] = float(result.pvalue)
        rows.append(row)
    frame = pd.DataFrame(
        rows,
        columns=["method", "wins", "ties", "losses", "statistic", "pvalue", "note"],
    )
    frame.insert(6, "pvalue_holm", holm_correction(frame["pvalue"].to_numpy()))
    return frame


def critical_difference(n_methods: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks.

    Two methods whose average ranks differ by more than
    ``q_alpha * sqrt(k (k + 1) / (6 N))`` perform differently at level
    ``alpha``, where ``q_alpha`` is the studentized range quantile for ``k``
    groups and infinite degrees of freedom divided by ``sqrt(2)``
    (:data:`scipy.stats.studentized_range`).

    Parameters
    ----------
    n_methods : int
        ``k``, at least 2.
    n_datasets : int
        ``N``, at least 1.
    alpha : float, default=0.05

    Returns
    -------
    float

    Examples
    --------
    >>> from skfocal.benchmark import critical_difference
    >>> round(critical_difference(n_methods=3, n_datasets=10), 3)
    1.048
    """
    if n_methods < 2 or n_datasets < 1:
        raise ValueError(
            "The critical difference needs at least 2 methods and 1 dataset; got "
            f"{n_methods} methods and {n_datasets} datasets."
        )
    q_alpha = stats.studentized_range.ppf(1 - alpha, n_methods, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(n_methods * (n_methods + 1) / (6 * n_datasets)))


class TTestResult(NamedTuple):
    """Corrected resampled t-test: statistic, p-value, and a note when degenerate."""

    statistic: float
    pvalue: float
    note: str


def corrected_resampled_ttest(
    scores_a, scores_b, n_train: float, n_test: float
) -> TTestResult:
    """Nadeau and Bengio's corrected resampled t-test of paired fold scores.

    With ``J`` paired fold scores (every fold of every repeat) and their
    differences ``d_j = a_j - b_j``, the statistic is

    ``t = mean(d) / sqrt((1 / J + n_test / n_train) * var(d))``

    (``var`` with ``ddof=1``), compared with Student's t distribution with
    ``J - 1`` degrees of freedom, two-sided. The term ``n_test / n_train``
    inflates the variance for the overlap of the training sets of different
    folds; without it (a plain paired t-test) the test rejects far too
    often (Nadeau and Bengio 2003; Bouckaert and Frank 2004).

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (J,)
        Scores of two methods on the same folds, in the same order.
    n_train, n_test : float
        Rows of a training and of a test fold (their means over the folds).

    Returns
    -------
    TTestResult
        NaN for fewer than 2 folds. When every difference is the same, the
        variance is 0: p = 1 if that difference is 0, else p = 0 (a
        deterministic difference), with a note.

    Examples
    --------
    >>> from skfocal.benchmark._stats import corrected_resampled_ttest
    >>> a = [0.82, 0.79, 0.85, 0.80, 0.84]
    >>> b = [0.78, 0.77, 0.80, 0.79, 0.80]
    >>> result = corrected_resampled_ttest(a, b, n_train=400, n_test=100)
    >>> round(result.statistic, 3), round(result.pvalue, 4)
    (2.903, 0.044)
    """
    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"scores_a and scores_b must pair up fold by fold; got shapes "
            f"{a.shape} and {b.shape}."
        )
    difference = a - b
    n_folds = len(difference)
    if n_folds < 2:
        return TTestResult(math.nan, math.nan, f"needs 2 folds or more (got {n_folds})")
    mean = float(np.mean(difference))
    variance = float(np.var(difference, ddof=1))
    if variance == 0.0:
        if mean == 0.0:
            return TTestResult(0.0, 1.0, "identical scores on every fold")
        return TTestResult(
            math.copysign(math.inf, mean), 0.0, "the same difference on every fold"
        )
    statistic = mean / math.sqrt((1.0 / n_folds + n_test / n_train) * variance)
    pvalue = 2.0 * stats.t.sf(abs(statistic), df=n_folds - 1)
    return TTestResult(float(statistic), float(pvalue), "")


def paired_fold_tests(
    folds: pd.DataFrame,
    n_train: float,
    n_test: float,
    reference: str | None = None,
    *,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Every method against the best one over the folds of one dataset.

    Each comparison is :func:`corrected_resampled_ttest` over the folds where
    both methods have a score; the p-values of the ``k - 1`` comparisons are
    adjusted with :func:`holm_correction`.

    Parameters
    ----------
    folds : pandas.DataFrame
        Scores, one row per fold (every fold of every repeat, the same folds
        for every method) and one column per method.
    n_train, n_test : float
        Rows of a training and of a test fold.
    reference : str or None, default=None
        The method to compare against; ``None`` takes the best mean.
    higher_is_better : bool, default=True
        ``False`` for losses.

    Returns
    -------
    pandas.DataFrame
        One row per other method, from the best mean to the worst, with
        columns ``method``, ``mean_difference`` (method minus reference),
        ``wins``, ``ties``, ``losses`` (folds where the method is better,
        equal, worse), ``statistic``, ``pvalue``, ``pvalue_holm`` and
        ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark._stats import paired_fold_tests
    >>> folds = pd.DataFrame(
    ...     {"a": [0.82, 0.79, 0.85, 0.80, 0.84], "b": [0.78, 0.77, 0.80, 0.79, 0.80]}
    ... )
    >>> paired_fold_tests(folds, n_train=400, n_test=100)[
    ...     ["method", "wins", "losses", "pvalue_holm"]
    ... ].round(4)
      method  wins  losses  pvalue_holm
    0      b     0       5        0.044
    """
    means = folds.mean(axis=0)
    order = list(means.sort_values(ascending=not higher_is_better, kind="stable").index)
    if reference is None:
        reference = order[0]
    if reference not in folds.columns:
        raise ValueError(
            f"Unknown reference method {reference!r}; expected one of "
            f"{', '.join(map(str, folds.columns))}."
        )
    sign = 1.0 if higher_is_better else -1.0
    rows = []
    for method in order:
        if method == reference:
            continue
        pair = folds[[reference, method]].dropna()
        better = sign * (pair[method] - pair[reference]).to_numpy()
        result = corrected_resampled_ttest(
            pair[method], pair[reference], n_train=n_train, n_test=n_test
        )
        rows.append(
            {
                "method": method,
                "mean_difference": float(np.mean(pair[method] - pair[reference]))
                if len(pair)
                else math.nan,
                "wins": int(np.sum(better > 0)),
                "ties": int(np.sum(better == 0)),
                "losses": int(np.sum(better < 0)),
                "statistic": result.statistic,
                "pvalue": result.pvalue,
                "note": result.note if len(pair) else "no fold with both scores",
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "method",
            "mean_difference",
            "wins",
            "ties",
            "losses",
            "statistic",
            "pvalue",
            "note",
        ],
    )
    frame.insert(7, "pvalue_holm", holm_correction(frame["pvalue"].to_numpy()))
    return frame

"""Comparison of several methods over several datasets (Demšar 2006).

The input of every function is a table of one score per dataset (rows) and
method (columns), typically the mean over the cross-validation folds. Higher
scores are better.

References
----------
.. [1] J. Demšar. "Statistical Comparisons of Classifiers over Multiple Data
   Sets". Journal of Machine Learning Research 7, 1-30, 2006.
.. [2] S. Holm. "A Simple Sequentially Rejective Multiple Test Procedure".
   Scandinavian Journal of Statistics 6(2), 65-70, 1979.
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
    "average_ranks",
    "critical_difference",
    "friedman_test",
    "holm_correction",
    "rank_methods",
    "wilcoxon_holm",
]


def rank_methods(table: pd.DataFrame) -> pd.DataFrame:
    """Rank the methods on each dataset: 1 is the best, ties share the mean rank.

    A missing score (every fold of that method failed) ranks last, because a
    method that produced nothing must not look better than one that did.

    Parameters
    ----------
    table : pandas.DataFrame
        Scores, one row per dataset and one column per method.

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
    return table.rank(axis=1, ascending=False, method="average", na_option="bottom")


def average_ranks(table: pd.DataFrame) -> pd.Series:
    """Mean rank of each method over the datasets, best (lowest) first.

    Parameters
    ----------
    table : pandas.DataFrame
        Scores, one row per dataset and one column per method.

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
    return rank_methods(table).mean(axis=0).sort_values(kind="stable")


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


def friedman_test(table: pd.DataFrame) -> FriedmanResult:
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
    ranks = rank_methods(table).to_numpy()
    if np.all(ranks == ranks[:, :1]):
        return FriedmanResult(
            math.nan, math.nan, "every method ties on every dataset: nothing to test"
        )
    statistic, pvalue = stats.friedmanchisquare(*ranks.T)
    return FriedmanResult(float(statistic), float(pvalue), "")


def wilcoxon_holm(table: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
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
    order = list(average_ranks(table).index)
    if reference is None:
        reference = order[0]
    if reference not in table.columns:
        raise ValueError(f"Unknown reference method {reference!r}")
    rows = []
    for method in order:
        if method == reference:
            continue
        pair = table[[reference, method]].dropna()
        difference = (pair[method] - pair[reference]).to_numpy()
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

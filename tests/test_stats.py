"""Statistics over folds of one dataset, and the direction of loss metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skfocal.benchmark._stats import (
    average_ranks,
    corrected_resampled_ttest,
    holm_correction,
    paired_fold_tests,
    rank_methods,
    wilcoxon_holm,
)


def _reference_ttest(a, b, n_train, n_test):
    """Scale scipy's plain paired t statistic by the Nadeau-Bengio factor.

    Plain: t0 = mean / sqrt(var / J). Corrected: the variance factor 1 / J
    becomes 1 / J + n_test / n_train, so t = t0 * sqrt((1/J) / (1/J + r)).
    """
    plain = stats.ttest_rel(a, b)
    n_folds = len(a)
    factor = math.sqrt((1 / n_folds) / (1 / n_folds + n_test / n_train))
    statistic = plain.statistic * factor
    pvalue = 2 * min(
        stats.t.cdf(statistic, n_folds - 1), 1 - stats.t.cdf(statistic, n_folds - 1)
    )
    return statistic, pvalue


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("n_train", "n_test"), [(80, 20), (900, 100), (2, 1)])
def test_corrected_ttest_matches_an_independent_computation(seed, n_train, n_test):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.8, 0.03, size=10)
    b = a - rng.normal(0.01, 0.02, size=10)
    result = corrected_resampled_ttest(a, b, n_train=n_train, n_test=n_test)
    statistic, pvalue = _reference_ttest(a, b, n_train, n_test)
    assert result.statistic == pytest.approx(statistic)
    assert result.pvalue == pytest.approx(pvalue)
    assert result.note == ""


def test_correction_makes_the_test_more_conservative():
    rng = np.random.default_rng(3)
    a = rng.normal(0.8, 0.03, size=10)
    b = a - rng.normal(0.02, 0.02, size=10)
    plain = stats.ttest_rel(a, b).pvalue
    # n_test / n_train -> 0 gives back the plain paired t-test.
    nearly_plain = corrected_resampled_ttest(a, b, n_train=1e12, n_test=1)
    assert nearly_plain.pvalue == pytest.approx(plain)
    assert corrected_resampled_ttest(a, b, n_train=80, n_test=20).pvalue > plain


def test_corrected_ttest_degenerate_cases():
    same = corrected_resampled_ttest([0.5, 0.6], [0.5, 0.6], n_train=8, n_test=2)
    assert (same.statistic, same.pvalue) == (0.0, 1.0)
    assert same.note == "identical scores on every fold"
    shifted = corrected_resampled_ttest([0.6, 0.7], [0.5, 0.6], n_train=8, n_test=2)
    assert shifted.pvalue == 0.0
    assert shifted.statistic == math.inf
    one = corrected_resampled_ttest([0.6], [0.5], n_train=8, n_test=2)
    assert math.isnan(one.pvalue)
    assert one.note == "needs 2 folds or more (got 1)"
    with pytest.raises(ValueError, match=r"pair up fold by fold; got shapes \(2,\)"):
        corrected_resampled_ttest([0.1, 0.2], [0.1, 0.2, 0.3], n_train=8, n_test=2)


def test_paired_fold_tests_compare_against_the_best_mean_holm_adjusted():
    rng = np.random.default_rng(4)
    base = rng.normal(0.7, 0.05, size=15)
    folds = pd.DataFrame(
        {
            "weak": base - 0.05 + rng.normal(0, 0.01, 15),
            "best": base + 0.02,
            "close": base + 0.015 + rng.normal(0, 0.02, 15),
        }
    )
    table = paired_fold_tests(folds, n_train=400, n_test=100)
    assert table["method"].tolist() == ["close", "weak"]
    weak = table.set_index("method").loc["weak"]
    assert (weak["wins"], weak["ties"], weak["losses"]) == (0, 0, 15)
    assert weak["mean_difference"] == pytest.approx(
        (folds["weak"] - folds["best"]).mean()
    )
    expected = [
        _reference_ttest(folds[m], folds["best"], 400, 100)[1]
        for m in ["close", "weak"]
    ]
    np.testing.assert_allclose(table["pvalue"], expected)
    np.testing.assert_allclose(table["pvalue_holm"], holm_correction(expected))


def test_paired_fold_tests_for_a_loss_take_the_lowest_mean():
    folds = pd.DataFrame({"a": [0.10, 0.12, 0.11], "b": [0.20, 0.25, 0.21]})
    table = paired_fold_tests(folds, n_train=8, n_test=2, higher_is_better=False)
    assert table["method"].tolist() == ["b"]
    assert (table.loc[0, "wins"], table.loc[0, "losses"]) == (0, 3)
    assert table.loc[0, "mean_difference"] > 0


def test_paired_fold_tests_skip_failed_folds_and_name_an_unknown_reference():
    folds = pd.DataFrame({"a": [0.9, np.nan, 0.8, 0.85], "b": [0.7, 0.6, 0.6, 0.65]})
    table = paired_fold_tests(folds, n_train=8, n_test=2)
    row = table.iloc[0]
    assert row["wins"] + row["ties"] + row["losses"] == 3
    with pytest.raises(ValueError, match="Unknown reference method 'c'"):
        paired_fold_tests(folds, n_train=8, n_test=2, reference="c")


def test_losses_rank_ascending_and_missing_still_ranks_last():
    table = pd.DataFrame({"a": [0.1, 0.3], "b": [0.2, np.nan], "c": [0.3, 0.2]})
    ranks = rank_methods(table, higher_is_better=False)
    assert ranks.to_dict("list") == {"a": [1.0, 2.0], "b": [2.0, 3.0], "c": [3.0, 1.0]}
    assert average_ranks(table, higher_is_better=False).index.tolist() == [
        "a",
        "c",
        "b",
    ]


def test_wilcoxon_for_a_loss_counts_lower_scores_as_wins():
    table = pd.DataFrame({"a": [0.1] * 6, "b": [0.2] * 6})
    result = wilcoxon_holm(table, higher_is_better=False)
    assert result["method"].tolist() == ["b"]
    assert (result.loc[0, "wins"], result.loc[0, "losses"]) == (0, 6)

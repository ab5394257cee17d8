"""The report: one dataset compared over folds, losses ranked ascending,
dropped rows listed, one colour per method, and the summary object."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats
from sklearn.metrics import average_precision_score

from skfocal.benchmark import _store
from skfocal.benchmark._metrics import METRICS
from skfocal.benchmark._plots import method_colours, plot_pr_curves, plot_scores
from skfocal.benchmark._report import BenchmarkSummary, build_summary, write_report
from skfocal.benchmark._store import PREDICTION_COLUMNS, RESULT_COLUMNS
from skfocal.benchmark._threshold import TUNED_METRICS

# Method quality: "strong" beats "middle" beats "weak" on every fold.
QUALITY = {"weak": 0.0, "middle": 0.06, "strong": 0.12}
N_TRAIN, N_TEST = 160, 40


def _write_run(
    output: Path,
    datasets: list[str],
    *,
    n_folds: int = 5,
    n_repeats: int = 2,
    tuned: bool = False,
    extra_config: dict | None = None,
) -> Path:
    """A benchmark directory with made-up but consistent fold scores.

    Higher-is-better metrics grow with the method's quality, losses shrink.
    Tuned-threshold metrics are NaN unless ``tuned``.
    """
    rng = np.random.default_rng(0)
    rows, predictions = [], []
    for d, dataset in enumerate(datasets):
        for method, quality in QUALITY.items():
            for repeat in range(n_repeats):
                for fold in range(n_folds):
                    noise = rng.normal(0, 0.02)
                    score = 0.6 + 0.05 * d + quality + noise
                    metrics = {
                        m: (0.5 - quality + noise if m.endswith("_loss") else score)
                        for m in METRICS
                    }
                    if not tuned:
                        metrics.update(dict.fromkeys(TUNED_METRICS, math.nan))
                    rows.append(
                        {
                            "dataset": dataset,
                            "method": method,
                            "repeat": repeat,
                            "fold": fold,
                            **metrics,
                            "fit_time": 1.0,
                            "predict_time": 0.1,
                            "n_train": N_TRAIN,
                            "n_test": N_TEST,
                            "best_params": "",
                            "note": "",
                            "error": "",
                        }
                    )
                    if repeat == 0:
                        y = (rng.random(N_TEST) < 0.25).astype(int)
                        score_column = y * (0.3 + quality) + rng.random(N_TEST) * 0.7
                        predictions.append(
                            pd.DataFrame(
                                {
                                    "dataset": dataset,
                                    "method": method,
                                    "repeat": repeat,
                                    "fold": fold,
                                    "row": np.arange(N_TEST) + fold * N_TEST,
                                    "y_true": y,
                                    "score": score_column,
                                }
                            )
                        )
    output.mkdir()
    pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(
        output / "results.csv", index=False
    )
    pd.concat(predictions)[PREDICTION_COLUMNS].to_csv(
        output / "predictions.csv", index=False
    )
    config = {
        "format": 1,
        "protocol": {
            "folds": n_folds,
            "repeats": n_repeats,
            "seed": 0,
            "max_epochs": 5,
            "tune": False,
        },
        "datasets": {name: {"source": "bundled"} for name in datasets},
        "methods": list(QUALITY),
        **(extra_config or {}),
    }
    _store.write_config(output, config)
    return output


@pytest.fixture
def single_run(tmp_path) -> Path:
    return _write_run(tmp_path / "single", ["churn"])


def _section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


# ---------------------------------------------------------------------------
# One dataset
# ---------------------------------------------------------------------------


def test_single_dataset_has_no_cross_dataset_statistics(single_run):
    text = write_report(single_run).read_text()
    assert "Friedman" not in text.replace("no Friedman test, Nemenyi test", "")
    assert "Nemenyi critical difference" not in text
    assert "## Average ranks" not in text
    assert "Wilcoxon" not in text
    assert "folds of one dataset are not independent" in text
    assert not (single_run / "critical_difference.png").exists()
    for plot in ["scores.png", "pr_curves.png"]:
        assert (single_run / plot).stat().st_size > 0
        assert f"![{plot}]({plot})" in text


def test_single_dataset_winners_and_paired_fold_test(single_run):
    summary = build_summary(single_run)
    assert summary.single_dataset
    winners = _section(summary.markdown(), "Winners")
    line = next(w for w in winners.splitlines() if "**average precision**" in w)
    assert "`strong` has the best mean" in line
    assert "over 10 folds" in line
    assert "significantly better than `middle`, `weak`" in line
    # The p-value of the table, against a hand-written Nadeau-Bengio test.
    results = summary.results
    by_method = {
        m: results[results["method"] == m]
        .sort_values(["repeat", "fold"])["average_precision"]
        .to_numpy()
        for m in QUALITY
    }
    difference = by_method["weak"] - by_method["strong"]
    t = difference.mean() / math.sqrt(
        (1 / 10 + N_TEST / N_TRAIN) * difference.var(ddof=1)
    )
    p = 2 * stats.t.sf(abs(t), df=9)
    pairwise = summary.analyses["average_precision"].pairwise.set_index("method")
    assert pairwise.loc["weak", "statistic"] == pytest.approx(t)
    assert pairwise.loc["weak", "pvalue"] == pytest.approx(p)
    table = _section(summary.markdown(), "Comparison over folds")
    assert "### average precision\n" in table
    assert "| strong | **" in table


def test_single_dataset_losses_pick_the_lowest_mean(single_run):
    summary = build_summary(single_run)
    for metric in ["brier_loss", "log_loss", "ece_loss"]:
        analysis = summary.analyses[metric]
        assert analysis.order == ["strong", "middle", "weak"]
        pairwise = analysis.pairwise.set_index("method")
        assert pairwise.loc["weak", "losses"] == 10
        assert (pairwise["losses"] > pairwise["wins"]).all()
        assert (pairwise["mean_difference"] > 0).all()
    text = summary.markdown()
    assert "### Brier score (lower is better)" in text


def test_metrics_nobody_computed_are_named_not_analysed(single_run):
    summary = build_summary(single_run)
    assert set(summary.not_computed) == set(TUNED_METRICS)
    assert not set(TUNED_METRICS) & set(summary.analyses)
    assert (
        "Not computed in this run: balanced accuracy, tuned threshold; macro F1, "
        "tuned threshold." in summary.markdown()
    )


# ---------------------------------------------------------------------------
# Two or more datasets
# ---------------------------------------------------------------------------


def test_several_datasets_keep_cross_dataset_statistics_and_rank_losses_up(
    tmp_path,
):
    output = _write_run(tmp_path / "multi", [f"d{i}" for i in range(6)], tuned=True)
    summary = build_summary(output)
    assert not summary.single_dataset
    assert summary.not_computed == []
    brier = summary.analyses["brier_loss"]
    assert brier.ranks.to_dict() == {"strong": 1.0, "middle": 2.0, "weak": 3.0}
    assert brier.friedman.pvalue < 0.05
    text = write_report(output).read_text()
    assert "Friedman chi-square" in text
    assert "## Average ranks" in text
    assert "Comparison over folds" not in text
    assert (output / "critical_difference.png").stat().st_size > 0
    # The best (lowest) Brier score is in bold.
    scores = _section(text, "Scores per dataset").split(
        "### Brier score (lower is better)\n", 1
    )[1]
    strong = next(line for line in scores.splitlines() if line.startswith("| strong"))
    assert strong.count("**") == 12


# ---------------------------------------------------------------------------
# Dropped rows and the console text
# ---------------------------------------------------------------------------


def test_dropped_rows_from_config_are_listed(tmp_path):
    output = _write_run(tmp_path / "run", ["churn"])
    config = _store.read_config(output)
    config["datasets"]["churn"].update(
        dropped_missing_target=42, dropped_missing_target_rows=list(range(3, 103))
    )
    _store.write_config(output, config)
    summary = build_summary(output)
    assert summary.dropped == {"churn": (42, list(range(3, 103)))}
    dropped = _section(summary.markdown(), "Dropped rows")
    assert "`churn`: 42 row(s) with a missing target dropped" in dropped
    assert "3, 4, 5," in dropped
    assert "(12 more)" in dropped
    assert "churn: 42 row(s) with a missing target dropped" in summary.console_text()


def test_dropped_argument_overrides_config_and_empty_lists_say_nothing(single_run):
    summary = build_summary(single_run, dropped={"churn": [7, 11], "other": []})
    assert summary.dropped == {"churn": (2, [7, 11])}
    assert "0-based data rows of the file (header not counted): 7, 11." in (
        summary.markdown()
    )
    assert "## Dropped rows" not in build_summary(single_run).markdown()


def test_console_text_is_the_winners_without_markdown(single_run):
    summary = build_summary(single_run)
    console = summary.console_text().splitlines()
    assert len(console) == len(summary.analyses)
    assert console[0].startswith("- average precision: strong has the best mean")
    assert not any("**" in line or "`" in line for line in console)


def test_write_report_returns_the_summary_path(single_run):
    path = write_report(single_run)
    assert path == single_run / "summary.md"
    summary = build_summary(single_run)
    assert isinstance(summary, BenchmarkSummary)
    assert path.read_text() == summary.markdown(["scores.png", "pr_curves.png"])


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


@pytest.fixture
def saved_figures(monkeypatch) -> list[Figure]:
    figures: list[Figure] = []

    def savefig(self, fname, *args, **kwargs):
        figures.append(self)
        Path(fname).write_bytes(b"")

    monkeypatch.setattr(Figure, "savefig", savefig)
    return figures


def test_pr_curves_keep_one_colour_per_method_and_show_ap(
    saved_figures, single_run, tmp_path
):
    predictions = pd.read_csv(single_run / "predictions.csv")
    predictions = pd.concat(
        [predictions, predictions.assign(dataset="copy")], ignore_index=True
    )
    colours = method_colours(list(QUALITY))
    best = {"churn": ["strong", "middle"], "copy": ["middle", "weak"]}
    plot_pr_curves(predictions, best, tmp_path / "pr.png", colours=colours)
    (figure,) = saved_figures
    seen: dict[str, set] = {}
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        dataset = ax.get_title()
        for line, text in zip(ax.get_lines(), legend.get_texts(), strict=False):
            method = text.get_text().split(" (AP ")[0]
            seen.setdefault(method, set()).add(line.get_color())
            rows = predictions[
                (predictions["dataset"] == dataset) & (predictions["method"] == method)
            ]
            ap = average_precision_score(rows["y_true"], rows["score"])
            assert text.get_text() == f"{method} (AP {ap:.3f})"
    assert seen.keys() == {"strong", "middle", "weak"}
    assert all(len(c) == 1 for c in seen.values())
    assert "methods" in figure.get_suptitle()


def test_error_bars_stop_at_one(saved_figures, tmp_path):
    means = {"AP": pd.DataFrame({"d0": [0.97, 0.5]}, index=["a", "b"])}
    sds = {"AP": pd.DataFrame({"d0": [0.2, 0.1]}, index=["a", "b"])}
    plot_scores(means, sds, tmp_path / "s.png")
    (figure,) = saved_figures
    ax = figure.axes[0]
    assert ax.get_ylim()[1] <= 1.05
    tops = [
        segment[:, 1].max()
        for collection in ax.collections
        for segment in collection.get_segments()
    ]
    assert max(tops) == pytest.approx(1.0)

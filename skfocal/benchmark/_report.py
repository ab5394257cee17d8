"""The benchmark report: ``summary.md`` with tables and tests, and PNG plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from skfocal.benchmark._methods import METHODS, MLP_DEFAULTS
from skfocal.benchmark._metrics import METRICS
from skfocal.benchmark._plots import (
    plot_critical_difference,
    plot_pr_curves,
    plot_scores,
)
from skfocal.benchmark._stats import (
    average_ranks,
    critical_difference,
    friedman_test,
    wilcoxon_holm,
)
from skfocal.benchmark._store import (
    PREDICTIONS_FILE,
    RESULTS_FILE,
    BenchmarkDirectoryError,
    read_config,
    read_predictions,
    read_results,
)

__all__ = ["summary_tables", "write_report"]

SUMMARY_FILE = "summary.md"
_ALPHA = 0.05
# PR curves of this many of the best methods per dataset.
_N_BEST_CURVES = 3


def _format_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _p_equals(p: float) -> str:
    text = _format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _markdown(frame: pd.DataFrame, index_name: str) -> str:
    """A pipe table; no dependency on the optional ``tabulate`` package."""
    header = [index_name, *map(str, frame.columns)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * len(frame.columns)) + "|",
    ]
    for index, row in frame.iterrows():
        lines.append("| " + " | ".join([str(index), *map(str, row.tolist())]) + " |")
    return "\n".join(lines)


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


def _failed_folds(
    results: pd.DataFrame, metric: str, datasets: Sequence[str], methods: Sequence[str]
) -> pd.DataFrame:
    """Folds with a NaN ``metric`` per dataset (rows) and method (columns)."""
    failed = results[metric].isna().groupby([results["dataset"], results["method"]])
    table = failed.sum().unstack("method")
    return table.reindex(index=list(datasets), columns=list(methods)).fillna(0)


def _mean_sd(
    means: pd.DataFrame, sds: pd.DataFrame, n_failed: pd.DataFrame
) -> pd.DataFrame:
    """Methods as rows, datasets as columns, the best mean per dataset bold.

    A mean over fewer folds than planned says how many failed: it is not
    comparable with the others as it stands.
    """
    cells = pd.DataFrame(index=means.columns, columns=means.index, dtype=object)
    for dataset in means.index:
        best = means.loc[dataset].max()
        for method in means.columns:
            mean, sd = means.loc[dataset, method], sds.loc[dataset, method]
            if not np.isfinite(mean):
                cells.loc[method, dataset] = "failed"
                continue
            text = f"{mean:.3f} ± {sd:.3f}" if np.isfinite(sd) else f"{mean:.3f}"
            text = f"**{text}**" if mean == best else text
            failed = int(n_failed.loc[dataset, method])
            if failed:
                text += f" ({failed} failed)"
            cells.loc[method, dataset] = text
    return cells


def _winner_sentence(
    label: str,
    ranks: pd.Series,
    n_datasets: int,
    friedman,
    pairwise: pd.DataFrame,
) -> str:
    best = ranks.index[0]
    tied = [m for m in ranks.index if ranks[m] == ranks.iloc[0]]
    if len(tied) > 1:
        lead = (
            f"{', '.join(f'`{m}`' for m in tied)} share the best average rank "
            f"({ranks.iloc[0]:.2f} over {n_datasets} datasets)"
        )
    else:
        lead = (
            f"`{best}` has the best average rank ({ranks.iloc[0]:.2f} over "
            f"{n_datasets} dataset{'s' if n_datasets != 1 else ''})"
        )
    if np.isfinite(friedman.pvalue):
        test = f"Friedman {_p_equals(friedman.pvalue)}"
    else:
        test = f"no Friedman test ({friedman.note})"
    beaten = pairwise[
        (pairwise["pvalue_holm"] < _ALPHA) & (pairwise["losses"] > pairwise["wins"])
    ]["method"].tolist()
    if len(pairwise) == 0:
        verdict = "there is nothing to compare it with"
    elif beaten:
        verdict = (
            f"it is significantly better than {', '.join(f'`{m}`' for m in beaten)} "
            f"(Wilcoxon-Holm, α = {_ALPHA})"
        )
        if len(beaten) < len(pairwise):
            verdict += ", and not significantly different from the rest"
    else:
        verdict = (
            f"no other method differs significantly from `{best}` (Wilcoxon-Holm, "
            f"α = {_ALPHA})"
        )
    return f"- **{label}**: {lead}; {test}; {verdict}."


def _note_counts(results: pd.DataFrame) -> list[str]:
    lines = []
    notes = results[results["note"].fillna("") != ""]
    for (dataset, method), group in notes.groupby(["dataset", "method"], sort=False):
        examples = "; ".join(sorted(set(group["note"])))
        lines.append(f"- `{method}` on `{dataset}`, {len(group)} fold(s): {examples}")
    return lines


def _tuned_lines(results: pd.DataFrame) -> list[str]:
    lines = []
    tuned = results[results["best_params"].fillna("") != ""]
    for method, group in tuned.groupby("method", sort=False):
        counts = group["best_params"].value_counts()
        choices = ", ".join(f"`{params}` ({n})" for params, n in counts.items())
        lines.append(f"- `{method}`: {choices}")
    return lines


def _error_lines(results: pd.DataFrame) -> list[str]:
    lines = []
    errors = results[results["error"].fillna("") != ""]
    for (dataset, method), group in errors.groupby(["dataset", "method"], sort=False):
        lines.append(
            f"- `{method}` on `{dataset}` failed on {len(group)} fold(s): "
            f"{group['error'].iloc[0]}"
        )
    return lines


def write_report(
    output: str | Path,
    *,
    datasets: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
) -> Path:
    """Write ``summary.md`` and the PNG plots of a benchmark directory.

    Reads ``config.json``, ``results.csv`` and ``predictions.csv`` from
    ``output``. The report covers ``datasets`` x ``methods``; by default,
    every dataset and method of ``config.json``. Missing tasks (an
    interrupted run) are reported, not guessed.

    Files written to ``output``: ``summary.md``; ``critical_difference.png``
    (a diagram per metric, when there are at least 2 methods);
    ``scores.png`` (bars of mean ± sd per dataset and method, a panel per
    metric); ``pr_curves.png`` (the best 3 methods by average precision on
    each binary dataset, out-of-fold scores of the first repeat).

    Parameters
    ----------
    output : str or path-like
        The benchmark directory.
    datasets, methods : sequence of str or None, default=None
        What to report, in order.

    Returns
    -------
    pathlib.Path
        The path of ``summary.md``.

    Raises
    ------
    ValueError
        If ``output`` holds no benchmark.
    """
    output = Path(output)
    config = read_config(output)
    if config is None or not (output / RESULTS_FILE).exists():
        raise BenchmarkDirectoryError(f"'{output}' holds no benchmark results.")
    datasets = list(config["datasets"] if datasets is None else datasets)
    methods = list(config["methods"] if methods is None else methods)
    protocol = config["protocol"]
    results = read_results(output / RESULTS_FILE)
    results = results[
        results["dataset"].isin(datasets) & results["method"].isin(methods)
    ]
    expected = len(datasets) * len(methods) * protocol["folds"] * protocol["repeats"]
    n_errors = int((results["error"].fillna("") != "").sum())
    present_datasets = [d for d in datasets if d in set(results["dataset"])]

    architecture = MLP_DEFAULTS["hidden_layer_sizes"]
    lines = [
        "# skfocal benchmark",
        "",
        f"{len(datasets)} dataset(s) x {len(methods)} method(s), stratified "
        f"{protocol['folds']}-fold cross-validation repeated "
        f"{protocol['repeats']} time(s), seed {protocol['seed']}. Every MLP: "
        f"hidden layers {architecture}, {protocol['max_epochs']} epochs, batch "
        f"{MLP_DEFAULTS['batch_size']}, lr {MLP_DEFAULTS['lr']}, early stopping "
        "on training folds of 10,000 rows or more (decided before resampling, "
        "the same for every method). Hyperparameters tuned inside each "
        f"fold: {'yes' if protocol['tune'] else 'no'}. Preprocessing and "
        "resampling are fitted inside each training fold.",
        "",
        f"Rows: {len(results)} of {expected} expected; {n_errors} failed "
        "(NaN scores, see below).",
        "",
    ]
    if config.get("skfocal_versions"):
        lines += [f"Computed by skfocal {', '.join(config['skfocal_versions'])}.", ""]
    if len(results) < expected:
        lines += [
            "**The run is incomplete**: rerun the same command to compute the "
            "missing folds.",
            "",
        ]

    tables = {m: summary_tables(results, m, datasets, methods) for m in METRICS}
    analyses = {}
    for metric, (means, _) in tables.items():
        table = means.loc[present_datasets]
        if table.empty:
            continue
        ranks = average_ranks(table)
        friedman = friedman_test(table)
        pairwise = wilcoxon_holm(table, reference=ranks.index[0])
        if len(methods) < 2:
            cd = math.nan
        elif friedman.pvalue >= _ALPHA:
            # Demšar (2006): the Nemenyi post-hoc test only follows a Friedman
            # test that rejects; otherwise no two methods are told apart.
            cd = math.inf
        else:
            cd = critical_difference(len(methods), len(table))
        analyses[metric] = (table, ranks, friedman, pairwise, cd)

    lines += ["## Winners", ""]
    for metric, (table, ranks, friedman, pairwise, _) in analyses.items():
        lines.append(
            _winner_sentence(METRICS[metric], ranks, len(table), friedman, pairwise)
        )
    if len(present_datasets) < 6:
        lines += [
            "",
            f"With {len(present_datasets)} dataset(s), no two-sided Wilcoxon test "
            "can reach p < 0.05 (it needs at least 6 datasets); read the "
            "ranks as descriptive.",
        ]
    lines += [
        "",
        "## Average ranks",
        "",
        "1 is the best; ties share the mean rank; a method that failed on a "
        "dataset ranks last there.",
        "",
    ]
    if analyses:
        rank_table = pd.DataFrame(
            {METRICS[m]: analysis[1] for m, analysis in analyses.items()}
        )
        first = next(iter(analyses.values()))[1].index
        lines += [_markdown(rank_table.loc[first].round(2), "method"), ""]

    lines += ["## Statistical tests", ""]
    for metric, (table, ranks, friedman, pairwise, cd) in analyses.items():
        label = METRICS[metric]
        lines += [f"### {label}", ""]
        if np.isfinite(friedman.pvalue):
            lines.append(
                f"Friedman chi-square = {friedman.statistic:.2f}, "
                f"{_p_equals(friedman.pvalue)} ({len(methods)} methods, "
                f"{len(table)} datasets)."
            )
        else:
            lines.append(f"Friedman test not applicable: {friedman.note}.")
        if np.isfinite(cd):
            lines.append(
                f"Nemenyi critical difference (α = {_ALPHA}): {cd:.2f}; "
                "see `critical_difference.png`."
            )
        elif cd == math.inf:
            lines.append(
                f"The Friedman test does not reject equal ranks at α = {_ALPHA}, "
                "so there is no Nemenyi post-hoc test: `critical_difference.png` "
                "joins every method."
            )
        lines += [
            "",
            f"Wilcoxon signed-rank tests against `{ranks.index[0]}` over the "
            "datasets, Holm-adjusted:",
            "",
        ]
        if len(pairwise):
            shown = pairwise.set_index("method").assign(
                rank=ranks.reindex(pairwise["method"]).to_numpy().round(2),
                pvalue=pairwise["pvalue"].map(_format_p).to_numpy(),
                pvalue_holm=pairwise["pvalue_holm"].map(_format_p).to_numpy(),
            )[["rank", "wins", "ties", "losses", "pvalue", "pvalue_holm", "note"]]
            shown.columns = [
                "avg rank",
                "wins",
                "ties",
                "losses",
                "p",
                "p (Holm)",
                "note",
            ]
            lines += [_markdown(shown, "method"), ""]
        else:
            lines += ["(only one method)", ""]

    lines += [
        "## Scores per dataset",
        "",
        "Mean ± sd over the folds that did not fail (how many failed, if any, "
        "follows in brackets); best in bold.",
        "",
    ]
    for metric, (means, sds) in tables.items():
        n_failed = _failed_folds(results, metric, datasets, methods)
        lines += [
            f"### {METRICS[metric]}",
            "",
            _markdown(_mean_sd(means, sds, n_failed), "method"),
            "",
        ]

    times = results.groupby("method")[["fit_time", "predict_time"]].mean()
    times = times.reindex(methods).round(3)
    times.columns = ["fit time (s)", "predict time (s)"]
    lines += [
        "## Time",
        "",
        "Mean per fold, on this machine.",
        "",
        _markdown(times, "method"),
        "",
    ]

    lines += ["## Methods", ""]
    lines += [
        f"- `{m}`: {METHODS[m].description}" if m in METHODS else f"- `{m}`"
        for m in methods
    ]
    tuned = _tuned_lines(results)
    if tuned:
        lines += ["", "## Tuned hyperparameters", "", "Best grid point per outer fold."]
        lines += ["", *tuned]
    notes, errors = _note_counts(results), _error_lines(results)
    lines += ["", "## Notes and errors", ""]
    lines += notes or ["No sampler needed adjusting."]
    lines += [""] + (errors or ["No fold failed."]) + [""]

    plots = []
    if analyses and len(methods) >= 2:
        plot_critical_difference(
            {METRICS[m]: analysis[1] for m, analysis in analyses.items()},
            {METRICS[m]: analysis[4] for m, analysis in analyses.items()},
            output / "critical_difference.png",
            len(present_datasets),
        )
        plots.append("critical_difference.png")
    if analyses:
        plot_scores(
            {METRICS[m]: tables[m][0].loc[present_datasets].T for m in analyses},
            {METRICS[m]: tables[m][1].loc[present_datasets].T for m in analyses},
            output / "scores.png",
        )
        plots.append("scores.png")
    predictions = read_predictions(output / PREDICTIONS_FILE, results)
    best: dict[str, list[str]] = {}
    if not predictions.empty and "average_precision" in analyses:
        means = tables["average_precision"][0]
        best = {
            dataset: list(means.loc[dataset].dropna().nlargest(_N_BEST_CURVES).index)
            for dataset in present_datasets
            if dataset in set(predictions["dataset"])
        }
        if best:
            plot_pr_curves(predictions, best, output / "pr_curves.png")
            plots.append("pr_curves.png")
    lines += ["## Plots", ""]
    lines += [f"![{name}]({name})" for name in plots]
    if len(present_datasets) > len(best):
        lines += [
            "",
            "Precision-recall curves are drawn for binary datasets only.",
        ]
    summary = output / SUMMARY_FILE
    summary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary

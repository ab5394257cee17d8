"""The benchmark report: ``summary.md`` with tables and tests, and PNG plots.

:func:`build_summary` reads a benchmark directory and returns a
:class:`BenchmarkSummary`: the tables, ranks, tests and winner sentences of
every metric, which renders itself as Markdown (``summary.md``) or as the
short text a console prints. :func:`write_report` writes both files.

Two or more datasets are compared across datasets (Demšar 2006): average
ranks, the Friedman test, the Nemenyi critical difference after a Friedman
rejection, and Wilcoxon signed-rank tests against the best method. One
dataset has one score per method: there is nothing to rank across, so the
comparison is over its repeated folds instead, with the corrected resampled
t-test (Nadeau and Bengio 2003) against the best mean, Holm-adjusted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from skfocal._fit_backbone import PLAIN_BACKBONE
from skfocal.benchmark._analysis import (
    ALPHA,
    MetricAnalysis,
    analyse_metric,
    format_p,
    p_equals,
    summary_tables,
)
from skfocal.benchmark._atomic import atomic_write_text
from skfocal.benchmark._methods import METHODS, MLP_DEFAULTS
from skfocal.benchmark._metrics import METRICS, higher_is_better
from skfocal.benchmark._plots import (
    method_colours,
    plot_critical_difference,
    plot_fold_scores,
    plot_pr_curves,
    plot_scores,
)
from skfocal.benchmark._store import (
    PREDICTIONS_FILE,
    RESULTS_FILE,
    BenchmarkDirectoryError,
    read_config,
    read_predictions,
    read_results,
)

__all__ = [
    "BenchmarkSummary",
    "MetricAnalysis",
    "build_summary",
    "summary_tables",
    "write_report",
]

SUMMARY_FILE = "summary.md"
# PR curves of this many of the best methods per dataset.
_N_BEST_CURVES = 3
# Dropped row numbers listed in the report per dataset.
_MAX_DROPPED_LISTED = 30

_SINGLE_DATASET_NOTE = (
    "One dataset: no Friedman test, Nemenyi test or critical-difference "
    "diagram. Those compare average ranks over independent datasets; here each "
    "method has one score per fold, and the folds of one dataset are not "
    "independent (their training sets overlap). Each method is compared with "
    "the best one over the same folds by the corrected resampled t-test "
    "(Nadeau and Bengio 2003), whose variance is inflated by 1/J + "
    "n_test/n_train (J folds) for that overlap, and the p-values are "
    f"Holm-adjusted. α = {ALPHA}. Even corrected, read them as approximate: "
    "they speak for this table, not for other data."
)


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


def _heading(metric: str) -> str:
    label = METRICS.get(metric, metric)
    return label if higher_is_better(metric) else f"{label} (lower is better)"


def _bounds(metric: str) -> tuple[float, float]:
    """The range of a metric, for error bars and axes."""
    if not higher_is_better(metric):
        return (0.0, math.inf)
    return (-1.0, 1.0) if metric == "mcc" else (0.0, 1.0)


def _mean_sd_text(mean: float, sd: float, failed: int, best: bool) -> str:
    if not np.isfinite(mean):
        return "failed"
    text = f"{mean:.3f} ± {sd:.3f}" if np.isfinite(sd) else f"{mean:.3f}"
    text = f"**{text}**" if best else text
    return text + (f" ({failed} failed)" if failed else "")


def _mean_sd(
    means: pd.DataFrame, sds: pd.DataFrame, n_failed: pd.DataFrame, metric: str
) -> pd.DataFrame:
    """Methods as rows, datasets as columns, the best mean per dataset bold.

    A mean over fewer folds than planned says how many failed: it is not
    comparable with the others as it stands.
    """
    cells = pd.DataFrame(index=means.columns, columns=means.index, dtype=object)
    for dataset in means.index:
        row = means.loc[dataset]
        best = row.max() if higher_is_better(metric) else row.min()
        for method in means.columns:
            cells.loc[method, dataset] = _mean_sd_text(
                row[method],
                sds.loc[dataset, method],
                int(n_failed.loc[dataset, method]),
                row[method] == best,
            )
    return cells


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


def _dropped_from_config(config: dict) -> dict[str, tuple[int, list[int]]]:
    """``config["datasets"][name]``: ``dropped_missing_target`` (a count) and
    ``dropped_missing_target_rows`` (the first rows), as the planner writes."""
    dropped = {}
    for name, described in config.get("datasets", {}).items():
        if not isinstance(described, dict):
            continue
        count = described.get("dropped_missing_target", 0)
        rows = list(described.get("dropped_missing_target_rows", []))
        if isinstance(count, list):  # a bare list of rows is accepted too
            count, rows = len(count), count
        if count:
            dropped[name] = (int(count), [int(r) for r in rows])
    return dropped


def _dropped_lines(dropped: Mapping[str, tuple[int, list[int]]]) -> list[str]:
    lines = []
    for name, (count, rows) in dropped.items():
        shown = rows[:_MAX_DROPPED_LISTED]
        listed = ", ".join(map(str, shown))
        if count > len(shown):
            listed += f", ... ({count - len(shown)} more)"
        lines.append(
            f"- `{name}`: {count} row(s) with a missing target dropped; 0-based "
            f"data rows of the file (header not counted): {listed}."
        )
    return lines


@dataclass
class BenchmarkSummary:
    """What a benchmark directory says: tables, ranks, tests and winners.

    Built by :func:`build_summary`. :meth:`markdown` renders ``summary.md``,
    :meth:`console_text` the short text for a terminal, :meth:`write` writes
    the report and its plots.

    Attributes
    ----------
    output : pathlib.Path
        The benchmark directory.
    config : dict
        Its ``config.json``.
    datasets, methods : list of str
        What the report covers, in order.
    results : pandas.DataFrame
        The rows of ``results.csv`` for ``datasets`` x ``methods``.
    analyses : dict
        Metric name to its :class:`MetricAnalysis`, for every metric that
        some fold computed, in the order of :data:`METRICS`.
    not_computed : list of str
        Metrics of :data:`METRICS` with no value in this run (e.g. a run by
        an older version).
    dropped : dict
        Dataset name to ``(count, rows)``: rows of the user's table dropped
        for a missing target (``rows`` may list only the first ones).
    """

    output: Path
    config: dict
    datasets: list[str]
    methods: list[str]
    results: pd.DataFrame
    analyses: dict[str, MetricAnalysis]
    not_computed: list[str] = field(default_factory=list)
    dropped: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    _predictions_cache: pd.DataFrame | None = field(
        default=None, init=False, repr=False
    )

    @property
    def present_datasets(self) -> list[str]:
        """Datasets with at least one result, in order."""
        present = set(self.results["dataset"])
        return [d for d in self.datasets if d in present]

    @property
    def single_dataset(self) -> bool:
        """Whether the comparison is over folds of one dataset."""
        return len(self.present_datasets) == 1

    @property
    def winners(self) -> list[str]:
        """The winner sentence of every analysed metric (Markdown)."""
        return [analysis.winner for analysis in self.analyses.values()]

    def console_text(self, *, dropped: bool = True) -> str:
        """The winners and the dropped rows, as plain text for a terminal.

        Parameters
        ----------
        dropped : bool, default=True
            Whether to add the rows dropped for a missing target (``skfocal
            benchmark`` says them before the run instead, and leaves them
            out here).

        Returns
        -------
        str
            One line per metric, then one per dataset with dropped rows.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from skfocal.benchmark import build_summary, plan_benchmark
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     plan = plan_benchmark("ecoli3", ["logreg_balanced", "rus"],
        ...                           output=Path(tmp), n_splits=2, n_repeats=1)
        ...     _ = plan.run(progress=False, n_jobs=1)
        ...     text = build_summary(tmp).console_text()
        >>> print(text.splitlines()[0])
        - average precision: ... has the best mean (... over 2 folds)...; no other ...
        """
        lines = [w.replace("**", "").replace("`", "") for w in self.winners]
        if dropped:
            lines += [line.replace("`", "") for line in _dropped_lines(self.dropped)]
        return "\n".join(lines)

    def _header_lines(self) -> list[str]:
        protocol = self.config["protocol"]
        expected = (
            len(self.datasets)
            * len(self.methods)
            * protocol["folds"]
            * protocol["repeats"]
        )
        n_errors = int((self.results["error"].fillna("") != "").sum())
        # What the directory was computed with: older ones recorded no
        # backbone, they used the plain network and the validation loss.
        recorded = self.config.get("mlp", {})
        mlp = {**MLP_DEFAULTS, **PLAIN_BACKBONE, **recorded}
        architecture = tuple(mlp["hidden_layer_sizes"])
        backbone = (
            f"inputs {mlp['input_transform']}, {mlp['embedding']} embeddings, "
            if "embedding" in recorded
            else "no input transform or embeddings, "
        )
        lines = [
            "# skfocal benchmark",
            "",
            f"{len(self.datasets)} dataset(s) x {len(self.methods)} method(s), "
            f"stratified {protocol['folds']}-fold cross-validation repeated "
            f"{protocol['repeats']} time(s), seed {protocol['seed']}. Every MLP: "
            f"hidden layers {architecture}, {backbone}"
            f"{protocol['max_epochs']} epochs, batch "
            f"{mlp['batch_size']}, lr {mlp['lr']}, early stopping "
            "on training folds of 10,000 rows or more (on the validation "
            f"{mlp.get('validation_metric', 'loss').replace('_', ' ')}, decided "
            "before resampling, "
            "the same for every method). Hyperparameters tuned inside each "
            f"fold: {'yes' if protocol['tune'] else 'no'}. Preprocessing and "
            "resampling are fitted inside each training fold.",
            "",
            f"Rows: {len(self.results)} of {expected} expected; {n_errors} failed "
            "(NaN scores, see below).",
            "",
        ]
        if self.config.get("skfocal_versions"):
            versions = ", ".join(self.config["skfocal_versions"])
            lines += [f"Computed by skfocal {versions}.", ""]
        if len(self.results) < expected:
            lines += [
                "**The run is incomplete**: rerun the same command to compute the "
                "missing folds.",
                "",
            ]
        if self.dropped:
            lines += ["## Dropped rows", "", *_dropped_lines(self.dropped), ""]
        return lines

    def _winner_lines(self) -> list[str]:
        lines = ["## Winners", "", *self.winners]
        if self.not_computed:
            labels = "; ".join(METRICS[m] for m in self.not_computed)
            lines += ["", f"Not computed in this run: {labels}."]
        n_present = len(self.present_datasets)
        if self.single_dataset:
            lines += ["", _SINGLE_DATASET_NOTE]
        elif n_present < 6:
            lines += [
                "",
                f"With {n_present} dataset(s), no two-sided Wilcoxon test "
                "can reach p < 0.05 (it needs at least 6 datasets); read the "
                "ranks as descriptive.",
            ]
        return [*lines, ""]

    def _rank_lines(self) -> list[str]:
        lines = [
            "## Average ranks",
            "",
            "1 is the best; ties share the mean rank; a method that failed on a "
            "dataset ranks last there.",
            "",
        ]
        if self.analyses:
            rank_table = pd.DataFrame(
                {a.label: a.ranks for a in self.analyses.values()}
            )
            first = next(iter(self.analyses.values())).ranks.index
            lines += [_markdown(rank_table.loc[first].round(2), "method"), ""]
        return lines

    def _test_lines(self) -> list[str]:
        lines = ["## Statistical tests", ""]
        n_methods = len(self.methods)
        for analysis in self.analyses.values():
            friedman, cd, table = analysis.friedman, analysis.cd, analysis.means
            lines += [f"### {_heading(analysis.metric)}", ""]
            if np.isfinite(friedman.pvalue):
                lines.append(
                    f"Friedman chi-square = {friedman.statistic:.2f}, "
                    f"{p_equals(friedman.pvalue)} ({n_methods} methods, "
                    f"{len(table)} datasets)."
                )
            else:
                lines.append(f"Friedman test not applicable: {friedman.note}.")
            if np.isfinite(cd):
                lines.append(
                    f"Nemenyi critical difference (α = {ALPHA}): {cd:.2f}; "
                    "see `critical_difference.png`."
                )
            elif cd == math.inf:
                lines.append(
                    "The Friedman test does not reject equal ranks at α = "
                    f"{ALPHA}, so there is no Nemenyi post-hoc test: "
                    "`critical_difference.png` joins every method."
                )
            lines += [
                "",
                f"Wilcoxon signed-rank tests against `{analysis.order[0]}` over "
                "the datasets, Holm-adjusted:",
                "",
            ]
            pairwise = analysis.pairwise
            if len(pairwise):
                shown = pairwise.set_index("method").assign(
                    rank=analysis.ranks.reindex(pairwise["method"]).to_numpy().round(2),
                    pvalue=pairwise["pvalue"].map(format_p).to_numpy(),
                    pvalue_holm=pairwise["pvalue_holm"].map(format_p).to_numpy(),
                )[["rank", "wins", "ties", "losses", "pvalue", "pvalue_holm", "note"]]
                shown.columns = [
                    "avg rank", "wins", "ties", "losses", "p", "p (Holm)", "note"
                ]  # fmt: skip
                lines += [_markdown(shown, "method"), ""]
            else:
                lines += ["(only one method)", ""]
        return lines

    def _fold_comparison_lines(self) -> list[str]:
        lines = [
            "## Comparison over folds",
            "",
            "Mean ± sd over the folds that did not fail (how many failed, if any, "
            "follows in brackets); the difference to the best mean; on how many "
            "folds the method was better, equal, worse than the best; the "
            "corrected resampled t-test against the best, Holm-adjusted.",
            "",
        ]
        for analysis in self.analyses.values():
            best = analysis.order[0]
            means, sds = analysis.means.iloc[0], analysis.sds.iloc[0]
            failed = analysis.n_failed.iloc[0]
            rows = {best: [_mean_sd_text(means[best], sds[best], failed[best], True)]}
            rows[best] += ["(best)", "", "", "", "", "", "", ""]
            for _, row in analysis.pairwise.iterrows():
                method = row["method"]
                rows[method] = [
                    _mean_sd_text(means[method], sds[method], failed[method], False),
                    f"{row['mean_difference']:+.3f}",
                    row["wins"],
                    row["ties"],
                    row["losses"],
                    f"{row['statistic']:.2f}",
                    format_p(row["pvalue"]),
                    format_p(row["pvalue_holm"]),
                    row["note"],
                ]
            table = pd.DataFrame.from_dict(
                rows,
                orient="index",
                columns=[
                    "mean ± sd", "difference", "better", "equal", "worse", "t",
                    "p", "p (Holm)", "note",
                ],
            )  # fmt: skip
            lines += [
                f"### {_heading(analysis.metric)}",
                "",
                _markdown(table, "method"),
            ]
            lines.append("")
        return lines

    def _score_lines(self) -> list[str]:
        lines = [
            "## Scores per dataset",
            "",
            "Mean ± sd over the folds that did not fail (how many failed, if any, "
            "follows in brackets); best in bold.",
            "",
        ]
        for analysis in self.analyses.values():
            cells = _mean_sd(
                analysis.means, analysis.sds, analysis.n_failed, analysis.metric
            )
            lines += [
                f"### {_heading(analysis.metric)}",
                "",
                _markdown(cells, "method"),
            ]
            lines.append("")
        return lines

    def _footer_lines(self) -> list[str]:
        results, methods = self.results, self.methods
        times = results.groupby("method")[["fit_time", "predict_time"]].mean()
        times = times.reindex(methods).round(3)
        times.columns = ["fit time (s)", "predict time (s)"]
        lines = [
            "## Time", "", "Mean per fold, on this machine.", "",
            _markdown(times, "method"), "", "## Methods", "",
        ]  # fmt: skip
        lines += [
            f"- `{m}`: {METHODS[m].description}" if m in METHODS else f"- `{m}`"
            for m in methods
        ]
        tuned = _tuned_lines(results)
        if tuned:
            lines += ["", "## Tuned hyperparameters", ""]
            lines += ["Best grid point per outer fold.", ""]
            lines += tuned
        notes, errors = _note_counts(results), _error_lines(results)
        lines += ["", "## Notes and errors", ""]
        lines += notes or ["No sampler needed adjusting."]
        lines += [""] + (errors or ["No fold failed."]) + [""]
        return lines

    def markdown(self, plots: Sequence[str] = ()) -> str:
        """``summary.md``: header, winners, tests, tables, time, methods, notes.

        Parameters
        ----------
        plots : sequence of str, default=()
            File names of the plots to embed (what :meth:`write` drew).

        Returns
        -------
        str
        """
        lines = self._header_lines() + self._winner_lines()
        if self.single_dataset:
            lines += self._fold_comparison_lines()
        elif self.analyses:
            lines += self._rank_lines() + self._test_lines() + self._score_lines()
        lines += self._footer_lines()
        lines += ["## Plots", "", *(f"![{name}]({name})" for name in plots)]
        if self._binary_datasets() != self.present_datasets:
            lines += ["", "Precision-recall curves are drawn for binary datasets only."]
        return "\n".join(lines) + "\n"

    def _binary_datasets(self) -> list[str]:
        predictions = self._predictions()
        drawn = set(predictions["dataset"]) if not predictions.empty else set()
        return [d for d in self.present_datasets if d in drawn]

    def _predictions(self) -> pd.DataFrame:
        if self._predictions_cache is None:
            self._predictions_cache = read_predictions(
                self.output / PREDICTIONS_FILE, self.results
            )
        return self._predictions_cache

    def _draw(self) -> list[str]:
        """Write the PNG plots; return their file names."""
        output, analyses = self.output, self.analyses
        if not analyses:
            return []
        colours = method_colours(
            [*METHODS, *(m for m in self.methods if m not in METHODS)]
        )
        bounds = {_heading(a.metric): _bounds(a.metric) for a in analyses.values()}
        plots = []
        if self.single_dataset:
            plot_fold_scores(
                {_heading(a.metric): a.folds for a in analyses.values()},
                output / "scores.png",
                colours=colours,
                bounds=bounds,
                title=f"{self.present_datasets[0]}: score of every fold (points) "
                "and the mean (black bar)",
            )
            plots.append("scores.png")
        else:
            if len(self.methods) >= 2:
                plot_critical_difference(
                    {a.label: a.ranks for a in analyses.values()},
                    {a.label: a.cd for a in analyses.values()},
                    output / "critical_difference.png",
                    len(self.present_datasets),
                )
                plots.append("critical_difference.png")
            plot_scores(
                {_heading(a.metric): a.means.T for a in analyses.values()},
                {_heading(a.metric): a.sds.T for a in analyses.values()},
                output / "scores.png",
                colours=colours,
                bounds=bounds,
            )
            plots.append("scores.png")
        binary = self._binary_datasets()
        if binary and "average_precision" in analyses:
            means = analyses["average_precision"].means
            best = {
                d: list(means.loc[d].dropna().nlargest(_N_BEST_CURVES).index)
                for d in binary
            }
            plot_pr_curves(
                self._predictions(),
                best,
                output / "pr_curves.png",
                colours=colours,
                which=f"the {_N_BEST_CURVES} methods with the best mean average "
                "precision",
            )
            plots.append("pr_curves.png")
        return plots

    def write(self) -> Path:
        """Write ``summary.md`` and the plots into the benchmark directory.

        Returns
        -------
        pathlib.Path
            The path of ``summary.md``.
        """
        plots = self._draw()
        summary = self.output / SUMMARY_FILE
        atomic_write_text(summary, self.markdown(plots))
        return summary


def build_summary(
    output: str | Path,
    *,
    datasets: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    dropped: Mapping[str, Sequence[int]] | None = None,
) -> BenchmarkSummary:
    """Read a benchmark directory and analyse it, writing nothing.

    Parameters
    ----------
    output : str or path-like
        The benchmark directory (``config.json``, ``results.csv``,
        ``predictions.csv``).
    datasets, methods : sequence of str or None, default=None
        What to report, in order; by default everything of ``config.json``.
    dropped : mapping or None, default=None
        Dataset name to the 0-based rows of the user's table dropped for a
        missing target (``load_table``'s
        ``X.attrs["dropped_missing_target"]``). ``None`` reads them from
        ``config.json``: ``config["datasets"][name]["dropped_missing_target"]``
        (the count) and ``["dropped_missing_target_rows"]`` (the first rows).

    Returns
    -------
    BenchmarkSummary

    Raises
    ------
    BenchmarkDirectoryError
        If ``output`` holds no benchmark.
    """
    output = Path(output)
    config = read_config(output)
    if config is None or not (output / RESULTS_FILE).exists():
        raise BenchmarkDirectoryError(f"'{output}' holds no benchmark results.")
    datasets = list(config["datasets"] if datasets is None else datasets)
    methods = list(config["methods"] if methods is None else methods)
    results = read_results(output / RESULTS_FILE)
    results = results[
        results["dataset"].isin(datasets) & results["method"].isin(methods)
    ]
    present = [d for d in datasets if d in set(results["dataset"])]
    computed = [m for m in METRICS if m in results.columns and results[m].notna().any()]
    analyses = {}
    for metric in computed:
        analyses[metric] = analyse_metric(metric, results, present, methods)
    if dropped is None:
        listed = _dropped_from_config(config)
    else:
        listed = {name: (len(rows), list(rows)) for name, rows in dropped.items()}
    return BenchmarkSummary(
        output=output,
        config=config,
        datasets=datasets,
        methods=methods,
        results=results,
        analyses=analyses,
        not_computed=[m for m in METRICS if m not in computed] if present else [],
        dropped={name: rows for name, rows in listed.items() if rows[0]},
    )


def write_report(
    output: str | Path,
    *,
    datasets: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    dropped: Mapping[str, Sequence[int]] | None = None,
) -> Path:
    """Write ``summary.md`` and the PNG plots of a benchmark directory.

    ``build_summary(...).write()``; see :func:`build_summary`. Missing tasks
    (an interrupted run) are reported, not guessed.

    Files written to ``output``: ``summary.md``. For two or more datasets:
    ``critical_difference.png`` (a diagram per metric, when there are at
    least 2 methods) and ``scores.png`` (bars of mean ± sd per dataset and
    method, a panel per metric). For one dataset: ``scores.png`` (the score
    of every fold as a point, and the mean, per method and metric). And
    ``pr_curves.png`` (the best 3 methods by mean average precision on each
    binary dataset, out-of-fold scores of the first repeat).

    Parameters
    ----------
    output : str or path-like
        The benchmark directory.
    datasets, methods : sequence of str or None, default=None
        What to report, in order.
    dropped : mapping or None, default=None
        Dataset name to the rows dropped for a missing target; ``None``
        reads them from ``config.json``.

    Returns
    -------
    pathlib.Path
        The path of ``summary.md``.

    Raises
    ------
    BenchmarkDirectoryError
        If ``output`` holds no benchmark.
    """
    summary = build_summary(output, datasets=datasets, methods=methods, dropped=dropped)
    return summary.write()

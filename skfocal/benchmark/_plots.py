"""The benchmark's figures: critical-difference diagram, score bars, PR curves,
and per-fold scores for a single dataset.

A method keeps one colour in every panel and every figure of a report
(:func:`method_colours`).

Figures are built with :class:`matplotlib.figure.Figure` rather than pyplot:
no backend is selected and no global state changes, so writing a report works
without a display and leaves the caller's (e.g. a notebook's) plotting setup
alone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve

from skfocal.benchmark._atomic import atomic_path

__all__ = [
    "method_colours",
    "plot_critical_difference",
    "plot_fold_scores",
    "plot_pr_curves",
    "plot_scores",
]

Colour = tuple[float, float, float, float]
#: Range of a score axis: (lowest, highest possible value); ``inf`` for an
#: unbounded loss.
Range = tuple[float, float]
_UNIT: Range = (0.0, 1.0)


def method_colours(methods: Sequence[str]) -> dict[str, Colour]:
    """One fixed colour per method, by its position in ``methods``.

    Parameters
    ----------
    methods : sequence of str
        Every method of the report (or of the registry), in a fixed order.

    Returns
    -------
    dict
        Method name to an RGBA colour of matplotlib's ``tab20`` (repeating
        after 20 methods).

    Examples
    --------
    >>> from skfocal.benchmark._plots import method_colours
    >>> colours = method_colours(["ce", "focal", "lightgbm"])
    >>> colours["ce"] != colours["focal"], len(colours)
    (True, 3)
    """
    palette = matplotlib.colormaps["tab20"]
    return {method: palette(i % 20) for i, method in enumerate(methods)}


def _save(fig: Figure, path: Path) -> None:
    # A PNG cut short by a full disk would look finished: write it whole or
    # not at all (the error then names the file).
    with atomic_path(path) as partial:
        fig.savefig(partial, dpi=_DPI)


def _wrapped(title: str, fig: Figure) -> str:
    """Break a title into lines that fit the figure's width.

    Constrained layout makes room for a title's height, not its width: a
    one-line title wider than the figure is clipped at both ends.
    """
    # About 14 characters per inch at font size 9.
    width = max(20, int(fig.get_figwidth() * 14))
    return textwrap.fill(title, width=width)


def _clipped_errors(means: np.ndarray, sds: np.ndarray, bounds: Range) -> np.ndarray:
    """Asymmetric error bars of mean ± sd that stop at the metric's bounds.

    An average precision of 0.95 ± 0.1 cannot exceed 1: the bar stops there
    instead of stretching the axis (and reading as a possible score) above 1.
    """
    sds = np.nan_to_num(sds, nan=0.0)
    low = np.clip(np.minimum(sds, means - bounds[0]), 0.0, None)
    high = np.clip(np.minimum(sds, bounds[1] - means), 0.0, None)
    return np.vstack([np.nan_to_num(low), np.nan_to_num(high)])


def _set_score_limits(ax, values: np.ndarray, bounds: Range) -> None:
    finite = values[np.isfinite(values)]
    lowest = float(finite.min()) if finite.size else 0.0
    # From 0, or lower only when a score is negative (MCC): an axis from -1
    # would squash every positive MCC into the top half.
    bottom = max(min(0.0, lowest), bounds[0])
    if np.isfinite(bounds[1]):
        ax.set_ylim(bottom, bounds[1] + 0.03 * (bounds[1] - bottom))
    else:
        highest = float(finite.max()) if finite.size else 1.0
        ax.set_ylim(bottom, highest * 1.08 if highest > 0 else 1.0)


_DPI = 110
# Vertical space per method label in a critical-difference diagram.
_CD_STEP = 0.35


def _cliques(ranks: np.ndarray, cd: float) -> list[tuple[int, int]]:
    """Maximal runs of sorted ranks whose spread is below ``cd``."""
    runs = []
    for start in range(len(ranks)):
        end = start
        while end + 1 < len(ranks) and ranks[end + 1] - ranks[start] < cd:
            end += 1
        if end > start and not any(s <= start and end <= e for s, e in runs):
            runs.append((start, end))
    return runs


def _draw_critical_difference(ax, average_ranks: pd.Series, cd: float, title: str):
    ranks = average_ranks.sort_values(kind="stable")
    names, values = list(ranks.index), ranks.to_numpy(dtype=float)
    k = len(names)
    low, high = 1.0, float(max(k, 2))
    n_left = math.ceil(k / 2)
    ax.set_xlim(low - 1.8, high + 1.8)
    ax.set_ylim(-_CD_STEP * (max(n_left, k - n_left) + 1.5), 1.0)
    ax.axis("off")
    ax.hlines(0, low, high, color="black", linewidth=1)
    ax.vlines(np.arange(1, int(high) + 1), 0, 0.08, color="black", linewidth=1)
    for tick in range(1, int(high) + 1):
        ax.text(tick, 0.12, str(tick), ha="center", va="bottom", fontsize=8)
    if np.isfinite(cd) and cd > 0:
        ax.hlines(0.55, low, min(low + cd, high + 1.5), color="black", linewidth=1.5)
        ax.text(low + cd / 2, 0.6, f"CD = {cd:.2f}", ha="center", fontsize=8)
    for i, (name, rank) in enumerate(zip(names, values, strict=True)):
        left = i < n_left
        level = -_CD_STEP * ((i if left else k - 1 - i) + 1)
        end = low - 0.2 if left else high + 0.2
        ax.plot([rank, rank, end], [0, level, level], color="black", linewidth=0.8)
        ax.text(
            end - 0.05 if left else end + 0.05,
            level,
            f"{name} ({rank:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=8,
        )
    if not np.isnan(cd):
        # An infinite cd (Friedman did not reject) joins every method.
        for j, (start, end) in enumerate(_cliques(values, cd)):
            ax.hlines(
                -0.06 - 0.05 * j,
                values[start] - 0.03,
                values[end] + 0.03,
                color="tab:red",
                linewidth=3,
            )
    ax.set_title(title, fontsize=9)


def plot_critical_difference(
    ranks: dict[str, pd.Series], cds: dict[str, float], path: Path, n_datasets: int
) -> Path:
    """Demšar's critical-difference diagrams of average ranks, one per metric.

    Methods hang from their average rank (1 is the best, on the left); thick
    red bars join methods whose ranks differ by less than the Nemenyi
    critical difference, i.e. that the test cannot tell apart. An infinite
    critical difference (the Friedman test did not reject, so there is no
    post-hoc test) joins every method with one bar.

    Parameters
    ----------
    ranks : dict
        Metric label to the average rank of each method.
    cds : dict
        Metric label to its critical difference; NaN draws no bar, infinity
        one bar under every method.
    path : pathlib.Path
        PNG file to write.
    n_datasets : int
        For the titles.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    k = max(len(r) for r in ranks.values())
    panel_height = 1.2 + _CD_STEP * (math.ceil(k / 2) + 1)
    fig = Figure(figsize=(8, panel_height * len(ranks)), layout="constrained")
    axes = fig.subplots(len(ranks), 1, squeeze=False)[:, 0]
    for ax, (label, average) in zip(axes, ranks.items(), strict=True):
        _draw_critical_difference(
            ax,
            average,
            cds[label],
            f"{label}: average ranks over {n_datasets} dataset(s)"
            + ("; Friedman test: no difference" if cds[label] == math.inf else ""),
        )
    _save(fig, path)
    return path


def plot_scores(
    means: dict[str, pd.DataFrame],
    sds: dict[str, pd.DataFrame],
    path: Path,
    *,
    colours: Mapping[str, Colour] | None = None,
    bounds: Mapping[str, Range] | None = None,
) -> Path:
    """Grouped bars per metric: a group per dataset, a bar (mean ± sd) per method.

    Error bars stop at the metric's bounds, so the score axis of a metric in
    [0, 1] ends at 1.

    Parameters
    ----------
    means, sds : dict
        Metric label to a table with methods as rows and datasets as columns.
    path : pathlib.Path
        PNG file to write.
    colours : mapping or None, default=None
        Method to colour (:func:`method_colours`); ``None`` colours by row
        order.
    bounds : mapping or None, default=None
        Metric label to its (lowest, highest) possible value; [0, 1] when
        missing.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    first = next(iter(means.values()))
    n_methods, n_datasets = first.shape
    colours = colours or method_colours(list(first.index))
    bounds = bounds or {}
    width = 0.8 / max(n_methods, 1)
    fig = Figure(
        figsize=(max(8.0, 3.5 + 1.2 * n_datasets), 2.6 * len(means)),
        layout="constrained",
    )
    axes = fig.subplots(len(means), 1, squeeze=False, sharex=True)[:, 0]
    positions = np.arange(n_datasets)
    for ax, (label, table) in zip(axes, means.items(), strict=True):
        limits = bounds.get(label, _UNIT)
        for i, method in enumerate(table.index):
            values = table.loc[method].to_numpy(dtype=float)
            ax.bar(
                positions - 0.4 + width * (i + 0.5),
                values,
                width,
                yerr=_clipped_errors(
                    values, sds[label].loc[method].to_numpy(dtype=float), limits
                ),
                label=method,
                color=colours[method],
                error_kw={"linewidth": 0.5},
            )
        _set_score_limits(ax, table.to_numpy(dtype=float), limits)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.legend(
        *axes[0].get_legend_handles_labels(), fontsize=7, loc="outside right upper"
    )
    fig.suptitle("Mean ± sd over folds (error bars stop at the metric's range)")
    axes[-1].set_xticks(positions, first.columns, rotation=30, ha="right", fontsize=7)
    _save(fig, path)
    return path


def plot_pr_curves(
    predictions: pd.DataFrame,
    best: dict[str, list[str]],
    path: Path,
    *,
    colours: Mapping[str, Colour] | None = None,
    which: str = "the methods with the best mean average precision",
) -> Path:
    """Precision-recall curves of the best methods, one panel per dataset.

    Each legend names the method and the average precision of the curve
    drawn (all out-of-fold rows of the first repeat pooled, which can differ
    slightly from the mean over folds of the tables).

    Parameters
    ----------
    predictions : pandas.DataFrame
        Out-of-fold scores of the first repeat (``predictions.csv``).
    best : dict
        Dataset name to the methods to draw, best first.
    path : pathlib.Path
        PNG file to write.
    colours : mapping or None, default=None
        Method to colour (:func:`method_colours`); ``None`` colours the
        methods of all panels by first appearance.
    which : str, default="the methods with the best mean average precision"
        What the curves are, for the figure's title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if colours is None:
        drawn = dict.fromkeys(m for methods in best.values() for m in methods)
        colours = method_colours(list(drawn))
    n = len(best)
    n_cols = min(n, 3)
    n_rows = math.ceil(n / n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.8 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax, (dataset, methods) in zip(axes.flat, best.items(), strict=False):
        subset = predictions[predictions["dataset"] == dataset]
        prevalence = math.nan
        for method in methods:
            rows = subset[subset["method"] == method]
            if rows.empty:
                continue
            precision, recall, _ = precision_recall_curve(rows["y_true"], rows["score"])
            ap = average_precision_score(rows["y_true"], rows["score"])
            ax.step(
                recall,
                precision,
                where="post",
                label=f"{method} (AP {ap:.3f})",
                color=colours[method],
                linewidth=1.2,
            )
            prevalence = float(rows["y_true"].mean())
        if np.isfinite(prevalence):
            ax.axhline(prevalence, color="grey", linestyle=":", linewidth=0.8)
        ax.set_title(dataset, fontsize=9, wrap=True)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        # Curves crowd the top right; the lower left is usually empty.
        ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(
        _wrapped(
            f"Precision-recall of {which} per dataset. Out-of-fold predictions of "
            "the first repeat; AP of the pooled curve in the legend; dotted: "
            "prevalence.",
            fig,
        ),
        fontsize=9,
    )
    _save(fig, path)
    return path


def plot_fold_scores(
    folds: dict[str, pd.DataFrame],
    path: Path,
    *,
    colours: Mapping[str, Colour] | None = None,
    bounds: Mapping[str, Range] | None = None,
    title: str = "",
) -> Path:
    """Per-fold scores of one dataset: a point per fold, a bar at the mean.

    The figure for a single dataset, where there is one score per fold and
    method rather than one per dataset: the spread of the points shows what
    a mean ± sd hides (an outlying fold, a bimodal method).

    Parameters
    ----------
    folds : dict
        Metric label to a table with one row per fold and one column per
        method.
    path : pathlib.Path
        PNG file to write.
    colours : mapping or None, default=None
        Method to colour (:func:`method_colours`).
    bounds : mapping or None, default=None
        Metric label to its (lowest, highest) possible value; [0, 1] when
        missing.
    title : str, default=""
        The figure's title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    first = next(iter(folds.values()))
    methods = list(first.columns)
    colours = colours or method_colours(methods)
    bounds = bounds or {}
    n_cols = 2 if len(folds) > 1 else 1
    n_rows = math.ceil(len(folds) / n_cols)
    fig = Figure(
        figsize=(max(6.0, 0.45 * len(methods) + 2.0) * n_cols, 3.0 * n_rows + 0.5),
        layout="constrained",
    )
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    positions = np.arange(len(methods))
    # Deterministic horizontal jitter, the same for every method and metric.
    jitter = np.linspace(-0.25, 0.25, len(first)) if len(first) > 1 else np.zeros(1)
    for ax, (label, table) in zip(axes.flat, folds.items(), strict=False):
        for x, method in zip(positions, methods, strict=True):
            values = table[method].to_numpy(dtype=float)
            ax.scatter(
                x + jitter[: len(values)],
                values,
                s=10,
                color=colours[method],
                alpha=0.75,
                linewidths=0,
            )
            mean = np.nanmean(values) if np.isfinite(values).any() else math.nan
            ax.hlines(mean, x - 0.35, x + 0.35, color="black", linewidth=1.5)
        _set_score_limits(ax, table.to_numpy(dtype=float), bounds.get(label, _UNIT))
        ax.set_title(label, fontsize=9)
        ax.set_xticks(positions, methods, rotation=45, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", linewidth=0.3)
    for ax in axes.flat[len(folds) :]:
        ax.axis("off")
    fig.suptitle(
        _wrapped(title or "Scores per fold (points) and their mean (black bar)", fig),
        fontsize=9,
    )
    _save(fig, path)
    return path

"""The benchmark's figures: critical-difference diagram, score bars, PR curves.

Figures are built with :class:`matplotlib.figure.Figure` rather than pyplot:
no backend is selected and no global state changes, so writing a report works
without a display and leaves the caller's (e.g. a notebook's) plotting setup
alone.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve

__all__ = ["plot_critical_difference", "plot_pr_curves", "plot_scores"]

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
    fig.savefig(path, dpi=_DPI)
    return path


def plot_scores(
    means: dict[str, pd.DataFrame], sds: dict[str, pd.DataFrame], path: Path
) -> Path:
    """Grouped bars per metric: a group per dataset, a bar (mean ± sd) per method.

    Parameters
    ----------
    means, sds : dict
        Metric label to a table with methods as rows and datasets as columns.
    path : pathlib.Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    first = next(iter(means.values()))
    n_methods, n_datasets = first.shape
    width = 0.8 / max(n_methods, 1)
    fig = Figure(
        figsize=(max(8.0, 3.5 + 1.2 * n_datasets), 2.6 * len(means)),
        layout="constrained",
    )
    axes = fig.subplots(len(means), 1, squeeze=False, sharex=True)[:, 0]
    colours = matplotlib.colormaps["tab20"]
    positions = np.arange(n_datasets)
    for ax, (label, table) in zip(axes, means.items(), strict=True):
        for i, method in enumerate(table.index):
            ax.bar(
                positions - 0.4 + width * (i + 0.5),
                table.loc[method].to_numpy(dtype=float),
                width,
                yerr=sds[label].loc[method].to_numpy(dtype=float),
                label=method,
                color=colours(i % 20),
                error_kw={"linewidth": 0.5},
            )
        lowest = np.nanmin(table.to_numpy(dtype=float), initial=0.0)
        ax.set_ylim(min(0.0, float(lowest)), 1.05)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes[0].set_title("Mean ± sd over folds", fontsize=9)
    axes[-1].set_xticks(positions, first.columns, rotation=30, ha="right", fontsize=7)
    fig.savefig(path, dpi=_DPI)
    return path


def plot_pr_curves(
    predictions: pd.DataFrame, best: dict[str, list[str]], path: Path
) -> Path:
    """Precision-recall curves of the best methods, one panel per dataset.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Out-of-fold scores of the first repeat (``predictions.csv``).
    best : dict
        Dataset name to the methods to draw, best first.
    path : pathlib.Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    n = len(best)
    n_cols = min(n, 3)
    n_rows = math.ceil(n / n_cols)
    fig = Figure(figsize=(4 * n_cols, 3.6 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax, (dataset, methods) in zip(axes.flat, best.items(), strict=False):
        subset = predictions[predictions["dataset"] == dataset]
        prevalence = math.nan
        for method in methods:
            rows = subset[subset["method"] == method]
            if rows.empty:
                continue
            precision, recall, _ = precision_recall_curve(rows["y_true"], rows["score"])
            ax.step(recall, precision, where="post", label=method, linewidth=1.2)
            prevalence = float(rows["y_true"].mean())
        if np.isfinite(prevalence):
            ax.axhline(prevalence, color="grey", linestyle=":", linewidth=0.8)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(
        "Precision-recall, out-of-fold predictions of the first repeat "
        "(dotted: prevalence)",
        fontsize=9,
    )
    fig.savefig(path, dpi=_DPI)
    return path

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

_DPI = 120


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


def plot_critical_difference(
    average_ranks: pd.Series, cd: float, path: Path, title: str
) -> Path:
    """Demšar's critical-difference diagram of average ranks.

    Methods hang from their average rank (1 is the best, on the left); thick
    bars join methods whose ranks differ by less than the Nemenyi critical
    difference ``cd``, i.e. that the test cannot tell apart.

    Parameters
    ----------
    average_ranks : pandas.Series
        Average rank per method.
    cd : float
        Critical difference; NaN draws no bar.
    path : pathlib.Path
        PNG file to write.
    title : str

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    ranks = average_ranks.sort_values(kind="stable")
    names, values = list(ranks.index), ranks.to_numpy(dtype=float)
    k = len(names)
    low, high = 1.0, float(max(k, 2))
    n_left = math.ceil(k / 2)
    step = 0.35
    height = 1.6 + step * (max(n_left, k - n_left) + 1)
    fig = Figure(figsize=(8, height))
    ax = fig.subplots()
    ax.set_xlim(low - 1.8, high + 1.8)
    bottom = -step * (max(n_left, k - n_left) + 1.5)
    ax.set_ylim(bottom, 1.0)
    ax.axis("off")
    ax.hlines(0, low, high, color="black", linewidth=1)
    for tick in range(1, int(high) + 1):
        ax.vlines(tick, 0, 0.08, color="black", linewidth=1)
        ax.text(tick, 0.12, str(tick), ha="center", va="bottom", fontsize=9)
    if np.isfinite(cd) and cd > 0:
        ax.hlines(0.55, low, min(low + cd, high + 1.5), color="black", linewidth=1.5)
        ax.text(low + cd / 2, 0.6, f"CD = {cd:.2f}", ha="center", fontsize=9)
    for i, (name, rank) in enumerate(zip(names, values, strict=True)):
        left = i < n_left
        level = -step * ((i if left else k - 1 - i) + 1)
        end = low - 0.2 if left else high + 0.2
        ax.plot([rank, rank, end], [0, level, level], color="black", linewidth=0.8)
        ax.text(
            end - 0.05 if left else end + 0.05,
            level,
            f"{name} ({rank:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=9,
        )
    if np.isfinite(cd):
        for j, (start, end) in enumerate(_cliques(values, cd)):
            y = -0.1 - 0.08 * j
            ax.hlines(
                y, values[start] - 0.03, values[end] + 0.03, color="tab:red", lw=3
            )
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    return path


def plot_scores(
    means: pd.DataFrame, sds: pd.DataFrame, path: Path, metric_label: str
) -> Path:
    """Grouped bars: one group per dataset, one bar (mean ± sd) per method.

    Parameters
    ----------
    means, sds : pandas.DataFrame
        Rows are methods, columns datasets.
    path : pathlib.Path
        PNG file to write.
    metric_label : str
        Axis label.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    n_methods, n_datasets = means.shape
    width = 0.8 / max(n_methods, 1)
    fig = Figure(figsize=(max(8.0, 3.0 + 1.2 * n_datasets), 4.5))
    ax = fig.subplots()
    colours = matplotlib.colormaps["tab20"]
    positions = np.arange(n_datasets)
    for i, method in enumerate(means.index):
        ax.bar(
            positions - 0.4 + width * (i + 0.5),
            means.loc[method].to_numpy(dtype=float),
            width,
            yerr=sds.loc[method].to_numpy(dtype=float),
            label=method,
            color=colours(i % 20),
            error_kw={"linewidth": 0.6},
        )
    ax.set_xticks(positions, means.columns, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"{metric_label} (mean ± sd over folds)")
    ax.set_ylim(min(0.0, float(np.nanmin(means.to_numpy(dtype=float)))), 1.05)
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
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
    fig = Figure(figsize=(4 * n_cols, 3.6 * n_rows))
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
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    return path

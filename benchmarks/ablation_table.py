"""The backbone ablation: the tables behind ``docs/performance.md``.

Three benchmark runs on the same 14 datasets of the default suite (FARS left
out for time), 5 folds x 1 repeat, seed 0, so every method saw the same
folds and the same random state on each fold; the runs are joined here:

* ``docs/benchmark-ablation`` (round 1): each ingredient alone in
  ``FocalClassifier`` as it was before the defaults changed, plus LightGBM
  and the balanced random forest;
* ``docs/benchmark-ablation-2`` (round 2): on top of robust scaling and
  periodic embeddings, feature scaling, a k=8 TabM ensemble, RealMLP's
  width (256, 256, 256) with dropout 0.15, early stopping on validation
  average precision at every size, and the other losses; XGBoost;
* ``docs/benchmark-ablation-3`` (round 3): today's ``FocalClassifier()``.

Rounds 1 and 2 ran before periodic and piecewise-linear embeddings skipped
indicator columns (features with at most two distinct training values); the
round-3 row against round 1's ``focal[input_transform=robust_smooth_clip,
embedding=periodic]`` measures that change alone.

The commands (``SUITE`` the 14 datasets, ``A`` for
``input_transform=robust_smooth_clip,embedding=periodic``)::

    SUITE=yeast1,vehicle0,segment0,ecoli3,page-blocks0,satimage,\\
    digits-8-vs-rest,car-vgood,yeast4,winequality-white-3_vs_7,shuttle-2_vs_5,\\
    kddcup-rootkit-imap_vs_back,abalone19,page-blocks
    skfocal benchmark --suite $SUITE --repeats 1 --n-jobs 2 --output ablation \\
      --methods "focal,focal[input_transform=robust_smooth_clip],\\
    focal[input_transform=robust_smooth_clip,embedding=piecewise_linear],\\
    focal[$A],focal[lr_schedule=flat_cosine],lightgbm,balanced_rf"
    skfocal benchmark --suite $SUITE --repeats 1 --n-jobs 1 --output ablation2 \\
      --methods "focal[$A,ensemble_size=8],\\
    focal[$A,early_stopping=True,validation_metric=average_precision],\\
    focal[$A,feature_scaling=True],\\
    focal[$A,hidden_layer_sizes=(256, 256, 256),dropout=0.15],\\
    balanced_ce[$A],ce[$A],xgboost"
    skfocal benchmark --suite $SUITE --repeats 1 --n-jobs 1 --output ablation3 \\
      --methods focal

Method names are as each run spelled them, under the defaults of its time:
in rounds 1 and 2 ``focal`` is the plain MLP of version 0.1; in round 3 it
is the new default (robust scaling, periodic embeddings).

Usage: ``python benchmarks/ablation_table.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

DOCS = Path(__file__).parents[1] / "docs"
ROUNDS = {
    "1": DOCS / "benchmark-ablation" / "results.csv",
    "2": DOCS / "benchmark-ablation-2" / "results.csv",
    "3": DOCS / "benchmark-ablation-3" / "results.csv",
}
ROBUST_PERIODIC = "input_transform=robust_smooth_clip,embedding=periodic"
# Fit time of each round against a method of the same round (machine load
# differs between runs, so ratios are only taken within one).
# Round 3 has one method, so no ratio.
TIME_REFERENCE = {"1": "focal", "2": f"ce[{ROBUST_PERIODIC}]", "3": None}


def load() -> pd.DataFrame:
    frames = []
    for label, path in ROUNDS.items():
        frame = pd.read_csv(path)
        frame["round"] = label
        frame["name"] = frame["method"].map(
            lambda method, label=label: f"{method} (round {label})"
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def table(results: pd.DataFrame) -> pd.DataFrame:
    per_dataset = results.groupby(["dataset", "name"]).agg(
        average_precision=("average_precision", "mean"),
        balanced_accuracy=("balanced_accuracy", "mean"),
        brier_loss=("brier_loss", "mean"),
        fit_time=("fit_time", "mean"),
        round=("round", "first"),
        method=("method", "first"),
    )
    ap = per_dataset["average_precision"].unstack()
    rows = pd.DataFrame(
        {
            "average precision": ap.mean(),
            "AP rank": ap.rank(axis=1, ascending=False).mean(),
            "balanced accuracy": per_dataset["balanced_accuracy"].unstack().mean(),
            "Brier": per_dataset["brier_loss"].unstack().mean(),
        }
    )
    fit = per_dataset["fit_time"].unstack()
    names = per_dataset.reset_index().drop_duplicates("name").set_index("name")
    ratios = {}
    for name, row in names.iterrows():
        if TIME_REFERENCE[row["round"]] is None:
            ratios[name] = "-"
            continue
        reference = f"{TIME_REFERENCE[row['round']]} (round {row['round']})"
        ratio = np.exp(np.log(fit[name] / fit[reference]).mean())
        ratios[name] = f"{ratio:.2f}x `{TIME_REFERENCE[row['round']]}`"
    rows["fit time (same run)"] = pd.Series(ratios)
    return rows.sort_values("AP rank")


def indicator_rule(results: pd.DataFrame) -> str:
    """Round 3's default against round 1's same backbone, per dataset."""
    ap = results.groupby(["dataset", "name"])["average_precision"].mean().unstack()
    new = ap["focal (round 3)"]
    old = ap[f"focal[{ROBUST_PERIODIC}] (round 1)"]
    changed = (new - old).abs() > 0
    statistic = wilcoxon(new[changed], old[changed]) if changed.sum() > 1 else None
    p_value = f", Wilcoxon p = {statistic.pvalue:.2f}" if statistic else ""
    return (
        f"Indicator columns unembedded (round 3 `focal` vs round 1 "
        f"`focal[{ROBUST_PERIODIC}]`): AP {new.mean():.4f} vs {old.mean():.4f}; "
        f"different on {int(changed.sum())} of {len(ap)} datasets, higher on "
        f"{int((new > old).sum())}{p_value}."
    )


def main() -> None:
    results = load()
    rows = table(results)
    print(f"{results['dataset'].nunique()} datasets; AP ranks among {len(rows)} rows.")
    print()
    print(
        "| method (run) | average precision | AP rank | balanced accuracy | Brier "
        "| fit time (same run) |"
    )
    print("|---|---|---|---|---|---|")
    for name, row in rows.iterrows():
        print(
            f"| `{name}` | {row['average precision']:.3f} | {row['AP rank']:.2f} | "
            f"{row['balanced accuracy']:.3f} | {row['Brier']:.4f} | "
            f"{row['fit time (same run)']} |"
        )
    print()
    print(indicator_rule(results))


if __name__ == "__main__":
    main()

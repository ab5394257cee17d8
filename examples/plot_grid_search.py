"""
Tuning gamma, alpha and bins with GridSearchCV
==============================================

The loss hyperparameters of the skfocal estimators are ordinary estimator
parameters, so :class:`~sklearn.model_selection.GridSearchCV` tunes them like
any other. :class:`~skfocal.ImbalancedMLPClassifier` takes the loss itself
as a parameter (``loss="focal"``, ``"ghm"``, ``"balanced_ce"`` or ``"ce"``),
so one search can compare losses and tune each one's own parameters, with a
list of grids.
"""

# %%
# Data: ``yeast4`` (1,484 proteins, 51 in the minority class). A test set is
# held out; the search only sees the training part.
from sklearn.model_selection import StratifiedKFold, train_test_split

from skfocal.datasets import load_dataset

X, y = load_dataset("yeast4")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The search
# ----------
# Parameters of a pipeline step are addressed as ``<step>__<parameter>``.
# Each dict of the list is a grid of its own: ``gamma`` and ``alpha`` for the
# focal loss, ``bins`` for GHM-C, ``alpha`` for balanced cross-entropy. The
# scoring is the average precision; the folds are stratified so that every
# fold holds minority samples. ``max_epochs`` is kept small so that this page
# builds quickly; use the defaults on your data.
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skfocal import ImbalancedMLPClassifier

pipeline = Pipeline(
    [
        ("scale", StandardScaler()),
        ("mlp", ImbalancedMLPClassifier(max_epochs=30, random_state=0)),
    ]
)
param_grid = [
    {
        "mlp__loss": ["focal"],
        "mlp__gamma": [0.5, 2.0],
        "mlp__alpha": [None, 0.75],
    },
    {"mlp__loss": ["ghm"], "mlp__bins": [5, 10, 30]},
    {"mlp__loss": ["balanced_ce"], "mlp__alpha": ["balanced", "effective"]},
    {"mlp__loss": ["ce"]},
]
search = GridSearchCV(
    pipeline,
    param_grid,
    scoring="average_precision",
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)
print("best:", search.best_params_)
print(f"cross-validated average precision of the best: {search.best_score_:.3f}")

# %%
# All candidates, best first:
import pandas as pd

results = pd.DataFrame(search.cv_results_)
results["candidate"] = results["params"].map(
    lambda params: ", ".join(
        f"{key.removeprefix('mlp__')}={value}" for key, value in params.items()
    )
)
results = results.sort_values("rank_test_score")
results[["candidate", "mean_test_score", "std_test_score", "mean_fit_time"]].round(3)

# %%
# The spread across folds (error bars: one standard deviation over the 3
# folds) is as large as most differences between candidates: with 34
# minority samples in the training part, the ranking of close candidates is
# partly luck.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.errorbar(
    results["mean_test_score"],
    range(len(results)),
    xerr=results["std_test_score"],
    fmt="o",
    capsize=3,
)
ax.set_yticks(range(len(results)), results["candidate"])
ax.invert_yaxis()
ax.set_xlabel("average precision (3-fold CV, mean and std)")
ax.set_title("GridSearchCV over the loss and its parameters (yeast4)")
fig.tight_layout()

# %%
# The best pipeline is refitted on the whole training part; its score on the
# held-out test set is the honest estimate (the cross-validated score of the
# winner is optimistically biased by the selection itself):
from sklearn.metrics import average_precision_score

test_score = average_precision_score(y_test, search.predict_proba(X_test)[:, 1])
print(f"test average precision of the refitted best pipeline: {test_score:.3f}")

# %%
# Tips
# ----
# * To search one loss only, use :class:`~skfocal.FocalClassifier`,
#   :class:`~skfocal.GHMClassifier` or :class:`~skfocal.BalancedCEClassifier`
#   and a plain dict grid (``{"focalclassifier__gamma": [0.5, 1, 2]}``).
# * :class:`~sklearn.model_selection.RandomizedSearchCV` with
#   ``scipy.stats.uniform(0, 5)`` for ``gamma`` covers a range for the same
#   budget.
# * ``n_jobs=-1`` runs candidates in parallel processes; the MLPs then
#   compete for the CPU cores, so on a small machine leave it at 1 or
#   limit torch to one thread per process (``OMP_NUM_THREADS=1``).

plt.show()

"""
Tuning the decision threshold and checking calibration
======================================================

An imbalance loss changes what the network learns, and with it the meaning of
its probabilities. Two consequences:

* ``predict`` thresholds the probability of class 1 at 0.5, which is rarely
  the best cut for the decision at hand. Tune the threshold for the metric
  you care about with
  :class:`~sklearn.model_selection.TunedThresholdClassifierCV`.
* Class weights (``alpha``) and the focal factor distort the probabilities:
  with ``alpha=0.75`` the model overstates the minority class. If the
  probabilities themselves matter (risk scores, expected costs), check the
  calibration curve and recalibrate with
  :class:`~sklearn.calibration.CalibratedClassifierCV`.

Data: ``page-blocks0`` (5,472 blocks of page layouts, 559 of them not text).
"""

# %%
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfocal import FocalClassifier, ImbalancedMLPClassifier
from skfocal.datasets import load_dataset

X, y = load_dataset("page-blocks0")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
MLP = {"max_epochs": 20, "random_state": 0}
focal = make_pipeline(
    StandardScaler(), FocalClassifier(gamma=2.0, alpha=0.75, **MLP)
).fit(X_train, y_train)

# %%
# Tuning the threshold
# --------------------
# Say the goal is the F1 score of the minority class. ``TunedThresholdClassifierCV``
# refits the model on cross-validation folds of the training set, finds the
# threshold on the probability that maximises F1 on the held-out folds, then
# refits on the whole training set; ``predict`` then uses that threshold.
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV

tuned = TunedThresholdClassifierCV(
    focal,
    scoring="f1",
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    store_cv_results=True,
    random_state=0,
).fit(X_train, y_train)
print(f"tuned threshold: {tuned.best_threshold_:.3f}")
print(f"test F1 at 0.5:             {f1_score(y_test, focal.predict(X_test)):.3f}")
print(f"test F1 at tuned threshold: {f1_score(y_test, tuned.predict(X_test)):.3f}")

# %%
# The F1 score against the threshold, as estimated by the cross-validation:
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6.4, 4.2))
ax.plot(tuned.cv_results_["thresholds"], tuned.cv_results_["scores"])
ax.axvline(0.5, color="0.5", linestyle=":", label="default threshold 0.5")
ax.axvline(tuned.best_threshold_, color="C1", linestyle="--", label="tuned")
ax.set_xlabel("threshold on the probability of class 1")
ax.set_ylabel("F1 score (cross-validated)")
ax.set_title("FocalClassifier(gamma=2, alpha=0.75) on page-blocks0")
ax.legend()
fig.tight_layout()

# %%
# For a decision with explicit costs (a missed positive costs 10 times a
# false alarm, say), score with ``sklearn.metrics.make_scorer`` on a cost
# function instead of F1; the threshold follows the costs.
#
# Calibration
# -----------
# A calibration curve bins the predicted probabilities and plots, per bin,
# the observed frequency of class 1: a calibrated model lies on the
# diagonal. Compare cross-entropy, the focal loss with ``alpha=0.75``, and
# the same focal model recalibrated with isotonic regression on
# cross-validation folds.
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay
from sklearn.metrics import brier_score_loss

cross_entropy = make_pipeline(
    StandardScaler(), ImbalancedMLPClassifier(loss="ce", **MLP)
).fit(X_train, y_train)
recalibrated = CalibratedClassifierCV(
    focal,
    method="isotonic",
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
).fit(X_train, y_train)
models = {
    "cross-entropy": cross_entropy,
    "focal, alpha=0.75": focal,
    "focal, recalibrated": recalibrated,
}
fig, ax = plt.subplots(figsize=(6.4, 6))
for name, model in models.items():
    proba = model.predict_proba(X_test)[:, 1]
    brier = brier_score_loss(y_test, proba)
    CalibrationDisplay.from_predictions(
        y_test,
        proba,
        n_bins=10,
        strategy="uniform",
        name=f"{name} (Brier {brier:.4f})",
        ax=ax,
    )
ax.set_title("Calibration on the test set (page-blocks0)")
fig.tight_layout()

# %%
# The focal model's curve is S-shaped. Below the diagonal at low
# probabilities: a predicted 0.2 almost never turns out to be class 1, the
# effect of weighting the minority class three times as much as the
# majority (``alpha=0.75``). Above it at high probabilities: the focal factor
# stops pushing a sample's probability towards 0 or 1 once it is easy, so
# the probabilities are squeezed towards the middle. Its Brier score is
# twice that of cross-entropy. Isotonic recalibration puts it back near the
# diagonal.
#
# Tuning the threshold and recalibrating serve different needs: the first
# optimises decisions, the second makes the probabilities trustworthy.
# Neither changes the ranking much, hence the average precision:
from sklearn.metrics import average_precision_score

for name, model in models.items():
    score = average_precision_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"{name:20s} average precision {score:.3f}")

plt.show()

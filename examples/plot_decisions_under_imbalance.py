"""
Decisions and probabilities under imbalance
===========================================

Every skfocal estimator answers two questions separately:

* **how probable is each class?** ``calibration`` says what ``predict_proba``
  returns: the network's probabilities as trained (``None``), the class
  weights divided back out (``"prior"``, the default), or that plus a
  temperature fitted on a validation split (``"temperature"``);
* **which class do we act on?** ``threshold`` is the decision rule that
  ``predict`` applies to ``predict_proba``: the most probable class
  (``None``, the default), the prior rule ``p_1 >= pi_1`` that minimises the
  balanced error for calibrated probabilities (``"prior"``), or a threshold
  tuned on a validation split for ``threshold_metric`` (``"auto"``).

This example trains class-weighted cross-entropy (``BalancedCEClassifier``)
under each calibration and each rule, and shows the reliability diagram of
each calibration and the confusion matrix of each pair. The user guide
(:ref:`decisions`) gives the mathematics.

Data: ``page-blocks0`` (5,472 blocks of page layouts, 559 of them not
text; imbalance ratio 8.8).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfocal import BalancedCEClassifier
from skfocal.datasets import load_dataset

X, y = load_dataset("page-blocks0")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0
)
print(f"training rows: {len(y_train)}, minority share: {np.mean(y_train == 1):.3f}")

CALIBRATIONS = [None, "prior", "temperature"]
RULES = [None, "prior", "auto"]
MLP = {"max_epochs": 40, "lr": 3e-3, "random_state": 0}

models = {
    (calibration, rule): make_pipeline(
        StandardScaler(),
        BalancedCEClassifier(calibration=calibration, threshold=rule, **MLP),
    ).fit(X_train, y_train)
    for calibration in CALIBRATIONS
    for rule in RULES
}

# %%
# Reliability diagrams
# --------------------
# A calibrated model's curve lies on the diagonal: among the samples given a
# probability of 0.3, 30% are positive. The class weights make the raw
# network (``calibration=None``) believe the two classes are equally common,
# so its minority probabilities are far too high. Dividing the weights out
# (``"prior"``) brings the curve back to the diagonal and lowers the Brier
# score. The temperature, fitted on the 10% of the training rows held out
# for it, scales the logits before the correction: above 1 it softens
# over-confident probabilities, below 1 it sharpens them; on a table where
# the prior correction alone is already calibrated it need not help. The
# rule does not change the probabilities, so one model per calibration is
# shown.
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import brier_score_loss

fig, ax = plt.subplots(figsize=(6.4, 6))
for calibration in CALIBRATIONS:
    model = models[(calibration, None)]
    proba = model.predict_proba(X_test)[:, 1]
    brier = brier_score_loss(y_test, proba)
    CalibrationDisplay.from_predictions(
        y_test,
        proba,
        n_bins=8,
        strategy="quantile",
        name=f"calibration={calibration!r} (Brier {brier:.4f})",
        ax=ax,
    )
temperature = models[("temperature", None)][-1].temperature_
ax.set_title(f"page-blocks0, test set (fitted temperature {temperature:.2f})")
fig.tight_layout()

# %%
# Confusion matrices
# ------------------
# Rows: the calibration; columns: the rule. Each matrix is normalised by
# the true class, so its diagonal holds the recall of each class and their
# mean is the balanced accuracy.
#
# * With ``calibration=None`` the weighted network's most probable class
#   already makes balanced decisions, and the prior rule on its inflated
#   probabilities over-predicts the minority.
# * With the prior correction the most probable class becomes that of the
#   training posterior, which rarely picks the minority; the prior rule
#   restores the balanced decisions (for balanced weights exactly: it *is*
#   the weighted network's argmax).
# * ``"auto"`` tunes the threshold for balanced accuracy on a validation
#   split of the training rows (here about 33 minority samples), on the
#   calibrated probabilities; with so few minority samples the tuned rule
#   is noisier than the prior rule, which has nothing to fit.
from sklearn.metrics import ConfusionMatrixDisplay, balanced_accuracy_score

fig, axes = plt.subplots(3, 3, figsize=(9, 9.5), sharex=True, sharey=True)
for row, calibration in enumerate(CALIBRATIONS):
    for column, rule in enumerate(RULES):
        model = models[(calibration, rule)]
        predicted = model.predict(X_test)
        score = balanced_accuracy_score(y_test, predicted)
        ax = axes[row, column]
        ConfusionMatrixDisplay.from_predictions(
            y_test,
            predicted,
            normalize="true",
            values_format=".2f",
            colorbar=False,
            ax=ax,
        )
        ax.set_title(
            f"calibration={calibration!r}\nthreshold={rule!r}: BA {score:.3f}",
            fontsize=9,
        )
        if column:
            ax.set_ylabel("")
        if row < 2:
            ax.set_xlabel("")
fig.tight_layout()

# %%
# The fitted rules are attributes: ``threshold_`` holds the rule's kind, its
# value (the threshold on the probability of class 1), the training prior,
# and for ``"auto"`` the metric and its validation score.
for rule in RULES:
    fitted = models[("prior", rule)][-1].threshold_
    value = "-" if fitted.value is None else f"{fitted.value:.3f}"
    print(f"threshold={rule!r:8} -> {fitted.kind:9} at {value}")

plt.show()

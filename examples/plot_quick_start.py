"""
Quick start: a focal-loss classifier on an imbalanced table
===========================================================

:class:`~skfocal.FocalClassifier` is a scikit-learn classifier: a small
PyTorch MLP trained with the focal loss. This example trains it on a real
imbalanced dataset inside a :class:`~sklearn.pipeline.Pipeline`, evaluates it
with metrics that make sense under imbalance, and compares it with plain
cross-entropy and with a logistic regression.
"""

# %%
# Data
# ----
# ``yeast4`` is one of the real imbalanced datasets bundled with
# :mod:`skfocal.datasets` (read from local files, no download): 1,484 yeast
# proteins described by 8 numeric features, and 51 of them, one in 29, in the
# minority class (class 1).
from sklearn.model_selection import train_test_split

from skfocal.datasets import load_dataset

X, y = load_dataset("yeast4")
print(X.shape)
print(y.value_counts())

# A stratified split keeps the 1-in-29 ratio in both parts.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Model
# -----
# Like any neural network, the MLP wants scaled features, hence the
# :class:`~sklearn.preprocessing.StandardScaler`. ``gamma`` is the focusing
# parameter of the focal loss and ``alpha`` the weight of class 1 (class 0
# gets ``1 - alpha``). ``random_state`` makes the fit reproducible.
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfocal import FocalClassifier

focal = make_pipeline(
    StandardScaler(),
    FocalClassifier(gamma=2.0, alpha=0.75, max_epochs=60, random_state=0),
)
focal.fit(X_train, y_train)

# %%
# ``predict_proba`` returns real probabilities, one column per class in the
# order of ``classes_``:
proba = focal.predict_proba(X_test)
print(focal.classes_, proba[:3].round(3))

# %%
# Evaluation
# ----------
# Accuracy says little here: predicting "class 0" for everyone scores 97%.
# The average precision (area under the precision-recall curve) measures how
# well the minority class is ranked; a random ranking scores the minority
# share, 0.034.
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from skfocal import ImbalancedMLPClassifier

models = {
    "focal loss": focal,
    "cross-entropy": make_pipeline(
        StandardScaler(),
        ImbalancedMLPClassifier(loss="ce", max_epochs=60, random_state=0),
    ).fit(X_train, y_train),
    "logistic regression": make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ).fit(X_train, y_train),
}
for name, model in models.items():
    score = model.predict_proba(X_test)[:, 1]
    print(
        f"{name:20s} average precision {average_precision_score(y_test, score):.3f}"
        f"   ROC AUC {roc_auc_score(y_test, score):.3f}"
    )

# %%
# With 15 minority samples in the test set these numbers are noisy: a single
# split cannot tell close models apart. :ref:`The SMOTE example
# <sphx_glr_auto_examples_plot_focal_vs_smote.py>` compares methods with
# cross-validation, and the :doc:`benchmark </benchmark_summary>` on many
# datasets.
import matplotlib.pyplot as plt
from sklearn.metrics import PrecisionRecallDisplay

fig, ax = plt.subplots(figsize=(6, 5))
for name, model in models.items():
    PrecisionRecallDisplay.from_estimator(model, X_test, y_test, name=name, ax=ax)
ax.axhline(y_test.mean(), color="0.5", linestyle=":", label="random ranking")
ax.set_title("yeast4, held-out 30%")
ax.legend()

# %%
# Predictions and the threshold
# -----------------------------
# ``predict`` picks the most probable class, that is a threshold of 0.5 on
# the probability of class 1. Under imbalance that threshold is rarely the
# best one for the decision you need to make; :ref:`tune it
# <sphx_glr_auto_examples_plot_threshold_and_calibration.py>`.
from sklearn.metrics import classification_report

print(classification_report(y_test, focal.predict(X_test), digits=3))

plt.show()

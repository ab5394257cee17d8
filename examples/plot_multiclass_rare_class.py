"""
Multi-class classification with a very rare class
=================================================

For more than two classes the estimators use one logit per class and a
softmax; :math:`p_t` is the softmax probability of the true class, and
``alpha`` is one weight per class (a dict keyed by label, an array in the
order of ``classes_``, ``"balanced"`` or ``"effective"``; a single float is
for binary problems only).

Data: the multi-class ``page-blocks`` table (5,472 blocks of document pages,
10 layout features), whose five classes range from 4,913 text blocks down to
28 graphics.
"""

# %%
import pandas as pd
from sklearn.model_selection import train_test_split

from skfocal.datasets import load_dataset

X, codes = load_dataset("page-blocks")
# Class names from the UCI description; string labels work as they are.
names = {
    1: "text",
    2: "horizontal line",
    3: "graphic",
    4: "vertical line",
    5: "picture",
}
y = codes.map(names)
print(y.value_counts())

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Four losses
# -----------
# Plain cross-entropy, cross-entropy with "balanced" class weights, the focal
# loss with the effective-number class weights of Cui et al. (milder than
# "balanced" for a very rare class), and GHM-C.
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfocal import (
    BalancedCEClassifier,
    FocalClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
)

MLP = {"max_epochs": 30, "random_state": 0}
models = {
    "cross-entropy": ImbalancedMLPClassifier(loss="ce", **MLP),
    "balanced CE": BalancedCEClassifier(alpha="balanced", **MLP),
    "focal, effective weights": FocalClassifier(
        gamma=2.0, alpha="effective", beta=0.999, **MLP
    ),
    "GHM-C": GHMClassifier(bins=10, **MLP),
}
models = {
    name: make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    for name, model in models.items()
}
focal = models["focal, effective weights"][-1]
print("effective-number class weights of the focal model:")
print(pd.Series(focal.class_weight_, index=focal.classes_).round(3))

# %%
# Per-class recall
# ----------------
# Accuracy is dominated by the text class (90% of the rows). The recall of
# each class, and the balanced accuracy (their mean), show what happens to
# the rare ones. With 8 graphics in the test set, each one is 12.5% of that
# class's recall.
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

classes = list(names.values())
recalls = pd.DataFrame(
    {
        name: recall_score(y_test, model.predict(X_test), labels=classes, average=None)
        for name, model in models.items()
    },
    index=pd.Index(classes, name="class"),
)
recalls.loc["balanced accuracy"] = [
    balanced_accuracy_score(y_test, model.predict(X_test)) for model in models.values()
]
recalls.loc["macro F1"] = [
    f1_score(y_test, model.predict(X_test), average="macro")
    for model in models.values()
]
recalls.round(3)

# %%
# Confusion matrices
# ------------------
# Rows are true classes, normalised to sum to 1: the diagonal is the recall.
import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True)
for ax, name in zip(axes, ["cross-entropy", "balanced CE"], strict=True):
    ConfusionMatrixDisplay.from_estimator(
        models[name],
        X_test,
        y_test,
        labels=classes,
        normalize="true",
        values_format=".2f",
        colorbar=False,
        ax=ax,
        xticks_rotation=45,
    )
    ax.set_title(name)
axes[1].set_ylabel("")
fig.tight_layout()
plt.show()

# %%
# Class weights trade precision on the common classes for recall on the rare
# ones: the weighted models find more of the rare classes, at the price of
# some text blocks predicted as something else. Which balance is right depends
# on the costs of the errors; the class weights (``alpha``) are the knob, and
# they can be tuned like any parameter, e.g. ``alpha`` in ``["balanced",
# "effective", {"graphic": 20.0}]`` (a dict gives weights by label, missing
# labels get 1).
#
# ``predict_proba`` has one column per class, in the order of ``classes_``:
model = models["balanced CE"]
pd.DataFrame(model.predict_proba(X_test[:3]), columns=model.classes_).round(3)

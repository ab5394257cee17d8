"""
GHM-C: gradient-norm density and weights on a real imbalanced table
===================================================================

GHM-C (Li et al. 2019) looks at the gradient norm of each sample's
cross-entropy with respect to its logit, :math:`g = |p - y|` for a binary
problem (:math:`g = 1 - p_t` in general): near 0 for easy samples, near 1 for
samples the model gets badly wrong. It splits :math:`[0, 1]` into ``bins``
equal bins and weights each sample by the inverse of its bin's population,

.. math:: \\beta_i = \\frac{N}{n_{\\text{non-empty bins}} \\cdot
          \\text{count}(\\text{bin}(g_i))},

so that every non-empty bin carries the same total weight. This example
computes :math:`g` with :func:`skfocal.losses.ghm_gradient_norm` from the
logits of a :class:`~skfocal.GHMClassifier` on the ``yeast4`` dataset (1,484
proteins, 51 of them in the minority class), once after one epoch of training
and once after sixty, and shows the histogram and the weights
:func:`skfocal.losses.ghm_weights` gives.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from skfocal import GHMClassifier
from skfocal.datasets import load_dataset
from skfocal.losses import ghm_gradient_norm, ghm_weights

X, y = load_dataset("yeast4")
# Scaling on the whole table is fine here: this example only looks at the
# training data; for an evaluation, fit the scaler inside a pipeline.
X = StandardScaler().fit_transform(X)
y = y.to_numpy()
print(f"{len(y)} samples, {y.sum()} in the minority class")

# %%
# Train, and look at the gradient norms twice
# -------------------------------------------
# ``partial_fit`` trains one epoch per call, so the same network can be
# inspected along the way. After one epoch (6 small steps) the network is
# still close to its random initialisation.
BINS = 10
clf = GHMClassifier(bins=BINS, momentum=0.75, random_state=0)


def gradient_norms(model):
    logits = torch.from_numpy(model.decision_function(X))
    return ghm_gradient_norm(logits, torch.tensor(y)).numpy()


clf.partial_fit(X, y)
snapshots = {"after 1 epoch": gradient_norms(clf)}
for _ in range(59):
    clf.partial_fit(X, y)
snapshots["after 60 epochs"] = gradient_norms(clf)

# %%
# Histogram and weights
# ---------------------
# Top: how many samples fall in each bin of :math:`g` (log scale), majority
# and minority stacked. Bottom: the GHM-C weight of a sample in that bin,
# computed on the whole training set at once (what one batch holding every
# sample would get, without the moving average).
edges = np.linspace(0.0, 1.0, BINS + 1)
centres = (edges[:-1] + edges[1:]) / 2
fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True, sharey="row")
rows = []
for column, (name, g) in enumerate(snapshots.items()):
    weights = ghm_weights(torch.from_numpy(g), bins=BINS).numpy()
    bin_index = np.minimum((g * BINS).astype(int), BINS - 1)
    majority_counts = np.bincount(bin_index[y == 0], minlength=BINS)
    minority_counts = np.bincount(bin_index[y == 1], minlength=BINS)
    top, bottom = axes[0, column], axes[1, column]
    width = 0.9 / BINS
    top.bar(centres, majority_counts, width, label="majority (y = 0)")
    top.bar(
        centres,
        minority_counts,
        width,
        bottom=majority_counts,
        label="minority (y = 1)",
    )
    top.set_yscale("log")
    top.set_title(name)
    bin_weight = np.full(BINS, np.nan)
    bin_weight[bin_index] = weights  # every sample of a bin has the same weight
    bottom.bar(centres, bin_weight, width, color="C2")
    bottom.axhline(1.0, color="0.4", linestyle=":", label="cross-entropy (1)")
    bottom.set_yscale("log")
    bottom.set_xlabel("gradient norm $g = |p - y|$")
    for label, mask in (("majority", y == 0), ("minority", y == 1)):
        rows.append(
            {
                "snapshot": name,
                "class": label,
                "mean g": g[mask].mean(),
                "mean GHM weight": weights[mask].mean(),
                "share of total weight": weights[mask].sum() / weights.sum(),
                "share of samples": mask.mean(),
            }
        )
axes[0, 0].set_ylabel("samples per bin")
axes[1, 0].set_ylabel("GHM-C weight $\\beta$")
axes[0, 0].legend(loc="upper left")
axes[1, 0].legend(loc="upper left")
axes[0, 1].set_xlim(0, 1)
fig.suptitle("yeast4: gradient-norm histogram and GHM-C weights (10 bins)")
fig.tight_layout()

# %%
# After one epoch the network predicts :math:`p` a little below 0.5 for
# everyone. A majority sample then has :math:`g = p < 0.5` and a minority
# sample :math:`g = 1 - p > 0.5`: the two classes fall into different bins,
# and since every non-empty bin gets the same total weight, GHM-C starts out
# as a strong class re-weighting (the 51 minority samples carry 40% of the
# weight). It also shows GHM's sensitivity to sparse bins: a bin holding a
# single sample gives it a weight of several hundred.
#
# After sixty epochs most majority samples are easy (:math:`g` near 0) and
# crowd the first bin, whose weight falls well below 1, while the minority
# samples spread over the sparser upper bins and are weighted up. On this
# table no sample is confidently wrong (no :math:`g` above 0.7); where there
# are such outliers, a crowded bin near :math:`g = 1` is weighted *down*,
# which is what distinguishes GHM-C from the focal loss.
pd.DataFrame(rows).round(3)

# %%
# In training, :class:`~skfocal.losses.GHMCLoss` computes these weights per
# batch, dividing by a moving average of the bin counts across batches
# (``momentum``) so that the weights of a batch do not depend on the few
# samples it happens to hold.

plt.show()

"""
Which samples each loss emphasises: easy/hard x majority/minority
=================================================================

Every loss of skfocal is a re-weighting of cross-entropy, and they differ in
*which* samples they weight up or down. Split a training set into four
quadrants, majority or minority class and easy or hard sample (the model
gives the true class a probability above or below 0.5), and measure what
each loss does to each quadrant:

* **cross-entropy** (CE) weights every sample equally;
* **balanced CE** weights by class, :math:`n / (C \\, n_c)`, whatever the
  difficulty;
* the **focal loss** weights by difficulty, :math:`(1 - p_t)^\\gamma`,
  whatever the class;
* **GHM-C** weights by the inverse density of the gradient norm, so a
  sample's weight depends on how many others are equally easy or hard.

The "weight" measured here is the gradient of the (mean-reduced) loss with
respect to each sample's logit, relative to cross-entropy's: what the sample
actually contributes to a training step. The logits come from a small
network trained for a few epochs with plain cross-entropy on the
``page-blocks0`` dataset (5,472 page blocks, 559 of them not text).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from skfocal import ImbalancedMLPClassifier
from skfocal.datasets import load_dataset
from skfocal.losses import (
    balanced_cross_entropy,
    class_weights,
    focal_loss,
    ghm_gradient_norm,
    ghmc_loss,
)

X, y = load_dataset("page-blocks0")
X = StandardScaler().fit_transform(X)  # illustration on training data only
y = y.to_numpy(copy=True)
model = ImbalancedMLPClassifier(loss="ce", max_epochs=10, random_state=0).fit(X, y)
logits = torch.tensor(model.decision_function(X))
target = torch.tensor(y, dtype=torch.float64)

# %%
# The four quadrants
# ------------------
hard = ghm_gradient_norm(logits, target).numpy() >= 0.5  # p_t below 0.5
quadrant = np.select(
    [(y == 0) & ~hard, (y == 0) & hard, (y == 1) & ~hard],
    ["majority, easy", "majority, hard", "minority, easy"],
    "minority, hard",
)
QUADRANTS = ["majority, easy", "majority, hard", "minority, easy", "minority, hard"]
pd.Series(quadrant).value_counts().reindex(QUADRANTS).rename("samples")

# %%
# Per-sample gradients of each loss
# ---------------------------------
# Autograd on the logits gives :math:`\partial L / \partial z_i` for every
# sample at once, for any of skfocal's functional losses.
losses = {
    "CE": lambda z: focal_loss(z, target, gamma=0.0),
    "balanced CE": lambda z: balanced_cross_entropy(
        z, target, alpha=class_weights(y, method="balanced")
    ),
    "focal (gamma=2)": lambda z: focal_loss(z, target, gamma=2.0),
    "GHM-C (10 bins)": lambda z: ghmc_loss(z, target, bins=10),
}
gradients = {}
for name, loss in losses.items():
    z = logits.clone().requires_grad_(True)
    loss(z).backward()
    gradients[name] = z.grad.abs().numpy()
relative = pd.DataFrame(
    {name: grad / gradients["CE"] for name, grad in gradients.items()}
)
relative["quadrant"] = quadrant
mean_relative = relative.groupby("quadrant").mean().reindex(QUADRANTS)
mean_relative.round(3)

# %%
# Mean weight of a sample, relative to cross-entropy (1 = what CE gives it,
# log scale):
fig, ax = plt.subplots(figsize=(8, 4.4))
width = 0.2
positions = np.arange(len(QUADRANTS))
for offset, name in enumerate(losses):
    ax.bar(
        positions + (offset - 1.5) * width,
        mean_relative[name],
        width,
        label=name,
    )
ax.axhline(1.0, color="0.3", linewidth=0.8)
ax.set_yscale("log")
ax.set_xticks(positions, QUADRANTS)
ax.set_ylabel("gradient per sample / CE's (log scale)")
ax.set_ylim(5e-3, 200)
ax.set_title("How each loss re-weights the four quadrants (page-blocks0)")
ax.legend(loc="upper center", ncols=4)
fig.tight_layout()

# %%
# Share of the training signal
# ----------------------------
# What counts for training is the total gradient each quadrant contributes.
# With cross-entropy the many easy majority samples get about a third of it.
# Balanced CE hands most of it to the minority class, easy or hard. The focal
# loss hands it to the hard samples of both classes, and nearly silences the
# easy ones. GHM-C also moves it to the hard samples, but because they are
# *rare*, not because they are hard: each of the few hard majority samples
# gets more than ten times the weight CE gives it, more than the focal loss
# gives, while the crowded easy majority keeps a third of its CE weight.
share = (
    pd.DataFrame(gradients)
    .assign(quadrant=quadrant)
    .groupby("quadrant")
    .sum()
    .reindex(QUADRANTS)
)
share = share / share.sum()

fig, ax = plt.subplots(figsize=(8, 4.4))
bottom = np.zeros(len(losses))
for quadrant_name, color in zip(
    QUADRANTS, ("C0", "#9ecae1", "#fdae6b", "C1"), strict=True
):
    values = share.loc[quadrant_name].to_numpy()
    ax.barh(list(losses), values, left=bottom, color=color, label=quadrant_name)
    bottom += values
ax.invert_yaxis()
ax.set_xlim(0, 1)
ax.set_xlabel("share of the total gradient magnitude")
ax.set_title("Which quadrant drives training")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=4)
fig.tight_layout()
plt.show()

share.T.round(3)

# %%
# Class weights: "balanced" and the effective number of samples
# -------------------------------------------------------------
# ``alpha="balanced"`` gives class :math:`c` the weight
# :math:`n / (C \, n_c)`, which grows without bound with the imbalance.
# ``alpha="effective"`` uses the *effective number of samples* of Cui et al.
# (2019), :math:`E_c = (1 - \beta^{n_c}) / (1 - \beta)`, and weights
# :math:`1 / E_c` normalised to sum to :math:`C`: with :math:`\beta = 0` all
# weights are equal, and as :math:`\beta \to 1` they approach inverse class
# frequencies. The multi-class ``page-blocks`` table (five classes, from
# 4,913 rows down to 28) shows the range:
_, labels = load_dataset("page-blocks")
codes = labels.to_numpy() - 1  # classes 1..5 as indices 0..4
weights = {"samples": np.bincount(codes)}
weights["balanced"] = class_weights(codes, method="balanced").numpy()
for beta in (0.9, 0.99, 0.999, 0.9999):
    weights[f"effective, beta={beta}"] = class_weights(
        codes, method="effective", beta=beta
    ).numpy()
pd.DataFrame(weights, index=pd.Index(range(1, 6), name="class")).round(3)

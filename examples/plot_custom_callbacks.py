"""
Custom skorch callbacks: scores per epoch, a learning-rate schedule
===================================================================

Every skfocal estimator trains a skorch net, and its ``callbacks`` parameter
passes extra `skorch callbacks
<https://skorch.readthedocs.io/en/stable/callbacks.html>`_ to it. This example
adds three:

* :class:`skorch.callbacks.EpochScoring` to record the average precision on
  the validation split after every epoch;
* :class:`skorch.callbacks.LRScheduler` for a cosine learning-rate schedule;
* a small custom :class:`skorch.callbacks.Callback` that records the
  gradient-norm histogram GHM-C is dividing by.

Everything they record lands in the per-epoch history of the fitted net,
``net_.history``. The callbacks given to the estimator are copied at fit
time, so the estimator's parameters never change.

Data: ``page-blocks0`` (5,472 blocks, 559 in the minority class).
"""

# %%
from sklearn.preprocessing import StandardScaler

from skfocal.datasets import load_dataset

X, y = load_dataset("page-blocks0")
X = StandardScaler().fit_transform(X)  # a demonstration of training only

# %%
# Scores per epoch and a learning-rate schedule
# ---------------------------------------------
# ``EpochScoring`` accepts a scorer name or a function ``score(net, X, y)``
# that receives the inner skorch net. That net's output is the raw logits,
# so the function scores ``net.forward(X)``: for the average precision, which
# only needs a ranking, logits are as good as probabilities. With
# ``early_stopping=True`` the estimator holds out a stratified validation
# split (``validation_fraction``), and the scoring runs on it.
from sklearn.metrics import average_precision_score
from skorch.callbacks import EpochScoring, LRScheduler

from skfocal import FocalClassifier


def validation_average_precision(net, X, y):
    logits = net.forward(X)  # one logit per sample in a binary problem
    return average_precision_score(y, logits.numpy())


MAX_EPOCHS = 40
focal = FocalClassifier(
    gamma=2.0,
    alpha=0.75,
    lr=3e-3,
    max_epochs=MAX_EPOCHS,
    early_stopping=True,
    n_iter_no_change=10,
    callbacks=[
        EpochScoring(
            validation_average_precision, name="valid_ap", lower_is_better=False
        ),
        LRScheduler(policy="CosineAnnealingLR", T_max=MAX_EPOCHS),
    ],
    random_state=0,
    verbose=1,  # skorch's table of epochs, with the new valid_ap column
)
focal.fit(X, y)

# %%
# ``net_.history`` holds one dict per epoch; a DataFrame makes it easy to
# plot. The learning rate is recorded by the scheduler as ``event_lr``, and
# ``valid_loss_best`` marks the epochs that improved the validation loss.
import matplotlib.pyplot as plt
import pandas as pd

columns = ["epoch", "train_loss", "valid_loss", "valid_loss_best", "valid_ap"]
history = pd.DataFrame(list(focal.net_.history)).reindex(columns=[*columns, "event_lr"])
best_epoch = history.loc[history["valid_loss_best"].astype(bool), "epoch"].max()

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(history["epoch"], history["train_loss"], label="training loss")
axes[0].plot(history["epoch"], history["valid_loss"], label="validation loss")
axes[0].axvline(best_epoch, color="0.5", linestyle=":", label="weights kept")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("focal loss")
axes[0].legend()
axes[1].plot(history["epoch"], history["valid_ap"], color="C2", label="validation AP")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("average precision")
axes[1].legend(loc="lower center")
learning_rate = axes[1].twinx()
learning_rate.plot(history["epoch"], history["event_lr"], color="0.5", linestyle="--")
learning_rate.set_ylabel("learning rate (dashed)")
fig.suptitle("FocalClassifier on page-blocks0, with early stopping")
fig.tight_layout()

# %%
# Early stopping watches the validation loss and restores the weights of its
# best epoch (``n_iter_no_change`` is the patience).
print(f"trained {focal.n_iter_} epochs, kept the weights of epoch {best_epoch}")
history.tail(3)

# %%
# A custom callback
# -----------------
# A callback is a class with hooks (``on_epoch_end``, ``on_batch_end``, ...)
# that receive the net. This one copies GHM-C's moving average of the
# gradient-norm histogram (bias-corrected, as the loss uses it) after every
# epoch. Passed as a ``(name, callback)`` pair, the fitted copy can be found
# by name in ``net_.callbacks_``.
from skorch.callbacks import Callback

from skfocal import GHMClassifier


class RecordGHMDensity(Callback):
    """Keep GHM-C's bin counts at the end of every epoch."""

    def on_train_begin(self, net, **kwargs):
        self.bin_counts_ = []

    def on_epoch_end(self, net, **kwargs):
        criterion = net.criterion_
        correction = 1.0 - criterion.momentum ** int(criterion.n_updates)
        self.bin_counts_.append((criterion.bin_count_ema / correction).tolist())


ghm = GHMClassifier(
    bins=10,
    max_epochs=30,
    callbacks=[("ghm_density", RecordGHMDensity())],
    random_state=0,
).fit(X, y)
bin_counts = dict(ghm.net_.callbacks_)["ghm_density"].bin_counts_

# %%
# Each column is an epoch, each row a bin of the gradient norm :math:`g`:
# as training proceeds the middle bins empty, most samples become easy
# (bottom row) and a few stay hard.
import numpy as np

fig, ax = plt.subplots(figsize=(7, 4))
image = ax.imshow(
    np.log10(np.array(bin_counts).T + 1),
    aspect="auto",
    origin="lower",
    extent=(0.5, len(bin_counts) + 0.5, 0, 1),
)
ax.set_xlabel("epoch")
ax.set_ylabel("gradient norm $g$ (10 bins)")
ax.set_title("GHM-C histogram (moving average of the bin counts)")
fig.colorbar(image, ax=ax, label="log10(1 + samples per bin)")
fig.tight_layout()

# %%
# A word on early stopping with GHM-C: the GHM-C loss of a batch is
# normalised by its own histogram, so it does not have to decrease as the
# model improves, and early stopping on it can stop (and restore weights)
# too early. Check the validation average precision, as above, before
# relying on it.

plt.show()

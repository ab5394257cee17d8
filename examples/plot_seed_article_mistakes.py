"""
Where the seed blog articles go wrong, in numbers
=================================================

skfocal grew out of a handful of blog posts (in Chinese) that explain the
focal loss and GHM-C with code. The explanations are useful, but the code
has mistakes that are easy to copy. This example reimplements each mistake
**inside this example only**, in functions whose names start with
``wrong_``, and puts its numbers next to skfocal's:

1. ``sigmoid`` applied to the target logit of a softmax classifier;
2. the loss normalised by the sum of the focal weights, which cancels the
   focusing for a batch of one sample;
3. a misplaced parenthesis, :math:`1 - p_t^\\gamma` instead of
   :math:`(1 - p_t)^\\gamma`;
4. the focal factor applied to every column before ``nll_loss``, which gives
   NaN gradients for :math:`\\gamma < 1`;
5. a Python loop over the GHM bins (correct, but slow);
6. GHM's moving average of bin counts without bias correction, which
   inflates the first batches' weights.

None of these functions is part of skfocal. The :ref:`user guide
<seed_mistakes>` explains the correct formulas.
"""

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F

from skfocal.losses import GHMCLoss, focal_loss, ghm_gradient_norm, ghm_weights

# %%
# 1. ``sigmoid`` of the target logit of a softmax classifier
# ----------------------------------------------------------
# One article computes :math:`p_t` of a multi-class (softmax) network as
# ``sigmoid(logits[target])``. The probability of the true class depends on
# all the logits, :math:`p_t = e^{z_t} / \sum_j e^{z_j}`; the sigmoid of one
# logit ignores the other classes.


def wrong_focal_sigmoid_of_target_logit(logits, target, gamma=2.0):
    """WRONG (seed article): p_t = sigmoid(target logit) for softmax logits."""
    target_logit = logits.gather(1, target[:, None]).squeeze(1)
    p_t = torch.sigmoid(target_logit)
    return (-((1 - p_t) ** gamma) * torch.log(p_t)).mean()


logits = torch.tensor(
    [
        [3.0, 3.0, -2.0],  # the two first classes tied: p_t is about 0.5
        [0.0, 5.0, 5.0],  # the true class is far behind the others
        [-2.0, -4.0, -4.0],  # all logits negative, true class clearly ahead
        [13.0, 13.0, 8.0],  # the first row plus 10: the same softmax
    ]
)
target = torch.tensor([0, 0, 0, 0])
table = pd.DataFrame(
    {
        "logits": [row.tolist() for row in logits],
        "p_t (softmax, correct)": F.softmax(logits, dim=1)[:, 0],
        "sigmoid(target logit) (wrong)": torch.sigmoid(logits[:, 0]),
        "focal loss, skfocal": [
            focal_loss(row[None], t[None]).item()
            for row, t in zip(logits, target, strict=True)
        ],
        "focal loss, wrong": [
            wrong_focal_sigmoid_of_target_logit(row[None], t[None]).item()
            for row, t in zip(logits, target, strict=True)
        ],
    }
).round(4)
table

# %%
# The wrong :math:`p_t` says 0.5 for a sample whose true class has
# probability 0.003 (second row), 0.12 for one it predicts correctly with
# probability 0.79 (third row), and it changes when the same constant is added
# to every logit (first and last rows), which changes nothing in the model's
# predictions. The focal loss built on it is wrong by orders of magnitude.

# %%
# 2. Normalising by the sum of the focal weights
# ----------------------------------------------
# The same code divides the summed loss by :math:`\sum_i (1 - p_{t,i})^\gamma`
# instead of by the number of samples (or the sum of class weights). With one
# sample in the batch the factor is in the numerator and the denominator and
# cancels: the "focal loss" is plain cross-entropy, whatever
# :math:`\gamma`. With more samples it is a weighted average of
# cross-entropies, whose scale no longer shrinks as the samples get easy.


def wrong_focal_normalised_by_focal_weights(logits, target, gamma=2.0):
    """WRONG (seed article): divides by sum((1 - p_t) ** gamma)."""
    log_p_t = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    focal_weight = (1 - log_p_t.exp()) ** gamma
    return (-focal_weight * log_p_t).sum() / focal_weight.sum()


rows = []
for p_true in (0.1, 0.5, 0.9, 0.99):
    # Two classes, one sample whose true class has probability p_true.
    one = torch.tensor([[0.0, float(torch.logit(torch.tensor(p_true)))]])
    label = torch.tensor([1])
    rows.append(
        {
            "p_t": p_true,
            "cross-entropy": F.cross_entropy(one, label).item(),
            "focal, skfocal": focal_loss(one, label, gamma=2.0).item(),
            "focal, wrong normalisation": wrong_focal_normalised_by_focal_weights(
                one, label
            ).item(),
        }
    )
pd.DataFrame(rows).round(6)

# %%
# The last column equals the cross-entropy: for a batch of one the focusing
# is gone. skfocal's ``reduction="mean"`` divides by the sum of the class and
# sample weights, like ``torch.nn.functional.cross_entropy(weight=...)``,
# and never by the focal factors.

# %%
# 3. A misplaced parenthesis
# --------------------------
# One article writes the modulating factor as :math:`1 - p_t^\gamma`. It is
# :math:`(1 - p_t)^\gamma`. The wrong factor is 0 for every sample when
# :math:`\gamma = 0` (the loss vanishes instead of being the cross-entropy)
# and it barely down-weights easy samples for large :math:`\gamma`.
p_t = torch.linspace(0.0, 1.0, 201)
fig, ax = plt.subplots(figsize=(8.4, 4.2))
for gamma, color in zip((0.5, 2.0, 5.0), ("C0", "C1", "C2"), strict=True):
    ax.plot(p_t, (1 - p_t) ** gamma, color=color, label=f"$(1 - p_t)^{{{gamma:g}}}$")
    ax.plot(
        p_t,
        1 - p_t**gamma,
        color=color,
        linestyle="--",
        label=f"$1 - p_t^{{{gamma:g}}}$ (wrong)",
    )
ax.set_xlabel("probability of the true class $p_t$")
ax.set_ylabel("modulating factor")
ax.set_title("Focal modulating factor: correct (solid) and misplaced (dashed)")
ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
fig.tight_layout()

pd.DataFrame(
    [
        {
            "gamma": gamma,
            "p_t": p,
            "(1 - p_t)^gamma": (1 - p) ** gamma,
            "1 - p_t^gamma (wrong)": 1 - p**gamma,
        }
        for gamma in (0.0, 2.0)
        for p in (0.1, 0.9, 0.99)
    ]
).round(4)

# %%
# 4. The focal factor on every column before ``nll_loss``
# -------------------------------------------------------
# Another version computes :math:`(1 - p_j)^\gamma \log p_j` for *every*
# class :math:`j` and lets ``nll_loss`` pick the target column. The value is
# right. The gradient is not: where a probability rounds to 1, the derivative
# of :math:`(1 - p)^\gamma` is infinite for :math:`\gamma < 1`, and autograd
# multiplies it by the zero gradient that ``nll_loss`` sends to the columns it
# did not pick: :math:`0 \times \infty` is NaN. This happens for a confident
# correct prediction (the target column saturates) and for a confident wrong
# one (another column saturates), i.e. in ordinary training.


def wrong_focal_factor_on_every_column(logits, target, gamma=0.5):
    """WRONG (seed article): focal factor on all columns, then nll_loss."""
    log_probs = F.log_softmax(logits, dim=1)
    return F.nll_loss((1 - log_probs.exp()) ** gamma * log_probs, target)


rows = []
cases = {
    "confident and right": [30.0, 0.0, 0.0],
    "confident and wrong": [0.0, 30.0, 0.0],
    "not saturated": [2.0, 1.0, 0.0],
}
for case, values in cases.items():
    for name, loss_function in (
        ("skfocal", lambda z, t: focal_loss(z, t, gamma=0.5)),
        ("wrong", wrong_focal_factor_on_every_column),
    ):
        z = torch.tensor([values], requires_grad=True)  # float32, as in training
        loss = loss_function(z, torch.tensor([0]))
        loss.backward()
        rows.append(
            {
                "case (target = class 0)": case,
                "implementation": name,
                "loss": loss.item(),
                "gradient": [round(g, 4) for g in z.grad[0].tolist()],
            }
        )
pd.DataFrame(rows)

# %%
# Computing the factor with ``pow`` on the target column only still gives NaN
# in the first case. skfocal computes :math:`(1 - p_t)^\gamma` as
# :math:`\exp(\gamma \log(1 - p_t))`, with :math:`\log(1 - p_t)` a
# ``logsumexp`` over the other classes, so the gradient stays finite.

# %%
# 5. A Python loop over GHM bins
# ------------------------------
# GHM-C weights each sample by the inverse density of its gradient norm
# :math:`g` in a histogram of ``bins`` bins. The reference code and the
# article fill the histogram with a Python loop over the bins, each
# iteration building a boolean mask over the whole batch and calling
# ``.item()`` (a device synchronisation on a GPU). The result is right;
# skfocal's :func:`~skfocal.losses.ghm_weights` does the same with one
# ``bucketize`` and one ``bincount``.


def wrong_ghm_weights_loop(gradient_norm, bins=10):
    """Slow (seed article): one masked pass over the batch per bin."""
    edges = torch.arange(bins + 1, dtype=gradient_norm.dtype) / bins
    edges[-1] += 1e-6
    weights = torch.zeros_like(gradient_norm)
    n_nonempty = 0
    total = gradient_norm.numel()
    for i in range(bins):
        in_bin = (gradient_norm >= edges[i]) & (gradient_norm < edges[i + 1])
        count = in_bin.sum().item()
        if count > 0:
            weights[in_bin] = total / count
            n_nonempty += 1
    return weights / n_nonempty


def best_time(function, repeat=5):
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


rows = []
generator = torch.Generator().manual_seed(0)
for n_samples, bins in ((256, 10), (256, 30), (100_000, 30)):
    labels = (torch.rand(n_samples, generator=generator) < 0.1).float()
    scores = torch.randn(n_samples, generator=generator) * 3 - 2
    g = ghm_gradient_norm(scores, labels)
    same = torch.allclose(wrong_ghm_weights_loop(g, bins), ghm_weights(g, bins))
    loop = best_time(lambda g=g, bins=bins: wrong_ghm_weights_loop(g, bins))
    vectorised = best_time(lambda g=g, bins=bins: ghm_weights(g, bins))
    rows.append(
        {
            "batch size": n_samples,
            "bins": bins,
            "same weights": same,
            "loop (ms)": 1e3 * loop,
            "skfocal (ms)": 1e3 * vectorised,
            "speed-up": loop / vectorised,
        }
    )
pd.DataFrame(rows).round(3)

# %%
# The timings are measured on the machine that built this page, on the CPU;
# on a GPU the loop also pays one synchronisation per bin.

# %%
# 6. GHM's moving average without bias correction
# -----------------------------------------------
# With ``momentum`` :math:`m`, GHM-C divides by a moving average of the bin
# counts, :math:`a_t = m\, a_{t-1} + (1 - m)\, c_t`. The reference code
# starts from :math:`a_0 = 0`, so after the first batch
# :math:`a_1 = (1 - m)\, c_1`: every weight is :math:`1 / (1 - m)` times too
# large (4 times with the default :math:`m = 0.75`), and the excess decays
# only as :math:`m^t`. The first steps of training then run with a loss, and
# gradients, several times too large. skfocal's
# :class:`~skfocal.losses.GHMCLoss` divides by :math:`1 - m^t`, as Adam does
# for its moments, so the first batch gets exactly the weights of
# ``momentum=0``.


class WrongGHMMovingAverage:
    """WRONG (reference code): moving average of bin counts started at 0."""

    def __init__(self, bins=10, momentum=0.75):
        self.bins = bins
        self.momentum = momentum
        self.average = torch.zeros(bins)

    def weights(self, gradient_norm):
        edges = torch.arange(self.bins + 1) / self.bins
        edges[-1] += 1e-6
        weights = torch.zeros_like(gradient_norm)
        n_nonempty = 0
        total = gradient_norm.numel()
        for i in range(self.bins):
            in_bin = (gradient_norm >= edges[i]) & (gradient_norm < edges[i + 1])
            count = in_bin.sum().item()
            if count > 0:
                self.average[i] = (
                    self.momentum * self.average[i] + (1 - self.momentum) * count
                )
                weights[in_bin] = total / self.average[i]
                n_nonempty += 1
        return weights / n_nonempty


def batches(n_batches, batch_size=256):
    """Batches of a stationary, imbalanced problem: 10% positives."""
    generator = torch.Generator().manual_seed(0)
    for _ in range(n_batches):
        labels = (torch.rand(batch_size, generator=generator) < 0.1).float()
        noise = torch.randn(batch_size, generator=generator)
        scores = torch.where(labels > 0, 1.0 + 2.0 * noise, -3.0 + 1.5 * noise)
        yield scores, labels


wrong = WrongGHMMovingAverage(bins=10, momentum=0.75)
criterion = GHMCLoss(bins=10, momentum=0.75, reduction="none")  # training mode
mean_weights = []
for scores, labels in batches(20):
    cross_entropy = focal_loss(scores, labels, gamma=0.0, reduction="none")
    skfocal_weights = criterion(scores, labels) / cross_entropy
    wrong_weights = wrong.weights(ghm_gradient_norm(scores, labels))
    no_momentum = ghm_weights(ghm_gradient_norm(scores, labels), bins=10)
    mean_weights.append(
        {
            "no momentum": no_momentum.mean().item(),
            "skfocal (bias-corrected)": skfocal_weights.mean().item(),
            "reference code (no correction)": wrong_weights.mean().item(),
        }
    )
mean_weights = pd.DataFrame(mean_weights, index=range(1, 21))

fig, ax = plt.subplots(figsize=(6.4, 4.2))
for column, style in zip(mean_weights, (":", "-", "--"), strict=True):
    ax.plot(mean_weights.index, mean_weights[column], style, marker="o", label=column)
ax.set_xlabel("training batch")
ax.set_ylabel("mean GHM weight in the batch")
ax.set_title("GHM-C with momentum 0.75: first batches")
ax.set_xticks(range(1, 21, 2))
ax.legend()
fig.tight_layout()

mean_weights.head(6).round(3)

# %%
# Without the correction the first batch's weights are 4 times too large,
# the fourth batch's still 1.3 times; skfocal's stay at the level of the
# per-batch weights from the start.

plt.show()

"""
The focal loss and its gradient as functions of p_t
===================================================

The focal loss of Lin et al. (2017) multiplies the cross-entropy of each
sample by a modulating factor:

.. math:: FL(p_t) = -\\alpha_t \\, (1 - p_t)^\\gamma \\log(p_t)

where :math:`p_t` is the probability the model gives to the true class. This
example draws the classic figure of the paper (the loss against
:math:`p_t` for several :math:`\\gamma`) with
:func:`skfocal.losses.focal_loss` itself, then the gradient with respect to
the logit obtained with torch autograd, and checks numerically how the
binary (sigmoid) and multi-class (softmax) forms relate.
"""

# %%
# The loss against p_t
# --------------------
# A binary problem has one logit :math:`z` per sample and
# :math:`p = \sigma(z)`, the probability of class 1. For a sample of class 1,
# :math:`p_t = \sigma(z)`, so a grid of :math:`p_t` is a grid of logits
# :math:`z = \log(p_t / (1 - p_t))`.
import matplotlib.pyplot as plt
import torch

from skfocal.losses import focal_loss

gammas = [0.0, 0.5, 1.0, 2.0, 5.0]
p_t = torch.linspace(0.001, 0.999, 500, dtype=torch.float64)
logits = torch.logit(p_t)
target = torch.ones_like(logits)

fig, ax = plt.subplots(figsize=(6.4, 4.4))
for gamma in gammas:
    loss = focal_loss(logits, target, gamma=gamma, reduction="none")
    label = f"$\\gamma = {gamma:g}$" + (" (cross-entropy)" if gamma == 0 else "")
    ax.plot(p_t, loss, label=label)
ax.axvspan(0.6, 1.0, color="0.9", zorder=0)
ax.text(0.8, 1.5, "well-classified\nsamples", ha="center")
ax.set_xlim(0, 1)
ax.set_ylim(0, 5)
ax.set_xlabel("probability of the true class $p_t$")
ax.set_ylabel("loss")
ax.set_title("Focal loss $-(1 - p_t)^\\gamma \\log p_t$")
ax.legend(loc="upper right")
fig.tight_layout()

# %%
# At :math:`p_t = 0.9` the cross-entropy is 0.105; with :math:`\gamma = 2` the
# focal loss is 100 times smaller, while at :math:`p_t = 0.1` it is only
# 1.2 times smaller. Many easy samples (under imbalance, mostly the majority
# class) no longer dominate the sum.
for value in (0.1, 0.5, 0.9, 0.99):
    z = torch.logit(torch.tensor([value], dtype=torch.float64))
    ce = focal_loss(z, torch.ones(1), gamma=0.0).item()
    fl = focal_loss(z, torch.ones(1), gamma=2.0).item()
    print(f"p_t={value:<5} CE={ce:.4f}  FL(gamma=2)={fl:.6f}  CE/FL={ce / fl:8.1f}")

# %%
# The gradient with respect to the logit
# --------------------------------------
# What a sample contributes to training is the gradient of its loss with
# respect to its logit. Autograd gives it directly from
# :func:`~skfocal.losses.focal_loss`. For cross-entropy it is
# :math:`p - y`, of magnitude :math:`1 - p_t`; the focal loss shrinks it for
# easy samples and, for :math:`\gamma \geq 1`, also slightly for the very hard
# ones (:math:`p_t \to 0`), whose gradient tends to 1 for every
# :math:`\gamma`.
fig, ax = plt.subplots(figsize=(6.4, 4.4))
for gamma in gammas:
    z = logits.clone().requires_grad_(True)
    focal_loss(z, target, gamma=gamma, reduction="sum").backward()
    ax.plot(p_t, z.grad.abs(), label=f"$\\gamma = {gamma:g}$")
ax.set_xlim(0, 1)
ax.set_ylim(0, 1.05)
ax.set_xlabel("probability of the true class $p_t$")
ax.set_ylabel("gradient magnitude $|\\partial FL / \\partial z|$")
ax.set_title("Gradient of the focal loss with respect to the logit")
ax.legend()
fig.tight_layout()

# %%
# Binary and multi-class forms
# ----------------------------
# With two classes there are two ways to write the model: one logit and a
# sigmoid (what skfocal's estimators use for binary problems), or two logits
# and a softmax. They are the same model: :math:`\mathrm{softmax}(z_0,
# z_1)_1 = \sigma(z_1 - z_0)`, so the softmax focal loss on two logits equals
# the binary focal loss on the logit difference, sample by sample.
generator = torch.Generator().manual_seed(0)
two_logits = 3 * torch.randn(1000, 2, generator=generator, dtype=torch.float64)
labels = torch.randint(0, 2, (1000,), generator=generator)
softmax_form = focal_loss(two_logits, labels, gamma=2.0, reduction="none")
sigmoid_form = focal_loss(
    two_logits[:, 1] - two_logits[:, 0], labels.double(), gamma=2.0, reduction="none"
)
print("max |softmax form - sigmoid form|:", (softmax_form - sigmoid_form).abs().max())

# %%
# A float ``alpha`` is defined for the binary form only and is the weight of
# class 1 (class 0 gets ``1 - alpha``), the convention of the paper. It is the
# same as the per-class vector ``[1 - alpha, alpha]``, which the multi-class
# form takes:
difference = two_logits[:, 1] - two_logits[:, 0]
with_float = focal_loss(difference, labels.double(), gamma=2.0, alpha=0.25)
with_vector = focal_loss(two_logits, labels, gamma=2.0, alpha=[0.75, 0.25])
print(f"alpha=0.25 (binary): {with_float.item():.6f}")
print(f"alpha=[0.75, 0.25] (softmax): {with_vector.item():.6f}")

# %%
# With ``gamma=0`` the focal loss is the (weighted) cross-entropy exactly, and
# the ``"mean"`` reduction is the weighted mean
# :math:`\sum_i w_i l_i / \sum_i w_i` of
# :func:`torch.nn.functional.cross_entropy` with ``weight=``:
weight = torch.tensor([0.75, 0.25], dtype=torch.float64)
reference = torch.nn.functional.cross_entropy(two_logits, labels, weight=weight)
ours = focal_loss(two_logits, labels, gamma=0.0, alpha=weight)
print(f"cross_entropy(weight=...): {reference.item():.6f}  focal(gamma=0): {ours:.6f}")

# %%
# Numerical stability
# -------------------
# :math:`(1 - p_t)^\gamma` has an infinite derivative at :math:`p_t = 1` when
# :math:`\gamma < 1`. skfocal computes it as
# :math:`\exp(\gamma \log(1 - p_t))` with :math:`\log(1 - p_t)` obtained
# stably (``logsigmoid``, ``logsumexp``), so value and gradient stay finite
# even for a saturated logit in float32:
z = torch.tensor([40.0, -40.0], requires_grad=True)
loss = focal_loss(z, torch.tensor([1.0, 1.0]), gamma=0.5)
loss.backward()
print("loss:", loss.item(), " gradient:", z.grad.tolist())

plt.show()

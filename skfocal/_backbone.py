"""The tabular backbone: an MLP with the published tabular-DL ingredients.

Each ingredient is a switch, so that an estimator can expose it as a
parameter and an ablation can measure it:

* a fixed numeric-input transform in front (:class:`InputTransform`), whose
  statistics come from the training data (standardisation or RealMLP's
  robust scaling with smooth clipping);
* a learnable per-feature scale in front (RealMLP, Holzmüller et al. 2024),
  ``tabm.ElementwiseAffine`` initialised at one;
* numerical embeddings (Gorishniy et al. 2022), see :mod:`skfocal._embeddings`;
* parameter-efficient ensembling of ``k`` members (TabM, Gorishniy et al.
  2025) with the official ``tabm`` layers: ``EnsembleView``,
  ``LinearBatchEnsemble`` hidden layers (shared weights, per-member scalings
  and biases, TabM initialisation) and a ``LinearEnsemble`` head (one
  independent output layer per member).

torch, ``tabm`` and ``rtdl_num_embeddings`` only: no skorch, no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import rtdl_num_embeddings
import tabm
import torch
from torch import Tensor, nn

from skfocal._embeddings import EMBEDDINGS, NumericEmbedding, _is_int
from skfocal._module import ACTIVATIONS, dense_layers

__all__ = ["InputTransform", "TabularMLP", "no_weight_decay", "parameter_groups"]

INPUT_TRANSFORMS = ("none", "standard", "robust_smooth_clip")

# Smooth clipping maps the real line onto (-3, 3) (RealMLP). Values are first
# limited to +-1e18, which clip to 3 all the same, so that the square cannot
# overflow float32 (which would map huge values to 0, not to +-3).
_SMOOTH_CLIP_BOUND = 3.0
_SMOOTH_CLIP_SAFE = 1e18
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class InputTransform(nn.Module):
    """A fixed per-feature affine map of the raw inputs, optionally clipped.

    ``x * scale - center * scale``, then for ``smooth_clip`` RealMLP's
    ``x / sqrt(1 + (x / 3) ** 2)``, else a clamp to float32's range. The
    statistics are buffers (saved, moved and cast with the network, never
    trained), so the transform runs per batch on the device, costs no copy
    of the data and applies the same in ``fit`` and in ``predict``.

    Parameters
    ----------
    center : array-like of shape (n_features,)
        Value subtracted from each feature (e.g. ``InputScaler.center_``).
    scale : array-like of shape (n_features,)
        Factor of each centred feature (e.g. ``InputScaler.scale_``).
    smooth_clip : bool, default=False
        Clip smoothly into (-3, 3) after scaling.

    Examples
    --------
    >>> import torch
    >>> from skfocal._backbone import InputTransform
    >>> transform = InputTransform([1.0, 0.0], [0.5, 1.0], smooth_clip=True)
    >>> transform(torch.tensor([[3.0, 1e30]])).round(decimals=4)
    tensor([[0.9487, 3.0000]])
    """

    def __init__(self, center, scale, smooth_clip: bool = False) -> None:
        super().__init__()
        center = np.asarray(center, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        if center.ndim != 1 or center.shape != scale.shape:
            raise ValueError(
                "InputTransform needs 'center' and 'scale' of the same shape "
                f"(n_features,); got {center.shape} and {scale.shape}."
            )
        if not (np.isfinite(center).all() and np.isfinite(scale).all()):
            raise ValueError("InputTransform needs finite 'center' and 'scale'.")
        # One fused multiply-add per batch: x * scale + offset, the offset
        # computed here in float64.
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.register_buffer(
            "offset", torch.tensor(-center * scale, dtype=torch.float32)
        )
        self.smooth_clip = bool(smooth_clip)

    def forward(self, X: Tensor) -> Tensor:
        X = torch.addcmul(self.offset, X, self.scale)
        if not self.smooth_clip:
            # Beyond float32's range the network would compute inf and NaN.
            return X.clamp_(-_FLOAT32_MAX, _FLOAT32_MAX)
        X = X.clamp_(-_SMOOTH_CLIP_SAFE, _SMOOTH_CLIP_SAFE)
        denominator = torch.addcmul(
            torch.ones((), dtype=X.dtype, device=X.device),
            X,
            X,
            value=1.0 / _SMOOTH_CLIP_BOUND**2,
        )
        # Out of place: autograd needs X for the product's gradient.
        return X * denominator.rsqrt_()


class TabularMLP(nn.Module):
    """MLP backbone with optional feature scaling, embeddings and ensembling.

    With the defaults it is exactly :class:`skfocal._module.MLP`: same layers,
    same initial weights for the same torch seed, same logits.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_outputs : int
        Logits per member: 1 for a binary problem (sigmoid), ``C`` otherwise.
    hidden_layer_sizes : sequence of int, default=(64, 64)
        Width of each hidden layer; empty for a linear model (per member).
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation, in [0, 1).
    k : int, default=1
        Ensemble size. 1 is a plain MLP; ``k > 1`` trains ``k`` TabM members
        in one pass (BatchEnsemble hidden layers, independent heads).
    feature_scaling : bool, default=False
        Multiply the network input (after the embeddings) by a learnable
        per-value scale initialised at one, RealMLP's "front scale".
    embedding : {"none", "periodic", "piecewise_linear"}, default="none"
        Numerical embeddings of the input features (see
        :class:`skfocal._embeddings.NumericEmbedding`).
    embedded_features : sequence of int or None, default=None
        Indices of the features that get the embedding; the others enter the
        first layer as they are (after the input transform), after the
        embedded ones. ``None`` embeds every feature. The estimators pass
        the features with more than two distinct training values: an
        embedding of a 0/1 indicator adds width and cost but nothing a
        linear layer cannot already do with two values (RealMLP does not
        embed one-hot columns either).
    embedding_dim : int or None, default=None
        Values per feature after the embedding; ``None`` picks the kind's
        default (4 for periodic, 16 for piecewise-linear).
    bins : list of torch.Tensor or None, default=None
        Bin edges per embedded feature from the training data, required by
        ``embedding="piecewise_linear"`` (see
        :func:`skfocal._embeddings.compute_piecewise_bins`).
    sigma : float, default=0.1
        Initial frequency scale of periodic embeddings.
    input_transform : {"none", "standard", "robust_smooth_clip"}, default="none"
        A fixed :class:`InputTransform` in front of everything else:
        ``"standard"`` scales by ``input_scale`` after subtracting
        ``input_center``; ``"robust_smooth_clip"`` clips smoothly afterwards.
    input_center, input_scale : array-like of shape (n_features,) or None
        The transform's statistics from the training data (see
        :class:`skfocal._preprocessing.InputScaler`); required unless
        ``input_transform="none"``.

    Attributes
    ----------
    n_members : int
        ``k``. Logits are ``(N,)`` / ``(N, C)`` when 1, else ``(N, k)`` /
        ``(N, k, C)``: train on the mean loss over members and predict with
        the mean of the members' probabilities.
    n_outputs : int
        Logits per member.

    Examples
    --------
    >>> import torch
    >>> from skfocal._backbone import TabularMLP
    >>> TabularMLP(4, 1)(torch.zeros(3, 4)).shape
    torch.Size([3])
    >>> TabularMLP(4, 3, k=8, embedding="periodic")(torch.zeros(3, 4)).shape
    torch.Size([3, 8, 3])
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        *,
        k: int = 1,
        feature_scaling: bool = False,
        embedding: str = "none",
        embedded_features: Sequence[int] | None = None,
        embedding_dim: int | None = None,
        bins: list[Tensor] | None = None,
        sigma: float = 0.1,
        input_transform: str = "none",
        input_center=None,
        input_scale=None,
    ) -> None:
        super().__init__()
        hidden = _check_architecture(
            n_features, n_outputs, hidden_layer_sizes, activation, dropout, k
        )
        self.input_transform = _input_transform(
            input_transform, input_center, input_scale, n_features
        )
        if embedding not in EMBEDDINGS:
            raise ValueError(
                f"The 'embedding' parameter of TabularMLP must be one of "
                f"{EMBEDDINGS}. Got {embedding!r} instead."
            )
        if not isinstance(feature_scaling, bool):
            raise ValueError(
                "The 'feature_scaling' parameter of TabularMLP must be a bool. "
                f"Got {feature_scaling!r} instead."
            )
        if embedding == "none" and (bins is not None or embedding_dim is not None):
            raise ValueError(
                "The 'bins' and 'embedding_dim' parameters need an embedding; "
                "got them with embedding='none'."
            )
        if embedding == "none" and embedded_features is not None:
            raise ValueError(
                "The 'embedded_features' parameter needs an embedding; got it "
                "with embedding='none'."
            )
        embedded = _embedded_features(embedded_features, n_features)
        width = n_features
        self.embedding: NumericEmbedding | None = None
        # Column indices of the embedded and the passed-through features,
        # None when every feature is embedded (no gather needed).
        self.embedded_index: Tensor | None
        self.passthrough_index: Tensor | None
        # Not persistent: they follow from the constructor's arguments, so
        # the state_dict stays floating-point weights only.
        self.register_buffer("embedded_index", None, persistent=False)
        self.register_buffer("passthrough_index", None, persistent=False)
        # TabM gives the first ensemble layer one random scaling per feature,
        # shared by that feature's embedding values ("chunks").
        chunks: list[int] | None = None
        if embedding != "none" and embedded:
            self.embedding = NumericEmbedding(
                embedding,
                len(embedded),
                embedding_dim=embedding_dim,
                bins=bins,
                sigma=sigma,
            )
            n_passthrough = n_features - len(embedded)
            width = self.embedding.out_features + n_passthrough
            chunks = [self.embedding.feature_dim] * len(embedded) + [1] * n_passthrough
            if n_passthrough:
                passthrough = sorted(set(range(n_features)) - set(embedded))
                self.embedded_index = torch.tensor(embedded, dtype=torch.long)
                self.passthrough_index = torch.tensor(passthrough, dtype=torch.long)
        self.feature_scale = (
            tabm.ElementwiseAffine((width,), bias=False, scaling_init="ones")
            if feature_scaling
            else None
        )
        if k == 1:
            layers = dense_layers(width, n_outputs, hidden, activation, dropout)
        else:
            layers = _ensemble_layers(
                width, n_outputs, hidden, activation, dropout, k, chunks
            )
        # The same attribute name as MLP, so the plain configuration has the
        # same state_dict keys.
        self.layers = nn.Sequential(*layers)
        self.n_outputs = n_outputs
        self.n_members = k

    def forward(self, X: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        # sample_weight travels with the batch for the loss; the network
        # ignores it (skorch passes every entry of a dict batch as keyword).
        if self.input_transform is not None:
            X = self.input_transform(X)
        if self.embedding is not None:
            if self.embedded_index is None:
                X = self.embedding(X)
            else:
                X = torch.cat(
                    [
                        self.embedding(X.index_select(1, self.embedded_index)),
                        X.index_select(1, self.passthrough_index),
                    ],
                    dim=1,
                )
        if self.feature_scale is not None:
            X = self.feature_scale(X)
        logits = self.layers(X)
        return logits.squeeze(-1) if self.n_outputs == 1 else logits


def _embedded_features(
    embedded_features: Sequence[int] | None, n_features: int
) -> list[int]:
    """``embedded_features`` as a sorted list of distinct valid indices."""
    if embedded_features is None:
        return list(range(n_features))
    indices = [int(index) for index in embedded_features if _is_int(index)]
    if (
        len(indices) != len(embedded_features)
        or len(set(indices)) != len(indices)
        or any(not 0 <= index < n_features for index in indices)
    ):
        raise ValueError(
            "The 'embedded_features' parameter of TabularMLP must hold distinct "
            f"feature indices in [0, {n_features}). Got {embedded_features!r} "
            "instead."
        )
    return sorted(indices)


def _input_transform(
    kind: str, center, scale, n_features: int
) -> InputTransform | None:
    if kind not in INPUT_TRANSFORMS:
        raise ValueError(
            f"The 'input_transform' parameter of TabularMLP must be one of "
            f"{INPUT_TRANSFORMS}. Got {kind!r} instead."
        )
    if kind == "none":
        if center is not None or scale is not None:
            raise ValueError(
                "The 'input_center' and 'input_scale' parameters need an input "
                "transform; got them with input_transform='none'."
            )
        return None
    if center is None or scale is None:
        raise ValueError(
            f"input_transform={kind!r} needs 'input_center' and 'input_scale' "
            "computed on the training data (InputScaler(kind).fit(X_train))."
        )
    if np.shape(center) != (n_features,):
        raise ValueError(
            f"The 'input_center' parameter must have shape ({n_features},), one "
            f"value per feature. Got shape {np.shape(center)} instead."
        )
    return InputTransform(center, scale, smooth_clip=kind == "robust_smooth_clip")


def _ensemble_layers(
    n_inputs: int,
    n_outputs: int,
    hidden_layer_sizes: Sequence[int],
    activation: str,
    dropout: float,
    k: int,
    chunks: list[int] | None,
) -> list[nn.Module]:
    # TabM's initialisation (tabm.make_tabm_backbone with arch_type="tabm"):
    # only the very first per-member input scaling is random ("random-signs"
    # on raw features, "normal" per feature chunk after embeddings); every
    # other scaling starts at one, so members differ through that first
    # scaling and their independent heads. make_tabm_backbone itself needs
    # equal widths, hence the layers are assembled here.
    first_init = "random-signs" if chunks is None else "normal"
    layers: list[nn.Module] = [tabm.EnsembleView(k=k)]
    width = n_inputs
    for index, size in enumerate(hidden_layer_sizes):
        layers.append(
            tabm.LinearBatchEnsemble(
                width,
                size,
                k=k,
                scaling_init=(first_init, "ones") if index == 0 else "ones",
                first_scaling_init_chunks=chunks if index == 0 else None,
            )
        )
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(tabm.LinearEnsemble(width, n_outputs, k=k))
    return layers


def _check_architecture(
    n_features: int,
    n_outputs: int,
    hidden_layer_sizes: Sequence[int],
    activation: str,
    dropout: float,
    k: int,
) -> list[int]:
    for name, value in (("n_features", n_features), ("n_outputs", n_outputs)):
        if not _is_int(value) or value < 1:
            raise ValueError(
                f"The '{name}' parameter of TabularMLP must be an int >= 1. "
                f"Got {value!r} instead."
            )
    try:
        hidden = [int(size) for size in hidden_layer_sizes]
    except (TypeError, ValueError):
        hidden = None
    if hidden is None or any(
        not _is_int(size) or size < 1 for size in hidden_layer_sizes
    ):
        raise ValueError(
            "The 'hidden_layer_sizes' parameter of TabularMLP must be a sequence "
            f"of ints >= 1. Got {hidden_layer_sizes!r} instead."
        )
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"The 'activation' parameter of TabularMLP must be one of "
            f"{sorted(ACTIVATIONS)}. Got {activation!r} instead."
        )
    if not (isinstance(dropout, int | float) and 0 <= dropout < 1):
        raise ValueError(
            "The 'dropout' parameter of TabularMLP must be a float in [0, 1). "
            f"Got {dropout!r} instead."
        )
    if not _is_int(k) or k < 1:
        raise ValueError(
            f"The 'k' parameter of TabularMLP must be an int >= 1. Got {k!r} instead."
        )
    return hidden


def no_weight_decay(module: nn.Module) -> list[str]:
    """Names of the parameters that recipes keep out of weight decay.

    TabM's training code (``default_zero_weight_decay_condition``) exempts
    biases, normalisation layers, linear embeddings and the periodic
    frequencies; RealMLP also exempts biases (``bias_wd_factor=0``). The
    front feature scale (``tabm.ElementwiseAffine``) is exempt here too: it
    is a per-feature normalisation, and decaying it shrinks inputs to zero.

    Parameters
    ----------
    module : torch.nn.Module
        Any network; the rule only looks at parameter and module types.

    Returns
    -------
    list of str
        Full parameter names as in ``module.named_parameters()``.

    Examples
    --------
    >>> from skfocal._backbone import TabularMLP, no_weight_decay
    >>> no_weight_decay(TabularMLP(4, 1, (8,)))
    ['layers.0.bias', 'layers.2.bias']
    """
    exempt_types = (
        nn.LayerNorm,
        nn.BatchNorm1d,
        tabm.ElementwiseAffine,
        rtdl_num_embeddings.LinearEmbeddings,
    )
    exempt: set[int] = set()
    for sub in module.modules():
        if isinstance(sub, exempt_types):
            exempt.update(id(p) for p in sub.parameters())
        if isinstance(sub, rtdl_num_embeddings.PeriodicEmbeddings):
            exempt.update(id(p) for p in sub.periodic.parameters())
    return [
        name
        for name, parameter in module.named_parameters()
        if name.rsplit(".", 1)[-1] == "bias" or id(parameter) in exempt
    ]


def parameter_groups(module: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Optimizer parameter groups: decayed weights, and the exempt rest.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    weight_decay : float
        Weight decay of the decayed group; the other group gets 0.

    Returns
    -------
    list of dict
        ``[{"params": [...], "weight_decay": weight_decay}, {"params": [...],
        "weight_decay": 0.0}]`` without empty groups, ready for any
        ``torch.optim`` optimizer. (With skorch, the same split is
        ``optimizer__param_groups=[(name, {"weight_decay": 0.0}) for name in
        no_weight_decay(module)]``.)

    Examples
    --------
    >>> import torch
    >>> from skfocal._backbone import TabularMLP, parameter_groups
    >>> groups = parameter_groups(TabularMLP(4, 1, (8,)), weight_decay=0.01)
    >>> [len(group["params"]) for group in groups]
    [2, 2]
    >>> optimizer = torch.optim.AdamW(groups, lr=1e-3)
    """
    exempt = set(no_weight_decay(module))
    decayed, kept = [], []
    for name, parameter in module.named_parameters():
        if parameter.requires_grad:
            (kept if name in exempt else decayed).append(parameter)
    groups = [
        {"params": decayed, "weight_decay": float(weight_decay)},
        {"params": kept, "weight_decay": 0.0},
    ]
    return [group for group in groups if group["params"]]

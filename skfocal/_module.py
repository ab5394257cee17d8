"""The multi-layer perceptron behind every skfocal estimator (torch only)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


def dense_layers(
    n_inputs: int,
    n_outputs: int,
    hidden_layer_sizes: Sequence[int],
    activation: str,
    dropout: float,
) -> list[nn.Module]:
    """Layers of a fully connected network: ``Linear``, activation, dropout.

    The one place that fixes the order in which the layers (and hence their
    random initial weights) are created, so that every network built from it
    with the same seed starts from the same weights.

    Parameters
    ----------
    n_inputs : int
        Width of the input.
    n_outputs : int
        Width of the last ``Linear`` layer (the logits).
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; empty for a linear model.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}
        Non-linearity after each hidden layer.
    dropout : float
        Dropout probability after each hidden activation; no ``Dropout``
        layer when 0.

    Returns
    -------
    list of torch.nn.Module
        The layers, ready for ``torch.nn.Sequential``.

    Examples
    --------
    >>> from skfocal._module import dense_layers
    >>> [type(m).__name__ for m in dense_layers(4, 1, (8,), "relu", 0.1)]
    ['Linear', 'ReLU', 'Dropout', 'Linear']
    """
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden_layer_sizes:
        layers.append(nn.Linear(width, int(size)))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(size)
    layers.append(nn.Linear(width, n_outputs))
    return layers


class MLP(nn.Module):
    """Fully connected network that returns logits.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_outputs : int
        Number of logits: 1 for a binary problem (sigmoid), ``C`` otherwise.
    hidden_layer_sizes : sequence of int, default=(64, 64)
        Width of each hidden layer; empty for a linear model.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> from skfocal._module import MLP
    >>> MLP(n_features=4, n_outputs=1)(torch.zeros(3, 4)).shape
    torch.Size([3])
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers = dense_layers(
            n_features, n_outputs, hidden_layer_sizes, activation, dropout
        )
        self.layers = nn.Sequential(*layers)
        self.n_outputs = n_outputs
        # One member: the contract shared with the ensemble backbone
        # (``skfocal._backbone.TabularMLP``), whose logits gain a member axis
        # when ``n_members > 1``.
        self.n_members = 1

    def forward(self, X: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        # sample_weight travels with the batch for the loss; the network
        # ignores it (skorch passes every entry of a dict batch as keyword).
        logits = self.layers(X)
        return logits.squeeze(1) if self.n_outputs == 1 else logits


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run a block with ``n_threads`` torch CPU threads, then restore.

    ``None`` leaves torch's setting alone.
    """
    previous = torch.get_num_threads()
    if n_threads is None or n_threads == previous:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

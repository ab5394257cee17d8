"""The networks: MLP, the tabular backbone, its embeddings and helpers."""

from __future__ import annotations

import itertools
import pickle
import warnings

import numpy as np
import pytest
import torch

from skfocal._backbone import TabularMLP, no_weight_decay, parameter_groups
from skfocal._embeddings import NumericEmbedding, compute_piecewise_bins
from skfocal._module import MLP, dense_layers

N_FEATURES = 5


@pytest.fixture
def inputs() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(32, N_FEATURES, generator=generator)


@pytest.fixture
def bins(inputs) -> list[torch.Tensor]:
    return compute_piecewise_bins(inputs, n_bins=6)


def _build(embedding: str, bins, **kwargs) -> TabularMLP:
    extra = {"bins": bins} if embedding == "piecewise_linear" else {}
    return TabularMLP(N_FEATURES, embedding=embedding, **extra, **kwargs)


SWITCHES = list(
    itertools.product(
        [1, 4],  # k
        [1, 3],  # n_outputs
        ["none", "periodic", "piecewise_linear"],
        [False, True],  # feature_scaling
    )
)


# --------------------------------------------------------------------------
# contract


def test_mlp_has_one_member(inputs):
    model = MLP(N_FEATURES, 1)
    assert model.n_members == 1
    assert model(inputs).shape == (32,)
    assert MLP(N_FEATURES, 3)(inputs).shape == (32, 3)


@pytest.mark.parametrize(("k", "n_outputs", "embedding", "scaling"), SWITCHES)
def test_output_shape_contract(inputs, bins, k, n_outputs, embedding, scaling):
    model = _build(embedding, bins, n_outputs=n_outputs, k=k, feature_scaling=scaling)
    expected = (32,) if k == 1 else (32, k)
    if n_outputs > 1:
        expected = (*expected, n_outputs)
    assert model.n_members == k
    assert model(inputs).shape == expected
    # sample_weight travels with the batch and changes nothing.
    weights = torch.rand(32)
    torch.testing.assert_close(model(inputs, sample_weight=weights), model(inputs))


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_plain_configuration_is_todays_mlp(inputs, n_outputs, dropout):
    torch.manual_seed(7)
    reference = MLP(N_FEATURES, n_outputs, (16, 8), "tanh", dropout)
    torch.manual_seed(7)
    backbone = TabularMLP(N_FEATURES, n_outputs, (16, 8), "tanh", dropout)
    reference_state, backbone_state = reference.state_dict(), backbone.state_dict()
    assert list(reference_state) == list(backbone_state)
    for name, value in reference_state.items():
        torch.testing.assert_close(backbone_state[name], value, rtol=0, atol=0)
    # Same dropout masks too, in training mode, from the same seed.
    torch.manual_seed(3)
    expected = reference(inputs)
    torch.manual_seed(3)
    torch.testing.assert_close(backbone(inputs), expected, rtol=0, atol=0)


@pytest.mark.parametrize("embedding", ["none", "periodic", "piecewise_linear"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_members_differ(inputs, bins, embedding, n_outputs):
    torch.manual_seed(0)
    model = _build(embedding, bins, n_outputs=n_outputs, k=4).eval()
    with torch.no_grad():
        logits = model(inputs)
    for first, second in itertools.combinations(range(4), 2):
        gap = (logits[:, first] - logits[:, second]).abs().max()
        assert gap > 1e-3, (first, second)


@pytest.mark.parametrize(("k", "n_outputs", "embedding", "scaling"), SWITCHES)
def test_gradients_reach_every_parameter(
    inputs, bins, k, n_outputs, embedding, scaling
):
    torch.manual_seed(0)
    model = _build(embedding, bins, n_outputs=n_outputs, k=k, feature_scaling=scaling)
    model(inputs).square().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_seeded_builds_are_identical(inputs, bins):
    outputs = []
    for _ in range(2):
        torch.manual_seed(11)
        model = _build("piecewise_linear", bins, n_outputs=1, k=4, dropout=0.1)
        outputs.append(model.eval()(inputs))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_pickle_round_trip(inputs, bins):
    model = _build("piecewise_linear", bins, n_outputs=3, k=4).eval()
    restored = pickle.loads(pickle.dumps(model))
    torch.testing.assert_close(restored(inputs), model(inputs))


# --------------------------------------------------------------------------
# mathematics against independent numpy computations


def _randomise(model: torch.nn.Module, seed: int = 0) -> None:
    """Move every parameter off its initial value (zeros, ones, shared)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))


def _numpy_relu_mlp(x, weights, biases):
    for index, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        x = x @ weight + bias
        if index < len(weights) - 1:
            x = np.maximum(x, 0.0)
    return x


def test_ensemble_members_are_batchensemble_mlps(inputs):
    """Member j computes relu(((x * r_j) W^T) * s_j + b_j) ..., then its head."""
    model = TabularMLP(N_FEATURES, 2, (6, 4), k=3)
    _randomise(model)
    with torch.no_grad():
        logits = model.eval()(inputs).numpy()
    x = inputs.numpy().astype(np.float64)
    hidden = [model.layers[1], model.layers[3]]
    head = model.layers[5]
    for member in range(3):
        h = x
        for layer in hidden:
            r = layer.r.detach().numpy()[member]
            s = layer.s.detach().numpy()[member]
            weight = layer.weight.detach().numpy()
            bias = layer.bias.detach().numpy()[member]
            h = np.maximum((h * r) @ weight.T * s + bias, 0.0)
        expected = (
            h @ head.weight.detach().numpy()[member]
            + head.bias.detach().numpy()[member]
        )
        np.testing.assert_allclose(logits[:, member], expected, rtol=1e-4, atol=1e-5)


def test_feature_scale_multiplies_inputs(inputs):
    torch.manual_seed(0)
    model = TabularMLP(N_FEATURES, 1, (8,), feature_scaling=True)
    _randomise(model)
    scale = model.feature_scale.weight.detach().numpy()
    x = inputs.numpy().astype(np.float64) * scale
    dense = [model.layers[0], model.layers[2]]
    expected = _numpy_relu_mlp(
        x,
        [layer.weight.detach().numpy().T for layer in dense],
        [layer.bias.detach().numpy() for layer in dense],
    )[:, 0]
    with torch.no_grad():
        got = model(inputs).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_periodic_embedding_formula(inputs):
    """cos/sin of 2 pi f x, a per-feature linear map, then the raw value."""
    embedding = NumericEmbedding("periodic", N_FEATURES, embedding_dim=4)
    _randomise(embedding)
    frequencies = embedding.embedding.periodic.weight.detach().numpy()
    weight = embedding.embedding.linear.weight.detach().numpy()  # (F, 2m, 3)
    bias = embedding.embedding.linear.bias.detach().numpy()  # (F, 3)
    x = inputs.numpy().astype(np.float64)
    expected = np.empty((len(x), N_FEATURES, 4))
    for feature in range(N_FEATURES):
        angle = 2 * np.pi * np.outer(x[:, feature], frequencies[feature])
        periodic = np.hstack([np.cos(angle), np.sin(angle)])
        expected[:, feature, :3] = periodic @ weight[feature] + bias[feature]
        expected[:, feature, 3] = x[:, feature]
    with torch.no_grad():
        got = embedding(inputs).numpy()
    np.testing.assert_allclose(got, expected.reshape(len(x), -1), rtol=1e-4, atol=1e-5)


def test_embedded_features_pass_the_others_through(inputs):
    """Only the listed columns are embedded; the rest follow them raw."""
    model = TabularMLP(
        N_FEATURES, 1, (8,), embedding="periodic", embedded_features=[3, 0]
    )
    _randomise(model)
    assert model.layers[0].in_features == 2 * 4 + 3
    with torch.no_grad():
        embedded = model.embedding(inputs[:, [0, 3]]).numpy().astype(np.float64)
        got = model(inputs).numpy()
    x = np.hstack([embedded, inputs.numpy()[:, [1, 2, 4]].astype(np.float64)])
    dense = [model.layers[0], model.layers[2]]
    expected = _numpy_relu_mlp(
        x,
        [layer.weight.detach().numpy().T for layer in dense],
        [layer.bias.detach().numpy() for layer in dense],
    )[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_no_embedded_feature_is_the_plain_width(inputs):
    model = TabularMLP(N_FEATURES, 1, (8,), embedding="periodic", embedded_features=[])
    assert model.embedding is None
    assert model.layers[0].in_features == N_FEATURES
    assert model(inputs).shape == (32,)


@pytest.mark.parametrize("indices", [[0, 0], [N_FEATURES], [-1], [1.5], ["a"]])
def test_embedded_features_must_be_distinct_valid_indices(indices):
    with pytest.raises(ValueError, match=r"'embedded_features' .* distinct feature"):
        TabularMLP(N_FEATURES, 1, embedding="periodic", embedded_features=indices)


def test_embedded_features_need_an_embedding():
    with pytest.raises(ValueError, match=r"'embedded_features' parameter needs an"):
        TabularMLP(N_FEATURES, 1, embedded_features=[0])


def _piecewise_linear_encoding(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Gorishniy et al. (2022), eq. 1: 1 for passed bins, a ramp, then 0.

    The first component is not clipped below and the last is not clipped
    above, so values outside the training range extrapolate linearly.
    """
    n_bins = len(edges) - 1
    ramp = (column[:, None] - edges[None, :-1]) / np.diff(edges)[None, :]
    encoded = np.clip(ramp, 0.0, 1.0)
    encoded[:, 0] = np.minimum(ramp[:, 0], 1.0)
    encoded[:, n_bins - 1] = np.maximum(ramp[:, n_bins - 1], 0.0)
    return encoded


def test_piecewise_linear_embedding_formula(inputs, bins):
    """Version B: a linear embedding plus a linear map of the encoding."""
    assert len({len(edges) for edges in bins}) == 1  # no padding in this layout
    embedding = NumericEmbedding(
        "piecewise_linear", N_FEATURES, embedding_dim=3, bins=bins
    )
    _randomise(embedding)
    module = embedding.embedding
    x = 1.5 * inputs.numpy().astype(np.float64)  # some values beyond the bins
    expected = np.empty((len(x), N_FEATURES, 3))
    for feature in range(N_FEATURES):
        encoded = _piecewise_linear_encoding(
            x[:, feature], bins[feature].numpy().astype(np.float64)
        )
        linear = (
            x[:, feature, None] * module.linear0.weight.detach().numpy()[feature]
            + module.linear0.bias.detach().numpy()[feature]
        )
        expected[:, feature] = (
            linear + encoded @ module.linear.weight.detach().numpy()[feature]
        )
    with torch.no_grad():
        got = embedding(1.5 * inputs).numpy()
    np.testing.assert_allclose(got, expected.reshape(len(x), -1), rtol=1e-4, atol=1e-4)


def test_piecewise_bins_are_training_quantiles():
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.exponential(size=500),
            np.full(500, 4.0),  # constant
            (rng.random(500) < 0.2).astype(float),  # binary
            rng.integers(0, 3, size=500).astype(float),  # three values
        ]
    )
    bins = compute_piecewise_bins(X, n_bins=10)
    expected = np.unique(np.quantile(X[:, 0].astype(np.float32), np.linspace(0, 1, 11)))
    np.testing.assert_allclose(bins[0].numpy(), expected, rtol=1e-5)
    np.testing.assert_array_equal(bins[1].numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(bins[2].numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(bins[3].numpy(), [0.0, 1.0, 2.0])
    assert all(edges.dtype == torch.float32 for edges in bins)


def test_piecewise_bins_small_and_subsampled_tables():
    assert len(compute_piecewise_bins(np.arange(5.0)[:, None], n_bins=48)[0]) == 5
    X = np.random.default_rng(0).normal(size=(5000, 2))
    edges = compute_piecewise_bins(X, n_bins=4, max_rows=1000)
    assert [len(e) for e in edges] == [5, 5]
    # The quartiles of a 1000-row subsample are close to the full table's.
    np.testing.assert_allclose(
        edges[0][1:-1].numpy(), np.quantile(X[:, 0], [0.25, 0.5, 0.75]), atol=0.1
    )


def test_one_bin_features_do_not_warn():
    """Binary columns have one bin; rtdl_num_embeddings would warn per column."""
    X = np.column_stack([np.tile([0.0, 1.0], 10), np.arange(20.0), np.ones(20)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bins = compute_piecewise_bins(X, n_bins=4)
        embedding = NumericEmbedding("piecewise_linear", 3, bins=bins)
    encoded = embedding(torch.from_numpy(X).float())
    assert encoded.shape == (20, 3 * 16)
    assert torch.isfinite(encoded).all()


def test_piecewise_bins_reject_bad_input():
    with pytest.raises(ValueError, match="finite"):
        compute_piecewise_bins(np.array([[0.0], [np.nan], [1.0]]))
    with pytest.raises(ValueError, match="at least 2 rows"):
        compute_piecewise_bins(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="'n_bins' parameter must be an int >= 2"):
        compute_piecewise_bins(np.zeros((4, 3)), n_bins=1)


# --------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"embedding": "fourier"}, r"'embedding' parameter .* Got 'fourier'"),
        ({"k": 0}, r"'k' parameter .* int >= 1. Got 0"),
        ({"k": 2.0}, r"'k' parameter .* int >= 1. Got 2.0"),
        ({"activation": "swish"}, r"'activation' parameter .* Got 'swish'"),
        ({"dropout": 1.0}, r"'dropout' parameter .* \[0, 1\). Got 1.0"),
        ({"hidden_layer_sizes": (8, 0)}, r"'hidden_layer_sizes' .* Got \(8, 0\)"),
        ({"hidden_layer_sizes": 8}, r"'hidden_layer_sizes' .* Got 8"),
        ({"feature_scaling": "yes"}, r"'feature_scaling' .* bool. Got 'yes'"),
        ({"embedding_dim": 4}, r"'embedding_dim' parameters need an embedding"),
        (
            {"embedding": "periodic", "embedding_dim": 1},
            r"'embedding_dim' parameter must be an int >= 2 .* Got 1",
        ),
        ({"embedding": "periodic", "sigma": 0}, r"'sigma' parameter .* Got 0"),
        ({"embedding": "piecewise_linear"}, r"needs bins computed on the training"),
        (
            {"embedding": "piecewise_linear", "bins": [torch.arange(3.0)]},
            r"list of 5 tensors .* Got 1 instead",
        ),
        (
            {"embedding": "periodic", "bins": [torch.arange(3.0)] * 5},
            r"only for 'piecewise_linear'",
        ),
    ],
)
def test_bad_switch_values_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TabularMLP(N_FEATURES, 1, **kwargs)


# --------------------------------------------------------------------------
# helpers


def test_dense_layers_order():
    layers = dense_layers(3, 2, (4, 5), "gelu", 0.2)
    names = [type(layer).__name__ for layer in layers]
    assert names == ["Linear", "GELU", "Dropout"] * 2 + ["Linear"]
    assert [layers[i].out_features for i in (0, 3, 6)] == [4, 5, 2]


def test_weight_decay_split(bins):
    model = _build(
        "periodic",
        bins,
        n_outputs=1,
        k=4,
        feature_scaling=True,
        hidden_layer_sizes=(8,),
    )
    exempt = set(no_weight_decay(model))
    assert exempt == {
        "embedding.embedding.periodic.weight",
        "embedding.embedding.linear.bias",
        "feature_scale.weight",
        "layers.1.bias",
        "layers.3.bias",
    }
    groups = parameter_groups(model, weight_decay=0.02)
    assert [group["weight_decay"] for group in groups] == [0.02, 0.0]
    grouped = [id(p) for group in groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())
    named = dict(model.named_parameters())
    assert {id(named[name]) for name in exempt} == {id(p) for p in groups[1]["params"]}
    # The linear embedding of piecewise-linear embeddings is exempt as well.
    ple = _build("piecewise_linear", bins, n_outputs=1, hidden_layer_sizes=(8,))
    assert "embedding.embedding.linear0.weight" in no_weight_decay(ple)
    assert "embedding.embedding.linear.weight" not in no_weight_decay(ple)


@pytest.mark.cuda
def test_backbone_on_cuda(inputs, bins):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    torch.manual_seed(0)
    model = _build("piecewise_linear", bins, n_outputs=3, k=4, feature_scaling=True)
    expected = model.eval()(inputs)
    model = model.to("cuda")
    got = model(inputs.to("cuda"))
    torch.testing.assert_close(got.cpu(), expected, rtol=1e-4, atol=1e-4)
    model.train()(inputs.to("cuda")).mean().backward()
    assert all(p.grad is not None for p in model.parameters())

"""The skorch training layer (skfocal._net) and the modules it drives."""

import doctest
import inspect
import io

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping, ProgressBar

import skfocal._checks
import skfocal._data
import skfocal._ensemble
import skfocal._estimator_docs
import skfocal._inference
import skfocal._loss_specs
import skfocal._net
from skfocal import FocalClassifier, GHMClassifier
from skfocal._data import SparseRows, TabularDataset
from skfocal._net import TabularNet, check_callbacks, console_sink


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=300, n_features=5, random_state=0)


# --------------------------------------------------------------------------
# What the layer relies on in skorch: fails loudly when skorch changes
# --------------------------------------------------------------------------
def test_private_override_still_matches_skorch():
    # TabularNet._set_training is the one private override (measured 5-7%
    # per epoch). If skorch renames it or changes its signature, the override
    # would silently stop applying or break: this test says so first.
    signature = inspect.signature(NeuralNet._set_training)
    assert list(signature.parameters) == ["self", "training"]
    assert signature.parameters["training"].default is True
    for step in ("train_step_single", "validation_step", "evaluation_step"):
        assert "self._set_training(" in inspect.getsource(getattr(NeuralNet, step))


def test_default_callbacks_disabled_by_name_still_exist():
    names = [
        name for name, _ in NeuralNetClassifier(torch.nn.Linear).get_default_callbacks()
    ]
    assert {"valid_acc", "print_log", "train_loss", "valid_loss"} <= set(names)


def test_valid_acc_is_off_and_print_log_only_when_verbose(data):
    X, y = data
    quiet = FocalClassifier(max_epochs=1, random_state=0).fit(X, y)
    names = dict(quiet.net_.callbacks_)
    assert "valid_acc" not in names
    assert "print_log" not in names
    loud = FocalClassifier(max_epochs=1, verbose=1, random_state=0).fit(X, y)
    assert "print_log" in dict(loud.net_.callbacks_)


# --------------------------------------------------------------------------
# Training outcome
# --------------------------------------------------------------------------
def test_outcome_of_a_full_fit(data):
    X, y = data
    clf = FocalClassifier(max_epochs=3, random_state=0).fit(X, y)
    outcome = clf._training_outcome
    assert (outcome.epochs_requested, outcome.epochs_run) == (3, 3)
    assert not outcome.stopped_early
    assert not outcome.interrupted
    assert outcome.completed


def test_outcome_names_the_early_stopping_callback(data):
    X, y = data
    # A huge relative threshold: no epoch ever counts as an improvement.
    stopper = EarlyStopping(monitor="train_loss", patience=2, threshold=0.9)
    clf = FocalClassifier(
        max_epochs=50, random_state=0, callbacks=[("mine", stopper)]
    ).fit(X, y)
    outcome = clf._training_outcome
    assert outcome.stopped_early
    assert outcome.stopped_by == "mine"
    assert not outcome.interrupted
    assert outcome.epochs_run == clf.n_iter_ == 3


def test_outcome_of_an_interruption_mid_epoch(data):
    X, y = data

    class CtrlCInSecondEpoch(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            if training and len(net.history) == 2:
                raise KeyboardInterrupt

    clf = FocalClassifier(max_epochs=5, batch_size=50, callbacks=[CtrlCInSecondEpoch])
    with pytest.raises(KeyboardInterrupt, match=r"interrupted after 1 of 5 epochs"):
        clf.fit(X, y)
    assert clf._training_outcome.interrupted
    assert not clf._training_outcome.stopped_early
    # The validation split is dropped even when training is interrupted.
    assert clf.net_.train_split is None


# --------------------------------------------------------------------------
# Validation loss, callbacks, output
# --------------------------------------------------------------------------
def test_validation_loss_runs_unchecked_through_one_module(data):
    X, y = data
    calls = []

    class CountValidationCalls(Callback):
        def on_train_begin(self, net, **kwargs):
            net.validation_criterion_.register_forward_hook(
                lambda *args: calls.append(1)
            )

    clf = GHMClassifier(
        early_stopping=True,
        max_epochs=4,
        batch_size=10,
        random_state=0,
        callbacks=[CountValidationCalls()],
    ).fit(X, y)
    criterion = clf.net_.validation_criterion_
    assert criterion.check_targets is False
    assert not clf.net_.criterion_.check_targets
    # 30 validation rows in batches of 10, four epochs.
    assert len(calls) == 4 * 3


def test_check_callbacks_names_the_bad_item():
    check_callbacks([EarlyStopping(), ("named", ProgressBar), ProgressBar], "X")
    with pytest.raises(
        ValueError, match=r"'callbacks' parameter of X .* item 1 is 'x'"
    ):
        check_callbacks([ProgressBar(), "x"], "X")
    with pytest.raises(ValueError, match=r"item 0 is \('name', 3\) \(tuple\)"):
        check_callbacks([("name", 3)], "X")


def test_console_sink_strips_colour_unless_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    coloured = "\x1b[32m0.5000\x1b[0m"
    log = io.StringIO()
    monkeypatch.setattr("sys.stdout", log)
    console_sink(coloured)
    assert log.getvalue() == "0.5000\n"
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    console_sink(coloured)
    assert terminal.getvalue() == coloured + "\n"


def test_progress_bar_counts_every_batch(data):
    X, y = data
    counts = []

    class RecordingBar(ProgressBar):
        def on_epoch_end(self, net, **kwargs):
            counts.append((self.pbar_.n, self.pbar_.total))
            super().on_epoch_end(net, **kwargs)

    # calibration="prior": every row trains (no temperature split).
    FocalClassifier(
        max_epochs=2,
        batch_size=100,
        random_state=0,
        callbacks=[RecordingBar()],
        calibration="prior",
    ).fit(X, y)
    assert counts == [(3, 3), (3, 3)]


# --------------------------------------------------------------------------
# The epoch loop: TabularNet.run_single_epoch against skorch's own
# --------------------------------------------------------------------------
class _HookLog(Callback):
    """Every batch hook call: (hook, training, rows, step keys)."""

    def initialize(self):
        self.calls = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.calls.append(("begin", training, len(batch[1]), sorted(kwargs)))

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        self.calls.append(("end", training, len(batch[1]), sorted(kwargs)))

    def on_grad_computed(
        self, net, named_parameters, batch=None, training=False, **kwargs
    ):
        # Every learnable parameter, its gradient of this batch present.
        names = [name for name, param in named_parameters if param.grad is not None]
        self.calls.append(("grad", training, len(batch[1]), names))


def _fit_logged(X, y, sample_weight=None):
    clf = FocalClassifier(
        max_epochs=2,
        batch_size=64,
        early_stopping=True,
        random_state=0,
        callbacks=[("hook_log", _HookLog())],
    ).fit(X, y, sample_weight=sample_weight)
    epochs = [
        {key: value for key, value in row.items() if key != "dur"}
        for row in clf.net_.history
    ]
    # The estimator trains a copy of its callbacks: read the net's.
    return epochs, dict(clf.net_.callbacks_)["hook_log"].calls


@pytest.mark.parametrize("weighted", [False, True])
def test_epoch_loop_matches_skorchs(data, monkeypatch, weighted):
    # The overrides (epoch loop and train step) must record the same
    # history, losses included, and call the same hooks with the same
    # arguments as the skorch they replace: if skorch changes, this fails.
    X, y = data
    weights = np.linspace(0.5, 2.0, len(y)) if weighted else None
    ours = _fit_logged(X, y, weights)
    monkeypatch.setattr(TabularNet, "run_single_epoch", NeuralNet.run_single_epoch)
    monkeypatch.setattr(TabularNet, "train_step", NeuralNet.train_step)
    skorchs = _fit_logged(X, y, weights)
    assert ours == skorchs
    epochs, calls = ours
    assert [len(row["batches"]) for row in epochs] == [
        epochs[0]["train_batch_count"] + epochs[0]["valid_batch_count"]
    ] * 2
    assert ("end", True, 64, ["loss", "y_pred"]) in calls
    grads = [call for call in calls if call[0] == "grad"]
    assert len(grads) == sum(row["train_batch_count"] for row in epochs)
    assert all(call[1] is True and len(call[3]) >= 6 for call in grads)


def test_epoch_loop_calls_an_overridden_net_hook_once_per_batch(data, monkeypatch):
    X, y = data
    begun = []

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        begun.append(training)
        NeuralNet.on_batch_begin(self, net, batch=batch, training=training)

    monkeypatch.setattr(TabularNet, "on_batch_begin", on_batch_begin)
    history = (
        FocalClassifier(
            max_epochs=1, batch_size=100, random_state=0, calibration="prior"
        )
        .fit(X, y)
        .net_.history
    )
    assert begun == [True, True, True]
    assert len(history[-1]["batches"]) == 3
    assert all("train_loss" in row for row in history[-1]["batches"])


def test_epoch_loop_calls_the_nets_own_end_and_grad_hooks(data, monkeypatch):
    X, y = data
    seen = []

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        seen.append(("end", training))

    def on_grad_computed(self, net, named_parameters, batch=None, **kwargs):
        seen.append(("grad", len(list(named_parameters)) > 0))

    monkeypatch.setattr(TabularNet, "on_batch_end", on_batch_end)
    monkeypatch.setattr(TabularNet, "on_grad_computed", on_grad_computed)
    net = (
        FocalClassifier(
            max_epochs=1, batch_size=100, random_state=0, calibration="prior"
        )
        .fit(X, y)
        .net_
    )
    assert seen == [("grad", True), ("end", True)] * 3
    # The epoch's hook list does not outlive it, nor reach get_params.
    assert "_grad_hooks_" not in vars(net)
    assert not any("grad_hooks" in name for name in net.get_params())


def test_train_step_outside_the_epoch_loop_notifies_every_callback(data):
    X, y = data
    clf = FocalClassifier(
        max_epochs=1, random_state=0, callbacks=[("hook_log", _HookLog())]
    ).fit(X, y)
    net = clf.net_
    log = dict(net.callbacks_)["hook_log"]
    log.calls.clear()
    batch = next(iter(net.get_iterator(net.get_dataset(X[:32], y[:32]), True)))
    net.train_step(batch)
    assert [call[:3] for call in log.calls] == [("grad", True, 32)]


def test_interrupted_epoch_leaves_no_hook_list(data):
    X, y = data

    class StopAtSecondBatch(Callback):
        def initialize(self):
            self.batches = 0
            return self

        def on_batch_end(self, net, **kwargs):
            self.batches += 1
            if self.batches == 2:
                raise KeyboardInterrupt

    clf = FocalClassifier(
        max_epochs=3,
        batch_size=64,
        random_state=0,
        callbacks=[("stop", StopAtSecondBatch())],
    )
    with pytest.raises(KeyboardInterrupt, match="interrupted after 0 of 3 epochs"):
        clf.fit(X, y)
    assert "_grad_hooks_" not in vars(clf.net_)
    # The two batches trained are kept; the unfinished epoch is not counted.
    assert clf.n_iter_ == 0
    assert clf.loss_curve_ == []
    assert np.isfinite(clf.predict_proba(X)).all()


def test_custom_notify_gets_skorchs_loop(data, monkeypatch):
    # A net that overrides notify sees every batch event, as in skorch.
    X, y = data
    events = []

    def notify(self, method_name, **kwargs):
        events.append(method_name)
        NeuralNet.notify(self, method_name, **kwargs)

    monkeypatch.setattr(TabularNet, "notify", notify)
    FocalClassifier(
        max_epochs=1, batch_size=100, random_state=0, calibration="prior"
    ).fit(X, y)
    assert events.count("on_batch_begin") == 3
    assert events.count("on_grad_computed") == 3


# --------------------------------------------------------------------------
# Data: sparse rows
# --------------------------------------------------------------------------
def test_sparse_rows_match_scipy():
    rng = np.random.RandomState(0)
    matrix = sp.random(40, 7, density=0.2, format="csc", random_state=rng)
    # A duplicate entry, as COO input may carry: it must add up.
    matrix = (
        matrix + sp.coo_matrix(([1.5, 2.0], ([3, 3], [2, 2])), shape=(40, 7))
    ).tocoo()
    rows = SparseRows.from_scipy(matrix, "cpu")
    dense = matrix.toarray().astype(np.float32)
    index = torch.tensor([5, 3, 3, 39, 0])
    np.testing.assert_array_equal(rows.dense(index).numpy(), dense[index.numpy()])
    subset = rows.subset(index)
    assert subset.shape == (5, 7)
    np.testing.assert_array_equal(
        subset.dense(torch.arange(5)).numpy(), dense[index.numpy()]
    )
    data = TabularDataset(rows, torch.arange(40), None)
    np.testing.assert_array_equal(data.batch(slice(10, 14))[0].numpy(), dense[10:14])
    np.testing.assert_array_equal(data.batch(slice(38, 50))[0].numpy(), dense[38:])


def test_empty_sparse_rows():
    rows = SparseRows.from_scipy(sp.csr_matrix((3, 4)), "cpu")
    assert rows.dense(torch.tensor([2, 0])).abs().sum() == 0
    assert len(rows.subset(torch.tensor([1]))) == 1


def test_net_accepts_plain_arrays(data):
    X, y = data
    # calibration=None: the network's probabilities as trained, on every row.
    clf = FocalClassifier(max_epochs=1, random_state=0, calibration=None)
    clf.fit(X, y)
    assert isinstance(clf.net_, TabularNet)
    proba = clf.net_.predict_proba(X.astype(np.float32))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


# --------------------------------------------------------------------------
# Docstring examples of the estimator-layer modules
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "module",
    [
        skfocal._checks,
        skfocal._data,
        skfocal._ensemble,
        skfocal._estimator_docs,
        skfocal._inference,
        skfocal._loss_specs,
        skfocal._net,
    ],
    ids=lambda module: module.__name__,
)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

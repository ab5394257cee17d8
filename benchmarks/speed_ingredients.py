"""Per-epoch cost of each backbone ingredient, against a hand loop of the same net.

Used by ``bench_speed.py --ingredients``. Every row fits
``FocalClassifier(gamma=0)`` (binary cross-entropy, the loss of the hand
loop and of ``MLPClassifier``) with one backbone switch on (all else
as in the plain configuration: (64, 64) ReLU, batch 256, lr 1e-3, one torch
thread, no early stopping) and a hand-written torch loop that trains *the
same network*
(built from the same :mod:`skfocal._backbone` classes) with the plainest
code a user would write: tensors in memory, ``randperm`` + index slicing,
``BCEWithLogitsLoss`` averaged over ensemble members, ``Adam(fused=True)``.
What an ingredient needs from the data (input statistics, embedding bins) is
computed inside both timed fits. The ratio of the two is the overhead of
skfocal's integration of that ingredient (skorch's loop, the per-batch input
transform, parameter groups, callbacks); the target is at most 1.15x.

The ``plain`` row also times scikit-learn's ``MLPClassifier`` with the same
architecture and batch size: the plain-configuration comparison. The
``plain + focal loss`` row is the same with the focal loss
(``FocalClassifier``'s), whose extra arithmetic the hand loop does not do.

Each fit runs ``epochs`` epochs; the time per epoch is the whole fit's wall
time divided by ``epochs``. Methods of all rows run round-robin within every
repeat (interleaved), and medians over repeats are reported.
"""

from __future__ import annotations

import copy
import gc
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

HIDDEN = (64, 64)
LR = 1e-3

# name -> estimator parameters; the hand loop trains the same network.
INGREDIENTS: dict[str, dict] = {
    "plain": {},
    "plain + focal loss": {"gamma": 2.0},
    "input_transform=standard": {"input_transform": "standard"},
    "input_transform=robust_smooth_clip": {"input_transform": "robust_smooth_clip"},
    "embedding=periodic": {"embedding": "periodic"},
    "defaults: robust_smooth_clip + periodic": {
        "input_transform": "robust_smooth_clip",
        "embedding": "periodic",
    },
    "embedding=piecewise_linear": {"embedding": "piecewise_linear"},
    "feature_scaling=True": {"feature_scaling": True},
    "ensemble_size=8": {"ensemble_size": 8},
    "ensemble_size=32": {"ensemble_size": 32},
    "lr_schedule=cosine": {"lr_schedule": "cosine"},
    "lr_schedule=flat_cosine": {"lr_schedule": "flat_cosine"},
    "validation_metric=loss": {"early_stopping": True},
    "validation_metric=average_precision": {
        "early_stopping": True,
        "validation_metric": "average_precision",
    },
    # Several at once (the slowest two, piecewise-linear embeddings and 32
    # members, have rows of their own: together they take ~40 s an epoch).
    "combined: robust + periodic + scaling + k=8 + flat_cosine + AP": {
        "input_transform": "robust_smooth_clip",
        "embedding": "periodic",
        "feature_scaling": True,
        "ensemble_size": 8,
        "lr_schedule": "flat_cosine",
        "early_stopping": True,
        "validation_metric": "average_precision",
    },
}
VALIDATION_FRACTION = 0.1

# Extra configurations for the peak-memory subprocesses of bench_speed.py.
MEMORY_CONFIGS: dict[str, dict] = {
    "focal_default": {},
    "focal_robust": {"input_transform": "robust_smooth_clip"},
}


# ----------------------------------------------------------------------
# The two sides of a row
# ----------------------------------------------------------------------
def fit_estimator(params: dict, X, y, *, epochs: int, seed: int, batch_size: int):
    """``FocalClassifier(gamma=0)`` (cross-entropy), plain, plus ``params``."""
    from skfocal import FocalClassifier
    from skfocal._fit_backbone import PLAIN_BACKBONE

    options = {
        **PLAIN_BACKBONE,
        "gamma": 0.0,
        "hidden_layer_sizes": HIDDEN,
        "batch_size": batch_size,
        "max_epochs": epochs,
        "early_stopping": False,
        "random_state": seed,
        "device": "cpu",
        "n_threads": 1,
        # Early stopping must not end the timed epochs early.
        "n_iter_no_change": 10 * epochs,
        "validation_fraction": VALIDATION_FRACTION,
    }
    return FocalClassifier(**{**options, **params}).fit(X, y)


def fit_memory_config(name: str, X, y, *, device: str, batch_size, epochs, seed):
    """``FocalClassifier(**MEMORY_CONFIGS[name])``: defaults, few epochs."""
    from skfocal import FocalClassifier

    params = {"max_epochs": epochs, "random_state": seed, "device": device}
    return FocalClassifier(**params, **MEMORY_CONFIGS[name]).fit(X, y)


def _hand_network(params: dict, features: np.ndarray) -> nn.Module:
    """The network the estimator builds for ``params``, built by hand."""
    from skfocal._backbone import TabularMLP
    from skfocal._embeddings import compute_piecewise_bins
    from skfocal._module import MLP

    n_features = features.shape[1]
    switches = {
        "k": params.get("ensemble_size", 1),
        "feature_scaling": params.get("feature_scaling", False),
        "embedding": params.get("embedding", "none"),
    }
    if switches == {"k": 1, "feature_scaling": False, "embedding": "none"}:
        return MLP(n_features, 1, HIDDEN)
    if switches["embedding"] == "piecewise_linear":
        switches["bins"] = compute_piecewise_bins(features)
    return TabularMLP(n_features, 1, HIDDEN, **switches)


def _average_precision(model: nn.Module, features, target: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    model.eval()
    with torch.no_grad():
        probability = torch.sigmoid(model(features))
    model.train()
    if probability.ndim == 2:  # ensemble members: average the probabilities
        probability = probability.mean(dim=1)
    return float(average_precision_score(target, probability.numpy()))


def fit_hand(params: dict, X, y, *, epochs: int, seed: int, batch_size: int):
    """The same network and schedule in a plain torch loop.

    The input transform is applied to X once, up front (what a user would
    do); a validation split is scored once per epoch by the loss or by
    average precision, keeping the best weights, as early stopping does.
    """
    from sklearn.model_selection import train_test_split

    from skfocal._net import ScheduleFactor
    from skfocal._preprocessing import InputScaler

    torch.manual_seed(seed)
    X_valid = y_valid = None
    if params.get("early_stopping"):
        X, X_valid, y, y_valid = train_test_split(
            X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
        )
    kind = params.get("input_transform", "none")
    if kind != "none":
        scaler = InputScaler(kind).fit(X)
        X = scaler.transform(X)
        X_valid = None if X_valid is None else scaler.transform(X_valid)
    model = _hand_network(params, X)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    schedule = params.get("lr_schedule", "constant")
    scheduler = None
    if schedule != "constant":
        factor = ScheduleFactor(schedule, epochs)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    loss_fn = nn.BCEWithLogitsLoss()
    features = torch.from_numpy(X)
    target = torch.from_numpy(y.astype(np.float32))
    valid = None if X_valid is None else torch.from_numpy(X_valid)
    best_score, best_state = -np.inf, None
    for _ in range(epochs):
        order = torch.randperm(len(features))
        for start in range(0, len(features), batch_size):
            index = order[start : start + batch_size]
            logits = model(torch.index_select(features, 0, index))
            batch_target = target[index]
            if logits.ndim == 2:  # (B, k): the mean loss over members
                batch_target = batch_target.unsqueeze(1).expand_as(logits)
            loss = loss_fn(logits, batch_target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if valid is not None:
            if params.get("validation_metric") == "average_precision":
                score = _average_precision(model, valid, y_valid)
            else:
                with torch.no_grad():
                    logits = model(valid)
                    if logits.ndim == 2:
                        logits = logits.mean(dim=1)
                    score = -float(
                        loss_fn(logits, torch.from_numpy(y_valid.astype(np.float32)))
                    )
            if score > best_score:
                best_score = score
                best_state = copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return model


def fit_sklearn_plain(X, y, *, epochs: int, seed: int, batch_size: int):
    """``MLPClassifier`` of the same architecture for exactly ``epochs``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0,
        n_iter_no_change=1000,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


# ----------------------------------------------------------------------
# Timing and report
# ----------------------------------------------------------------------
def _runs(names: list[str]) -> dict[tuple[str, str], Callable]:
    runs: dict[tuple[str, str], Callable] = {}
    for name in names:
        params = INGREDIENTS[name]
        runs[(name, "skfocal")] = lambda X, y, p=params, **kw: fit_estimator(
            p, X, y, **kw
        )
        runs[(name, "hand")] = lambda X, y, p=params, **kw: fit_hand(p, X, y, **kw)
    if "plain" in names:
        runs[("plain", "sklearn")] = fit_sklearn_plain
    if "plain + focal loss" in names:
        runs[("plain + focal loss", "sklearn")] = fit_sklearn_plain
    return runs


def bench_ingredients(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    repeats: int,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict:
    """Seconds per epoch of every (ingredient, side), interleaved repeats.

    Returns ``{"epochs": ..., "times": {ingredient: {side: [s/epoch, ...]}},
    "cpu_times": ...}`` with sides ``skfocal``, ``hand`` and, for ``plain``,
    ``sklearn``: wall seconds, and CPU seconds of this process (with one
    thread, the time the fit computed, whatever other processes took of the
    cores: the fairer measure on a shared machine).
    """
    unknown = sorted(set(names) - set(INGREDIENTS))
    if unknown:
        raise ValueError(
            f"unknown ingredients {unknown}; choose from {list(INGREDIENTS)}"
        )
    runs = _runs(names)
    # Warm-up: imports, thread pools, kernels, on a small slice.
    for run in runs.values():
        run(X[:4096], y[:4096], epochs=1, seed=seed, batch_size=batch_size)
    times: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    cpu_times: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    keys = list(runs)
    for repeat in range(repeats):
        shift = repeat % len(keys)
        for key in keys[shift:] + keys[:shift]:
            gc.collect()
            start, cpu_start = time.perf_counter(), time.process_time()
            runs[key](X, y, epochs=epochs, seed=seed, batch_size=batch_size)
            cpu = (time.process_time() - cpu_start) / epochs
            seconds = (time.perf_counter() - start) / epochs
            times[key[0]].setdefault(key[1], []).append(seconds)
            cpu_times[key[0]].setdefault(key[1], []).append(cpu)
            label = f"{key[0]:<36} {key[1]:<8}"
            log(
                f"  repeat {repeat + 1}/{repeats} {label} {seconds:.4f} s/epoch "
                f"(CPU {cpu:.4f} s)"
            )
    return {
        "epochs": epochs,
        "repeats": repeats,
        "times": times,
        "cpu_times": cpu_times,
    }


def ingredient_rows(results: dict, clock: str = "times") -> list[list[str]]:
    """Markdown rows: ingredient, s/epoch of each side, ratio to the hand loop.

    ``clock`` is ``"times"`` (wall seconds) or ``"cpu_times"``.
    """
    rows = []
    for name, sides in results[clock].items():
        medians = {side: statistics.median(values) for side, values in sides.items()}
        fastest = {side: min(values) for side, values in sides.items()}
        ratio = medians["skfocal"] / medians["hand"]
        sklearn = medians.get("sklearn")
        rows.append(
            [
                name,
                f"{medians['skfocal']:.4f}",
                f"{medians['hand']:.4f}",
                f"{ratio:.2f}x",
                f"{fastest['skfocal'] / fastest['hand']:.2f}x",
                "yes" if ratio <= 1.15 else "no",
                "-" if sklearn is None else f"{sklearn:.4f}",
                "-" if sklearn is None else f"{medians['skfocal'] / sklearn:.2f}x",
                "-"
                if sklearn is None
                else f"{fastest['skfocal'] / fastest['sklearn']:.2f}x",
            ]
        )
    return rows


INGREDIENT_HEADER = [
    "ingredient (estimator parameter)",
    "skfocal s/epoch",
    "hand loop s/epoch",
    "skfocal / hand (medians)",
    "(minima)",
    "<= 1.15x",
    "MLPClassifier s/epoch",
    "skfocal / MLPClassifier (medians)",
    "(minima)",
]


if __name__ == "__main__":  # pragma: no cover - use bench_speed.py
    sys.exit("Run benchmarks/bench_speed.py --ingredients all")

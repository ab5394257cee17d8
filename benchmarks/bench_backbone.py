"""Per-epoch training time of the tabular backbone at module level.

Every configuration trains in the same hand-written torch loop (tensors in
memory, ``randperm`` + index slicing, ``BCEWithLogitsLoss`` averaged over
ensemble members, ``Adam(fused=True)``, lr 1e-3) on synthetic imbalanced
binary data (100k x 50 float32, about 5% positives, batch 256), on one torch
thread. No skorch and no estimator: this measures the network, so that the
estimator integration can be judged against it later.

Configurations:

* ``mlp`` - today's :class:`skfocal._module.MLP`, (64, 64): the reference;
* ``plain`` - :class:`skfocal._backbone.TabularMLP` with k=1, no embeddings,
  (64, 64) (must cost what ``mlp`` costs);
* ``periodic`` / ``piecewise_linear`` - (64, 64) with numerical embeddings;
* ``k32`` - (64, 64) with a k=32 TabM ensemble, and ``hand_k32``: the same
  BatchEnsemble written in plain torch;
* ``mlp_256x3``, ``k32_256x3`` - RealMLP's / TabM's width, and
  ``hand_k32_256x3``: the same BatchEnsemble written in plain torch, to see
  what the ``tabm`` package costs over hand-written layers.

Methods run round-robin within every repeat, so that noise from other
processes hits all alike; medians are reported. Slow configurations are
timed on part of an epoch (at least ``--min-batches`` batches, about
``--budget`` seconds) and scaled to a full epoch.

Examples
--------
Quick look (about a minute on a loaded 2-core machine)::

    OMP_NUM_THREADS=1 python benchmarks/bench_backbone.py --repeats 3 --budget 1

Default run, with the raw numbers as JSON::

    OMP_NUM_THREADS=1 python benchmarks/bench_backbone.py --output backbone.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from skfocal._backbone import TabularMLP
from skfocal._embeddings import compute_piecewise_bins
from skfocal._module import MLP

N_FEATURES = 50
LR = 1e-3


def make_data(n_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Imbalanced binary data (top 5% of a noisy score), X in float32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, N_FEATURES), dtype=np.float32)
    weights = np.zeros(N_FEATURES, dtype=np.float32)
    weights[:10] = rng.standard_normal(10, dtype=np.float32)
    score = X @ weights + np.tanh(X[:, 10] * X[:, 11])
    score += rng.standard_normal(n_samples, dtype=np.float32)
    return X, (score > np.quantile(score, 0.95)).astype(np.float32)


class HandBatchEnsemble(nn.Module):
    """A k-member BatchEnsemble MLP in plain torch (the tabm layers' math).

    Hidden layer: ``relu(((x * r) @ W.T) * s + b)`` with ``W`` shared and
    ``r``, ``s``, ``b`` per member; the head is one linear layer per member.
    """

    def __init__(self, n_features: int, hidden: tuple[int, ...], k: int) -> None:
        super().__init__()
        self.k = k
        self.weights = nn.ParameterList()
        self.adapters = nn.ParameterList()
        width = n_features
        for size in hidden:
            bound = width**-0.5
            self.weights.append(
                nn.Parameter(torch.empty(size, width).uniform_(-bound, bound))
            )
            self.adapters.append(nn.Parameter(torch.randn(k, width).sign()))  # r
            self.adapters.append(nn.Parameter(torch.ones(k, size)))  # s
            self.adapters.append(nn.Parameter(torch.zeros(k, size)))  # b
            width = size
        bound = width**-0.5
        self.head_weight = nn.Parameter(
            torch.empty(k, width, 1).uniform_(-bound, bound)
        )
        self.head_bias = nn.Parameter(torch.zeros(k, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1).expand(-1, self.k, -1)
        for index, weight in enumerate(self.weights):
            r, s, b = self.adapters[3 * index : 3 * index + 3]
            h = torch.relu((h * r) @ weight.T * s + b)
        # (k, B, d) @ (k, d, 1) -> (k, B, 1)
        out = torch.baddbmm(
            self.head_bias.unsqueeze(1), h.transpose(0, 1), self.head_weight
        )
        return out.squeeze(-1).T


def configurations(bins: list[torch.Tensor]) -> dict[str, Callable[[], nn.Module]]:
    """Name -> builder of a one-logit network over ``N_FEATURES`` inputs."""
    wide = (256, 256, 256)
    return {
        "mlp": lambda: MLP(N_FEATURES, 1, (64, 64)),
        "plain": lambda: TabularMLP(N_FEATURES, 1, (64, 64)),
        "periodic": lambda: TabularMLP(N_FEATURES, 1, (64, 64), embedding="periodic"),
        "piecewise_linear": lambda: TabularMLP(
            N_FEATURES, 1, (64, 64), embedding="piecewise_linear", bins=bins
        ),
        "k32": lambda: TabularMLP(N_FEATURES, 1, (64, 64), k=32),
        "hand_k32": lambda: HandBatchEnsemble(N_FEATURES, (64, 64), k=32),
        "mlp_256x3": lambda: MLP(N_FEATURES, 1, wide),
        "k32_256x3": lambda: TabularMLP(N_FEATURES, 1, wide, k=32),
        "hand_k32_256x3": lambda: HandBatchEnsemble(N_FEATURES, wide, k=32),
    }


# Ratios printed: configuration -> the reference it is compared with.
COMPARISONS = {
    "plain": "mlp",
    "periodic": "mlp",
    "piecewise_linear": "mlp",
    "k32": "mlp",
    "mlp_256x3": "mlp",
    "k32_256x3": "mlp_256x3",
}
PACKAGE_CHECKS = {"k32": "hand_k32", "k32_256x3": "hand_k32_256x3"}


class Trainer:
    """One network, its optimizer and its data, trained batch after batch."""

    def __init__(self, build, features, target, batch_size: int, seed: int) -> None:
        torch.manual_seed(seed)
        self.model = build()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR, fused=True)
        self.loss = nn.BCEWithLogitsLoss()
        self.features, self.target = features, target
        self.batch_size = batch_size
        self.n_batches = math.ceil(len(features) / batch_size)
        self.order = torch.randperm(len(features))
        self.position = 0

    def run(self, n_batches: int) -> float:
        """Train ``n_batches`` batches; return the seconds it took."""
        start = time.perf_counter()
        for _ in range(n_batches):
            if self.position >= self.n_batches:
                self.order = torch.randperm(len(self.features))
                self.position = 0
            first = self.position * self.batch_size
            index = self.order[first : first + self.batch_size]
            self.position += 1
            logits = self.model(self.features[index])
            target = self.target[index]
            if logits.ndim == 2:  # (B, k): the mean loss over members
                target = target.unsqueeze(1).expand_as(logits)
            loss = self.loss(logits, target)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start


def bench(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    X, y = make_data(args.n_samples)
    features, target = torch.from_numpy(X), torch.from_numpy(y)
    bins = compute_piecewise_bins(X)
    builders = configurations(bins)
    names = [name for name in builders if not args.only or name in args.only]
    trainers = {
        name: Trainer(builders[name], features, target, args.batch_size, args.seed)
        for name in names
    }
    # Warm-up, and the batches each configuration is timed on.
    batches = {}
    for name, trainer in trainers.items():
        trainer.run(3)
        per_batch = trainer.run(5) / 5
        budgeted = int(args.budget / per_batch)
        batches[name] = min(trainer.n_batches, max(args.min_batches, budgeted))
        print(
            f"  {name}: {per_batch * 1e3:.2f} ms/batch, timed on {batches[name]}"
            f" of {trainer.n_batches} batches",
            flush=True,
        )
    epochs: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            trainer = trainers[name]
            seconds = trainer.run(batches[name])
            epochs[name].append(seconds * trainer.n_batches / batches[name])
        print(f"  repeat {repeat + 1}/{args.repeats} done", flush=True)
    medians = {name: statistics.median(values) for name, values in epochs.items()}
    parameters = {
        name: sum(p.numel() for p in trainer.model.parameters())
        for name, trainer in trainers.items()
    }
    return {
        "settings": vars(args),
        "machine": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "batches_timed": batches,
        "seconds_per_epoch": epochs,
        "median_seconds_per_epoch": medians,
        "parameters": parameters,
    }


def report(results: dict) -> str:
    medians = results["median_seconds_per_epoch"]
    lines = [
        f"{'configuration':<18} {'s/epoch':>9} {'params':>9}  ratio",
    ]
    for name, seconds in medians.items():
        ratios = []
        for table in (COMPARISONS, PACKAGE_CHECKS):
            reference = table.get(name)
            if reference in medians:
                ratios.append(f"{seconds / medians[reference]:.2f}x {reference}")
        lines.append(
            f"{name:<18} {seconds:>9.3f} {results['parameters'][name]:>9}  "
            + ", ".join(ratios)
        )
    load = ", ".join(f"{value:.1f}" for value in results["machine"]["load_average"])
    lines.append(f"(load average at the end: {load})")
    return "\n".join(lines)


# ----------------------------------------------------------------------
# Quality sanity check (--quality): average precision, same hand loop
# ----------------------------------------------------------------------
QUALITY_DATASETS = (
    "ecoli3",
    "yeast4",
    "winequality-white-3_vs_7",
    "car-vgood",
    "abalone19",
)


def quality_configurations(
    n_features: int, bins: list[torch.Tensor]
) -> dict[str, tuple[str, Callable[[], nn.Module]]]:
    """Name -> (input transform, builder) for the quality check."""

    def backbone(**kwargs) -> Callable[[], nn.Module]:
        return lambda: TabularMLP(n_features, 1, **kwargs)

    return {
        "mlp, standard": ("standard", lambda: MLP(n_features, 1, (64, 64))),
        "robust": ("robust_smooth_clip", backbone()),
        "robust + scale": ("robust_smooth_clip", backbone(feature_scaling=True)),
        "periodic": ("robust_smooth_clip", backbone(embedding="periodic")),
        "piecewise_linear": (
            "robust_smooth_clip",
            backbone(embedding="piecewise_linear", bins=bins),
        ),
        "k8": ("robust_smooth_clip", backbone(k=8)),
        "k32": ("robust_smooth_clip", backbone(k=32)),
        "3x256, dropout .15": (
            "robust_smooth_clip",
            backbone(hidden_layer_sizes=(256, 256, 256), dropout=0.15),
        ),
    }


def _probabilities(model: nn.Module, features: torch.Tensor) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        probabilities = torch.sigmoid(model(features))
    model.train()
    if probabilities.ndim == 2:  # the ensemble: mean of member probabilities
        probabilities = probabilities.mean(dim=1)
    return probabilities.numpy()


def fit_best_epoch(build, X, y, X_val, y_val, *, epochs: int, seed: int):
    """Train with Adam, keep the epoch with the best validation AP."""
    from sklearn.metrics import average_precision_score

    torch.manual_seed(seed)
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.BCEWithLogitsLoss()
    features, target = torch.from_numpy(X), torch.from_numpy(y)
    validation = torch.from_numpy(X_val)
    best, best_state = -1.0, None
    for _ in range(epochs):
        order = torch.randperm(len(features))
        for start in range(0, len(features), 128):
            index = order[start : start + 128]
            logits = model(features[index])
            batch_target = target[index]
            if logits.ndim == 2:
                batch_target = batch_target.unsqueeze(1).expand_as(logits)
            loss = loss_fn(logits, batch_target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        score = average_precision_score(y_val, _probabilities(model, validation))
        if score > best:
            best = score
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model


def quality(args: argparse.Namespace) -> dict:
    """Test average precision per configuration, 3-fold CV per dataset."""
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from skfocal._preprocessing import InputScaler
    from skfocal.datasets import load_dataset, make_preprocessor

    torch.set_num_threads(args.threads)
    scores: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    for dataset in args.datasets:
        frame, labels = load_dataset(dataset)
        y_all = (labels == labels.value_counts().idxmin()).to_numpy(np.float32)
        folds = StratifiedKFold(3, shuffle=True, random_state=args.seed)
        for fold, (train, test) in enumerate(folds.split(frame, y_all)):
            X_fit, X_val, y_fit, y_val = train_test_split(
                frame.iloc[train],
                y_all[train],
                test_size=0.2,
                stratify=y_all[train],
                random_state=args.seed,
            )
            prepare = make_preprocessor(X_fit).fit(X_fit)
            raw = [prepare.transform(part) for part in (X_fit, X_val, frame.iloc[test])]
            n_features = raw[0].shape[1]
            transformed = {}
            for kind in ("standard", "robust_smooth_clip"):
                scaler = InputScaler(kind=kind).fit(raw[0])
                transformed[kind] = [scaler.transform(part) for part in raw]
            bins = compute_piecewise_bins(transformed["robust_smooth_clip"][0])
            for name, (kind, build) in quality_configurations(n_features, bins).items():
                X_fit_t, X_val_t, X_test_t = transformed[kind]
                start = time.perf_counter()
                model = fit_best_epoch(
                    build,
                    X_fit_t,
                    y_fit,
                    X_val_t,
                    y_val,
                    epochs=args.epochs,
                    seed=args.seed + fold,
                )
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
                score = average_precision_score(
                    y_all[test], _probabilities(model, torch.from_numpy(X_test_t))
                )
                scores.setdefault(name, {}).setdefault(dataset, []).append(score)
            print(f"  {dataset} fold {fold + 1}/3 done", flush=True)
    return {"settings": vars(args), "average_precision": scores, "seconds": seconds}


def quality_report(results: dict) -> str:
    scores = results["average_precision"]
    names = list(scores)
    datasets = list(next(iter(scores.values())))
    means = {n: {d: float(np.mean(scores[n][d])) for d in datasets} for n in names}
    ranks = {n: [] for n in names}
    for dataset in datasets:
        order = sorted(names, key=lambda n: -means[n][dataset])
        for rank, name in enumerate(order, start=1):
            ranks[name].append(rank)
    lines = [
        f"{'configuration':<20} {'mean AP':>8} {'mean rank':>9} {'fit s':>7}  "
        + "  ".join(d[:10] for d in datasets)
    ]
    for name in names:
        lines.append(
            f"{name:<20} {np.mean(list(means[name].values())):>8.3f} "
            f"{np.mean(ranks[name]):>9.2f} {results['seconds'][name]:>7.1f}  "
            + "  ".join(f"{means[name][d]:>10.3f}" for d in datasets)
        )
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--budget",
        type=float,
        default=2.0,
        help="about how many seconds to time each configuration per repeat",
    )
    parser.add_argument("--min-batches", type=int, default=20)
    parser.add_argument("--only", nargs="*", help="configurations to run")
    parser.add_argument("--output", type=Path, help="write the results as JSON")
    parser.add_argument(
        "--quality",
        action="store_true",
        help="instead of speed: test average precision of some configurations "
        "on small bundled datasets (3-fold CV, best epoch on a validation split)",
    )
    parser.add_argument("--datasets", nargs="*", default=list(QUALITY_DATASETS))
    parser.add_argument("--epochs", type=int, default=40, help="for --quality")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.quality:
        results = quality(args)
        print(quality_report(results))
    else:
        results = bench(args)
        print(report(results))
    if args.output:
        args.output.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

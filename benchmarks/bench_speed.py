"""Speed and memory benchmark of skfocal's estimators against plain baselines.

What it measures, on synthetic imbalanced binary data with 50 features:

* fit time per epoch of ``FocalClassifier`` and ``GHMClassifier``, of a plain
  skorch ``NeuralNetClassifier`` (default ``DataLoader`` path), of a
  hand-written torch loop (tensors in memory, ``randperm`` + index slicing,
  ``BCEWithLogitsLoss``, Adam with and without ``fused=True``) and of
  scikit-learn's ``MLPClassifier``: the same (64, 64) MLP, batch 256, 5 epochs,
  lr 1e-3, no early stopping. Methods run round-robin within every repeat, so
  that noise from other processes hits all of them alike; medians are reported;
* ``FocalClassifier.predict_proba`` against a raw forward pass of the same
  fitted network;
* peak extra memory during ``fit``, measured in a fresh subprocess per
  measurement (``ru_maxrss`` minus the RSS just before ``fit``);
* the scaling exponent ``b`` of ``time ~ N**b``;
* ``FocalClassifier()`` against ``MLPClassifier()`` and LightGBM's
  ``LGBMClassifier()``, each with its own defaults, on a harder problem: fit
  time and held-out average precision;
* with ``--ingredients``, the per-epoch cost of each backbone ingredient
  against a hand loop training the same network, and the plain configuration
  against ``MLPClassifier`` of the same architecture
  (``speed_ingredients.py``, next to this script).

Examples
--------
Quick check (about half a minute on 2 cores)::

    python benchmarks/bench_speed.py --sizes 10000 --repeats 2 --skip-defaults

Full default run (10k, 100k and 1M rows; several minutes on 2 cores), with a
markdown report (and the raw results next to it as JSON)::

    python benchmarks/bench_speed.py --output bench.md

The backbone ingredients and the defaults table only (100k rows, one
thread; a few minutes)::

    OMP_NUM_THREADS=1 python benchmarks/bench_speed.py --threads 1 --skip-fit \
        --skip-memory --ingredients all --output ingredients.md

Peak memory of the default estimator and of the robust input transform at
1M rows::

    python benchmarks/bench_speed.py --threads 1 --skip-fit --skip-defaults \
        --sizes 1000000 --memory-methods focal_default,focal_robust

On a GPU, with an extra row at a GPU-friendly batch size for the largest N::

    python benchmarks/bench_speed.py --device cuda --gpu-batch-size 4096
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import speed_ingredients
import torch
from torch import nn

N_FEATURES = 50
HIDDEN = (64, 64)
BATCH_SIZE = 256
EPOCHS = 5
LR = 1e-3
SEED = 0
LARGE_N = 1_000_000  # sizes from here on get --large-repeats repeats
MEMORY_MIN_N = 100_000  # peak memory is measured for sizes from here on
MEMORY_EPOCHS = 2  # the peak is reached in the first epoch; 2 to be sure

METHODS = ("focal", "ghm", "skorch", "hand", "hand_fused", "sklearn")
LABELS = {
    "focal": "FocalClassifier",
    "ghm": "GHMClassifier",
    "skorch": "skorch NeuralNetClassifier",
    "hand": "hand loop, Adam",
    "hand_fused": "hand loop, Adam(fused=True)",
    "sklearn": "sklearn MLPClassifier",
    "focal_default": "FocalClassifier() defaults",
    "focal_robust": 'FocalClassifier(input_transform="robust_smooth_clip")',
}
HAND_METHODS = ("hand", "hand_fused")
MEMORY_METHODS = ("focal", "sklearn", "hand_fused")

# Rough seconds per epoch per 100k rows at batch 256 on the 2-core CPU
# machines (DESIGN.md and earlier runs of this script); only used to print an
# estimate of the run time before starting.
_CPU_RATE = {
    "focal": 0.25,
    "ghm": 0.3,
    "skorch": 0.5,
    "hand": 0.17,
    "hand_fused": 0.14,
    "sklearn": 0.2,
}


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def make_data(
    n_samples: int, n_features: int = N_FEATURES, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded imbalanced binary data (about 5% positives), X in float32.

    Much cheaper than ``make_classification`` at a million rows, and it
    allocates X directly in float32 with no temporary of its size, so that
    the process's peak RSS before ``fit`` is its RSS (see ``measure_memory``).
    The positive class is the top 5% of a noisy score that is linear in ten
    features plus an interaction of two more.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    w = np.zeros(n_features, dtype=np.float32)
    w[:10] = rng.standard_normal(10, dtype=np.float32)
    score = X @ w + np.tanh(X[:, 10] * X[:, 11])
    score += rng.standard_normal(n_samples, dtype=np.float32)
    y = (score > np.quantile(score, 0.95)).astype(np.int64)
    return X, y


def make_sequential(n_features: int, n_outputs: int) -> nn.Sequential:
    """The (64, 64) ReLU MLP as a plain ``nn.Sequential``."""
    layers: list[nn.Module] = []
    width = n_features
    for size in HIDDEN:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def n_model_bytes(n_features: int = N_FEATURES) -> int:
    """Bytes of the float32 parameters of the one-output MLP."""
    module = make_sequential(n_features, 1)
    return sum(p.numel() * p.element_size() for p in module.parameters())


# ----------------------------------------------------------------------
# The methods: each fits on (X, y) and returns the fitted object
# ----------------------------------------------------------------------
def fit_skfocal(
    name: str, X, y, *, device: str, batch_size: int, epochs: int, seed: int
):
    """``FocalClassifier`` or ``GHMClassifier`` on the plain (64, 64) MLP.

    The network the hand loops and ``MLPClassifier`` train: no input
    transform, no embedding (the estimators' defaults add both; the
    ingredient table times them).
    """
    from skfocal import FocalClassifier, GHMClassifier
    from skfocal._fit_backbone import PLAIN_BACKBONE

    cls = FocalClassifier if name == "focal" else GHMClassifier
    clf = cls(
        **PLAIN_BACKBONE,
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_epochs=epochs,
        early_stopping=False,
        random_state=seed,
        device=device,
    )
    return clf.fit(X, y)


def fit_skorch(X, y, *, device: str, batch_size: int, epochs: int, seed: int):
    """Plain skorch: per-row ``Dataset`` + ``DataLoader``, CrossEntropyLoss.

    Adam with lr 1e-3 (skorch's default is SGD) and shuffled batches, so that
    it trains the same way as the other methods.
    """
    from skorch import NeuralNetClassifier

    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        module=make_sequential(X.shape[1], 2),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        max_epochs=epochs,
        batch_size=batch_size,
        iterator_train__shuffle=True,
        train_split=None,
        device=device,
        verbose=0,
    )
    return net.fit(X, y)


def fit_hand_loop(
    X,
    y,
    *,
    device: str,
    batch_size: int,
    epochs: int,
    seed: int,
    fused: bool = False,
):
    """The plain torch loop a user would write: tensors in memory, slices."""
    torch.manual_seed(seed)
    features = torch.from_numpy(X).to(device)
    target = torch.from_numpy(y).to(device=device, dtype=torch.float32)
    model = make_sequential(X.shape[1], 1).to(device)
    extra = {"fused": True} if fused else {}
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, **extra)
    loss_fn = nn.BCEWithLogitsLoss()
    n_samples = features.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n_samples, device=device)
        for start in range(0, n_samples, batch_size):
            index = order[start : start + batch_size]
            loss = loss_fn(model(features[index]).squeeze(1), target[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model


def fit_sklearn(X, y, *, device: str, batch_size: int, epochs: int, seed: int):
    """scikit-learn's ``MLPClassifier`` for exactly ``epochs`` epochs (CPU)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0,
        n_iter_no_change=1000,
        early_stopping=False,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def fitter(method: str) -> Callable:
    """The fit function of ``method`` (one of ``METHODS``)."""
    if method in ("focal", "ghm"):
        return lambda X, y, **kw: fit_skfocal(method, X, y, **kw)
    if method == "skorch":
        return fit_skorch
    if method in HAND_METHODS:
        return lambda X, y, **kw: fit_hand_loop(
            X, y, fused=method == "hand_fused", **kw
        )
    if method == "sklearn":
        return fit_sklearn
    if method in speed_ingredients.MEMORY_CONFIGS:
        return lambda X, y, **kw: speed_ingredients.fit_memory_config(
            method, X, y, **kw
        )
    raise ValueError(f"unknown method {method!r}")


# ----------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------
def synchronize(device: str) -> None:
    """Wait for queued CUDA work, so that wall times are complete."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable, device: str) -> tuple[float, object]:
    """Wall seconds of ``fn()`` (synchronised on CUDA) and its result."""
    gc.collect()
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return time.perf_counter() - start, result


def warm_up(methods, device: str) -> None:
    """One tiny fit of each method: imports, thread pools, kernels."""
    X, y = make_data(2048, seed=SEED + 1)
    for method in methods:
        fitter(method)(X, y, device=device, batch_size=BATCH_SIZE, epochs=1, seed=SEED)


def rotated(items, shift: int) -> list:
    """``items`` rotated left by ``shift``: round-robin start positions."""
    items = list(items)
    shift %= len(items)
    return items[shift:] + items[:shift]


def bench_fit(
    X, y, methods, *, device: str, batch_size: int, repeats: int, epochs: int
) -> tuple[dict, object]:
    """Seconds per epoch of every method, interleaved over ``repeats``.

    Returns ``{method: [seconds per epoch, one per repeat]}`` and the last
    fitted ``FocalClassifier`` (or None) for the prediction benchmark.
    """
    times: dict[str, list[float]] = {m: [] for m in methods}
    focal = None
    for repeat in range(repeats):
        for method in rotated(methods, repeat):
            seconds, fitted = timed(
                lambda m=method: fitter(m)(
                    X,
                    y,
                    device=device,
                    batch_size=batch_size,
                    epochs=epochs,
                    seed=SEED,
                ),
                device,
            )
            times[method].append(seconds / epochs)
            if method == "focal":
                focal = fitted
            log(
                f"  N={len(X):>9,} bs={batch_size:<5} repeat {repeat + 1}/{repeats} "
                f"{LABELS[method]:<28} {seconds / epochs:8.4f} s/epoch"
            )
            del fitted
    return times, focal


def raw_proba(module: nn.Module, X32: np.ndarray, device: str) -> np.ndarray:
    """``sigmoid(module(X))`` in one float32 forward pass, as a numpy array."""
    with torch.inference_mode():
        logits = module(torch.from_numpy(X32).to(device))
        return torch.sigmoid(logits).cpu().numpy()


def bench_predict(clf, X32: np.ndarray, *, device: str, repeats: int) -> dict:
    """``predict_proba`` against the raw forward pass, interleaved."""
    module = clf.net_.module_
    module.eval()
    runs = {
        "predict_proba": lambda: clf.predict_proba(X32)[:, 1],
        "raw_forward": lambda: raw_proba(module, X32, device),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    outputs = {}
    for repeat in range(repeats):
        for name in rotated(runs, repeat):
            seconds, outputs[name] = timed(runs[name], device)
            times[name].append(seconds)
    diff = float(np.max(np.abs(outputs["predict_proba"] - outputs["raw_forward"])))
    return {"times": times, "max_abs_diff": diff}


# ----------------------------------------------------------------------
# Memory, in a subprocess per measurement
# ----------------------------------------------------------------------
def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (Linux), else None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the peak RSS of this process (Linux >= 4.0), if allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _malloc_trim() -> None:
    """Give freed heap memory back to the OS (glibc), so growth shows in RSS."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure_memory(method: str, n_samples: int, device: str) -> dict:
    """Peak extra RSS of one fit in this (fresh) process.

    Everything is imported and warmed up first, then the data is made; the
    baseline is the RSS just before ``fit``. The peak is the process's peak
    RSS after ``fit``: ``VmHWM`` from ``/proc/self/status`` after resetting it
    just before ``fit`` (Linux), else ``ru_maxrss``. ``ru_maxrss`` alone is
    wrong in a child process on Linux: ``execve`` carries the peak RSS of the
    forked parent (the benchmark, with torch loaded) into the child's
    ``ru_maxrss``, so it is recorded but used only as a fallback.
    ``make_data`` has no temporaries as big as X, and freed heap memory is
    trimmed before the baseline, so that reused warm-up memory does not hide
    the fit's allocations.
    """
    warm_up([method], device)
    X, y = make_data(n_samples)
    gc.collect()
    _malloc_trim()
    reset = _reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fitter(method)(
        X, y, device=device, batch_size=BATCH_SIZE, epochs=MEMORY_EPOCHS, seed=SEED
    )
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm_after = _status_kib("VmHWM")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS
    if rss_before is not None and hwm_after is not None and reset:
        source = "VmHWM"
        peak_extra = (hwm_after - rss_before) * 1024
    else:
        source = "ru_maxrss"
        baseline = maxrss_before * scale if rss_before is None else rss_before * 1024
        peak_extra = maxrss_after * scale - baseline
    reference = X.nbytes + n_model_bytes(X.shape[1])
    return {
        "method": method,
        "n": n_samples,
        "device": device,
        "peak_source": source,
        "rss_before_bytes": None if rss_before is None else rss_before * 1024,
        "vmhwm_after_bytes": None if hwm_after is None else hwm_after * 1024,
        "ru_maxrss_before_bytes": maxrss_before * scale,
        "ru_maxrss_after_bytes": maxrss_after * scale,
        "peak_reset": reset,
        "peak_extra_bytes": peak_extra,
        "x_plus_params_bytes": reference,
        "ratio": peak_extra / reference,
    }


def run_memory_subprocess(method: str, n_samples: int, args) -> dict:
    """Run ``measure_memory`` in a fresh interpreter and return its result."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--measure-memory",
        f"{method}:{n_samples}",
        "--device",
        args.device,
    ]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"memory measurement {method}:{n_samples} failed:\n{done.stderr}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------
# Defaults against defaults
# ----------------------------------------------------------------------
def bench_defaults(n_samples: int = 100_000) -> dict:
    """``FocalClassifier()`` vs ``MLPClassifier()`` and ``LGBMClassifier()``.

    Each with its defaults. A harder imbalanced problem from
    ``make_classification`` (float64, as a user would have it), a stratified
    80/20 split, one fit each: wall time, epochs (boosting rounds for
    LightGBM) run and average precision on the held-out part. LightGBM runs
    on its default threads (all cores, OpenMP, which ``--threads`` does not
    limit); ``verbose=-1`` only silences its log.
    """
    from lightgbm import LGBMClassifier
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from skfocal import FocalClassifier

    X, y = make_classification(
        n_samples=n_samples,
        n_features=N_FEATURES,
        n_informative=10,
        weights=[0.95],
        flip_y=0.01,
        class_sep=0.8,
        random_state=SEED,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=SEED
    )
    # FocalClassifier's default device is "auto": CUDA when there is one.
    sync_device = "cuda" if torch.cuda.is_available() else "cpu"
    results = {}
    for name, clf in (
        ("FocalClassifier", FocalClassifier(random_state=SEED)),
        # The default but for the metric early stopping monitors.
        (
            "FocalClassifier(validation_metric='loss')",
            FocalClassifier(validation_metric="loss", random_state=SEED),
        ),
        ("MLPClassifier", MLPClassifier(random_state=SEED)),
        ("LGBMClassifier", LGBMClassifier(verbose=-1)),
    ):
        log(f"  defaults: fitting {name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds, _ = timed(lambda c=clf: c.fit(X_train, y_train), sync_device)
        ap = average_precision_score(y_test, clf.predict_proba(X_test)[:, 1])
        device = str(clf.net_.device) if hasattr(clf, "net_") else "cpu"
        results[name] = {
            "fit_seconds": seconds,
            "n_iter": int(getattr(clf, "n_iter_", None) or clf.n_estimators_),
            "average_precision": float(ap),
            "device": device,
        }
    results["n_samples"] = n_samples
    results["positive_rate"] = float(np.mean(y))
    return results


# ----------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------
def log(message: str) -> None:
    """Progress to stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(device: str) -> dict:
    """Platform, CPU, threads and library versions."""
    import sklearn
    import skorch
    from threadpoolctl import threadpool_info

    import skfocal

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "blas": [
            f"{p.get('internal_api')} ({p.get('num_threads')} threads)"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ],
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "skfocal": skfocal.__version__,
        "device": device,
        "load_average_at_start": load_average(),
    }
    if torch.device(device).type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def load_average() -> str:
    """The 1/5/15-minute load averages: other processes skew the timings."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def fmt_ratio(value: float | None) -> str:
    """A ratio as ``1.23x``, or a dash."""
    return "-" if value is None or not math.isfinite(value) else f"{value:.2f}x"


def fmt_bytes(n_bytes: float) -> str:
    """Bytes in MiB."""
    return f"{n_bytes / 2**20:,.1f} MiB"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fit_rows(results: dict) -> list[list[str]]:
    """Rows of the training table, with ratios against the references."""
    rows = []
    for config in results["fit"]:
        medians = {m: statistics.median(t) for m, t in config["times"].items()}
        hands = [m for m in HAND_METHODS if m in medians]
        best_hand = min(hands, key=medians.get) if hands else None
        config["best_hand"] = best_hand
        config["medians"] = medians
        for method, median in medians.items():
            vs_hand = median / medians[best_hand] if best_hand else None
            vs_sk = median / medians["sklearn"] if "sklearn" in medians else None
            label = LABELS[method] + (" *" if method == best_hand else "")
            rows.append(
                [
                    label,
                    f"{config['n']:,}",
                    str(config["batch_size"]),
                    f"{median:.4f}",
                    f"{min(config['times'][method]):.4f}",
                    str(len(config["times"][method])),
                    fmt_ratio(vs_hand),
                    fmt_ratio(vs_sk),
                ]
            )
    return rows


def scaling_exponents(results: dict) -> dict:
    """Exponent ``b`` of ``seconds/epoch ~ N**b`` per method (batch 256)."""
    configs = [c for c in results["fit"] if c["batch_size"] == BATCH_SIZE]
    if len({c["n"] for c in configs}) < 2:
        return {}
    exponents = {}
    for method in configs[0]["times"]:
        n = np.array([c["n"] for c in configs], dtype=float)
        t = np.array([statistics.median(c["times"][method]) for c in configs])
        exponents[method] = float(np.polyfit(np.log(n), np.log(t), 1)[0])
    return exponents


def report(results: dict) -> str:
    """The whole report as markdown (also printed as is)."""
    info = results["machine"]
    parts = ["# skfocal speed benchmark", ""]
    parts.append("Command: `" + results["command"] + "`")
    parts.append("")
    for key, value in info.items():
        parts.append(f"- {key}: {value}")
    parts.append(
        f"- setup: {N_FEATURES} features, MLP {HIDDEN}, {EPOCHS} epochs, lr {LR}, "
        "early stopping off, float32 X, ~5% positives; times are medians over "
        "interleaved repeats, per epoch (whole fit / epochs)"
    )
    if results["fit"]:
        parts += ["", "## Training time per epoch", ""]
        header = [
            "method",
            "N",
            "batch",
            "s/epoch (median)",
            "min",
            "repeats",
            "vs hand loop",
            "vs MLPClassifier",
        ]
        parts.append(markdown_table(header, fit_rows(results)))
        parts.append("")
        parts.append(
            "`*` marks the fastest hand loop of each row group, the reference of "
            "the 'vs hand loop' column. MLPClassifier always runs on the CPU."
        )

    exponents = results.get("scaling") or {}
    if exponents:
        parts += ["", "## Scaling: seconds/epoch ~ N^b (batch 256)", ""]
        rows = [[LABELS[m], f"{b:.3f}"] for m, b in exponents.items()]
        parts.append(markdown_table(["method", "b"], rows))

    if results.get("predict"):
        parts += ["", "## predict_proba vs raw forward pass (fitted FocalClassifier)"]
        parts.append("")
        rows = []
        for entry in results["predict"]:
            proba = statistics.median(entry["times"]["predict_proba"])
            raw = statistics.median(entry["times"]["raw_forward"])
            rows.append(
                [
                    f"{entry['n']:,}",
                    f"{proba:.4f}",
                    f"{raw:.4f}",
                    fmt_ratio(proba / raw),
                    f"{entry['max_abs_diff']:.1e}",
                ]
            )
        header = [
            "N",
            "predict_proba s",
            "raw forward s",
            "ratio",
            "max |diff| of P(class 1)",
        ]
        parts.append(markdown_table(header, rows))
        parts.append("")
        parts.append(
            "Raw forward: `torch.sigmoid(clf.net_.module_(torch.from_numpy(X32)))` "
            "under `torch.inference_mode()`, one float32 pass."
        )

    if results.get("memory"):
        parts += ["", "## Peak extra memory during fit (fresh subprocess each)", ""]
        rows = [
            [
                LABELS[m["method"]],
                f"{m['n']:,}",
                fmt_bytes(m["peak_extra_bytes"]),
                fmt_bytes(m["x_plus_params_bytes"]),
                f"{m['ratio']:.2f}",
            ]
            for m in results["memory"]
        ]
        header = ["method", "N", "peak extra RSS", "X float32 + params", "ratio"]
        parts.append(markdown_table(header, rows))
        parts.append("")
        parts.append(
            f"Peak extra = peak RSS during a {MEMORY_EPOCHS}-epoch fit minus the "
            "RSS just before it, data already made. Peak RSS is `VmHWM`, reset "
            "just before fit (Linux; the JSON has `ru_maxrss` too, which in a "
            "child process also holds the parent's peak, inherited through "
            "exec)."
        )

    defaults = results.get("defaults")
    if defaults:
        parts += ["", "## Defaults vs defaults (harder problem, 80/20 split)", ""]
        rows = []
        for name in (
            "FocalClassifier",
            "FocalClassifier(validation_metric='loss')",
            "MLPClassifier",
            "LGBMClassifier",
        ):
            if name not in defaults:  # raw results of an older script
                continue
            entry = defaults[name]
            rows.append(
                [
                    "LGBMClassifier(verbose=-1)"
                    if name == "LGBMClassifier"
                    else name.replace("(", "(random_state=0, ")
                    if "(" in name
                    else f"{name}(random_state=0)",
                    f"{entry['fit_seconds']:.1f}",
                    str(entry["n_iter"]),
                    f"{entry['average_precision']:.4f}",
                    entry["device"],
                ]
            )
        header = ["estimator", "fit s", "epochs", "average precision", "device"]
        parts.append(markdown_table(header, rows))
        focal, mlp = defaults["FocalClassifier"], defaults["MLPClassifier"]
        lgbm = defaults["LGBMClassifier"]
        parts.append("")
        parts.append(
            f"{defaults['n_samples']:,} rows x {N_FEATURES} features "
            "(make_classification(n_informative=10, weights=[0.95], flip_y=0.01, "
            f"class_sep=0.8), {defaults['positive_rate']:.1%} positives, float64). "
            f"Fit time ratio Focal/MLP: "
            f"{fmt_ratio(focal['fit_seconds'] / mlp['fit_seconds'])}; "
            f"AP difference Focal - MLP: "
            f"{focal['average_precision'] - mlp['average_precision']:+.4f}; "
            f"Focal - LightGBM: "
            f"{focal['average_precision'] - lgbm['average_precision']:+.4f} "
            "(LightGBM's 'epochs' are its boosting rounds; it runs on all cores)."
        )

    ingredients = results.get("ingredients")
    if ingredients:
        parts += ["", "## Backbone ingredients, per epoch, against a hand loop", ""]
        for clock, title in (("cpu_times", "CPU seconds"), ("times", "Wall seconds")):
            if clock not in ingredients:
                continue
            parts += [f"{title} per epoch:", ""]
            parts.append(
                markdown_table(
                    speed_ingredients.INGREDIENT_HEADER,
                    speed_ingredients.ingredient_rows(ingredients, clock),
                )
            )
            parts.append("")
        parts.append(
            f"{ingredients['n']:,} rows x {N_FEATURES} features, batch "
            f"{ingredients['batch_size']}, {ingredients['epochs']} epochs per fit, "
            f"medians of {ingredients['repeats']} interleaved repeats, time per "
            "epoch = fit time / epochs. Each row is "
            "FocalClassifier(gamma=0), i.e. cross-entropy, in the plain configuration "
            f"({HIDDEN}, lr {LR}, no early stopping) with one parameter set, "
            "against a hand torch loop training the same network "
            "(BCE, Adam(fused=True)); the hand loop transforms X once up front "
            "and scores its validation split per epoch like early stopping. The "
            "`plain` row is the plain-configuration comparison with "
            "MLPClassifier of the same architecture and batch size. CPU seconds "
            "are this process's (one thread): what each fit computed, whatever "
            "other processes took of the cores, the fairer measure on a shared "
            "machine."
        )
    parts.append("")
    parts.append(
        f"Total benchmark wall time: {results['total_seconds']:.0f} s; load "
        f"average at the end: {results['load_average_at_end']}."
    )
    return "\n".join(parts) + "\n"


def estimate_seconds(sizes, methods, args) -> float:
    """A rough a-priori estimate of the run time on the 2-core CPU."""
    per_row = sum(_CPU_RATE[m] for m in methods) / 100_000
    total = 0.0
    for n in sizes:
        repeats = repeats_for(n, args)
        total += repeats * EPOCHS * n * per_row  # training
        total += 2 * repeats * n * 3e-6  # prediction
    if args.gpu_batch_size:
        total += repeats_for(max(sizes), args) * EPOCHS * max(sizes) * per_row / 3
    if not args.skip_memory:
        for n in memory_sizes(sizes):
            rates = sum(_CPU_RATE.get(m, 0.3) for m in args.memory_methods) / 1e5
            extra = len(args.memory_methods) * (8 + n / 2e5)
            total += MEMORY_EPOCHS * n * rates + extra
    if not args.skip_defaults:
        total += 40
    return total


def repeats_for(n_samples: int, args) -> int:
    """Repeats at this size: fewer for the slow large sizes."""
    if n_samples >= LARGE_N:
        return max(1, min(args.repeats, args.large_repeats))
    return args.repeats


def memory_sizes(sizes) -> list[int]:
    """Sizes whose peak memory is measured: >= 100k, else the largest."""
    chosen = [n for n in sizes if n >= MEMORY_MIN_N]
    return chosen or [max(sizes)]


# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated numbers of rows (default: %(default)s)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats per size (default: 3)"
    )
    parser.add_argument(
        "--large-repeats",
        type=int,
        default=2,
        help=f"repeats for sizes >= {LARGE_N:,} (default: 2)",
    )
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="comma-separated subset of: %(default)s",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help='torch device: "cpu" (default), "cuda", "cuda:1", ...',
    )
    parser.add_argument(
        "--gpu-batch-size",
        type=int,
        default=None,
        help="extra rows at this batch size for the largest N "
        "(default: 4096 on CUDA, none on the CPU; 0 turns it off)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (and BLAS threads, for MLPClassifier); "
        "default: leave the libraries' defaults",
    )
    parser.add_argument(
        "--skip-defaults",
        action="store_true",
        help="skip the defaults-vs-defaults comparison",
    )
    parser.add_argument(
        "--skip-memory", action="store_true", help="skip the peak-memory subprocesses"
    )
    parser.add_argument(
        "--skip-predict", action="store_true", help="skip the predict_proba timing"
    )
    parser.add_argument(
        "--skip-fit",
        action="store_true",
        help="skip the training-time table (and with it the predict timing)",
    )
    parser.add_argument(
        "--memory-methods",
        default=",".join(MEMORY_METHODS),
        help="comma-separated methods whose peak memory is measured "
        f"(default: %(default)s; also {', '.join(speed_ingredients.MEMORY_CONFIGS)})",
    )
    parser.add_argument(
        "--ingredients",
        default="",
        help="comma-separated backbone ingredients to time against a hand loop "
        "of the same network, or 'all' (default: none); names: "
        + ", ".join(speed_ingredients.INGREDIENTS),
    )
    parser.add_argument(
        "--ingredient-rows",
        type=int,
        default=100_000,
        help="rows of the ingredient table's data (default: %(default)s)",
    )
    parser.add_argument(
        "--ingredient-epochs",
        type=int,
        default=3,
        help="epochs per timed fit in the ingredient table (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="write the report to this markdown file and the raw results "
        "next to it (same name, .json)",
    )
    parser.add_argument("--measure-memory", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = sorted({int(float(s)) for s in args.sizes.split(",") if s.strip()})
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.memory_methods = [
        m.strip() for m in args.memory_methods.split(",") if m.strip()
    ]
    unknown = sorted(
        set(args.memory_methods) - set(METHODS) - set(speed_ingredients.MEMORY_CONFIGS)
    )
    if unknown:
        parser.error(f"unknown memory methods {unknown}")
    names = [n.strip() for n in args.ingredients.split(",") if n.strip()]
    args.ingredients = (
        list(speed_ingredients.INGREDIENTS) if names == ["all"] else names
    )
    unknown = sorted(set(args.ingredients) - set(speed_ingredients.INGREDIENTS))
    if unknown:
        parser.error(f"unknown ingredients {unknown}")
    unknown = sorted(set(args.methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {list(METHODS)}")
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was given but CUDA is not available")
    if args.gpu_batch_size is None:
        is_cuda = torch.device(args.device).type == "cuda"
        args.gpu_batch_size = 4096 if is_cuda else 0
    return args


def apply_threads(threads: int | None):
    """Set torch's (and BLAS's) thread count if asked; return the limiter."""
    if threads is None:
        return None
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    return threadpool_limits(limits=threads, user_api="blas")


def main(argv=None) -> int:
    """Run the benchmark and print (and optionally write) the report."""
    args = parse_args(argv)
    limiter = apply_threads(args.threads)  # kept alive for the whole run
    if args.measure_memory:
        method, n_samples = args.measure_memory.split(":")
        result = measure_memory(method, int(n_samples), args.device)
        print(json.dumps(result))
        return 0

    start = time.perf_counter()
    results: dict = {
        "command": " ".join(["python", "benchmarks/bench_speed.py", *sys.argv[1:]]),
        "machine": machine_info(args.device),
        "fit": [],
        "predict": [],
        "memory": [],
    }
    log(
        f"torch threads: {torch.get_num_threads()} "
        f"({'set by --threads' if limiter is not None else 'torch default'})"
    )
    if torch.device(args.device).type == "cpu":
        estimate = estimate_seconds(args.sizes, args.methods, args)
        log(f"estimated run time on a 2-core CPU: ~{estimate / 60:.1f} min")

    if not args.skip_fit:
        warm_up(args.methods, args.device)
    configs = [] if args.skip_fit else [(n, BATCH_SIZE) for n in args.sizes]
    if args.gpu_batch_size and not args.skip_fit:
        configs.append((max(args.sizes), args.gpu_batch_size))
    for n_samples, batch_size in configs:
        X, y = make_data(n_samples)
        repeats = repeats_for(n_samples, args)
        times, focal = bench_fit(
            X,
            y,
            args.methods,
            device=args.device,
            batch_size=batch_size,
            repeats=repeats,
            epochs=EPOCHS,
        )
        results["fit"].append(
            {"n": n_samples, "batch_size": batch_size, "times": times}
        )
        if focal is not None and batch_size == BATCH_SIZE and not args.skip_predict:
            entry = bench_predict(focal, X, device=args.device, repeats=repeats)
            results["predict"].append({"n": n_samples, **entry})
        del X, y, focal
        gc.collect()

    if not args.skip_memory:
        for n_samples in memory_sizes(args.sizes):
            for method in args.memory_methods:
                log(f"  memory: {LABELS[method]} N={n_samples:,}")
                results["memory"].append(run_memory_subprocess(method, n_samples, args))

    if args.ingredients:
        X, y = make_data(args.ingredient_rows)
        results["ingredients"] = {
            "n": args.ingredient_rows,
            "batch_size": BATCH_SIZE,
            **speed_ingredients.bench_ingredients(
                X,
                y,
                args.ingredients,
                repeats=args.repeats,
                epochs=args.ingredient_epochs,
                batch_size=BATCH_SIZE,
                seed=SEED,
                log=log,
            ),
        }
        del X, y
        gc.collect()

    results["scaling"] = scaling_exponents(results)
    if not args.skip_defaults:
        results["defaults"] = bench_defaults()
    results["total_seconds"] = time.perf_counter() - start
    results["load_average_at_end"] = load_average()

    text = report(results)
    print(text)
    if args.output is not None:
        args.output.write_text(text)
        args.output.with_suffix(".json").write_text(
            json.dumps(results, indent=2, default=str) + "\n"
        )
        log(f"wrote {args.output} and {args.output.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

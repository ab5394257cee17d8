"""Time one forward and backward pass of a loss on a small batch.

On a CPU batch of a few hundred rows each tensor operation costs its
dispatch rather than its arithmetic, so a loss's count of operations sets
its share of a training step. This script times, per call, the forward and
backward pass of:

* ``FocalLoss(gamma)``: the fused unweighted mean (the estimators' default);
* ``FocalLoss(gamma, reduction="none")`` and ``.mean()``: the per-sample
  focal loss and a separate mean, the path the fused mean replaced;
* ``BCEWithLogitsLoss``: torch's one-kernel binary cross-entropy.

The three run round-robin within every repeat; medians over repeats are
reported, with the ratios to BCE.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_loss_step.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from skfocal.losses import FocalLoss


def time_per_call(step, logits: torch.Tensor, calls: int) -> float:
    """Microseconds per forward-and-backward call of ``step``."""
    start = time.perf_counter()
    for _ in range(calls):
        logits.grad = None
        step().backward()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--gamma", type=float, default=2.0)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(args.rows, 1, generator=generator).requires_grad_()
    target = (torch.rand(args.rows, generator=generator) < 0.1).float()
    fused = FocalLoss(gamma=args.gamma, check_targets=False)
    per_sample = FocalLoss(gamma=args.gamma, reduction="none", check_targets=False)
    bce = torch.nn.BCEWithLogitsLoss()
    steps = {
        "FocalLoss (fused mean)": lambda: fused(logits, target),
        "FocalLoss(reduction='none') + mean()": lambda: per_sample(
            logits, target
        ).mean(),
        "BCEWithLogitsLoss": lambda: bce(logits.squeeze(1), target),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(time_per_call(step, logits, args.calls))
    bce_median = statistics.median(times["BCEWithLogitsLoss"])
    print(
        f"{args.rows} rows, gamma {args.gamma}, one thread, medians of "
        f"{args.repeats} interleaved repeats of {args.calls} calls\n"
    )
    print("| loss | us per forward+backward | / BCE |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {median / bce_median:.2f}x |")


if __name__ == "__main__":
    main()

"""Fixtures shared by the benchmark, command-line and Dask tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _user_table(class_sizes: dict[str, int], seed: int) -> pd.DataFrame:
    """A user's table: numeric and categorical features, NaNs, string labels."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([[name] * size for name, size in class_sizes.items()])
    rng.shuffle(labels)
    n_samples = len(labels)
    codes = pd.factorize(labels, sort=True)[0]
    signal = rng.normal(size=n_samples) + 1.5 * codes
    noisy = rng.normal(size=n_samples)
    noisy[rng.random(n_samples) < 0.1] = np.nan
    colour = rng.choice(["red", "green", "blue"], size=n_samples).astype(object)
    colour[rng.random(n_samples) < 0.1] = None
    return pd.DataFrame(
        {"signal": signal, "noisy": noisy, "colour": colour, "label": labels}
    )


@pytest.fixture(scope="session")
def write_user_table(tmp_path_factory) -> Callable[..., Path]:
    """Write a user's CSV table (see ``_user_table``) and return its path.

    ``write_user_table({"stay": 90, "churn": 30}, seed=0, name="churn")``
    writes ``churn.csv`` with 120 rows in a fresh folder; the file name
    becomes the dataset's name in a benchmark.
    """

    def write(class_sizes: dict[str, int], seed: int = 0, name: str = "churn") -> Path:
        path = tmp_path_factory.mktemp("data") / f"{name}.csv"
        _user_table(class_sizes, seed).to_csv(path, index=False)
        return path

    return write

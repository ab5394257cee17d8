"""What a benchmark directory was computed with, and whether a run may join it.

``config.json`` records the protocol (folds, repeats, seed, epochs, tuning),
the MLP settings, the skfocal versions that wrote to the directory, the data
of every dataset and the methods. A run may add datasets and methods to a
directory, never change the rest: mixed rows would not be comparable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skfocal import __version__
from skfocal._fit_backbone import PLAIN_BACKBONE
from skfocal.benchmark._methods import EARLY_STOPPING_MIN_ROWS, MLP_DEFAULTS
from skfocal.benchmark._store import (
    CONFIG_FILE,
    CONFIG_FORMAT,
    RESULTS_FILE,
    BenchmarkDirectoryError,
    read_config,
)

__all__ = ["build_config", "merge_config"]

# What identifies a user's data; the path may change (a moved checkout) and
# the counts of dropped rows follow from the data.
_IDENTITY_KEYS = ("source", "target", "sha256")
#: How many dropped row numbers ``config.json`` lists per dataset.
MAX_LISTED_ROWS = 100


def build_config(
    protocol: dict[str, Any],
    datasets: dict[str, dict[str, Any]],
    methods: list[str],
    dropped: dict[str, tuple[int, ...]] | None = None,
) -> dict[str, Any]:
    """The configuration of a run, as ``config.json`` stores it.

    Parameters
    ----------
    protocol : dict
        ``folds``, ``repeats``, ``seed``, ``max_epochs``, ``tune``.
    datasets : dict
        Dataset name to its fingerprint.
    methods : list of str
        Method names.
    dropped : dict or None, default=None
        Dataset name to the 0-based rows dropped for a missing target; the
        count (and the first :data:`MAX_LISTED_ROWS` rows) is recorded under
        the dataset.

    Returns
    -------
    dict

    Examples
    --------
    >>> from skfocal.benchmark._config import build_config
    >>> protocol = {"folds": 2, "repeats": 1, "seed": 0, "max_epochs": 3,
    ...             "tune": False}
    >>> config = build_config(protocol, {"t": {"source": "file"}}, ["ce"],
    ...                       {"t": (4, 9)})
    >>> config["datasets"]["t"]["dropped_missing_target"]
    2
    >>> config["datasets"]["t"]["dropped_missing_target_rows"]
    [4, 9]
    """
    dropped = dropped or {}
    described = {}
    for name, fingerprint in datasets.items():
        rows = list(dropped.get(name, ()))
        if rows:
            fingerprint = {
                **fingerprint,
                "dropped_missing_target": len(rows),
                "dropped_missing_target_rows": rows[:MAX_LISTED_ROWS],
            }
        described[name] = fingerprint
    return {
        "format": CONFIG_FORMAT,
        "protocol": dict(protocol),
        # What else decides the numbers; JSON has lists, not tuples.
        "mlp": {
            **{
                key: list(value) if isinstance(value, tuple) else value
                for key, value in MLP_DEFAULTS.items()
            },
            "early_stopping_min_rows": EARLY_STOPPING_MIN_ROWS,
        },
        "skfocal_versions": [__version__],
        "datasets": described,
        "methods": list(methods),
    }


def differences(stored: dict, current: dict) -> list[str]:
    """``"key <stored> there, <current> now"`` for every key whose value differs.

    Examples
    --------
    >>> from skfocal.benchmark._config import differences
    >>> differences({"seed": 0, "folds": 5}, {"seed": 1, "folds": 5})
    ['seed 0 there, 1 now']
    """
    return [
        f"{key} {stored.get(key)!r} there, {current.get(key)!r} now"
        for key in dict.fromkeys([*current, *stored])
        if stored.get(key) != current.get(key)
    ]


def merge_config(output: Path, config: dict) -> dict:
    """Check ``config`` against the directory's, return what to store.

    The protocol and the MLP settings must match exactly. New datasets and
    methods may be added: their tasks use the same folds and seeds, so the
    extended grid is what one run with all of them would have produced. The
    skfocal versions that wrote to the directory are listed.

    Parameters
    ----------
    output : pathlib.Path
        The benchmark directory.
    config : dict
        This run's configuration (:func:`build_config`).

    Returns
    -------
    dict
        The configuration to write.

    Raises
    ------
    BenchmarkDirectoryError
        If the directory holds another configuration, or results without
        one.
    """
    previous = read_config(output)
    if previous is None:
        if (output / RESULTS_FILE).exists():
            raise BenchmarkDirectoryError(
                f"'{output}' holds a {RESULTS_FILE} but no {CONFIG_FILE}, so it "
                "cannot be resumed safely; use a new --output directory."
            )
        return config
    changed = differences(previous["protocol"], config["protocol"])
    if changed:
        raise BenchmarkDirectoryError(
            f"'{output}' holds a benchmark with another configuration "
            f"({'; '.join(changed)}); rerun with the same options to resume, "
            "or choose a new --output directory."
        )
    # Directories written before the MLP settings were recorded have none;
    # those written before the backbone was recorded lack its keys. Both
    # trained the plain network of skfocal 0.1 with the same budget.
    stored = previous.get("mlp") or {
        key: config["mlp"][key] for key in config["mlp"] if key not in PLAIN_BACKBONE
    }
    changed = differences({**PLAIN_BACKBONE, **stored}, config["mlp"])
    if changed:
        raise BenchmarkDirectoryError(
            f"'{output}' was computed with other MLP settings "
            f"({'; '.join(changed)}) by skfocal "
            f"{', '.join(previous.get('skfocal_versions', ['(unknown)']))}; "
            "choose a new --output directory."
        )
    for name, fingerprint in config["datasets"].items():
        stored = previous["datasets"].get(name)
        if stored is None:
            continue
        if any(stored.get(key) != fingerprint.get(key) for key in _IDENTITY_KEYS):
            raise BenchmarkDirectoryError(
                f"Dataset {name!r} in '{output}' came from other data "
                f"({stored.get('path', 'bundled')}); rename the file or choose a "
                "new --output directory."
            )
    return {
        **previous,
        "mlp": config["mlp"],
        "skfocal_versions": list(
            dict.fromkeys(
                [*previous.get("skfocal_versions", []), *config["skfocal_versions"]]
            )
        ),
        "datasets": {**previous["datasets"], **config["datasets"]},
        "methods": list(dict.fromkeys([*previous["methods"], *config["methods"]])),
    }

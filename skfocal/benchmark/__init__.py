"""Benchmark of imbalance losses against resampling, inside cross-validation.

Needs the ``benchmark`` extra (imbalanced-learn, pandas, scipy, matplotlib,
tqdm, filelock): ``pip install "skfocal[benchmark]"``. ``import skfocal`` does
not import this package.

Layout, imports flowing one way: ``_task`` (load, fit and score one fold: the
leaf that both runners call), ``_local`` (this machine) and ``_dask`` (a
cluster), ``_plan`` (the grid and what is missing; runs it under the
directory ``_lock``), ``_config`` (``config.json``), ``_store`` (the CSV
files, one reader each), ``_interrupt`` (Ctrl-C) and ``_atomic`` (whole-file
writes). The methods: ``_methods`` (the registry) and ``_trees`` (LightGBM,
XGBoost). The scores: ``_metrics`` and ``_threshold`` (decision rules tuned
inside the training fold, with :mod:`skfocal._decision`). The report:
``_stats`` (tests), ``_analysis`` (tables and winners of one metric),
``_report`` (:class:`BenchmarkSummary`, ``summary.md``) and ``_plots``.

Examples
--------
>>> from skfocal.benchmark import DEFAULT_METHODS, holm_correction
>>> DEFAULT_METHODS[:4]
('ce', 'balanced_ce', 'focal', 'ghm')
>>> holm_correction([0.01, 0.02]).tolist()
[0.02, 0.02]
"""

import importlib.util

_EXTRAS = ("filelock", "imblearn", "matplotlib", "pandas", "scipy", "tqdm")
_missing = [name for name in _EXTRAS if importlib.util.find_spec(name) is None]
if _missing:
    raise ImportError(
        f"skfocal.benchmark needs {', '.join(_missing)}, which is not installed: "
        'pip install "skfocal[benchmark]"'
    )

from skfocal.benchmark._lock import DirectoryInUseError  # noqa: E402
from skfocal.benchmark._methods import (  # noqa: E402
    DEFAULT_METHODS,
    METHODS,
    OPTIONAL_METHODS,
    QUICK_METHODS,
    ClampedNeighborsSampler,
    MethodSpec,
    make_method,
    parse_method,
)
from skfocal.benchmark._metrics import (  # noqa: E402
    LOWER_IS_BETTER,
    METRICS,
    average_precision,
    expected_calibration_error,
    score_predictions,
)
from skfocal.benchmark._plan import (  # noqa: E402
    DEFAULT_MAX_EPOCHS,
    BenchmarkPlan,
    plan_benchmark,
)
from skfocal.benchmark._report import (  # noqa: E402
    BenchmarkSummary,
    MetricAnalysis,
    build_summary,
    summary_tables,
    write_report,
)
from skfocal.benchmark._stats import (  # noqa: E402
    FriedmanResult,
    TTestResult,
    average_ranks,
    corrected_resampled_ttest,
    critical_difference,
    friedman_test,
    holm_correction,
    paired_fold_tests,
    rank_methods,
    wilcoxon_holm,
)
from skfocal.benchmark._store import BenchmarkDirectoryError  # noqa: E402
from skfocal.benchmark._task import TableSource  # noqa: E402

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "DEFAULT_METHODS",
    "LOWER_IS_BETTER",
    "METHODS",
    "METRICS",
    "OPTIONAL_METHODS",
    "QUICK_METHODS",
    "BenchmarkDirectoryError",
    "BenchmarkPlan",
    "BenchmarkSummary",
    "ClampedNeighborsSampler",
    "DirectoryInUseError",
    "FriedmanResult",
    "MethodSpec",
    "MetricAnalysis",
    "TTestResult",
    "TableSource",
    "average_precision",
    "average_ranks",
    "build_summary",
    "corrected_resampled_ttest",
    "critical_difference",
    "expected_calibration_error",
    "friedman_test",
    "holm_correction",
    "make_method",
    "paired_fold_tests",
    "parse_method",
    "plan_benchmark",
    "rank_methods",
    "score_predictions",
    "summary_tables",
    "wilcoxon_holm",
    "write_report",
]

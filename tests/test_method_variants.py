"""Method variants: ``focal[threshold=prior]`` sets parameters of a method."""

from __future__ import annotations

import pandas as pd
import pytest

from skfocal.benchmark import TableSource, plan_benchmark
from skfocal.benchmark._methods import make_method, parse_method
from skfocal.benchmark._store import read_results
from skfocal.cli import _split_names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("focal", ("focal", {})),
        ("focal[gamma=1]", ("focal", {"gamma": 1})),
        (
            "ce[hidden_layer_sizes=(256, 256),lr=2e-3]",
            ("ce", {"hidden_layer_sizes": (256, 256), "lr": 0.002}),
        ),
        ("focal[alpha=None, verbose=0]", ("focal", {"alpha": None, "verbose": 0})),
        ("smote[early_stopping=True]", ("smote", {"early_stopping": True})),
        ("lightgbm[n_estimators=50]", ("lightgbm", {"n_estimators": 50})),
    ],
)
def test_parse_method(name, expected):
    assert parse_method(name) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope[gamma=1]", "Unknown method 'nope"),
        ("focal[gamma=1", "must end with ']'"),
        ("focal[gamma]", "'gamma' is not 'param=value'"),
        ("focal[=1]", "'=1' is not 'param=value'"),
    ],
)
def test_bad_variants_are_named(name, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        parse_method(name)


def test_make_method_sets_the_classifier_parameters():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    pipeline = make_method("focal[gamma=0.5,hidden_layer_sizes=(8,)]", X)
    classifier = pipeline.named_steps["classifier"]
    assert classifier.gamma == 0.5
    assert classifier.hidden_layer_sizes == (8,)
    plain = make_method("focal", X).named_steps["classifier"]
    assert plain.gamma != 0.5


def test_an_unknown_parameter_names_the_classifier():
    X = pd.DataFrame({"x": [0.0, 1.0]})
    with pytest.raises(ValueError, match="has no parameter 'colour'"):
        make_method("focal[colour=1]", X)


def test_the_cli_keeps_commas_inside_brackets():
    text = "ce, focal[gamma=1,hidden_layer_sizes=(4, 4)],lightgbm"
    assert _split_names(text) == [
        "ce",
        "focal[gamma=1,hidden_layer_sizes=(4, 4)]",
        "lightgbm",
    ]


def test_a_variant_runs_on_the_same_folds_as_its_method(write_user_table, tmp_path):
    table = write_user_table({"stay": 60, "churn": 20}, seed=3, name="variants")
    methods = ["ce", "ce[max_epochs=3]", "ce[gamma=0.0]"]
    plan = plan_benchmark(
        [TableSource(str(table), "label")],
        methods,
        output=tmp_path / "out",
        n_splits=2,
        n_repeats=1,
        max_epochs=3,
        seed=0,
    )
    plan.run(progress=False)
    results = (
        read_results(tmp_path / "out" / "results.csv")
        .set_index(["method", "repeat", "fold"])
        .sort_index()
    )
    assert set(results.index.get_level_values("method")) == set(methods)
    # The same settings as 'ce' (max_epochs is already 3) give the same scores.
    pd.testing.assert_series_equal(
        results.loc["ce", "average_precision"],
        results.loc["ce[max_epochs=3]", "average_precision"],
        check_names=False,
    )


def test_decision_metrics_score_the_models_own_predict(write_user_table, tmp_path):
    table = write_user_table({"stay": 60, "churn": 20}, seed=4, name="rule")
    plan = plan_benchmark(
        [TableSource(str(table), "label")],
        [
            "balanced_ce[calibration=None]",
            "balanced_ce[calibration=None,threshold=0.999]",
        ],
        output=tmp_path / "out",
        n_splits=2,
        n_repeats=1,
        max_epochs=20,
        seed=0,
    )
    plan.run(progress=False)
    results = read_results(tmp_path / "out" / "results.csv")
    strict = results[results.method == "balanced_ce[calibration=None,threshold=0.999]"]
    plain = results[results.method == "balanced_ce[calibration=None]"]
    # Same network, same probabilities: the ranking metric agrees ...
    assert strict.average_precision.tolist() == plain.average_precision.tolist()
    # ... but a threshold no probability reaches predicts the majority class
    # only, which the decision metrics must see.
    assert (plain.minority_recall > 0).all()
    assert (strict.minority_recall == 0).all()
    assert (strict.balanced_accuracy == 0.5).all()

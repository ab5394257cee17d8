"""scikit-learn's estimator checks on every skfocal estimator, with defaults."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skfocal import (
    BalancedCEClassifier,
    FocalClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
)

# The one check that cannot pass: sample_weight=k is equivalent to repeating a
# row k times in exact arithmetic, and our losses implement exactly that (see
# test_sample_weight_equals_repetition in test_classifier.py), but training
# runs in float32, where summing 15 weighted rows and 30 repeated rows rounds
# differently (relative differences of about 1e-6 after training); the check
# demands 1e-7. MLPClassifier passes it only in float64 with solver="lbfgs".
_FLOAT32_REASON = "float32 training: weighted and repeated sums round differently"
FLOAT32_TRAINING = {
    "check_sample_weight_equivalence_on_dense_data": _FLOAT32_REASON,
    "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_REASON,
}
# calibration="temperature" (the "auto" default of GHM-C, LDAM, asymmetric
# and Poly-1) and threshold="auto" also hold out a stratified
# validation split, drawn from different rows when a row is repeated k times
# than when it is weighted k.
_SPLIT_REASON = (
    f"{_FLOAT32_REASON}; and the validation split of calibration='temperature' "
    "or threshold='auto' is drawn from different rows for repeated rows"
)


def expected_failed_checks(estimator) -> dict[str, str]:
    """The sample-weight checks, with the reason that applies to ``estimator``."""
    splits = estimator._wants_validation_split()
    return {
        check: _SPLIT_REASON if splits else reason
        for check, reason in FLOAT32_TRAINING.items()
    }


@parametrize_with_checks(
    [
        FocalClassifier(),
        BalancedCEClassifier(),
        GHMClassifier(),
        ImbalancedMLPClassifier(),
        *(
            ImbalancedMLPClassifier(loss=loss)
            for loss in ("logit_adjusted", "ldam", "asymmetric", "poly")
        ),
        ImbalancedMLPClassifier(loss="ldam", drw=True, threshold="prior"),
        BalancedCEClassifier(threshold="auto", calibration="temperature"),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

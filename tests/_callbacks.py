"""skorch callbacks shared by the estimator tests."""

from __future__ import annotations

from skorch.callbacks import Callback


class RecordValidationRows(Callback):
    """Keeps the validation split's rows and labels in the history."""

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        net.history.record("valid_X", dataset_valid.features.cpu().numpy())
        net.history.record("valid_y", dataset_valid.target.cpu().numpy())

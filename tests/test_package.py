"""The package namespace: every public name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import skfocal


def test_every_exported_name_resolves():
    missing = [name for name in skfocal.__all__ if not hasattr(skfocal, name)]
    assert missing == []
    assert set(skfocal.__all__) == {*skfocal._HOME, "__version__"}


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NotAClassifier'"):
        skfocal.NotAClassifier  # noqa: B018


def test_import_skfocal_does_not_import_torch():
    code = "import sys, skfocal\nprint('torch' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"

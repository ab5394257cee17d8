"""Smoke test: every script in examples/ runs top to bottom without error.

Each example runs in a fresh interpreter (the one running the tests), from a
temporary directory, with matplotlib's non-interactive Agg backend and one
torch thread, so a test shows exactly what a user running the script gets.
The documentation build executes the same scripts through sphinx-gallery.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
# Each example is meant to take well under a minute; the limit leaves room
# for a loaded machine without letting a hung example block the suite.
TIMEOUT_SECONDS = 180


def test_examples_are_found():
    assert len(EXAMPLES) >= 10, f"expected the example gallery in {EXAMPLES_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        # Small MLPs gain nothing from more threads, and on a shared machine
        # extra threads slow them down.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, (
        f"{example.name} failed with exit code {result.returncode}\n"
        f"--- stdout (last 3000 characters) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (last 3000 characters) ---\n{result.stderr[-3000:]}"
    )
    # An example writes nothing next to the user's files.
    assert not list(tmp_path.iterdir()), sorted(p.name for p in tmp_path.iterdir())

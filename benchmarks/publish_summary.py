"""Regenerate the published benchmark page from its results directory.

``docs/benchmark_summary.md`` has two parts: a hand-written header (the
command, the machine, how long it took) down to the marker line below, and
the report that :func:`skfocal.benchmark.write_report` writes for the run in
``docs/benchmark-default``. This script rewrites the second part and keeps
the first, so the published numbers always come from the committed
``results.csv``:

    .venv/bin/python benchmarks/publish_summary.py

It also rewrites ``docs/benchmark-default/summary.md`` and the PNG plots.
Only datasets with every fold present are reported (an unfinished dataset
would be compared on fewer folds than the others); the header says which
were left out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skfocal.benchmark import write_report
from skfocal.benchmark._store import RESULTS_FILE, read_config, read_results

MARKER = "<!-- Generated below by benchmarks/publish_summary.py; edit above. -->"


def complete_datasets(run: Path) -> tuple[list[str], dict[str, int]]:
    """Datasets of ``run`` with every fold of every method, and the rest."""
    config = read_config(run)
    protocol = config["protocol"]
    expected = len(config["methods"]) * protocol["folds"] * protocol["repeats"]
    counts = read_results(run / RESULTS_FILE).groupby("dataset").size()
    complete, incomplete = [], {}
    for name in config["datasets"]:
        n_rows = int(counts.get(name, 0))
        if n_rows == expected:
            complete.append(name)
        else:
            incomplete[name] = n_rows
    return complete, incomplete


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("docs/benchmark-default"))
    parser.add_argument("--page", type=Path, default=Path("docs/benchmark_summary.md"))
    args = parser.parse_args(argv)

    page = args.page.read_text(encoding="utf-8")
    if MARKER not in page:
        print(f"error: '{args.page}' has no line {MARKER!r}", file=sys.stderr)
        return 2
    header = page.split(MARKER)[0]
    complete, incomplete = complete_datasets(args.run)
    summary = write_report(args.run, datasets=complete).read_text(encoding="utf-8")
    # The page has its own title; its images live in the run's folder.
    body = summary.split("\n", 1)[1].lstrip("\n")
    body = body.replace("](", f"]({args.run.relative_to(args.page.parent)}/")
    body = body.replace(
        "see `critical_difference.png`", "see the critical-difference figure below"
    )
    args.page.write_text(f"{header}{MARKER}\n\n{body}", encoding="utf-8")
    print(f"{args.page}: {len(complete)} complete dataset(s)", file=sys.stderr)
    for name, n_rows in incomplete.items():
        print(f"  left out, incomplete: {name} ({n_rows} rows)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

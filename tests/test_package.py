"""The package namespace: every public name resolves, lazily."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

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


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module an import statement names, function-level ones included."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            targets.add(node.module)
            targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    return targets


PACKAGE = Path(skfocal.__file__).parent
RAW_IMPORTS = {_module_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def _owning_module(target: str) -> str | None:
    """The skfocal module a dotted import target lives in (its longest prefix)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in RAW_IMPORTS:
            return prefix
    return None


MODULES = {
    module: {_owning_module(t) for t in targets} - {None}
    for module, targets in RAW_IMPORTS.items()
}


def test_no_module_imports_in_a_circle():
    # Package __init__ files only re-export; the graph is between modules.
    packages = {"skfocal", "skfocal.losses", "skfocal.benchmark"}
    graph = {
        module: {t for t in targets if t in MODULES and t not in packages}
        for module, targets in MODULES.items()
        if module not in packages
    }
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError on a cycle


def test_only_the_training_layer_imports_skorch():
    importers = sorted(
        module
        for module, targets in RAW_IMPORTS.items()
        if any(t == "skorch" or t.startswith("skorch.") for t in targets)
    )
    assert importers == ["skfocal._net"]


def test_nothing_imports_the_cli():
    # ``python -m skfocal`` is the command itself, not a library import.
    importers = [m for m, targets in MODULES.items() if "skfocal.cli" in targets]
    assert importers == ["skfocal.__main__"]


def test_lower_layers_do_not_import_higher_ones():
    # The network and the losses know nothing of the estimators; the
    # estimators know nothing of the benchmark.
    network = {"skfocal._module", "skfocal._backbone", "skfocal._embeddings"}
    losses = {m for m in MODULES if m.startswith("skfocal.losses")}
    for module in losses:
        assert MODULES[module] <= losses, module
    for module in network:
        assert MODULES[module] <= network | losses, module
    for module, targets in MODULES.items():
        if module.startswith("skfocal.benchmark") or module in (
            "skfocal.cli",
            "skfocal.__main__",
        ):
            continue
        assert not {t for t in targets if t.startswith("skfocal.benchmark")}, module


def _code_lines(path: Path) -> int:
    """Lines that are neither blank, comments nor docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstring_lines = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(
                getattr(first, "value", None), ast.Constant
            ):
                docstring_lines.update(range(first.lineno, first.end_lineno + 1))
    count = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and number not in docstring_lines:
            count += 1
    return count


def test_no_module_is_over_600_lines_of_code():
    sizes = {path.name: _code_lines(path) for path in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}

"""The README's quick start runs as written and learns."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quick_start_runs(capsys):
    text = README.read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", quick_start, flags=re.DOTALL).group(1)
    exec(compile(code, str(README), "exec"), {})
    average_precision = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.9 < average_precision <= 1.0

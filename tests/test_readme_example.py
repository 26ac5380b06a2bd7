"""The README's "Build a model from einsum expressions" example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section_code(heading):
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    match = re.compile(r"```python\n(.*?)```", re.S).search(text, start)
    assert match, f"no python code block after {heading!r}"
    return match.group(1)


def test_build_a_model_example_runs(capsys):
    code = _section_code("## Build a model from einsum expressions")
    assert 'ea.einsum("bi,hi->bh"' in code and "optim." in code
    exec(compile(code, f"{README}:build-a-model", "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out
    assert "accuracy" in out


def test_readme_lists_the_three_runs_and_the_quick_start_command():
    text = README.read_text(encoding="utf-8")
    for task in ("digits", "transformer", "mps"):
        assert f"einsum-ad train {task}" in text
    quick = text[text.index("## Quick start"):text.index("## Using it")]
    commands = re.findall(r"^pip install .*$", quick, re.M)
    assert len(commands) == 2
    assert commands[0].startswith('pip install -e ".[examples]" && einsum-ad train digits')

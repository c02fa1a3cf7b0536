"""The README stays true: every ``$ cgdiff ...`` example prints what the README shows, and
every ``>>>`` example runs as a doctest."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONSOLE = re.compile(r"```console\n\$ (.+?)\n(.*?)```", re.S)


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip("\n")


EXAMPLES = [(m.group(1), m.group(2)) for m in CONSOLE.finditer(README)]


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c[:50] for c, _ in EXAMPLES])
def test_console_example_prints_what_the_readme_shows(command: str, shown: str) -> None:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("COLUMNS", None)
    env["NO_COLOR"] = "1"
    p = subprocess.run(
        ["bash", "-c", f"{{ {command}\n}} 2>&1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert _normal(p.stdout) == _normal(shown)


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 10
    assert 'cgdiff grad "x*y+z" --at x=1,y=2,z=3' in README.split("## A tour")[0]


def test_python_examples_run() -> None:
    parser = doctest.DocTestParser()
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for k, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README[{k}]", "README.md", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test)
        assert runner.failures == 0, block

"""The README stays true: every ``$ cgdiff ...`` example prints what the README shows, and
every ``>>>`` example runs as a doctest."""

from __future__ import annotations

import doctest
import importlib.util
import re

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

# The examples run exactly as tools/readme_examples.py runs them to paste their output.
_spec = importlib.util.spec_from_file_location(
    "readme_examples", ROOT / "tools" / "readme_examples.py"
)
assert _spec is not None and _spec.loader is not None
examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(examples)


# Measured wall times ("; took 0.421 ms") differ from run to run: compared without them.
_TOOK = re.compile(r"; took [0-9.]+ m?s")


def _normal(text: str) -> str:
    text = _TOOK.sub("; took …", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip("\n")


EXAMPLES = [(m.group(1), m.group(2)) for m in examples.CONSOLE.finditer(README)]


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c[:50] for c, _ in EXAMPLES])
def test_console_example_prints_what_the_readme_shows(command: str, shown: str) -> None:
    assert _normal(examples.run(command)) == _normal(shown)


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

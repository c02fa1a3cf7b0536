"""Shared test helpers: run the CLI in-process and capture what it writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cgdiff.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``cli("grad", "x*y", "--at", "x=1,y=2")`` -> Run(code, out, err)."""

    def run(*args: str, stdin: str | None = None) -> Run:
        if stdin is not None:
            import io

            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run

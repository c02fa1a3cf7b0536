"""cgdiff.lalr runs Lark's own tables in a lean driver: every text gets the graph, or the
error, that Lark's parser gives it, and a start with the tables cached never imports Lark.

The oracle is Lark itself (``cgdiff.parse`` with the driver switched off), over the texts
of the test suite and the examples and over random soups of the grammar's pieces.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgdiff.errors import CgdiffError

pp = importlib.import_module("cgdiff.parse")
ROOT = Path(__file__).resolve().parents[1]


def _describe(g: Any) -> tuple[Any, ...]:
    nodes = [
        (n.kind, n.opname, n.args, n.name, repr(n.value), repr(n.params), n.line, n.symbol)
        for n in g.nodes
    ]
    notes = [d.text() for d in g.diagnostics]
    return (nodes, g.output, g.output_name, list(g.assigned), g.inputs, notes)


def _outcome(text: str, fast: bool) -> tuple[Any, ...]:
    """What ``cgdiff.parse`` makes of ``text``, with the driver or with Lark alone."""
    saved = pp._TABLES
    pp._TABLES = None if fast else False
    try:
        return ("graph", _describe(pp.parse(text, base=ROOT / "tests")))
    except CgdiffError as exc:
        return ("error", type(exc).__name__, exc.message, exc.line, exc.column, exc.hint)
    finally:
        pp._TABLES = saved


def _driver_alone(text: str) -> str:
    """Whether the driver itself parses ``text`` (not Lark behind it): ok, reject, error."""
    from cgdiff.lalr import Reject

    tables = pp._tables()
    assert tables is not None
    pp._BUILD.spec = pp._Spec(text, 0, ROOT / "tests")
    try:
        tables.parse(text, pp._BUILD, pp._TOKEN_CALLBACKS)
        return "ok"
    except Reject:
        return "reject"
    except CgdiffError:
        return "error"
    finally:
        pp._BUILD.spec = None


def _lark_alone(text: str) -> str:
    from lark.exceptions import UnexpectedInput

    pp._BUILD.spec = pp._Spec(text, 0, ROOT / "tests")
    try:
        pp._parser().parse(text)
        return "ok"
    except UnexpectedInput:
        return "reject"
    except CgdiffError:
        return "error"
    finally:
        pp._BUILD.spec = None


def _corpus() -> list[str]:
    """Every string constant of the parser's and the arrays' tests, the examples, and
    texts chosen for the lexer's contexts (@ as a file or the matmul, numbers as indices)."""
    texts: set[str] = set()
    for name in ("test_parse.py", "test_arrays.py", "test_arrays_errors.py", "test_diff.py"):
        tree = ast.parse((ROOT / "tests" / name).read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if 0 < len(node.value) < 400:
                    texts.add(node.value)
    for path in sorted((ROOT / "examples").glob("*.cg")):
        texts.add(path.read_text("utf-8"))
    texts.update(
        [
            "X @ W",
            "X@W",
            "A = [[1, 2], [3, 4]]; f = sum(A@A)",
            "X = @data/x.csv; f = sum(X)",
            "x[0] + x[-1]^2 + W[1, -1]",
            "[1, 2, 3][1]",
            "x[+1]",
            "x[1.5]",
            "x[]",
            "2x² + sin(x)³ − √x · ∛y × 3",
            "sin²(x)",
            "x(x + 1) + sine(x)",
            "a = 1\n\n# comment\nb = a * x  # more\n",
            "x\u00a0+\u2009y",
            "f = x ;; ; y",
            "x +",
            "@",
            "x @",
            "½x",
            "1e999",
            "   x   ",
            "x\n",
        ]
    )
    return sorted(texts)


CORPUS = _corpus()


def test_the_corpus_is_big_and_the_driver_parses_it_alone() -> None:
    """The comparison below is not vacuous: the driver itself parses most of the corpus
    (a driver that always fell back to Lark would pass it)."""
    alone = [_driver_alone(t) for t in CORPUS]
    assert len(CORPUS) > 300
    assert alone.count("ok") > 200
    assert alone.count("reject") > 20  # and it refuses what Lark refuses


@pytest.mark.parametrize("text", CORPUS)
def test_driver_gives_what_lark_gives(text: str) -> None:
    assert _driver_alone(text) == _lark_alone(text)
    assert _outcome(text, fast=True) == _outcome(text, fast=False)


PIECES = [
    *"xy(),[]+-*/^=;@2",
    "\n",
    " ",
    "\t",
    "w1",
    "θ",
    "x₁",
    "sin",
    "exp(",
    "sine(",
    "sum(",
    "randn(",
    "**",
    "@W",
    "@data/x.csv",
    "1.5",
    ".5",
    "1e-3",
    "2e",
    "0",
    "-1",
    "²",
    "³",
    "⁻¹",
    "·",
    "×",
    "−",
    "√",
    "∛",
    "\u00a0",
    "# c\n",
    "pi",
    "e",
    "÷",
    "|",
    "½",
    "f = ",
    "[1, 2]",
    "x[0]",
    "W[1, -1]",
    "x(",
]


@pytest.mark.parametrize("text", ["x[sinx(", "x[1, sinx(1)]", "a = 1\nW[0, expx(2)]"])
def test_a_callback_runs_on_a_token_the_state_does_not_take(text: str) -> None:
    # Lark's contextual lexer, finding no token the state takes, reads the root lexer's one
    # (running its callback, which may raise its own error) to say what was unexpected: the
    # driver does the same, so it raises the callback's error instead of rejecting the text.
    assert _driver_alone(text) == _lark_alone(text) == "error"
    assert _outcome(text, fast=True) == _outcome(text, fast=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25))
def test_random_texts_parse_as_lark_parses_them(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _driver_alone(text) == _lark_alone(text)
    assert _outcome(text, fast=True) == _outcome(text, fast=False)


def test_deep_nesting_is_parsed_without_recursion() -> None:
    depth = 100_000
    text = "(" * depth + "x" + ")" * depth + " + 1"
    assert _driver_alone(text) == "ok"
    g = pp.parse(text)
    assert [n.opname for n in g.nodes] == ["input", "const", "add"]


def _run(code: str, cache: Path) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return r.stdout.strip()


PROBE = (
    "import sys, cgdiff; g = cgdiff.parse('x*y + sin(z)'); "
    "print(len(g.nodes), 'lark' in sys.modules)"
)


def test_a_start_with_the_tables_cached_does_not_import_lark(tmp_path: Path) -> None:
    first = _run(PROBE, tmp_path)  # builds the tables with Lark, and keeps them
    assert first == "6 True"
    kept = list((tmp_path / "cgdiff").glob("tables-*.marshal"))
    assert len(kept) == 1
    assert _run(PROBE, tmp_path) == "6 False"
    # an error is Lark's to describe: it is imported then
    code = (
        "import sys, cgdiff\ntry:\n    cgdiff.parse('x +')\nexcept Exception as e:\n"
        "    print(e.message, 'lark' in sys.modules)"
    )
    assert _run(code, tmp_path) == "unexpected end of input at line 1, column 4 True"


def test_a_damaged_cache_is_made_again(tmp_path: Path) -> None:
    _run(PROBE, tmp_path)
    (kept,) = (tmp_path / "cgdiff").glob("tables-*.marshal")
    kept.write_bytes(b"\x00not marshal data")
    assert _run(PROBE, tmp_path) == "6 True"  # rebuilt, with Lark
    assert _run(PROBE, tmp_path) == "6 False"  # and kept again
    kept.write_bytes(kept.read_bytes()[:100])  # cut short
    assert _run(PROBE, tmp_path) == "6 True"
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit changed: marshal might read it, the checksum not
    kept.write_bytes(bytes(data))
    assert _run(PROBE, tmp_path) == "6 True"
    assert _run(PROBE, tmp_path) == "6 False"


def test_no_writable_cache_still_parses(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")  # so <cache>/cgdiff cannot be made
    assert _run(PROBE, blocked) == "6 True"


LEAVES = ["x", "y", "w1", "θ", "2", "1.5", ".5", "1e-3", "pi", "x²", "x⁻¹", "[1, 2]", "[x, 2y]"]
LEAVES += ["x[0]", "W[1, -1]", "@data/x.csv"]
BINARY = [" + ", "-", " * ", "/", "^", "**", " @ ", "@", "·", " − ", " ", ""]


def _expressions() -> st.SearchStrategy[str]:
    """Texts mostly in the language: a parse, not an error, is what most of them test."""

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINARY), inner).map("".join),
            inner.map(lambda a: f"({a})"),
            st.tuples(st.sampled_from(["-", "+", "√", "−"]), inner).map("".join),
            st.tuples(st.sampled_from(["sin", "exp", "sum", "max", "sine", "x"]), inner).map(
                lambda p: f"{p[0]}({p[1]})"
            ),
            inner.map(lambda a: f"({a})²"),
        )

    return st.recursive(st.sampled_from(LEAVES), grow, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.booleans(), _expressions()), min_size=1, max_size=4),
    st.sampled_from(["\n", "; ", ";\n\n# note\n"]),
)
def test_random_specs_parse_as_lark_parses_them(lines: list[tuple[bool, str]], sep: str) -> None:
    text = sep.join(f"v{k} = {e}" if named else e for k, (named, e) in enumerate(lines))
    assert _driver_alone(text) == _lark_alone(text)
    assert _outcome(text, fast=True) == _outcome(text, fast=False)

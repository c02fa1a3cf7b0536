"""The command line as scripts and people use it: exit codes, messages, formats."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES


def test_main_command_json(cli) -> None:
    r = cli("grad", "x*y+z", "--at", "x=1,y=2,z=3", "--format", "json")
    assert r.code == 0 and r.err == ""
    data = json.loads(r.out)
    assert data["output"] == "f"
    assert data["point"] == {"x": 1.0, "y": 2.0, "z": 3.0}
    assert data["value"] == 5.0
    assert data["gradient"] == {"x": 2.0, "y": 1.0, "z": 1.0}
    assert {
        k: data["steps"][k] for k in ("nodes", "inputs", "forward", "backward", "forward_mode")
    } == {"nodes": 2, "inputs": 3, "forward": 2, "backward": 5, "forward_mode": 6}


def test_main_command_table(cli) -> None:
    r = cli("grad", "x*y+z", "--at", "x=1,y=2,z=3")
    assert r.code == 0
    for text in ("t1", "mul", "∂t1/∂x = 2", "∂f/∂x = 2", "forward mode", "n × p = 2 × 3"):
        assert text in r.out


def test_seed_lecture_table_and_explain(cli) -> None:
    spec = str(EXAMPLES / "seed_lecture.cg")
    r = cli("graph", "@" + spec)
    assert r.code == 0
    rows = {
        line.split()[0]: line.split()
        for line in r.out.splitlines()
        if line.split() and line.split()[0] in {"u", "v", "J", "a", "b", "c"}
    }
    # node, op, inputs..., value, local derivatives..., adjoint
    expected = {
        "u": ("6", "3"),
        "v": ("11", "3"),
        "J": ("33", "1"),
        "a": ("5", "3"),
        "b": ("3", "6"),
        "c": ("2", "9"),
    }
    for name, (value, adjoint) in expected.items():
        assert value in rows[name] and rows[name][-1] == adjoint, rows[name]
    e = cli("grad", "@" + spec, "--explain")
    assert e.code == 0
    assert "∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6" in e.out
    assert "u = b * c = 3 · 2 = 6" in e.out


def test_explain_accumulates_where_a_node_feeds_several(cli) -> None:
    r = cli("grad", "b = a + a; c = b*b", "--at", "a=1", "--explain")
    assert "∂c/∂b += " in r.out or "∂c/∂a += " in r.out
    assert "so ∂c/∂a = 8" in r.out


def test_explain_with_wrt_narrates_only_the_steps_it_counts(cli) -> None:
    # --wrt y: the pass counts n + 1 steps, and said ∂f/∂x too (twice, accumulating)
    r = cli("grad", "x*y + sin(x)", "--at", "x=1,y=2", "--wrt", "y", "--explain")
    backward = r.out.split("Backward pass (", 1)[1].split("\n\n", 1)[0].splitlines()
    assert backward[0].startswith("4 steps")
    assert len(backward) - 1 == 4 and "∂f/∂x" not in r.out.split("Gradient:")[0]
    assert "  ∂f/∂y = ∂f/∂t1 · ∂t1/∂y = 1 · 1 = 1" in backward
    r = cli("grad", "x*y + sin(x)", "--at", "x=1,y=2", "--explain")
    assert "so ∂f/∂x = 2.5403" in r.out


def test_several_points_one_row_each(cli) -> None:
    r = cli("grad", "x^2 y", "--at", "x=1,y=2", "--at", "x=3,y=1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [float(row["value"]) for row in rows] == [2.0, 9.0]
    assert [float(row["grad.x"]) for row in rows] == [4.0, 6.0]
    j = json.loads(
        cli("eval", "x^2 y", "--at", "x=1,y=2", "--at", "x=3,y=1", "--format", "json").out
    )
    assert j["points"] == {"x": [1.0, 3.0], "y": [2.0, 1.0]} and j["value"] == [2.0, 9.0]


def test_points_csv(cli, tmp_path: Path) -> None:
    f = tmp_path / "pts.csv"
    f.write_text("x,y\n1,2\n2,pi\n\n3,-1\n")
    r = cli("eval", "x*y", "--points", str(f), "--format", "tsv")
    lines = r.out.strip().split("\n")
    assert lines[0] == "x\ty\tvalue"
    assert [float(line.split("\t")[2]) for line in lines[1:]] == pytest.approx(
        [2.0, 2 * math.pi, -3.0]
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2,3\n")
    r = cli("eval", "x*y", "--points", str(bad))
    assert r.code == 2 and "line 2" in r.err


def test_stdin_and_file(cli, tmp_path: Path) -> None:
    assert (
        json.loads(cli("eval", "-", "--at", "x=2", "--format", "json", stdin="y = x^2\n").out)[
            "value"
        ]
        == 4.0
    )
    r = cli("eval", "@" + str(tmp_path / "missing.cg"))
    assert r.code == 2 and r.err.startswith("error: cannot read")


def test_output_and_wrt(cli) -> None:
    spec = "@" + str(EXAMPLES / "linear.cg")
    r = json.loads(cli("grad", spec, "--output", "a", "--wrt", "w,b", "--format", "json").out)
    assert r["output"] == "a" and r["gradient"] == {"w": -2.0, "b": 1.0}


def test_modes(cli) -> None:
    spec = "@" + str(EXAMPLES / "sigmoid_neuron.cg")
    rev = json.loads(cli("grad", spec, "--format", "json").out)
    fwd = json.loads(cli("grad", spec, "--mode", "forward", "--format", "json").out)
    num = json.loads(cli("grad", spec, "--mode", "numeric", "--format", "json").out)
    for k, v in rev["gradient"].items():
        assert fwd["gradient"][k] == pytest.approx(v, rel=1e-12)
        assert num["numeric"][k] == pytest.approx(v, rel=1e-6)
        assert num["difference"][k] < 1e-8
    assert fwd["steps"]["forward_mode"] == fwd["steps"]["nodes"] * fwd["steps"]["inputs"]
    table = cli("grad", spec, "--mode", "numeric").out
    assert "central differences" in table and "|difference|" in table


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["grad", "x*(y+)z"], 2, "error: unexpected ')' at line 1, column 6\n  x*(y+)z\n       ^"),
        (["grad", "sine(x)", "--at", "x=1"], 2, "did you mean 'sin'?"),
        (["grad", "x*y", "--at", "x=1"], 2, "no value for input 'y'"),
        (["grad", "x*y", "--at", "x=1,y=2,q=3"], 2, "'q' is not an input"),
        (["grad", "x*y", "--at", "x=1,yy=2"], 2, "did you mean 'y'?"),
        (["grad", "x", "--at", "e=3"], 2, "'e' is a constant"),
        (["grad", "x", "--mode", "sideways"], 2, "error:"),
        (["grad", "x", "--bogus"], 2, "error:"),
        (["eval", "log(x)", "--at", "x=-1"], 3, "log(x) is undefined at x=-1"),
        (["eval", "1/x", "--at", "x=0"], 3, "undefined"),
        (["eval", "sqrt(-1)"], 3, "undefined"),
        (["eval", "asin(2)"], 3, "undefined"),
        (["grad", "a = 1\na = 2"], 2, "assigned twice, on line 1 and line 2"),
    ],
)
def test_errors_one_line_with_exit_code(cli, args, code, message) -> None:
    r = cli(*args)
    assert r.code == code
    assert r.out == ""
    assert r.err.startswith("error:")
    assert message in r.err
    assert "Traceback" not in r.err
    # One line, or, for an error at a place in the text, that line with a caret under it.
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 1 or (len(lines) == 3 and "column" in lines[0] and lines[2].strip() == "^")


def test_warning_keeps_json_valid(cli) -> None:
    r = cli("grad", "sqrt(x) + abs(y)", "--at", "x=0,y=0", "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)  # RFC 8259: json.loads would accept NaN; check the text too
    assert data["gradient"]["x"] == "inf" and "Infinity" not in r.out
    assert r.err.count("warning:") == 2 and "sub-gradient" in r.err


def test_overflow_is_inf_with_a_warning(cli) -> None:
    r = cli("eval", "exp(x)", "--at", "x=1000", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["value"] == "inf"
    assert "overflows" in r.err


def test_graph_formats(cli) -> None:
    spec = "@" + str(EXAMPLES / "xyz.cg")
    data = json.loads(cli("graph", spec, "--format", "json").out)
    assert [n["name"] for n in data["nodes"]] == ["x", "y", "z", "q", "f"]
    q = data["nodes"][3]
    assert q == {
        "name": "q",
        "op": "add",
        "inputs": ["x", "y"],
        "value": 3.0,
        "local": {"x": 1.0, "y": 1.0},
        "adjoint": -4.0,
    }
    dot = cli("graph", spec, "--format", "dot").out
    assert dot.startswith("digraph cgdiff {") and dot.count("->") == 4
    mermaid = cli("graph", spec, "--format", "mermaid").out
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->") == 4
    tree = cli("graph", spec, "--format", "tree").out
    assert "f = q * z" in tree and "q = x + y" in tree
    structure = cli("graph", "a*b + c")
    assert structure.code == 0 and "a * b" in structure.out


def test_ops_lists_every_op(cli) -> None:
    from cgdiff.ops import OPS

    data = json.loads(cli("ops", "--format", "json").out)
    assert {row["name"] for row in data} == {k for k, op in OPS.items() if not op.internal}
    assert all(row["summary"] and row["derivative"] for row in data)
    assert "softplus" in cli("ops").out


def test_version_and_help(cli) -> None:
    from cgdiff import __version__

    assert cli("--version").out.strip() == f"cgdiff {__version__}"
    for command in ("eval", "grad", "graph", "ops", "diff", "hessian", "check"):
        r = cli(command, "--help")
        assert r.code == 0 and "Usage" in r.out


def test_user_text_is_not_rich_markup(cli) -> None:
    r = cli("graph", "a = 1; b = a*2", "--output", "b")
    assert r.code == 0
    r = cli("grad", "x*y", "--at", "x=1,y=[bold]")
    assert r.code == 2 and "error:" in r.err


def test_internal_errors_exit_70(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import cgdiff.evaluate

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cgdiff.evaluate, "evaluate", broken)
    r = cli("eval", "x", "--at", "x=1")
    assert r.code == 70
    assert r.err.startswith("error: internal error") and "report" in r.err
    assert "Traceback" not in r.err


def test_no_color_and_real_process() -> None:
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", "grad", "x*y+z", "--at", "x=1,y=2,z=3"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert p.returncode == 0 and "\x1b[" not in p.stdout
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", "eval", "log(0-x)", "--at", "x=1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 3 and p.stderr.startswith("error:") and p.stdout == ""


def test_every_example_runs(cli) -> None:
    examples = sorted(EXAMPLES.glob("*.cg"))
    assert len(examples) >= 5
    for path in examples:
        for args in (
            ["grad", f"@{path}", "--format", "json"],
            ["graph", f"@{path}"],
            ["grad", f"@{path}", "--explain"],
        ):
            r = cli(*args)
            assert r.code == 0, (path, args, r.err)


# -- found by trying it as a new user ------------------------------------------------------


def test_expressions_may_start_with_a_minus(cli) -> None:
    for expr, value in (("-x^2", -9.0), ("-1 + 0x", -1.0), ("-(x)", -3.0)):
        r = cli("eval", expr, "--at", "x=3", "--format", "json")
        assert r.code == 0, r.err
        assert json.loads(r.out)["value"] == value
    r = cli("eval", "--at", "x=3", "-x^2", "--format", "json")
    assert json.loads(r.out)["value"] == -9.0


def test_no_color_and_debug_anywhere(cli) -> None:
    assert cli("grad", "x", "--at", "x=1", "--no-color").code == 0
    assert cli("--no-color", "grad", "x", "--at", "x=1").code == 0
    r = cli("eval", "log(x)", "--at", "x=-1", "--debug")
    assert r.code == 3 and "Traceback" in r.err


def test_number_next_to_number_is_a_syntax_error(cli) -> None:
    for expr in ("2 3", "2..3", "1.5.5", "x 2"):
        r = cli("eval", expr, "--at", "x=1")
        assert r.code == 2 and "unexpected" in r.err, expr


def test_graph_with_a_partial_point_is_an_error(cli) -> None:
    r = cli("graph", "x*y+z", "--at", "x=1", "--format", "json")
    assert r.code == 2 and "no value for inputs 'y', 'z'" in r.err


def test_explain_with_json_is_an_error(cli) -> None:
    r = cli("grad", "x*y", "--at", "x=1,y=2", "--explain", "--format", "json")
    assert r.code == 2 and r.out == ""


def test_numeric_mode_next_to_the_edge_of_the_domain(cli) -> None:
    r = cli("grad", "sqrt(x)", "--at", "x=0", "--mode", "numeric", "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)
    assert data["gradient"]["x"] == "inf" and data["numeric"]["x"] == "nan"
    assert "step outside the domain" in r.err


def test_points_csv_with_a_bom_a_repeated_column_or_no_rows(cli, tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffx,y\n1,2\n3,4\n".encode())
    assert json.loads(cli("eval", "x*y", "--points", str(bom), "--format", "json").out)[
        "value"
    ] == [2.0, 12.0]
    twice = tmp_path / "twice.csv"
    twice.write_text("x,x\n1,2\n")
    assert "appears twice" in cli("eval", "x", "--points", str(twice)).err
    empty = tmp_path / "empty.csv"
    empty.write_text("x,y\n")
    assert "no points" in cli("eval", "x*y", "--points", str(empty)).err


def test_closed_streams_are_not_bugs(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "cgdiff"]
    p = subprocess.run(
        [*run, "eval", "-"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    assert p.returncode == 2  # nothing to read is an empty expression
    p = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m cgdiff eval x --at x=1 >&-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr
    if Path("/dev/full").exists():
        p = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m cgdiff eval x --at x=1 --format json > /dev/full"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert p.returncode == 2 and p.stderr.startswith("error: cannot write")


def test_a_closed_stderr_or_a_closed_pipe_keeps_the_result_and_its_exit_code() -> None:
    run = f"{sys.executable} -m cgdiff"
    homework = EXAMPLES / "homework"

    def sh(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, check=False, cwd=homework
        )

    # stderr closed: the warning goes nowhere; the JSON and exit 0 (then 3) stay as they are
    p = sh(f'{run} grad "sqrt(x)" --at x=0 --format json 2>&-')
    assert p.returncode == 0 and json.loads(p.stdout)["gradient"] == {"x": "inf"}
    assert sh(f'{run} eval "1/x" --at x=0 2>&-').returncode == 3
    # a reader that stops early: the exit code is still the verdict (SPEC section 7's 1, "an
    # answer was wrong", for this class), and no traceback or message; Typer made it 1, and
    # cgdiff 0, whatever the answers
    lines = (homework / "submissions.csv").read_text(encoding="utf-8").splitlines()
    ann = [line for line in lines if line.startswith("ann,")]
    with tempfile.TemporaryDirectory() as tmp:
        for wrong in (False, True):  # 400 students, all right; then one more, wrong
            rows = [line.replace("ann,", f"s{k},", 1) for k in range(400) for line in ann]
            rows += [line for line in lines if line.startswith("bob,")] if wrong else []
            answers = Path(tmp) / "class.csv"
            answers.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
            for fmt in ("junit", "json", "table"):
                p = sh(
                    f"{run} check key.toml --answers {answers} --format {fmt} | head -c 1 "
                    ">/dev/null; exit ${PIPESTATUS[0]}"
                )
                assert p.returncode == int(wrong) and p.stderr == "", (fmt, p.stderr)
    p = sh(
        f"{run} grad x*y --at x=1,y=2 --format json | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}"
    )
    assert p.returncode == 0 and p.stderr == ""


@pytest.mark.parametrize("width", [120, 70, 60, 44, 40, 30])
def test_a_narrow_terminal_gets_every_number_of_the_tables_whole(width: int) -> None:
    # At 20-40 columns the node and points tables cut their numbers to "1.…"; narrower than
    # its cells, a table is written as lines, one per row.
    from rich.console import Console

    import cgdiff
    from cgdiff.report import fmt_number, render_grad

    g = cgdiff.parse("x*y + sin(x)")
    one = g.grad({"x": 1.23456, "y": 2.34567})
    many = g.grad(cgdiff.Batch({"x": np.array([1.23456, 3.5]), "y": np.array([2.34567, 4.25])}))
    console = Console(width=width, no_color=True)
    for r in (one, many):
        with console.capture() as out:
            console.print(render_grad(r))
        lines = out.get().splitlines()
        assert max(len(line) for line in lines) <= width
        words = " ".join(lines).replace(",", " ").split()
        assert "…" not in "".join(lines)  # no number, op or header cut short
        values = np.atleast_1d(r.value).tolist() + [
            v for k in ("x", "y") for v in np.atleast_1d(r.gradient[k]).tolist()
        ]
        for v in values:
            assert fmt_number(v) in words, (v, lines)


def test_an_input_called_value_has_a_column_of_its_own_in_csv(cli, tmp_path: Path) -> None:
    r = cli("grad", "value*2 + y", "--at", "value=3,y=1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert rows == [{"input.value": "3", "y": "1", "value": "7", "grad.value": "2", "grad.y": "1"}]
    points = tmp_path / "p.csv"
    points.write_text("value\n3\n4\n")
    r = cli("eval", "value*2", "--points", str(points), "--format", "tsv")
    assert r.out.splitlines() == ["input.value\tvalue", "3\t6", "4\t8"]
    r = cli("eval", "sum(value)", "--at", "value=[1,2]", "--format", "csv")
    assert r.out.splitlines() == ["name,value", "input.value[0],1", "input.value[1],2", "value,3"]


def test_bare_command_prints_help(cli) -> None:
    r = cli()
    assert r.code == 0 and "Usage" in r.out and r.err == ""


def test_deep_tree_is_drawn_whole(cli) -> None:
    spec = "a0 = x\n" + "\n".join(f"a{i} = a{i - 1} + x" for i in range(1, 40))
    r = cli("graph", spec, "--at", "x=1", "--format", "tree")
    assert r.code == 0
    for i in range(40):
        assert f"a{i}" in r.out
    assert all(len(line) < 400 for line in r.out.splitlines())


def test_binary_and_control_characters_are_named(cli, tmp_path: Path) -> None:
    """A NUL or an escape character is named (it used to read "unexpected ' '"), the
    caret line shows it as one visible character, and bytes that are not UTF-8 are said to
    be so, from a file, a data file, a --points file and standard input alike."""
    r = cli("eval", "x\x00y", "--at", "x=1,y=2")
    lines = r.err.splitlines()
    assert r.code == 2 and len(lines) == 3
    assert lines[0].startswith("error: the control character U+0000 is not part of")
    assert "column 2" in lines[0]
    assert lines[1] == "  x\ufffdy" and lines[2] == "   ^"
    r = cli("eval", "x+\x1b[31m", "--at", "x=1")
    assert r.code == 2 and "U+001B" in r.err and "\x1b" not in r.err
    # an argument holding a byte that is not UTF-8 arrives as a lone surrogate
    r = cli("eval", "x+" + b"\xff".decode("utf-8", "surrogateescape"), "--at", "x=1")
    assert r.code == 2 and r.err.startswith("error: the byte 0xFF is not UTF-8 text")
    assert "\udcff" not in r.err
    blob = tmp_path / "blob.cg"
    blob.write_bytes(b"x+\xff\xfe")
    data = tmp_path / "d.csv"
    data.write_bytes(b"1,2\n\xff,3\n")
    points = tmp_path / "p.csv"
    points.write_bytes(b"x\n1\n\xff\n")
    for args in (
        ("eval", "@" + str(blob)),
        ("eval", "sum(X)", "--at", f"X=@{data}"),
        ("grad", "x^2", "--points", str(points)),
    ):
        r = cli(*args)
        assert r.code == 2 and r.out == "", args
        assert r.err.startswith("error: cannot read '"), args
        assert r.err.strip().endswith(
            "not UTF-8 text (the byte 0xFF cannot be read); save it as UTF-8"
        )
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", "eval", "-", "--at", "x=1"],
        input=b"x+\xff",
        capture_output=True,
        check=False,
    )
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode() == (
        "error: cannot read standard input: not UTF-8 text (the byte 0xFF cannot be read); "
        "save it as UTF-8\n"
    )
    # a byte-order mark at the start of standard input is dropped, as for a file
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", "eval", "-", "--at", "x=1", "--format", "json"],
        input="\ufeffx+1".encode(),
        capture_output=True,
        check=False,
    )
    assert p.returncode == 0 and json.loads(p.stdout)["value"] == 2.0
    # Windows and old Mac line ends read as a text file's do: the error is on line 2, at
    # its end, and no \r reaches the message
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", "eval", "-"],
        input=b"x = 1\r\ny = x*2 +\r\n",
        capture_output=True,
        check=False,
    )
    assert p.returncode == 2 and "line 2, column 10" in p.stderr.decode(), p.stderr
    assert b"\r" not in p.stderr and "\ufffd" not in p.stderr.decode()
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", "eval", "-", "--format", "json"],
        input=b"x = 1\ry = x*2\r",
        capture_output=True,
        check=False,
    )
    assert p.returncode == 0 and json.loads(p.stdout)["value"] == 2.0


def test_output_file_through_a_symlink_and_to_a_fifo(cli, tmp_path: Path) -> None:
    """-o writes through a symlink (the link stays a link) and into a FIFO as it is: the
    temporary file and rename are for regular files only (they replaced /dev/stdout)."""
    target = tmp_path / "target.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    r = cli("eval", "x", "--at", "x=1", "--format", "json", "-o", str(link))
    assert r.code == 0 and r.out == ""
    assert link.is_symlink() and json.loads(target.read_text())["value"] == 1.0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    r = cli("eval", "x", "--at", "x=2", "--format", "json", "-o", str(fifo))
    got, _ = reader.communicate(timeout=20)
    assert r.code == 0 and json.loads(got)["value"] == 2.0
    assert not fifo.is_file() and fifo.exists()


# -- reads are bounded: /dev/zero and binaries are refused, not read until memory runs out --


def _refused(args: list[str], stdin: object = subprocess.DEVNULL) -> subprocess.CompletedProcess:
    p = subprocess.run(
        [sys.executable, "-m", "cgdiff", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,  # NB: before the bound these ran until the machine killed them
    )
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1
    return p


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_endless_inputs_are_refused(tmp_path: Path) -> None:
    assert "larger than 32,000,000 bytes" in _refused(["eval", "@/dev/zero"]).stderr
    with open("/dev/zero", "rb") as zero:
        p = _refused(["eval", "-"], stdin=zero)
    assert "cannot read standard input: it is larger than" in p.stderr
    assert "CGDIFF_MAX_TOKENS" in p.stderr
    assert "the most a key may be" in _refused(["check", "/dev/zero"]).stderr
    key = tmp_path / "k.toml"
    key.write_text('[[problem]]\nexpr = "x"\nat = { x = 1 }\nexpect.value = 1\n')
    p = _refused(["check", str(key), "--answers", "/dev/zero"])
    assert "/dev/zero: line 1 is longer than 16,777,216 characters" in p.stderr
    p = _refused(["grad", "x", "--points", "/dev/zero"])
    assert "/dev/zero: line 1 is longer than" in p.stderr


def test_the_byte_bound_follows_the_token_limit(cli, tmp_path: Path, monkeypatch) -> None:
    spec = tmp_path / "s.cg"
    spec.write_text("x + 1  " + " " * 700 + "\n")  # 2 tokens, but 708 bytes
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "10")  # 640 bytes
    r = cli("eval", f"@{spec}", "--at", "x=1")
    assert r.code == 2 and "larger than 640 bytes" in r.err
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "20")  # 1,280 bytes
    r = cli("eval", f"@{spec}", "--at", "x=1", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["value"] == 2

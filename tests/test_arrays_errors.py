"""Hostile array input (issue 7, section 4), through the CLI: each gets exit code 2 and one
``error:`` line that names the node, the shapes and the spec line; never a traceback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest


def error_line(run) -> str:
    """The first line of stderr, checked to be an ``error:`` of bad input (exit 2)."""
    assert run.code == 2, (run.code, run.err)
    assert "Traceback" not in run.err
    assert run.out == ""  # nothing half-written
    first = run.err.splitlines()[0]
    assert first.startswith("error: "), run.err
    return first


def spec_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "model.cg"
    path.write_text(text)
    return f"@{path}"


# -- shapes that do not fit ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["eval", "grad", "graph"])
def test_a_broadcast_mismatch_names_node_shapes_and_line(cli, tmp_path: Path, command: str) -> None:
    spec = spec_file(tmp_path, "a = [1, 2]\nb = [1, 2, 3]\nc = a + b\nf = sum(c)\n")
    line = error_line(cli(command, spec))
    assert "c = a + b" in line and "(line 3)" in line
    assert "shapes 2 and 3" in line


def test_a_broadcast_mismatch_of_two_literals(cli) -> None:
    line = error_line(cli("grad", "sum([1,2] + [1,2,3])"))
    assert "[1, 2] + [1, 2, 3]" in line and "shapes 2 and 3" in line and "line 1" in line


def test_a_broadcast_mismatch_known_only_at_the_point(cli) -> None:
    line = error_line(cli("grad", "x = [1, 2]\nf = sum(x * w)", "--at", "w=[[1, 2, 3]]"))
    assert "x * w" in line and "shapes 2 and 1×3" in line and "(line 2)" in line


@pytest.mark.parametrize(
    ("spec", "at", "shapes"),
    [
        ("A = [[1, 2], [3, 4]]\nB = [[1, 2, 3]]\nf = sum(A @ B)", None, "2×2 and 1×3"),
        ("f = sum(W @ x)", "W=[[1,2]],x=[1,2,3]", "1×2 and 3"),
        ("f = x @ y", "x=[1,2],y=[1,2,3]", "2 and 3"),
    ],
)
def test_matmul_with_wrong_inner_dimensions(cli, tmp_path: Path, spec, at, shapes) -> None:
    args = ["grad", spec_file(tmp_path, spec)] + (["--at", at] if at else [])
    line = error_line(cli(*args))
    assert "@" in line and shapes in line and "a matrix product needs" in line
    assert f"(line {spec.count(chr(10)) + 1})" in line


def test_matmul_of_a_scalar_says_to_use_star(cli) -> None:
    line = error_line(cli("eval", "sum([1, 2] @ 3)"))
    assert "use *" in line


@pytest.mark.parametrize("axis", [2, -3, 5])
def test_an_axis_out_of_range(cli, tmp_path: Path, axis: int) -> None:
    spec = spec_file(tmp_path, f"X = [[1, 2], [3, 4]]\nf = sum(sum(X, {axis}))\n")
    line = error_line(cli("grad", spec))
    assert f"axis {axis} is out of range" in line and "2×2" in line and "(line 2)" in line


@pytest.mark.parametrize("spec", ["sum(x, 1.5)", "mean(x, y)", "softmax(x, 0.5)"])
def test_a_non_integer_axis(cli, spec: str) -> None:
    line = error_line(cli("grad", spec, "--at", "x=[1,2],y=0"))
    assert "axis must be a whole number" in line and "line 1" in line


@pytest.mark.parametrize("spec", ["x[1.5]", "x[i]", "x[]", "x[0, 0.5]"])
def test_a_non_integer_index(cli, spec: str) -> None:
    line = error_line(cli("eval", spec, "--at", "x=[1,2],i=0"))
    assert "an index must be a whole number" in line and "line 1" in line


@pytest.mark.parametrize(
    ("spec", "what"),
    [
        ("x = [1, 2]\nf = x[2]", "index [2] is out of range for x of shape 2"),
        ("x = [1, 2]\nf = x[-3]", "index [-3] is out of range for x of shape 2"),
        ("W = [[1, 2], [3, 4]]\nf = W[0, 2]", "index [0, 2] is out of range for W of shape 2×2"),
        ("x = [1, 2]\nf = x[0, 1]", "2 indices [0, 1] for x of shape 2, which has 1 axis"),
    ],
)
def test_an_index_out_of_range(cli, tmp_path: Path, spec: str, what: str) -> None:
    line = error_line(cli("eval", spec_file(tmp_path, spec)))
    assert what in line and "(line 2)" in line


def test_an_index_out_of_range_of_an_input_given_at_the_point(cli) -> None:
    line = error_line(cli("grad", "v[3]", "--at", "v=[1,2,3]"))
    assert "index [3] is out of range for v of shape 3" in line


@pytest.mark.parametrize(
    ("spec", "shapes"),
    [
        ("v = [[1, 2], [3]]\nf = sum(v)", "shapes 2 and 1"),
        ("x = 1\nv = [x, [1, 2]]\nf = sum(v)", "shapes scalar and 2"),
    ],
)
def test_a_ragged_literal(cli, tmp_path: Path, spec: str, shapes: str) -> None:
    line = error_line(cli("grad", spec_file(tmp_path, spec)))
    assert "ragged array literal" in line and shapes in line and "v = [" in line
    assert f"(line {spec.count(chr(10))})" in line


# -- data files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", b"", "holds no numbers"),
        ("blank.txt", b"\n\n  \n", "holds no numbers"),
        ("ragged.csv", b"1,2\n3\n", "not a rectangular table"),
        ("words.csv", b"1,a\n2,3\n", "not a rectangular table"),
        ("garbage.csv", bytes(range(256)) * 4, "not UTF-8 text (the byte 0x80 cannot be read)"),
        ("garbage.npy", np.random.default_rng(0).bytes(64), "not an array saved by numpy"),
        ("data.json", b"[1, 2]", "numbers are read from .csv, .txt or .npy"),
    ],
    ids=lambda v: v if isinstance(v, str) and "." in v else "",
)
@pytest.mark.parametrize("how", ["spec", "at"])
def test_a_bad_data_file(cli, tmp_path: Path, monkeypatch, name, content, what, how) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    monkeypatch.chdir(tmp_path)  # --at @file is relative to the current folder
    if how == "spec":
        run = cli("grad", spec_file(tmp_path, f"w = 2\nX = @{name}\nf = sum(w * X)\n"))
    else:
        run = cli("grad", "sum(w * X)", "--at", f"w=2,X=@{name}", "--wrt", "w")
    line = error_line(run)
    assert name in line and what in line, line
    if how == "spec":
        assert "line 2" in line


@pytest.mark.parametrize("how", ["spec", "at"])
def test_nan_and_inf_in_a_data_file_give_a_warning(cli, tmp_path: Path, monkeypatch, how) -> None:
    (tmp_path / "x.csv").write_text("1,nan\ninf,2\n")
    monkeypatch.chdir(tmp_path)
    if how == "spec":
        run = cli("grad", spec_file(tmp_path, "X = @x.csv\nf = sum(w * X)\n"), "--at", "w=2")
    else:
        run = cli("grad", "sum(w * X)", "--at", "w=2,X=@x.csv", "--format", "json")
    assert run.code == 0, run.err
    assert "2 entries" in run.err and "NaN or infinite" in run.err
    assert run.err.startswith("warning:")


def test_a_data_file_is_read_relative_to_the_spec(cli, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    np.savetxt(tmp_path / "d" / "x.csv", [[1.0, 2.0], [3.0, 4.0]], delimiter=",")
    np.save(tmp_path / "d" / "w.npy", np.array([0.5, -1.0]))
    spec = spec_file(tmp_path, "X = @d/x.csv\nw = @d/w.npy\nf = sum(X @ w)\n")
    run = cli("grad", spec, "--format", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["value"] == pytest.approx(0.5 * (1 + 3) - 1 * (2 + 4))
    assert data["gradient"] == {}  # data read from files: no gradient unless asked
    data = json.loads(cli("grad", spec, "--format", "json", "--wrt", "w").out)
    assert data["gradient"] == {"w": [4.0, 6.0]}


# -- points, sizes, outputs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "points"),
    [
        ("sum(2*x)", ["x=[1,2]", "x=[3,4]"]),
        ("x*y", ["x=[1,2],y=1", "x=3,y=2"]),
        ("x*y", ["x=3,y=2", "x=[1,2],y=1"]),
    ],
)
@pytest.mark.parametrize("command", ["eval", "grad"])
def test_an_array_input_given_several_points(cli, command: str, spec: str, points) -> None:
    args = [command, spec]
    for p in points:
        args += ["--at", p]
    line = error_line(cli(*args))
    assert "one point" in line


def test_a_huge_array_is_refused_before_it_is_allocated(cli) -> None:
    start = time.perf_counter()
    line = error_line(cli("grad", "sum(randn(100000, 100000))"))
    assert time.perf_counter() - start < 30  # not 80 GB of work (a loose bound, not a benchmark)
    assert "randn(100000, 100000)" in line
    assert "10,000,000,000 entries" in line and "80.0 GB" in line


@pytest.mark.parametrize("ctor", ["zeros", "ones"])
def test_huge_zeros_and_ones_too(cli, ctor: str) -> None:
    line = error_line(cli("eval", f"sum({ctor}(50000, 50000, 10))"))
    assert "25,000,000,000 entries" in line


def test_a_negative_shape(cli) -> None:
    line = error_line(cli("eval", "sum(zeros(2, -1))"))
    assert "negative" in line


@pytest.mark.parametrize(
    ("spec", "at"),
    [("x * [1, 2]", "x=1"), ("x*y", "x=[1,2],y=3"), ("W @ v", "W=[[1,2],[3,4]],v=[1,1]")],
)
def test_grad_of_an_output_that_is_not_one_number(cli, spec: str, at: str) -> None:
    line = error_line(cli("grad", spec, "--at", at))
    assert "has shape 2" in line and "needs one number" in line and "sum(f)" in line


def test_forward_and_numeric_mode_refuse_it_too(cli) -> None:
    for mode in ("forward", "numeric"):
        line = error_line(cli("grad", "x*y", "--at", "x=[1,2],y=3", "--mode", mode))
        assert "needs one number" in line

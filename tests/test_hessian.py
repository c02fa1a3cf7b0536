"""Second derivatives: ``cgdiff hessian``, ``cgdiff.hessian`` and ``cgdiff.diff(order=2)``.

Oracles: central differences of the reverse-mode gradient, sympy's second derivatives (built
from the graph node by node), and the two symbolic routes against each other (the Hessian by
reverse-over-reverse, and the printed second derivative parsed back).
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest
import sympy as sp
from hypothesis import assume, given

import cgdiff
from cgdiff import Graph, InputError, UndefinedError, parse
from test_diff import RANDOM, VARS, clean_gradient, expressions, points, to_sympy, value_of


def gradient_differences(
    g: Graph, point: dict[str, float], wrt: str, scale: float = 1.0
) -> dict[str, float]:
    """∂/∂wrt of every gradient entry, by central differences of reverse mode."""
    h = 1e-5 * scale * max(1.0, abs(point[wrt]))
    plus, minus = dict(point), dict(point)
    plus[wrt] += h
    minus[wrt] -= h
    gp, gm = g.grad(plus).gradient, g.grad(minus).gradient
    return {k: (float(gp[k]) - float(gm[k])) / (2 * h) for k in gp}


def _graph(text: str) -> Graph:
    try:
        g = parse(text)
    except UndefinedError:
        assume(False)
        raise
    assume(g.input_names)
    return g


def _clean_hessian(g: Graph, point: dict[str, float]) -> cgdiff.symbolic.Hessian:
    assume(clean_gradient(g, point) is not None)
    h = cgdiff.hessian(g, point)
    assume(not h.diagnostics)
    values = [float(v) for row in h.hessian.values() for v in row.values()]
    assume(all(math.isfinite(v) and abs(v) < 1e4 for v in values))
    return h


@RANDOM
@given(text=expressions(), point=points)
def test_hessian_equals_differences_of_the_gradient(text: str, point: dict) -> None:
    g = _graph(text)
    point = {k: v for k, v in point.items() if k in g.input_names}
    h = _clean_hessian(g, point)
    for w in g.input_names:
        try:
            row = gradient_differences(g, point, w)
            half = gradient_differences(g, point, w, 0.5)
        except UndefinedError:
            assume(False)
        for v in g.input_names:
            # A kink (abs, relu, max) within a step of the point: differences say nothing.
            assume(
                math.isfinite(row[v]) and math.isclose(row[v], half[v], rel_tol=1e-3, abs_tol=1e-4)
            )
            assert float(h.hessian[v][w]) == pytest.approx(row[v], rel=1e-4, abs=1e-5), (v, w)


@RANDOM
@given(text=expressions(), point=points)
def test_second_derivatives_printed_agree_with_the_hessian(text: str, point: dict) -> None:
    g = _graph(text)
    point = {k: v for k, v in point.items() if k in g.input_names}
    h = _clean_hessian(g, point)
    for w in g.input_names:
        # the diagonal: cgdiff.diff(order=2), printed and read back
        d2 = cgdiff.diff(g, w, order=2)
        assert value_of(d2, point) == pytest.approx(float(h.hessian[w][w]), rel=1e-7, abs=1e-9)
        # a mixed entry: the printed first derivative, read back and differentiated again
        d1 = parse(cgdiff.diff(g, w))
        for v in g.input_names:
            if v in d1.input_names:
                dv = cgdiff.diff(d1, v)
                expected = float(h.hessian[w][v])
                assert value_of(dv, point) == pytest.approx(expected, rel=1e-7, abs=1e-9)


@RANDOM
@given(text=expressions(max_leaves=5), point=points)
def test_hessian_is_symmetric(text: str, point: dict) -> None:
    g = _graph(text)
    point = {k: v for k, v in point.items() if k in g.input_names}
    h = _clean_hessian(g, point)
    for a in g.input_names:
        for b in g.input_names:
            assert float(h.hessian[a][b]) == pytest.approx(
                float(h.hessian[b][a]), rel=1e-9, abs=1e-12
            )


SYMPY_CASES = [
    ("x^2*y + sin(x*y)", {"x": 1.0, "y": 2.0}),
    ("exp(-(x^2 + y^2)/2)*cos(x - y)", {"x": 0.3, "y": -0.8}),
    ("log(1 + x^2 + y^4) + atan2(y, x)", {"x": 1.2, "y": 0.4}),
    ("sqrt(x*y + z^2)/(1 + z)", {"x": 2.0, "y": 0.5, "z": 1.5}),
    ("x^y", {"x": 1.5, "y": 0.7}),
    ("tanh(w*x + b)", {"w": 0.4, "x": -1.0, "b": 0.2}),
]


@pytest.mark.parametrize(("text", "point"), SYMPY_CASES, ids=[c[0] for c in SYMPY_CASES])
def test_hessian_equals_sympy(text: str, point: dict[str, float]) -> None:
    g = parse(text)
    h = cgdiff.hessian(g, point)
    expr = to_sympy(g)
    subs = {sp.Symbol(k, real=True): sp.Rational(v) for k, v in point.items()}
    for a in g.input_names:
        for b in g.input_names:
            d = sp.diff(expr, sp.Symbol(a, real=True), sp.Symbol(b, real=True))
            expected = float(d.evalf(30, subs=subs))
            assert float(h.hessian[a][b]) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert float(h.value) == pytest.approx(float(expr.evalf(30, subs=subs)), rel=1e-12)


def test_step_counts_are_counted_by_the_passes() -> None:
    g = parse("x^2*y + sin(x*y) + z")
    h = cgdiff.hessian(g, x=1, y=2, z=0.5)
    s = h.steps
    n, p = g.n_ops, 3
    assert (s.nodes, s.inputs, s.forward, s.backward, s.symbolic) == (n, p, n, n + p, n)
    m = h.steps.graph_nodes
    assert set(m) == {"x", "y", "z"}
    assert m == {w: h.graphs[w].n_ops for w in m}
    assert s.second_forward == sum(m.values())
    assert s.second_backward == sum(k + p for k in m.values())
    assert s.total == s.forward + s.backward + s.symbolic + s.second_forward + s.second_backward


def test_wrt_limits_the_matrix() -> None:
    h = cgdiff.hessian("x^2*y*z", {"x": 1, "y": 2, "z": 3}, wrt=["x", "z"])
    assert list(h.hessian) == ["x", "z"]
    assert list(h.hessian["x"]) == ["x", "z"]
    assert float(h.hessian["x"]["z"]) == pytest.approx(4.0)
    assert h.steps.inputs == 2


def test_derivative_undefined_where_the_value_is_defined_is_a_warning() -> None:
    h = cgdiff.hessian("sqrt(x) + y^2", x=0, y=1)
    assert math.isnan(float(h.hessian["x"]["x"]))
    assert float(h.hessian["y"]["y"]) == 2.0
    assert any("∂f/∂x" in d.text() for d in h.diagnostics)


def test_api_errors() -> None:
    with pytest.raises(InputError):
        cgdiff.hessian("x*y", x=[1, 2], y=[3, 4])
    with pytest.raises(InputError):
        cgdiff.hessian("x*y", x=1)  # y has no value
    with pytest.raises(UndefinedError):
        cgdiff.hessian("log(x)", x=-1)


# -- the command line --------------------------------------------------------------------------


def test_cli_json(cli: Any) -> None:
    r = cli("hessian", "x^2*y + y^3", "--at", "x=1,y=2", "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)
    assert data["value"] == 10.0
    assert data["gradient"] == {"x": 4.0, "y": 13.0}
    assert data["hessian"] == {"x": {"x": 4.0, "y": 2.0}, "y": {"x": 2.0, "y": 12.0}}
    assert data["method"] == "reverse-over-reverse"
    assert data["steps"]["symbolic"] == parse("x^2*y + y^3").n_ops


def test_cli_csv(cli: Any) -> None:
    r = cli("hessian", "x*y*z", "--at", "x=1,y=2,z=3", "--format", "csv")
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == ["", "x", "y", "z"]
    assert [row[0] for row in rows[1:]] == ["x", "y", "z"]
    assert [float(v) for v in rows[1][1:]] == [0.0, 3.0, 2.0]


def test_cli_table(cli: Any) -> None:
    r = cli("hessian", "sin(x)*y", "--at", "x=0,y=2")
    assert r.code == 0
    assert "Hessian of f at x=0, y=2" in r.out
    assert "reverse-over-reverse" in r.out
    assert "symbolic reverse sweep" in r.out


@pytest.mark.parametrize(
    ("width", "names"), [(100, "x"), (60, "x"), (30, "x"), (20, "x"), (50, "weight_decay_")]
)
def test_a_matrix_wider_than_the_terminal_is_printed_in_blocks_of_columns(
    width: int, names: str
) -> None:
    # 46 inputs: at 100 columns the one table elided every number ("1.…") or printed none;
    # narrower than one column (20 wide, or long names at 50), a line per row
    import re

    from rich.console import Console

    from cgdiff.report import fmt_number
    from cgdiff.symbolic_report import render_hessian

    n = 46 if names == "x" else 4
    x = [f"{names}{i}" for i in range(n)]
    text = " + ".join(f"{x[i]}*{x[i + 1]}*sin({x[i]})" for i in range(n - 1))
    h = cgdiff.hessian(text, {x[i]: i / 7 for i in range(n)})
    console = Console(width=width, no_color=True)
    with console.capture() as out:
        console.print(render_hessian(h))
    lines = out.get().splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in out.get()  # no number, name or header cut short
    rows: dict[str, list[str]] = {w: [] for w in h.wrt}
    flat = " ".join(" ".join(lines).split())
    if f"row {x[0]}:" in flat:  # a line per row: row x0: x0 = 0, x1 = 0.142857, ...
        for w, entries in re.findall(r"row (\w+): (.*?)(?= row \w+:| steps:)", flat):
            rows[w] = [e.split(" = ")[1] for e in entries.split(", ")]
            assert [e.split(" = ")[0] for e in entries.split(", ")] == h.wrt
    else:
        inside = False  # the rows of a block: after its header and rule, to a blank line
        for line in lines:
            tokens = line.split()
            if "∂²f/∂row∂column" in line or not tokens:
                inside = bool(tokens)
            elif inside and tokens[0] in rows:
                rows[tokens[0]].extend(tokens[1:])
        assert "--format csv writes the matrix whole" in flat or (width == 100 and n < 10)
    for w in h.wrt:  # every number whole, each row's blocks in the order of the columns
        assert rows[w] == [fmt_number(h.hessian[w][v]) for v in h.wrt], w


def test_cli_spec_defaults_need_no_point(cli: Any) -> None:
    r = cli("hessian", "w = 2; x = 3; f = w^2*x", "--format", "json")
    assert json.loads(r.out)["hessian"]["w"] == {"w": 6.0, "x": 4.0}


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("hessian", "x*y", "--at", "x=1,y=2", "--at", "x=2,y=3"), 2, "one point"),
        (("hessian", "x*y", "--at", "x=1"), 2, "no value for input 'y'"),
        (("hessian", "x*y", "--at", "x=1,y=2", "--wrt", "q"), 2, "not an input"),
        (("hessian", "log(x)", "--at", "x=-1"), 3, "undefined"),
    ],
)
def test_cli_errors(cli: Any, args: tuple[str, ...], code: int, text: str) -> None:
    r = cli(*args)
    assert r.code == code
    assert r.err.startswith("error:") and text in r.err


def test_cli_warning_for_an_undefined_second_derivative(cli: Any) -> None:
    r = cli("hessian", "sqrt(x)", "--at", "x=0", "--format", "json")
    assert r.code == 0
    assert json.loads(r.out)["hessian"] == {"x": {"x": "nan"}}
    assert "warning:" in r.err


def test_vars_cover_the_generated_inputs() -> None:
    assert set(VARS) == {"x", "y", "z"}

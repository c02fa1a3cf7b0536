"""Formula answers at random points (issue 8): points that prove nothing are skipped, other
regions are searched before "undecided", and every counterexample is real and explained."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from cgdiff import parse
from cgdiff.check import Problem, Settings, check_key
from cgdiff.check.formula import NEARBY


def check(expr: str, answer: str, item: str = "value", **kw: object) -> object:
    return Problem("p", parse(expr), None, Settings(**kw)).check(item, answer)  # type: ignore[arg-type]


def test_an_overflowing_point_is_no_counterexample() -> None:
    # The issue: at n = -0.000108705, x^(1/n) is inf, and that was reported as a difference.
    g = parse("log(x^(1/n), 10)")
    assert math.isinf(float(g.eval(x=0.1745, n=-0.000108705).value))
    r = check("log(x, 10)/n", "log(x^(1/n), 10)")
    assert r.passed, r.message  # type: ignore[attr-defined]
    # ... and a wrong base is still wrong, at a point where nothing overflows.
    r = check("log(x, 10)/n", "log(x^(1/n), 2)")
    assert not r.passed and r.counterexample is not None  # type: ignore[attr-defined]
    assert abs(r.counterexample["point"]["n"]) > 1e-3  # type: ignore[attr-defined]


def test_a_range_where_every_point_overflows_is_undecided_not_wrong() -> None:
    r = check("log(x, 10)/n", "log(x^(1/n), 10)", ranges={"n": (-1e-5, 1e-5)})
    assert not r.passed and r.counterexample is None  # type: ignore[attr-defined]
    assert r.message.startswith("undecided")  # type: ignore[attr-defined]


def test_underflow_and_lost_digits_are_no_counterexample() -> None:
    assert check("cos(n)^2 + sin(n)^2 + 0 x", "exp(-x/n) exp(x/n)").passed  # type: ignore[attr-defined]
    # 1e8 + x keeps x to 1.5e-8 only; at x near 0 that is more than the tolerance.
    assert check("x", "(x + 1e8) - 1e8").passed  # type: ignore[attr-defined]
    r = check("x", "(x + 1e8) - 1e8 + 1e-5")
    assert not r.passed and r.counterexample is not None  # type: ignore[attr-defined]
    # cosh(x)^2 - sinh(x)^2 is 0 at x = 23 in float64 and in longdouble: no digit is left.
    assert check("cosh(x)^2 - sinh(x)^2", "1", sample_range=(10.0, 30.0)).passed  # type: ignore[attr-defined]
    assert check("0 x + 1", "cosh(x)^2 - sinh(x)^2", sample_range=(10.0, 30.0)).passed  # type: ignore[attr-defined]


def test_other_regions_are_searched_per_input() -> None:
    # (x - 2)^3 < 0 on all of [-2, 2], so a real power of it is nowhere defined there.
    p = Problem("p", parse("6*((x-2)^3)^k"))
    r = p.check("value", "6*(x-2)^(3*k)")
    assert r.passed, r.message
    assert (
        "x in [2, 6], k in [-2, 2] (searched: too few points of [-2, 2] are defined)" in r.message
    )
    # the points counted are where the problem is defined, and x moved, k did not
    draws = list(p._sampler.draws("value", p.graph.output))
    last = draws[-1]
    assert ((last.point["x"] >= 2) & (last.point["x"] <= 6)).all()
    assert ((last.point["k"] >= -2) & (last.point["k"] <= 2)).all()
    assert last.defined.all()
    # a wrong answer is found wrong there
    r = p.check("value", "6*(x-2)^(3+k)")
    assert not r.passed and r.counterexample["point"]["x"] > 2  # type: ignore[index]
    # and derivative answers too
    assert p.check("derivative.x", "18 k (x - 2)^(3k - 1)").passed


def test_both_inputs_move_when_one_is_not_enough() -> None:
    r = check("sqrt(x - 3) sqrt(y - 3)", "sqrt((x - 3)(y - 3))")
    assert r.passed, r.message  # type: ignore[attr-defined]
    m = re.search(r"x in \[(\S+), (\S+)\], y in \[(\S+), (\S+)\]", r.message)  # type: ignore[attr-defined]
    assert m is not None and float(m.group(2)) > 3 and float(m.group(4)) > 3


def test_the_keys_sample_range_wins(tmp_path: Path) -> None:
    def key(extra: str) -> str:
        path = tmp_path / "k.toml"
        path.write_text(
            f'[[problem]]\nexpr = "6*((x-2)^3)^k"\nexpect.value = "6*(x-2)^(3*k)"\n{extra}\n',
            encoding="utf-8",
        )
        return check_key(path).problems[0].checks[0].message

    # a range for every input: nothing is searched
    m = key("sample_range = [-2, 2]")
    assert m.startswith("undecided: only 0 of 2000 random points in [-2, 2] are where")
    # a range for x: x stays in it, k may move, and that does not help
    m = key("sample_range = { x = [-2, 2] }")
    assert m.startswith("undecided") and "in [-2, 2] and the regions searched for k (" in m
    # a range for k only: x is searched
    assert key("sample_range = { k = [0, 1] }").startswith("equal at")


@pytest.mark.parametrize(
    ("answer", "how"),
    [
        ("6x^2", "(2 times ∂f/∂x)"),
        ("-3x^2", "(the opposite sign)"),
        ("3x^2 + 1", "(∂f/∂x + 1)"),
        ("3x", "(off by "),
    ],
)
def test_a_counterexample_says_how_the_sides_differ(answer: str, how: str) -> None:
    r = check("x^3", answer, "derivative.x")
    assert not r.passed, r.message  # type: ignore[attr-defined]
    ce = r.counterexample  # type: ignore[attr-defined]
    x = ce["point"]["x"]
    assert ce["expected"] == pytest.approx(3 * x**2)
    assert r.message.startswith(f"differs at x={x:.6g}: ∂f/∂x is ")  # type: ignore[attr-defined]
    assert how in r.message  # type: ignore[attr-defined]
    assert r.message.endswith(f"and at {NEARBY} of {NEARBY} points nearby")  # type: ignore[attr-defined]


def test_wrong_on_part_of_the_domain_is_wrong() -> None:
    r = check("sqrt(x^2)", "x")
    assert not r.passed and r.counterexample["point"]["x"] < 0  # type: ignore[attr-defined,index]
    assert "(the opposite sign)" in r.message  # type: ignore[attr-defined]
    # agreeing at a few points only (x^2 = x at 0 and 1)
    r = check("x^2", "x")
    assert not r.passed and r.counterexample is not None  # type: ignore[attr-defined]
    # undefined where the problem is defined: a pole (x/0) is not an overflow
    r = check("x", "x/step(x)")
    assert not r.passed and math.isinf(r.counterexample["given"])  # type: ignore[attr-defined,index]


def test_a_counterexample_is_confirmed_at_its_point_and_nearby() -> None:
    from cgdiff.check.formula import _judge

    p = Problem("p", parse("x^3"))
    ans = __import__("cgdiff.check.answer", fromlist=["read_answer"]).read_answer("3x^2 + 1e-3")
    point = {"x": np.array([0.5, 0.5 + 1e-4, -1.0])}
    v = _judge(p._sampler, "derivative", p.graph.by_name["x"], ans, point)
    assert v.counted.all() and v.differ.all()
    # the same answer near x = 0 differs by 1e-3 only where 3x^2 is tiny: still a difference
    r = p.check("derivative.x", "3x^2 + 1e-3")
    assert not r.passed and "(∂f/∂x + 0.001)" in r.message
    assert r.message == p.check("derivative.x", "3x^2 + 1e-3").message  # repeatable

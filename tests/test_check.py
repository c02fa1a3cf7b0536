"""Homework checking (issue 3, SPEC section 6) through the Python API.

Oracles are independent of the code under test: values worked by hand, sympy for
derivatives, and the standard library's tomllib/csv/xml to read what cgdiff writes.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from cgdiff import parse
from cgdiff.check import (
    ATOL_FLOOR,
    MAX_ANSWER,
    Problem,
    Settings,
    check_answers,
    check_expression,
    check_key,
    load_key,
    parse_items,
)
from cgdiff.errors import InputError
from conftest import EXAMPLES

HOMEWORK = EXAMPLES / "homework"
X = sympy.Symbol("x")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one(
    expr: str, item: str, answer: object, at: dict[str, float] | None = None, **kw: object
) -> object:
    """The verdict on one answer for one problem."""
    return Problem("p", parse(expr), at, Settings(**kw)).check(item, answer)  # type: ignore[arg-type]


# -- every kind of answer: right passes, wrong fails ------------------------------------------

SPEC = "x = -2; y = 2; w = 2; b = 8; c = w*x; a = c + b; d = a - y; J = d^2/2"
# The linear unit by hand: c = -4, a = 4, d = 2, J = 2; dJ/dd = d = 2, dJ/da = dJ/dc = 2,
# dJ/db = 2, dJ/dw = x dJ/dc = -4, dJ/dx = w dJ/dc = 4, dJ/dy = -2.
RIGHT = {
    "value": 2,
    "node.c": -4,
    "node.a": 4,
    "node.d": 2,
    "node.J": 2,
    "adjoint.J": 1,
    "adjoint.d": 2,
    "adjoint.a": 2,
    "adjoint.c": 2,
    "adjoint.b": 2,
    "adjoint.w": -4,
    "adjoint.x": 4,
    "adjoint.y": -2,
    "grad.w": -4,
    "grad.b": 2,
    "grad.x": 4,
    "grad.y": -2,
}


@pytest.mark.parametrize("item", sorted(RIGHT))
def test_every_numeric_kind_right_and_wrong(item: str) -> None:
    p = Problem("linear", parse(SPEC))
    assert p.check(item, RIGHT[item]).passed
    assert p.check(item, str(RIGHT[item])).passed
    wrong = p.check(item, RIGHT[item] + 0.5)
    assert not wrong.passed
    assert wrong.expected == RIGHT[item] and wrong.given == RIGHT[item] + 0.5
    assert "expected" in wrong.message and "given" in wrong.message


def test_derivative_right_and_wrong() -> None:
    assert one("x^2 sin(x)", "derivative.x", "2x sin(x) + x^2 cos(x)").passed
    assert not one("x^2 sin(x)", "derivative.x", "2x sin(x)").passed


def test_grad_derivative_and_value_as_formulas_without_a_point() -> None:
    # No `at`: a formula for a gradient entry or a value is compared as a function.
    assert one("x*y + z", "grad.x", "y").passed
    assert not one("x*y + z", "grad.x", "x").passed
    assert one("x*y + z", "value", "z + y x").passed
    assert not one("x*y + z", "value", "z + y").passed


def test_formula_answer_with_a_point_is_evaluated_there() -> None:
    at = {"t": math.pi / 4}
    assert one("sin(t)", "value", "sqrt(2)/2", at).passed
    assert one("sin(t)", "grad.t", "cos(t)", at).passed
    # With a point, sin(t) is accepted for cos(t): they agree at pi/4.
    assert one("sin(t)", "grad.t", "sin(t)", at).passed
    assert not one("sin(t)", "grad.t", "-cos(t)", at).passed


def test_spec_defaults_are_the_point() -> None:
    assert Problem("s", parse("a = 5; b = 3; J = a*b")).check("value", 15).passed


def test_node_names_may_appear_in_formulas() -> None:
    p = Problem("n", parse("w = 2; x = -1; z = w*x; f = sigmoid(z)"))
    assert p.check("grad.w", "x f (1 - f)").passed
    assert not p.check("grad.w", "f (1 - f)").passed


# -- tolerances ------------------------------------------------------------------------------


def test_relative_tolerance_edges() -> None:
    kw = {"rtol": 1e-3, "atol": 0.0}
    # 2x at x = 50 is 100; tolerance 1e-3 * 100 = 0.1 (+ the 1e-12 floor).
    assert one("2x", "value", 100.0999, {"x": 50}, **kw).passed
    assert one("2x", "value", 99.9001, {"x": 50}, **kw).passed
    assert not one("2x", "value", 100.1001, {"x": 50}, **kw).passed
    assert not one("2x", "value", 99.8999, {"x": 50}, **kw).passed


def test_absolute_floor_for_an_expected_zero() -> None:
    # x - x is 0 exactly; with atol = 0 the floor still accepts rounding-sized answers.
    assert one("x*y - y*x", "value", 1e-13, {"x": 0.1, "y": 0.3}, atol=0.0).passed
    assert not one("x*y - y*x", "value", 1e-11, {"x": 0.1, "y": 0.3}, atol=0.0).passed
    assert one("x*y - y*x", "value", 1e-11, {"x": 0.1, "y": 0.3}, atol=1e-9).passed
    # 0.1 + 0.2 - 0.3 is 5.6e-17 in floating point; an answer of 0 passes.
    assert one("x + y - z", "value", 0, {"x": 0.1, "y": 0.2, "z": 0.3}, atol=0.0).passed
    assert ATOL_FLOOR == 1e-12


@given(st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-3), st.floats(0.0, 0.49))
def test_within_half_rtol_passes_beyond_two_rtol_fails(v: float, frac: float) -> None:
    rtol = 1e-4
    p = Problem("p", parse("a = 1; f = a*c"), {"c": v}, Settings(rtol=rtol, atol=0.0))
    assert p.check("value", v * (1 + frac * rtol)).passed
    assert not p.check("value", v * (1 + (2 + frac) * rtol)).passed


def test_tolerances_from_defaults_and_per_problem(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[defaults]
rtol = 1e-2
[[problem]]
name = "loose"
expr = "2x"
at = { x = 50 }
expect.value = 100.5
[[problem]]
name = "tight"
expr = "2x"
at = { x = 50 }
rtol = 1e-6
expect.value = 100.5
""",
    )
    r = check_key(key)
    assert [(p.name, p.passed) for p in r.problems] == [("loose", True), ("tight", False)]


# -- formula answers -------------------------------------------------------------------------

EQUAL = [
    ("x^2 sin(x)", "2x sin(x) + x^2 cos(x)"),
    ("x^2 sin(x)", "x(2 sin(x) + x cos(x))"),
    ("x^2 sin(x)", "x*(2*sin(x) + x*cos(x))"),
    ("sin(x)/x", "(x cos(x) - sin(x))/x^2"),
    ("sin(x)/x", "cos(x)/x - sin(x) x^-2"),
    ("exp(sin(x^2))", "2x cos(x^2) e^sin(x^2)"),
    ("log(x)", "1/x"),
    ("sqrt(x)", "1/(2 sqrt(x))"),
    ("sqrt(x)", "0.5 x^-0.5"),
    ("1/x", "-1/x^2"),
    ("log(x)^2", "2 ln(x)/x"),
    ("tan(x)", "sec(x)^2"),
    ("asin(x)", "1/sqrt(1 - x^2)"),
]


@pytest.mark.parametrize(("expr", "answer"), EQUAL)
def test_equal_formulas_written_differently_pass(expr: str, answer: str) -> None:
    r = one(expr, "derivative.x", answer)
    assert r.passed, r.message
    n = int(re.search(r"equal at (\d+) random points", r.message).group(1))  # type: ignore[union-attr]
    assert n >= 100


# (expression, answer, both written for sympy): sympy is the oracle at the counterexample.
NEAR_MISSES = [
    ("x^2 sin(x)", "2x sin(x) + x cos(x)", "x**2*sin(x)", "2*x*sin(x) + x*cos(x)"),
    ("x^2 sin(x)", "2x sin(x) - x^2 cos(x)", "x**2*sin(x)", "2*x*sin(x) - x**2*cos(x)"),
    ("sin(x)/x", "(x cos(x) + sin(x))/x^2", "sin(x)/x", "(x*cos(x) + sin(x))/x**2"),
    ("exp(sin(x^2))", "cos(x^2) exp(sin(x^2))", "exp(sin(x**2))", "cos(x**2)*exp(sin(x**2))"),
    ("sqrt(x)", "1/(2x)", "sqrt(x)", "1/(2*x)"),
    ("log(x)", "1/x + 0.001", "log(x)", "1/x + 0.001"),
]


@pytest.mark.parametrize(("expr", "answer", "sym_expr", "sym_answer"), NEAR_MISSES)
def test_near_misses_fail_with_a_counterexample(
    expr: str, answer: str, sym_expr: str, sym_answer: str
) -> None:
    r = one(expr, "derivative.x", answer)
    assert not r.passed
    ce = r.counterexample
    assert ce is not None
    x = ce["point"]["x"]
    # sympy is the oracle for both sides at the point cgdiff names.
    truth = float(sympy.diff(sympy.sympify(sym_expr), X).subs(X, x))
    mine = float(sympy.sympify(sym_answer).subs(X, x))
    assert math.isclose(ce["expected"], truth, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(ce["given"], mine, rel_tol=1e-9, abs_tol=1e-12)
    assert not math.isclose(ce["given"], truth, rel_tol=1e-6)
    assert f"x={x:.6g}" in r.message and "differs at" in r.message


def test_domain_restricted_answers_are_sampled_where_defined() -> None:
    for expr, answer in (("log(x)", "1/x"), ("sqrt(x)", "1/(2 sqrt(x))"), ("1/x", "-x^-2")):
        p = Problem("p", parse(expr))
        r = p.check("derivative.x", answer)
        assert r.passed, r.message
        # Every random point is in the documented range; those where log or sqrt is
        # undefined (x <= 0) were left out, not counted as agreement or disagreement.
        s = p._sample(0)
        assert ((s.point["x"] >= -2) & (s.point["x"] <= 2)).all()
    r = one("log(x)", "derivative.x", "1/(2x)")
    assert not r.passed and r.counterexample["point"]["x"] > 0


def test_too_few_valid_points_is_a_failure_that_says_so() -> None:
    # sqrt(x - 100) is defined in none of the regions searched (at most x = 20).
    r = one("sqrt(x - 100)", "derivative.x", "1/(2 sqrt(x - 100))")
    assert not r.passed
    assert r.message.startswith("undecided") and "sample_range" in r.message
    assert "regions searched" in r.message
    # Moving the range to where it is defined decides it.
    assert one(
        "sqrt(x - 100)", "derivative.x", "1/(2 sqrt(x - 100))", sample_range=(100.0, 200.0)
    ).passed
    # An answer defined nowhere (log of a negative number) is wrong at the first point,
    # where 2x is defined and the answer is not.
    r = one("x^2", "derivative.x", "2x + log(-1 - x^2)")
    assert not r.passed and "the answer is undefined at x=" in r.message
    x = r.counterexample["point"]["x"]
    assert r.counterexample["expected"] == pytest.approx(2 * x)
    assert math.isnan(r.counterexample["given"])


def test_sample_range_per_input_in_a_key(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[[problem]]
expr = "sqrt(x - 10) * y"
sample_range = { x = [10, 12] }
expect.derivative = { x = "y/(2 sqrt(x - 10))", y = "sqrt(x - 10)" }
""",
    )
    r = check_key(key)
    assert r.ok, [c.message for c in r.problems[0].checks]
    assert "x in [10, 12], y in [-2, 2]" in r.problems[0].checks[0].message


def test_formula_checks_are_repeatable_and_seeded(tmp_path: Path) -> None:
    a = one("x^3", "derivative.x", "3x^2 + 0.1").counterexample
    b = one("x^3", "derivative.x", "3x^2 + 0.1").counterexample
    c = one("x^3", "derivative.x", "3x^2 + 0.1", seed=7).counterexample
    assert a == b and a != c


def test_bad_formula_answers_fail_with_a_message() -> None:
    r = one("x^2", "derivative.x", "2x +")
    assert not r.passed and "not a number or formula" in r.message and r.malformed
    r = one("x^2", "derivative.x", "2q")
    assert not r.passed and "'q'" in r.message and "not a name of this problem" in r.message
    r = one("x^2", "derivative.x", "sine(x)")
    assert not r.passed and "did you mean 'sin'" in r.message
    r = one("x^2", "derivative.x", "x = 2")
    assert not r.passed
    r = one("x^2", "derivative.x", "")
    assert not r.passed and r.message == "empty answer"


def test_generated_node_names_are_not_formula_names() -> None:
    # x*y + z has an unnamed node called t1 in tables; a formula cannot use it.
    r = one("x*y + z", "value", "t1 + z")
    assert not r.passed and "'t1'" in r.message
    # an assignment inside a comment assigns nothing: t1 is still a generated name
    p = Problem("p", parse("# note; t1 = x*y\nJ = sin(x*y) + 1"))
    assert p.names == ["x", "y", "J"]
    r = p.check("derivative.x", "cos(t1)*y")
    assert not r.passed and "uses 't1', which is not a name of this problem" in r.message


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=5),
    st.integers(-3, 3),
    st.integers(0, 4),
    st.sampled_from([-1, 1]),
)
def test_polynomial_derivatives_against_sympy(
    coeffs: list[int], k: int, which: int, sign: int
) -> None:
    poly = " + ".join(f"({c})*x^{i}" for i, c in enumerate(coeffs))
    expr = f"{poly} + ({k})*sin(x)"
    truth = sympy.diff(sympy.sympify(expr.replace("^", "**")), X)
    answer = str(truth)  # sympy's spelling (x**2, 2*x) is cgdiff syntax too
    assert one(expr, "derivative.x", answer).passed
    # Change one coefficient of the true derivative: it must fail, with a counterexample.
    wrong = f"{answer} + ({sign})*x^{which}"
    r = one(expr, "derivative.x", wrong)
    assert not r.passed and r.counterexample is not None


# -- hostile answers --------------------------------------------------------------------------


def test_hostile_answers_fail_one_check_each() -> None:
    p = Problem("p", parse("x^2"), {"x": 3.0})
    huge = "1" * (10 * 1024 * 1024)
    r = p.check("value", "x*" * 5_000_000 + "x")
    assert not r.passed and "too long" in r.message
    r = p.check("value", huge)
    assert not r.passed and "too long" in r.message
    r = p.check("value", "10^10^10")
    assert not r.passed and "overflows" in r.message
    deep = "(" * 4000 + "x^2" + ")" * 4000
    assert p.check("value", deep).passed
    r = p.check("value", "(" * 100_000 + "x" + ")" * 100_000)
    assert not r.passed and str(MAX_ANSWER) in r.message
    r = p.check("value", "1/0")
    assert not r.passed and "undefined" in r.message
    r = p.check("derivative.x", "exp(exp(exp(x)))")  # overflows at many points: masked
    assert not r.passed
    assert p.check("value", 9).passed  # the problem still works


def test_no_eval_of_answers() -> None:
    for attack in (
        "__import__('os').system('echo hi')",
        "().__class__",
        "x; import os",
        "lambda: 1",
        "open('/etc/passwd')",
    ):
        r = one("x", "value", attack, {"x": 1.0})
        assert not r.passed


# -- node-level feedback ---------------------------------------------------------------------


def test_first_wrong_node_in_evaluation_order() -> None:
    p = Problem("linear", parse(SPEC))
    checks = [
        p.check("node.J", 50),
        p.check("node.d", 10),
        p.check("node.a", 12),
        p.check("node.c", 4),
    ]
    from cgdiff.check import node_feedback

    feedback = node_feedback(p, checks)
    # By hand: the spec computes c, then a, then d, then J; c is the first wrong one, and
    # a = c + b = 12, d = a - y = 10, J = d^2/2 = 50 all follow from c = 4.
    assert feedback[0].startswith("c is the first wrong node in evaluation order")
    assert [c.first_wrong for c in checks] == [False, False, False, True]
    for c in checks[:3]:
        assert "carried error" in c.message
    assert "a = 12" in feedback[0] and "d = 10" in feedback[0] and "J = 50" in feedback[0]


def test_first_wrong_adjoint_in_backward_order() -> None:
    p = Problem("linear", parse(SPEC))
    # Backward order (by hand): J, d, a, then c and b, then w and x.  The student has dJ/dd
    # right, dJ/da wrong (3), and dJ/dc, dJ/dw computed from it (3, -6): carried.
    checks = [
        p.check("adjoint.w", -6),
        p.check("adjoint.c", 3),
        p.check("adjoint.a", 3),
        p.check("adjoint.d", 2),
        p.check("adjoint.x", 5),
    ]
    from cgdiff.check import node_feedback

    feedback = node_feedback(p, checks)
    assert feedback[0].startswith("the adjoint of a is the first wrong adjoint")
    assert checks[2].first_wrong
    assert "carried" in checks[0].message and "carried" in checks[1].message
    assert "carried" not in checks[4].message  # w * 3 would be 6, not 5


def test_carried_errors_rerun_the_core_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The issue: check adds no evaluator of its own.  A carried error is found by the core's
    # forward pass and reverse sweep with the student's answers held (fixed=).
    import cgdiff.check.feedback as check

    held: list[tuple[str, dict[int, float]]] = []

    def spy(name: str, real: Any) -> Any:
        def run(*args: Any, **kw: Any) -> Any:
            if kw.get("fixed"):
                held.append((name, {i: float(v) for i, v in kw["fixed"].items()}))
            return real(*args, **kw)

        return run

    monkeypatch.setattr(check, "forward", spy("forward", check.forward))
    monkeypatch.setattr(check, "backward", spy("backward", check.backward))
    p = Problem("linear", parse(SPEC))
    g = p.graph
    c, a = g.by_name["c"], g.by_name["a"]
    checks = [p.check("node.c", 4), p.check("node.a", 12)]
    checks += [p.check("adjoint.a", 3), p.check("adjoint.c", 3)]
    check.node_feedback(p, checks)
    assert ("forward", {c: 4.0}) in held  # a = c + b, with the student's c
    assert ("backward", {a: 3.0}) in held  # dJ/dc from the student's dJ/da
    assert "carried" in checks[1].message and "carried" in checks[3].message


def test_carried_error_through_a_shared_node() -> None:
    # b = a + a; c = b + b: a student who has b = 6 (a = 2) and then c = 12 carried it.
    p = Problem("shared", parse("a = 2; b = a + a; c = b + b; J = c*1"))
    checks = [p.check("node.b", 6), p.check("node.c", 12), p.check("node.J", 13)]
    checks += [p.check("adjoint.c", 2), p.check("adjoint.b", 4), p.check("adjoint.a", 8)]
    from cgdiff.check import node_feedback

    node_feedback(p, checks)
    assert checks[0].first_wrong and "carried" in checks[1].message
    assert "carried" not in checks[2].message  # c*1 would be 12
    # dJ/db = 2 dJ/dc = 4 and dJ/da = 2 dJ/db = 8 follow from dJ/dc = 2
    assert checks[3].first_wrong
    assert "carried" in checks[4].message and "carried" in checks[5].message


def test_node_feedback_in_a_key(tmp_path: Path) -> None:
    spec = write(tmp_path, "unit.cg", SPEC.replace("; ", "\n"))
    key = write(
        tmp_path,
        "k.toml",
        f"""
[[problem]]
name = "linear"
expr = "@{spec.name}"
expect.nodes = {{ c = -4, a = 5, d = 3, J = 4.5 }}
""",
    )
    r = check_key(key).problems[0]
    assert not r.passed
    assert r.feedback[0].startswith("a is the first wrong node")
    assert "d = 3" in r.feedback[0] and "J = 4.5" in r.feedback[0]


# -- the answer key --------------------------------------------------------------------------


def expected_items(path: Path) -> int:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    n = 0
    for p in data["problem"]:
        for k, v in p["expect"].items():
            n += 1 if k == "value" else len(v)
    return n


def test_homework_key_passes() -> None:
    key = HOMEWORK / "key.toml"
    r = check_key(key)
    assert r.ok and r.failed == 0
    assert sum(len(p.checks) for p in r.problems) == expected_items(key)
    names = [p["name"] for p in tomllib.loads(key.read_text())["problem"]]
    assert [p.name for p in r.problems] == names
    # every kind of answer is in the example key
    items = {c.item.split(".")[0] for p in r.problems for c in p.checks}
    assert items == {"value", "grad", "node", "adjoint", "derivative"}


def test_homework_key_values_by_hand() -> None:
    r = {
        p.name: {c.item: c.expected for c in p.checks}
        for p in check_key(HOMEWORK / "key.toml").problems
    }
    # J = 3(a + bc) at a=5, b=3, c=2: u = 6, v = 11, J = 33; dJ/da = 3, dJ/db = 3c, dJ/dc = 3b
    assert r["lecture"]["node.u"] == 6 and r["lecture"]["node.v"] == 11
    assert r["lecture"]["adjoint.b"] == 6 and r["lecture"]["adjoint.c"] == 9
    f = 1 / (1 + math.exp(-1))  # the neuron: z = 1
    assert math.isclose(r["neuron"]["value"], f)
    assert math.isclose(r["neuron"]["adjoint.z"], f * (1 - f))
    assert math.isclose(r["neuron"]["adjoint.s"], -f * f)
    assert r["linear"]["adjoint.w"] == -4


def test_a_wrong_key_fails_and_names_the_check(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[[problem]]
name = "1a"
expr = "(x+y)*z"
at = { x = -2, y = 5, z = -4 }
expect.value = -12
expect.grad = { x = -4, y = 4, z = 3 }
""",
    )
    r = check_key(key)
    assert r.failed == 1 and not r.ok
    bad = [c for c in r.problems[0].checks if not c.passed]
    assert [(c.item, c.expected, c.given) for c in bad] == [("grad.y", -4.0, 4)]


def test_undefined_at_the_point_fails_the_check_not_the_run(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[[problem]]
name = "bad"
expr = "log(x)"
at = { x = -1 }
expect.value = 0
[[problem]]
name = "good"
expr = "x"
at = { x = 1 }
expect.value = 1
""",
    )
    r = check_key(key)
    assert [p.passed for p in r.problems] == [False, True]
    assert "cannot check" in r.problems[0].checks[0].message
    assert "undefined" in r.problems[0].checks[0].message


KEY_ERRORS = [
    ("[[problem]\nexpr = 'x'", "not valid TOML", None),
    (
        "[default]\nrtol = 1\n[[problem]]\nexpr='x'\nexpect.value=1",
        "did you mean 'defaults'",
        "default",
    ),
    (
        "[[problem]]\nexpr = 'x*y'\nat = {x=1, y=2}\nexpect.grad = {q = 1}",
        "'q' in 'grad.q' is not an input",
        "problem[1].expect.grad.q",
    ),
    ("[[problem]]\nname = 'a'\nexpect.value = 1", "has no expr", "problem[1]"),
    ("[[problem]]\nexpr = 'x'\nat = {q = 1}\nexpect.value = 1", "not an input", "problem[1].at.q"),
    (
        "[[problem]]\nexpr = 'x'\nat = {x = 1}\nrtol = -1\nexpect.value = 1",
        "at least 0",
        "problem[1].rtol",
    ),
    (
        "[[problem]]\nname='a'\nexpr = 'x'\nexpect.value = 1\n[[problem]]\nname='a'\nexpr='y'\n"
        "expect.value=1",
        "also the name of problem[1]",
        "problem[2].name",
    ),
    ("[[problem]]\nexpr = 'x*(y+)z'\nexpect.value = 1", "unexpected ')'", "problem[1].expr"),
    ("[[problem]]\nexpr = '@missing.cg'\nexpect.value = 1", "cannot read", "problem[1].expr"),
    ("[[problem]]\nexpr = 'x'\nexpect.value = true", "not a boolean", "problem[1].expect.value"),
    (
        "[[problem]]\nexpr = 'x'\nexpect.gradient = {x = 1}",
        "did you mean 'grad'",
        "problem[1].expect.gradient",
    ),
    ("[[problem]]\nexpr = 'x'", "nothing to check", "problem[1]"),
    ("title = 'hw'", "unknown key 'title'", "title"),
    ("[defaults]\nrtol = 1e-3", "no [[problem]]", None),
    (
        "[[problem]]\nexpr = 'x*y'\nat = {x = 1}\nexpect.value = 1",
        "no value for input 'y'",
        "problem[1].at",
    ),
    (
        "[[problem]]\nexpr = 'x'\nsample_range = [2, 1]\nexpect.value = 1",
        "low < high",
        "problem[1].sample_range",
    ),
]


@pytest.mark.parametrize(("text", "what", "where"), KEY_ERRORS)
def test_key_errors_name_file_path_and_what(
    tmp_path: Path, text: str, what: str, where: str | None
) -> None:
    key = write(tmp_path, "key.toml", text)
    with pytest.raises(InputError) as info:
        load_key(key)
    message = info.value.render()
    assert message.startswith(f"{key}: ")
    assert what in message
    if where is not None:
        assert message.startswith(f"{key}: {where}: ")


def test_missing_key_file() -> None:
    with pytest.raises(InputError, match="cannot read the answer key"):
        load_key("/nonexistent/key.toml")


# -- a class's answers -----------------------------------------------------------------------


def test_homework_submissions() -> None:
    r = check_answers(HOMEWORK / "key.toml", HOMEWORK / "submissions.csv")
    n_items = expected_items(HOMEWORK / "key.toml")
    scores = {s.student: (s.score, s.max_score) for s in r.students or []}
    # ann answers every item right; bob gets 10 wrong (listed in the CSV by hand);
    # cid answers 4 items right and has 5 malformed rows: 3 of them (1z, grad.q, a second
    # node.v) answer no item of the key, so each is one more wrong item.
    assert scores == {
        "ann": (n_items, n_items),
        "bob": (n_items - 10, n_items),
        "cid": (4, n_items + 3),
    }
    cid = next(s for s in r.students or [] if s.student == "cid")
    # By hand from the CSV: 8 rows answer key items (4 right, 4 wrong), 37 items unanswered.
    assert (cid.malformed, cid.wrong, cid.unanswered) == (5, 4 + 3, n_items - 8)
    assert not r.ok
    lines = {e.line: e.message for e in r.malformed or []}
    rows = (HOMEWORK / "submissions.csv").read_text().splitlines()

    def line_of(text: str) -> int:
        return next(i for i, row in enumerate(rows, start=1) if row == text)

    assert "unknown problem '1z'" in lines[line_of("cid,1z,value,-12")]
    assert "'q'" in lines[line_of("cid,1a,grad.q,1")]
    assert lines[line_of("cid,1a,grad.x,")] == "empty answer"
    assert "not a number or formula" in lines[line_of('cid,1a,grad.y,"3,0"')]
    assert "second answer" in lines[line_of("cid,lecture,node.v,12")]
    per_item = {(i.problem, i.item): (i.passed, i.total) for i in r.items or []}
    assert per_item[("quotient rule", "derivative.x")] == (3, 3)
    assert per_item[("linear", "node.c")] == (1, 3)
    bob = next(s for s in r.students or [] if s.student == "bob")
    c = next(a for a in bob.items if a.item == "node.c" and a.problem == "linear")
    assert "first wrong node" in c.message
    j = next(a for a in bob.items if a.item == "node.J" and a.problem == "linear")
    assert "carried error" in j.message


def test_malformed_rows_never_stop_the_run(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[[problem]]
name = "1"
expr = "x*y"
at = { x = 2, y = 3 }
expect.value = 6
expect.grad = { x = 3, y = 2 }
""",
    )
    huge = "9" * (10 * 1024 * 1024)
    answers = write(
        tmp_path,
        "a.csv",
        "\n".join(
            [
                "Student,Problem,Item,Answer",  # header names in any case
                "ann,1,value,6",
                "ann,2,value,6",  # unknown problem
                "ann,1,hessian.x,1",  # unknown item
                "ann,1,grad.x,",  # empty answer
                "ann,1,grad.y,two",  # not a number (nor a name of the problem)
                "bob,1,value," + huge,  # 10 MB
                "bob,1,grad.x,3",
                "bob,1",  # short row
                ",1,value,6",  # no student
                "cid,1,grad.y,2..",  # syntax error
                "cid,1,value,10^10^10",
                "cid,1,grad.x,(((((((((((((3)))))))))))))",
                "",
            ]
        ),
    )
    r = check_answers(key, answers)
    scores = {s.student: s.score for s in r.students or []}
    assert scores == {"ann": 1, "bob": 1, "cid": 1}
    # 3 items each, plus one per malformed row that answers none of them: ann's unknown
    # problem and unknown item, bob's short row.
    assert {s.student: s.max_score for s in r.students or []} == {"ann": 5, "bob": 4, "cid": 3}
    assert {s.student: s.malformed for s in r.students or []} == {"ann": 3, "bob": 2, "cid": 1}
    lines = {e.line for e in r.malformed or []}
    assert {3, 4, 5, 7, 9, 10, 11} <= lines
    bob = next(s for s in r.students or [] if s.student == "bob")
    assert "too long" in bob.items[0].message and len(bob.items[0].answer or "") > 1e6


def test_answers_file_errors(tmp_path: Path) -> None:
    key = HOMEWORK / "key.toml"
    with pytest.raises(InputError, match="header"):
        check_answers(key, write(tmp_path, "a.csv", "ann,1a,value,-12\n"))
    with pytest.raises(InputError, match="empty"):
        check_answers(key, write(tmp_path, "b.csv", ""))
    with pytest.raises(InputError, match="cannot read the answers"):
        check_answers(key, tmp_path / "none.csv")


# -- the command-line helpers ----------------------------------------------------------------


def test_parse_items() -> None:
    assert parse_items("value=5,grad.x=2") == [("value", "5"), ("grad.x", "2")]
    assert parse_items("derivative.x=atan2(x, 1) + max(x, 2)") == [
        ("derivative.x", "atan2(x, 1) + max(x, 2)")
    ]
    with pytest.raises(InputError):
        parse_items("value")


def test_check_expression() -> None:
    r = check_expression(
        "x*y+z", {"x": 1, "y": 2, "z": 3}, [("value", "5"), ("grad.x", "2"), ("grad.y", "1")]
    )
    assert r.ok
    with pytest.raises(InputError):
        check_expression("x*y", {"x": 1, "y": 2}, [("grad.z", "1")])
    with pytest.raises(InputError, match="no value"):
        check_expression("x*y", {"x": 1}, [("value", "1")])


# -- fixes from a new-user review ------------------------------------------------------------


def test_answer_undefined_where_the_truth_is_defined_fails() -> None:
    # abs'(x) is sign(x), defined for every x != 0; sqrt(x)/sqrt(x) is 1 for x > 0 only.
    r = one("abs(x)", "derivative.x", "sqrt(x)/sqrt(x)")
    assert not r.passed
    x = r.counterexample["point"]["x"]
    xr = sympy.Symbol("x", real=True)
    truth = float(sympy.diff(sympy.Abs(xr), xr).subs(xr, x))  # sympy: sign(x)
    assert x < 0 and truth == -1.0 and r.counterexample["expected"] == truth
    assert math.isnan(r.counterexample["given"])
    assert r.message == (
        f"the answer is undefined at x={x:.6g}, where ∂f/∂x is -1, and at 8 of 8 points nearby"
    )
    # 2 x^1.5/sqrt(x) equals 2x only for x > 0.
    r = one("x^2", "derivative.x", "2 x^1.5/sqrt(x)")
    assert not r.passed and r.counterexample["point"]["x"] < 0
    x = r.counterexample["point"]["x"]
    assert r.counterexample["expected"] == pytest.approx(float(sympy.diff(X**2, X).subs(X, x)))


def test_points_where_the_problem_is_undefined_are_not_asked() -> None:
    # log(x) is undefined for x <= 0, so 1/abs(x) is only compared where it equals 1/x.
    p = Problem("p", parse("log(x)"))
    r = p.check("derivative.x", "1/abs(x)")
    assert r.passed, r.message
    n = int(re.search(r"equal at (\d+) random points", r.message).group(1))  # type: ignore[union-attr]
    counted = sum(int((p._sample(k).point["x"] > 0).sum()) for k in range(len(p._samples)))
    assert n == counted >= 100
    # ... and 1/x + 1 is still wrong there.
    assert not p.check("derivative.x", "1/abs(x) + 1").passed


def test_a_formula_value_without_a_point_follows_the_same_rule() -> None:
    # sqrt(x)^2 is x where it is defined (x >= 0): the answer x passes.
    assert one("sqrt(x)^2", "value", "x").passed
    # x is defined everywhere; sqrt(x)^2 is undefined for x < 0, so it fails there.
    r = one("x", "value", "sqrt(x)^2")
    assert not r.passed and r.counterexample["point"]["x"] < 0
    assert "undefined" in r.message


def test_domain_rule_in_a_key(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[[problem]]
expr = "log(x)"
expect.derivative = { x = "1/abs(x)" }
[[problem]]
expr = "abs(x)"
expect.derivative = { x = "sqrt(x)/sqrt(x)" }
[[problem]]
expr = "sqrt(x - 100)"
expect.derivative = { x = "0.5/sqrt(x - 100)" }
""",
    )
    r = check_key(key)
    assert [p.passed for p in r.problems] == [True, False, False]
    undecided = r.problems[2].checks[0].message
    assert re.match(
        r"undecided: only 0 of \d+ random points in \[-2, 2\] and the regions", undecided
    )
    assert "where f and ∂f/∂x are defined" in undecided


def test_a_row_longer_than_the_header_is_malformed(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        '[[problem]]\nname = "p1"\nexpr = "x*y"\nat = { x = 2, y = 3 }\nexpect.value = 6\n',
    )
    answers = write(
        tmp_path, "a.csv", 'student,problem,item,answer\nfay,p1,value,5,9\ngus,p1,value,"5,9"\n'
    )
    r = check_answers(key, answers)
    (bad,) = [e for e in r.malformed or [] if e.line == 2]
    assert bad.student == "fay" and "5 fields, but the header has 4" in bad.message
    fay = next(s for s in r.students or [] if s.student == "fay")
    # The row was not read as the answer 5: the item has no answer, the row is one more wrong.
    value = next(a for a in fay.items if a.item == "value")
    assert value.answer is None and value.message == "no answer"
    assert (fay.score, fay.max_score, fay.malformed) == (0, 2, 1)
    # Quoted, "5,9" is one field: an answer that is not a number.
    gus = next(s for s in r.students or [] if s.student == "gus")
    assert "not a number or formula" in gus.items[0].message


def test_undefined_at_the_point_is_exit_code_3(tmp_path: Path) -> None:
    r = check_expression("1/x", {"x": 0}, [("value", "1")])
    assert r.exit_code == 3
    assert r.problems[0].undefined == "f = 1 / x is undefined at x=0"
    assert check_expression("1/x", {"x": 2}, [("value", "1")]).exit_code == 1
    assert check_expression("1/x", {"x": 2}, [("value", "0.5")]).exit_code == 0
    # In a key the other problems still run; a wrong answer elsewhere does not lower it.
    key = write(
        tmp_path,
        "k.toml",
        """
[[problem]]
name = "bad"
expr = "log(x)"
at = { x = -1 }
expect.value = 0
expect.derivative = { x = "1/x" }
[[problem]]
name = "wrong"
expr = "x"
at = { x = 1 }
expect.value = 2
""",
    )
    r = check_key(key)
    assert r.exit_code == 3 and [p.name for p in r.undefined] == ["bad"]
    assert r.problems[0].checks[1].passed  # the formula needs no point
    assert not r.problems[1].passed


def test_empty_expect_tables_are_a_key_error(tmp_path: Path) -> None:
    for text, path in (
        ("[[problem]]\nexpr = 'x*y'\nexpect.grad = {}\n", "problem[1].expect"),
        ("[[problem]]\nexpr = 'x'\nexpect.grad = {}\nexpect.nodes = {}\n", "problem[1].expect"),
    ):
        key = write(tmp_path, "k.toml", text)
        with pytest.raises(InputError) as info:
            load_key(key)
        assert info.value.render().startswith(f"{key}: {path}: ")
        assert "nothing to check" in info.value.message


def test_per_input_ranges_in_defaults_apply_where_the_input_is(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        """
[defaults]
sample_range = { y = [0, 1] }
[[problem]]
expr = "x*sqrt(y)"
expect.derivative = { x = "sqrt(y)" }
[[problem]]
expr = "x^2"
expect.derivative = { x = "2x" }
""",
    )
    r = check_key(key)
    assert r.ok
    assert "x in [-2, 2], y in [0, 1]" in r.problems[0].checks[0].message
    assert r.problems[1].checks[0].message.endswith("in [-2, 2]")
    # y is sampled from [0, 1] only: sqrt(y) is defined at every point, none is left out.
    p = load_key(key).problems[0]
    p.check("derivative.x", "sqrt(y)")
    y = p._sample(0).point["y"]
    assert ((y >= 0) & (y <= 1)).all()


@pytest.mark.parametrize(
    ("defaults", "where", "what"),
    [
        ("sample_range = { q = [0, 1] }", "defaults.sample_range.q", "not an input of any"),
        ("sample_range = { y = [1, 0] }", "defaults.sample_range.y", "low < high"),
    ],
)
def test_errors_in_defaults_name_defaults(
    tmp_path: Path, defaults: str, where: str, what: str
) -> None:
    key = write(
        tmp_path,
        "k.toml",
        f"[defaults]\n{defaults}\n[[problem]]\nexpr = 'x*y'\nexpect.value = 'x*y'\n"
        "[[problem]]\nexpr = 'x'\nexpect.value = 'x'\n",
    )
    with pytest.raises(InputError) as info:
        load_key(key)
    assert info.value.render().startswith(f"{key}: {where}: ") and what in info.value.message


def test_a_malformed_row_costs_a_point() -> None:
    # Every answer right, plus one row naming a problem the key does not have: not 100%.
    import tempfile

    d = Path(tempfile.mkdtemp())
    key = write(
        d, "k.toml", '[[problem]]\nname = "1"\nexpr = "2x"\nat = {x = 1}\nexpect.value = 2\n'
    )
    answers = write(d, "a.csv", "student,problem,item,answer\nann,1,value,2\nann,9,value,2\n")
    r = check_answers(key, answers)
    (ann,) = r.students or []
    assert (ann.score, ann.max_score, ann.malformed, ann.wrong) == (1, 2, 1, 1)
    assert len(r.malformed or []) == 1 and not r.ok


def test_given_is_a_number_for_plain_numbers_and_text_for_formulas(tmp_path: Path) -> None:
    r = check_expression(
        "x*y", {"x": 2, "y": 3}, [("value", "6"), ("grad.x", "y"), ("grad.y", "sqrt(4)")]
    )
    assert [c.given for c in r.problems[0].checks] == [6.0, "y", "sqrt(4)"]
    assert [c.expected for c in r.problems[0].checks] == [6.0, 3.0, 2.0]
    key = write(
        tmp_path,
        "k.toml",
        "[[problem]]\nexpr = 'x*y'\nat = {x = 2, y = 3}\nexpect.value = 6\n"
        "expect.grad = { x = '3', y = 'x' }\n",
    )
    checks = check_key(key).problems[0].checks
    assert [c.given for c in checks] == [6.0, 3.0, "x"]
    assert all(isinstance(c.expected, float) for c in checks)
    # a formula compared as a function: expected is the true formula's text
    r = check_expression("x^2", None, [("derivative.x", "2x")])
    assert isinstance(r.problems[0].checks[0].expected, str)


def test_tolerance_messages_show_the_difference() -> None:
    # 1000x at x = 1 is 1000; rtol 1e-3 allows 1 (+ the 1e-12 floor); 1001.001 is off by 1.001.
    r = one("1000 x", "value", "1001.001", {"x": 1}, rtol=1e-3, atol=0.0)
    assert not r.passed
    m = re.search(r"given (\S+): off by (\S+), more than the tolerance (\S+)$", r.message)
    assert m is not None, r.message
    assert m.group(1) == "1001.001"
    assert float(m.group(2)) > float(m.group(3))
    assert math.isclose(float(m.group(2)), 1.001, rel_tol=1e-3)


def test_unknown_names_in_messages() -> None:
    p = Problem("p", parse("a = 2; u = a*x; J = u^2"), {"x": 1})
    r = p.check("node.u", "q")
    # every name an answer may use, not only the inputs
    assert r.message.endswith("its names are a, x, u, J"), r.message
    assert p.check("node.u", "a x").passed  # and indeed those names work
    assert p.check("value", "u^2").passed
    with pytest.raises(InputError) as info:
        check_expression("x*y", {"q": 1, "x": 1, "y": 2}, [("value", "2")])
    assert info.value.message.startswith("'q' is not an input of this expression")
    # the core's own checks of a point (bind_point), so its messages are every command's
    with pytest.raises(InputError) as info:
        check_expression("u = x*y; J = u + 1", {"u": 1, "x": 1, "y": 2}, [("value", "2")])
    assert info.value.message == "'u' is computed on line 1, not an input; only inputs take values"
    with pytest.raises(InputError) as info:
        check_expression("x*y", {"x": 1}, [("value", "2")])
    assert info.value.message.startswith("no value for input 'y'")


def test_a_key_with_many_inputs_is_read_in_linear_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NB: Graph.defaults() builds a new dict; called once per input it made _point quadratic.
    from cgdiff.graph import Graph

    calls = []
    real = Graph.defaults

    def defaults(self: Graph) -> dict[str, float]:
        calls.append(1)
        return real(self)

    monkeypatch.setattr(Graph, "defaults", defaults)
    n = 300  # inputs with defaults (x0 = 0, ...), one of them given at the point
    spec = (
        "".join(f"x{i} = {i}\\n" for i in range(n)) + "J = " + " + ".join(f"x{i}" for i in range(n))
    )
    key = write(
        tmp_path,
        "k.toml",
        f'[[problem]]\nexpr = "{spec}"\nat = {{x0 = 1}}\nexpect.value = {n * (n - 1) // 2 + 1}\n',
    )
    assert check_key(key).ok
    assert len(calls) <= 3


def test_each_distinct_expression_is_parsed_once(tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        "\n".join(
            f"[[problem]]\nexpr = 'x*y + z'\nat = {{x = {k}, y = 2, z = 1}}\n"
            f"expect.value = {2 * k + 1}\nexpect.grad = {{ x = 2, y = {k} }}"
            for k in range(1, 5)
        )
        + "\n[[problem]]\nexpr = 'x*y + z'\noutput = 't1'\nat = {x = 3, y = 2, z = 0}\n"
        "expect.value = 6\n",
    )
    k = load_key(key)
    graphs = {id(p.graph) for p in k.problems}
    assert len(graphs) == 2  # one per (expression, output)
    # sharing a graph shares no point: x*y + z at x = k, y = 2, z = 1 is 2k + 1 (by hand)
    r = check_key(k)
    assert r.ok, [c.message for p in r.problems for c in p.checks]
    assert [p.checks[0].expected for p in r.problems] == [3.0, 5.0, 7.0, 9.0, 6.0]


def test_the_expected_derivative_is_the_one_diff_prints() -> None:
    from cgdiff.symbolic import diff

    r = check_expression("x^2 sin(x)", None, [("derivative.x", "2x sin(x) + x cos(x)")])
    assert r.problems[0].checks[0].expected == diff("x^2 sin(x)", "x")
    assert r.problems[0].checks[0].expected == "2*x*sin(x) + x^2*cos(x)"


def test_numbers_at_a_point_load_no_symbolic_differentiation() -> None:
    # NB: a fresh process, since other tests load cgdiff.symbolic into this one.
    import subprocess
    import sys

    code = (
        "import sys; from cgdiff.check import check_expression; "
        "r = check_expression('x*y', {'x': 2, 'y': 3}, [('value', 6), ('grad.x', 3)]); "
        "print(r.ok, 'cgdiff.symbolic' in sys.modules, 'cgdiff.simplify' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "False"]


def test_one_helper_spells_expected_and_given() -> None:
    # enough digits that two numbers differ: one helper, used by the core and the reports
    import cgdiff.check as check
    import cgdiff.check_report as check_report
    from cgdiff.check import pair_text

    assert check_report.pair_text is pair_text
    for gone in ("_pair", "_exact", "_full"):
        assert not hasattr(check, gone) and not hasattr(check_report, gone)
    assert pair_text(1000.0, "1001.001") == ("1000", "1001.001")
    assert pair_text(1.0, 1.0000001, exact=False) == ("1", "1.0000001")
    assert pair_text(float("inf"), float("-inf")) == ("inf", "-inf")
    assert pair_text("2*x", None) == ("2*x", "")


def test_reading_answers_leaves_the_csv_field_limit_as_it_was() -> None:
    import csv

    before = csv.field_size_limit()
    check_answers(HOMEWORK / "key.toml", HOMEWORK / "submissions.csv")
    assert csv.field_size_limit() == before

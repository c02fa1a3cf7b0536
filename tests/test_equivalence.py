"""Formula answers against a table of textbook identities (tests/data/equivalence.toml): the
checker must give the verdict a teacher gives, and sympy is a second opinion on each one.

Right answers must pass at several seeds (a right answer marked wrong is the worst thing a
grader can do); wrong ones must fail with a counterexample that sympy, computing with 30
digits, confirms: at that point the two sides differ, or the answer is not a real number.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from cgdiff import parse
from cgdiff.check import Problem, Settings
from test_diff import SYMPY, to_sympy

PAIRS: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "data" / "equivalence.toml").read_text(encoding="utf-8")
)["pair"]
SEEDS = (0, 1, 2)
# NB: node by node at a number, so the real cube root (sympy's cbrt is the principal one).
OPS = {**SYMPY, "cbrt": lambda x: sp.real_root(x, 3)}


def _id(p: dict[str, Any]) -> str:
    return f"{p['expr']} | {p.get('item', 'value')}={p['answer']}"


def _value(text: str, point: dict[str, float]) -> float | None:
    """The graph of ``text`` at ``point``, node by node with sympy's 30 digits; None where a
    node is not a finite real number (sympy alone would say exp(log(-1)) = -1)."""
    values: list[Any] = []
    for n in parse(text).nodes:
        if n.kind == "input":
            v = sp.Rational(point[n.label])
        elif n.kind == "const":
            v = {"pi": sp.pi, "e": sp.E}.get(n.symbol or "", sp.Rational(float(n.value)))
        else:
            assert n.op is not None
            v = OPS[n.op.name](*(values[a] for a in n.args))
        v = v.evalf(30)
        if v.is_real is not True or not v.is_finite:
            return None
        values.append(v)
    return float(values[-1])


def _truth(p: dict[str, Any], point: dict[str, float]) -> float | None:
    """The truth for the pair's item at ``point``, where the problem is defined."""
    value = _value(p["expr"], point)
    item = p.get("item", "value")
    if value is None or item == "value":
        return value
    wrt = sp.Symbol(item.partition(".")[2], real=True)
    d = sp.diff(to_sympy(parse(p["expr"])), wrt)
    v = d.evalf(30, subs={sp.Symbol(k, real=True): sp.Rational(x) for k, x in point.items()})
    return float(v) if v.is_real is True and v.is_finite else None


def test_the_table_is_big_and_balanced() -> None:
    verdicts = [p["verdict"] for p in PAIRS]
    assert len(PAIRS) >= 100 and set(verdicts) == {"right", "wrong"}
    assert verdicts.count("wrong") >= 40 and verdicts.count("right") >= 60
    assert len({_id(p) for p in PAIRS}) == len(PAIRS)  # no pair twice
    items = {p.get("item", "value") for p in PAIRS}
    assert items == {"value", "derivative.x"}


@pytest.mark.parametrize("pair", [p for p in PAIRS if p["verdict"] == "right"], ids=_id)
def test_a_right_answer_passes(pair: dict[str, Any]) -> None:
    item = pair.get("item", "value")
    for seed in SEEDS:
        r = Problem("p", parse(pair["expr"]), None, Settings(seed=seed)).check(item, pair["answer"])
        assert r.passed, f"seed {seed}: {r.message}"
        assert r.message.startswith("equal at ")
    # sympy's opinion, at points where it finds the truth real: the answer equals it there.
    names = sorted(parse(pair["expr"]).input_names)
    rng = np.random.default_rng(7)
    agreed = 0
    for _ in range(60):
        lo, hi = [(-2, 2), (0, 2), (2, 6), (0, 20)][int(rng.integers(4))]
        point = {n: float(rng.uniform(lo, hi)) for n in names}
        t = _truth(pair, point)
        if t is None:
            continue
        a = _value(pair["answer"], point)
        assert a is not None and math.isclose(a, t, rel_tol=1e-9, abs_tol=1e-9), (point, t, a)
        agreed += 1
        if agreed == 4:
            break
    assert agreed == 4


@pytest.mark.parametrize("pair", [p for p in PAIRS if p["verdict"] == "wrong"], ids=_id)
def test_a_wrong_answer_fails_with_a_real_counterexample(pair: dict[str, Any]) -> None:
    item = pair.get("item", "value")
    for seed in SEEDS[:2]:
        r = Problem("p", parse(pair["expr"]), None, Settings(seed=seed)).check(item, pair["answer"])
        assert not r.passed and r.counterexample is not None, f"seed {seed}: {r.message}"
        assert "points nearby" in r.message
        point = r.counterexample["point"]
        t = _truth(pair, point)
        assert t is not None and math.isclose(t, r.counterexample["expected"], rel_tol=1e-9)
        a = _value(pair["answer"], point)
        if a is None:  # the answer is undefined there, and the checker says so
            assert math.isnan(r.counterexample["given"]) or math.isinf(r.counterexample["given"])
        else:
            assert abs(a - t) > 1e-9 + 1e-6 * abs(t), (point, t, a)

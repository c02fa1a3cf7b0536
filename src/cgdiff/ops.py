"""The ops table: every primitive of cgdiff, each in one record.

A record holds the primitive's spelling, arity, numpy forward function, its *local derivative*
rule, how it prints (infix symbol, precedence, associativity, LaTeX), a one-line summary for
``cgdiff ops``, the convention used where it is not differentiable, and the input range where
tests may sample it.  Adding a primitive means adding one record here (or, for an array
primitive, in :mod:`cgdiff.array_ops`) and nothing else.

Derivative rules are written with the ops themselves, through a *builder* handed in as an
argument: ``NUMERIC`` computes numbers, while the graph builder of :mod:`cgdiff.graph`
appends nodes, so the same rule gives numeric backprop, symbolic derivatives and, applied to
its own output, higher derivatives.  This module imports nothing from the graph.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .array_ops import ARRAY_OPS
from .primitive import Builder, Op, Value

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "NUMERIC",
    "OPS",
    "SCALAR_OPS",
    "Builder",
    "Op",
    "resolve_function",
    "suggest",
]


class _Numeric:
    """The builder that computes numbers: rules run on numpy values."""

    one = np.float64(1.0)
    zero = np.float64(0.0)

    @staticmethod
    def const(value: float) -> Value:
        return np.float64(value)

    @staticmethod
    def op(name: str, *args: Value, **params: Any) -> Value:
        return _FORWARD[name](*args, **params)

    # Python's operators on numpy values are numpy arithmetic; as C functions they cost
    # no Python frame per call, which matters in the backward loop.
    add = staticmethod(operator.add)
    sub = staticmethod(operator.sub)
    mul = staticmethod(operator.mul)
    div = staticmethod(operator.truediv)
    neg = staticmethod(operator.neg)
    pow = staticmethod(operator.pow)


NUMERIC: Builder = _Numeric()

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _sigmoid(x: Any) -> Any:
    # 1/(1+e^-x) overflows for very negative x; exp(-log(1+e^-x)) via logaddexp does not.
    return np.exp(-np.logaddexp(0.0, -x))


def _log(x: Any, base: Any = None) -> Any:
    if base is None:
        return np.log(x)
    ln_b = np.log(base)
    out = np.log(x) / ln_b
    # NB: no log to base 0 or inf (x / inf would read -0.0 or 0); a scalar base, the common
    # case, is tested without numpy's array machinery
    if np.ndim(ln_b) == 0:
        if not math.isinf(ln_b):
            return out
        return np.float64(np.nan) if np.ndim(out) == 0 else np.full(np.shape(out), np.nan)
    bad = np.isinf(ln_b)
    return np.where(bad, np.nan, out) if bad.any() else out


def _xlogy(a: Any, x: Any) -> Any:
    return np.where(np.equal(a, 0.0), 0.0, a * np.log(x))


def _is_zero(x: Any, *_: Any) -> Any:
    return np.equal(x, 0.0)


def _is_tie(x: Any, y: Any) -> Any:
    return np.equal(x, y)


def _half_sign(b: Builder, d: Value, sign: float) -> Value:
    # (1 ± sign(d)) / 2: 1 or 0 away from a tie, 1/2 at a tie (ties split the derivative).
    s = b.op("sign", d)
    return b.div(b.add(b.one, s) if sign > 0 else b.sub(b.one, s), b.const(2.0))


def _one_over_sqrt(b: Builder, u: Value) -> Value:
    return b.div(b.one, b.op("sqrt", u))


def _sq(b: Builder, x: Value) -> Value:
    return b.mul(x, x)


def _pow_rule(b: Builder, xs: Sequence[Value], out: Value, needs: Sequence[bool]) -> list[Value]:
    x, y = xs
    # d/dx x^y = y x^(y-1);  d/dy x^y = x^y log(x), asked for only when y varies.  NB: as
    # JAX does, x^y log(x) is taken as 0 where x^y is 0 (x = 0, y > 0): xlogy, not 0 * -inf.
    dx = b.mul(y, b.pow(x, b.sub(y, b.one))) if needs[0] else None
    dy = b.op("xlogy", out, x) if needs[1] else None
    return [dx, dy]


def _log_rule(b: Builder, xs: Sequence[Value], out: Value, needs: Sequence[bool]) -> list[Value]:
    if len(xs) == 1:
        return [b.div(b.one, xs[0])]
    x, base = xs
    # log_b x = ln x / ln b:  d/dx = 1/(x ln b);  d/db = -log_b(x) / (b ln b).
    ln_b = b.op("log", base)
    dx = b.div(b.one, b.mul(x, ln_b)) if needs[0] else None
    db = b.neg(b.div(out, b.mul(base, ln_b))) if needs[1] else None
    return [dx, db]


def _unary(
    name: str,
    forward: Callable[..., Any],
    partial: Callable[[Builder, Value, Value], Value],
    summary: str,
    rule: str,
    latex: str,
    domain: tuple[float, float] = (-3.0, 3.0),
    **extra: Any,
) -> Op:
    def partials(b: Builder, xs: Sequence[Value], out: Value, needs: Sequence[bool]) -> list[Value]:
        return [partial(b, xs[0], out)]

    return Op(
        name, (1, 1), forward, partials, summary, rule, latex, (domain,), unary=partial, **extra
    )


def _add_identity(g: Any, a: tuple[int, ...]) -> int | None:
    if g.is_const(a[0], 0.0):
        return a[1]
    return a[0] if g.is_const(a[1], 0.0) else None


def _sub_identity(g: Any, a: tuple[int, ...]) -> int | None:
    if g.is_const(a[1], 0.0):
        return a[0]
    if g.is_const(a[0], 0.0):
        return int(g.neg(a[1]))
    return int(g.zero) if a[0] == a[1] else None


def _mul_identity(g: Any, a: tuple[int, ...]) -> int | None:
    for k in (0, 1):
        other = a[1 - k]
        if g.is_const(a[k], 0.0):
            return int(g.zero)
        if g.is_const(a[k], 1.0):
            return other
        if g.is_const(a[k], -1.0):
            return int(g.neg(other))
    return None


def _div_identity(g: Any, a: tuple[int, ...]) -> int | None:
    if g.is_const(a[1], 1.0):
        return a[0]
    return int(g.zero) if g.is_const(a[0], 0.0) else None


def _neg_identity(g: Any, a: tuple[int, ...]) -> int | None:
    return g.op_args(a[0], "neg")[0] if g.op_args(a[0], "neg") else None  # -(-x) = x


def _xlogy_identity(g: Any, a: tuple[int, ...]) -> int | None:
    # In a formula (diff, hessian) xlogy(a, x) is written a log(x), as textbooks write it.
    return int(g.mul(a[0], g.op("log", a[1])))


def _pow_identity(g: Any, a: tuple[int, ...]) -> int | None:
    if g.is_const(a[1], 1.0):
        return a[0]
    return int(g.one) if g.is_const(a[1], 0.0) else None  # x^0 = 1, as numpy has 0^0 = 1


def _table() -> dict[str, Op]:
    # NB: the infix ops use Python's operators, which on numpy values are numpy's own
    # arithmetic (same results, same floating-point flags) at a tenth of a ufunc call's cost
    # on scalars.  Every value cgdiff computes with is a numpy scalar or array.
    ops: list[Op] = [
        # -- infix operators (aliases equal the grammar's rule names) --------------------
        Op(
            "add",
            (2, 2),
            operator.add,
            lambda b, xs, o, n: [b.one, b.one],
            "x + y, addition",
            "∂/∂x = 1, ∂/∂y = 1",
            "{0} + {1}",
            ((-3, 3), (-3, 3)),
            symbol="+",
            prec=1,
            assoc="left",
            callable=False,
            args=("x", "y"),
            linear=(1.0, 1.0),
            identity=_add_identity,
        ),
        Op(
            "sub",
            (2, 2),
            operator.sub,
            lambda b, xs, o, n: [b.one, b.neg(b.one)],
            "x - y, subtraction",
            "∂/∂x = 1, ∂/∂y = -1",
            "{0} - {1}",
            ((-3, 3), (-3, 3)),
            symbol="-",
            prec=1,
            assoc="left",
            callable=False,
            args=("x", "y"),
            linear=(1.0, -1.0),
            identity=_sub_identity,
        ),
        Op(
            "mul",
            (2, 2),
            operator.mul,
            lambda b, xs, o, n: [xs[1], xs[0]],
            "x * y, 2x, x y, 3(x+1): multiplication",
            "∂/∂x = y, ∂/∂y = x",
            "{0} {1}",
            ((-3, 3), (-3, 3)),
            symbol="*",
            prec=2,
            assoc="left",
            callable=False,
            args=("x", "y"),
            bilinear=True,
            identity=_mul_identity,
            spelling="* or side by side",
        ),
        # d/dy (x/y) = -x/y^2 = -(x/y)/y: reuse the node's own value.
        Op(
            "div",
            (2, 2),
            operator.truediv,
            lambda b, xs, o, n: [b.div(b.one, xs[1]), b.neg(b.div(o, xs[1]))],
            "x / y, division",
            "∂/∂x = 1/y, ∂/∂y = -x/y^2",
            "\\frac{{{0}}}{{{1}}}",
            ((-3, 3), (0.5, 3)),
            symbol="/",
            prec=2,
            assoc="left",
            callable=False,
            args=("x", "y"),
            identity=_div_identity,
        ),
        _unary(
            "neg",
            operator.neg,
            lambda b, x, o: b.neg(b.one),
            "-x, negation",
            "∂/∂x = -1",
            "-{0}",
            symbol="-",
            prec=3,
            callable=False,
            identity=_neg_identity,
        ),
        _unary(
            "pos",
            operator.pos,
            lambda b, x, o: b.one,
            "+x, unary plus; also copies a named node",
            "∂/∂x = 1",
            "{0}",
            symbol="+",
            prec=3,
            callable=False,
        ),
        # NB: pow binds tighter than unary minus (-x^2 is -(x^2)) and is right-associative.
        Op(
            "pow",
            (2, 2),
            operator.pow,
            _pow_rule,
            "x ^ y or x ** y or pow(x, y), power",
            "∂/∂x = y x^(y-1), ∂/∂y = x^y log(x)",
            "{0}^{{{1}}}",
            ((0.2, 3), (-2, 2)),
            symbol="^",
            prec=4,
            assoc="right",
            args=("x", "y"),
            identity=_pow_identity,
            spelling="^ ** pow",
        ),
        # -- trigonometric ---------------------------------------------------------------
        _unary(
            "sin",
            np.sin,
            lambda b, x, o: b.op("cos", x),
            "sine",
            "∂/∂x = cos(x)",
            "\\sin\\left({0}\\right)",
        ),
        _unary(
            "cos",
            np.cos,
            lambda b, x, o: b.neg(b.op("sin", x)),
            "cosine",
            "∂/∂x = -sin(x)",
            "\\cos\\left({0}\\right)",
        ),
        # d/dx tan = sec² = 1 + tan²
        _unary(
            "tan",
            np.tan,
            lambda b, x, o: b.add(b.one, _sq(b, o)),
            "tangent",
            "∂/∂x = 1 + tan(x)^2",
            "\\tan\\left({0}\\right)",
            (-1.2, 1.2),
        ),
        _unary(
            "sec",
            lambda x: 1.0 / np.cos(x),
            lambda b, x, o: b.mul(o, b.op("tan", x)),
            "secant, 1/cos(x)",
            "∂/∂x = sec(x) tan(x)",
            "\\sec\\left({0}\\right)",
            (-1.2, 1.2),
        ),
        _unary(
            "csc",
            lambda x: 1.0 / np.sin(x),
            lambda b, x, o: b.neg(b.mul(o, b.op("cot", x))),
            "cosecant, 1/sin(x)",
            "∂/∂x = -csc(x) cot(x)",
            "\\csc\\left({0}\\right)",
            (0.3, 2.8),
        ),
        _unary(
            "cot",
            lambda x: 1.0 / np.tan(x),
            lambda b, x, o: b.neg(b.add(b.one, _sq(b, o))),
            "cotangent, 1/tan(x)",
            "∂/∂x = -(1 + cot(x)^2)",
            "\\cot\\left({0}\\right)",
            (0.3, 2.8),
        ),
        _unary(
            "asin",
            np.arcsin,
            lambda b, x, o: _one_over_sqrt(b, b.sub(b.one, _sq(b, x))),
            "inverse sine",
            "∂/∂x = 1/sqrt(1 - x^2)",
            "\\arcsin\\left({0}\\right)",
            (-0.9, 0.9),
        ),
        _unary(
            "acos",
            np.arccos,
            lambda b, x, o: b.neg(_one_over_sqrt(b, b.sub(b.one, _sq(b, x)))),
            "inverse cosine",
            "∂/∂x = -1/sqrt(1 - x^2)",
            "\\arccos\\left({0}\\right)",
            (-0.9, 0.9),
        ),
        _unary(
            "atan",
            np.arctan,
            lambda b, x, o: b.div(b.one, b.add(b.one, _sq(b, x))),
            "inverse tangent",
            "∂/∂x = 1/(1 + x^2)",
            "\\arctan\\left({0}\\right)",
        ),
        # atan2(y, x): angle of the point (x, y); d/dy = x/(x²+y²), d/dx = -y/(x²+y²).
        Op(
            "atan2",
            (2, 2),
            np.arctan2,
            lambda b, xs, o, n: [
                b.div(xs[1], b.add(_sq(b, xs[0]), _sq(b, xs[1]))),
                b.neg(b.div(xs[0], b.add(_sq(b, xs[0]), _sq(b, xs[1])))),
            ],
            "atan2(y, x), angle of the point (x, y)",
            "∂/∂y = x/(x^2 + y^2), ∂/∂x = -y/(x^2 + y^2)",
            "\\operatorname{{atan2}}\\left({0}, {1}\\right)",
            ((0.2, 3), (0.2, 3)),
            args=("y", "x"),
        ),
        # -- hyperbolic ------------------------------------------------------------------
        _unary(
            "sinh",
            np.sinh,
            lambda b, x, o: b.op("cosh", x),
            "hyperbolic sine",
            "∂/∂x = cosh(x)",
            "\\sinh\\left({0}\\right)",
        ),
        _unary(
            "cosh",
            np.cosh,
            lambda b, x, o: b.op("sinh", x),
            "hyperbolic cosine",
            "∂/∂x = sinh(x)",
            "\\cosh\\left({0}\\right)",
        ),
        # d/dx tanh = 1 - tanh²: reuse the node's value.
        _unary(
            "tanh",
            np.tanh,
            lambda b, x, o: b.sub(b.one, _sq(b, o)),
            "hyperbolic tangent",
            "∂/∂x = 1 - tanh(x)^2",
            "\\tanh\\left({0}\\right)",
        ),
        _unary(
            "asinh",
            np.arcsinh,
            lambda b, x, o: _one_over_sqrt(b, b.add(_sq(b, x), b.one)),
            "inverse hyperbolic sine",
            "∂/∂x = 1/sqrt(x^2 + 1)",
            "\\operatorname{{arsinh}}\\left({0}\\right)",
        ),
        _unary(
            "acosh",
            np.arccosh,
            lambda b, x, o: _one_over_sqrt(b, b.sub(_sq(b, x), b.one)),
            "inverse hyperbolic cosine",
            "∂/∂x = 1/sqrt(x^2 - 1)",
            "\\operatorname{{arcosh}}\\left({0}\\right)",
            (1.2, 4.0),
        ),
        _unary(
            "atanh",
            np.arctanh,
            lambda b, x, o: b.div(b.one, b.sub(b.one, _sq(b, x))),
            "inverse hyperbolic tangent",
            "∂/∂x = 1/(1 - x^2)",
            "\\operatorname{{artanh}}\\left({0}\\right)",
            (-0.9, 0.9),
        ),
        # -- exponential and logarithms --------------------------------------------------
        _unary("exp", np.exp, lambda b, x, o: o, "e to the x", "∂/∂x = exp(x)", "e^{{{0}}}"),
        Op(
            "log",
            (1, 2),
            _log,
            _log_rule,
            "natural log; log(x, b) is the log of x to base b",
            "∂/∂x = 1/x;  log(x, b): ∂/∂x = 1/(x log(b)), ∂/∂b = -log(x, b)/(b log(b))",
            "\\ln\\left({0}\\right)",
            ((0.2, 4), (1.5, 4)),
            aliases=("ln",),
            args=("x", "b"),
        ),
        _unary(
            "log2",
            np.log2,
            lambda b, x, o: b.div(b.one, b.mul(x, b.const(math.log(2)))),
            "log to base 2",
            "∂/∂x = 1/(x log(2))",
            "\\log_{{2}}\\left({0}\\right)",
            (0.2, 4.0),
        ),
        _unary(
            "log10",
            np.log10,
            lambda b, x, o: b.div(b.one, b.mul(x, b.const(math.log(10)))),
            "log to base 10",
            "∂/∂x = 1/(x log(10))",
            "\\log_{{10}}\\left({0}\\right)",
            (0.2, 4.0),
        ),
        # d/dx sqrt = 1/(2 sqrt(x)): infinite at 0, reported as inf with a warning.
        _unary(
            "sqrt",
            np.sqrt,
            lambda b, x, o: b.div(b.const(0.5), o),
            "square root",
            "∂/∂x = 1/(2 sqrt(x))",
            "\\sqrt{{{0}}}",
            (0.2, 4.0),
        ),
        _unary(
            "cbrt",
            np.cbrt,
            lambda b, x, o: b.div(b.one, b.mul(b.const(3.0), _sq(b, o))),
            "cube root",
            "∂/∂x = 1/(3 cbrt(x)^2)",
            "\\sqrt[3]{{{0}}}",
            (0.2, 4.0),
        ),
        # -- piecewise ---------------------------------------------------------------------
        _unary(
            "abs",
            np.abs,
            lambda b, x, o: b.op("sign", x),
            "absolute value",
            "∂/∂x = sign(x)",
            "\\left|{0}\\right|",
            kink=_is_zero,
            convention="abs is not differentiable at 0; the sub-gradient 0 is used",
        ),
        _unary(
            "sign",
            np.sign,
            lambda b, x, o: b.zero,
            "sign: -1, 0 or 1",
            "∂/∂x = 0",
            "\\operatorname{{sign}}\\left({0}\\right)",
            kink=_is_zero,
            convention="sign jumps at 0; its derivative is taken as 0 there",
        ),
        _unary(
            "step",
            lambda x: np.heaviside(x, 0.0),
            lambda b, x, o: b.zero,
            "Heaviside step: 1 for x > 0, else 0",
            "∂/∂x = 0",
            "\\operatorname{{step}}\\left({0}\\right)",
            kink=_is_zero,
            convention="step jumps at 0; its derivative is taken as 0 there",
        ),
        _unary(
            "relu",
            lambda x: np.maximum(x, 0.0),
            lambda b, x, o: b.op("step", x),
            "rectified linear unit, max(x, 0)",
            "∂/∂x = step(x) (1 for x > 0, else 0)",
            "\\operatorname{{relu}}\\left({0}\\right)",
            kink=_is_zero,
            convention="relu is not differentiable at 0; the sub-gradient 0 is used",
        ),
        # d/dx sigmoid = sigmoid (1 - sigmoid): reuse the node's value.
        _unary(
            "sigmoid",
            _sigmoid,
            lambda b, x, o: b.mul(o, b.sub(b.one, o)),
            "logistic sigmoid, 1/(1 + e^-x)",
            "∂/∂x = sigmoid(x) (1 - sigmoid(x))",
            "\\sigma\\left({0}\\right)",
        ),
        # log(1+e^x) overflows for large x; logaddexp(0, x) does not.
        _unary(
            "softplus",
            lambda x: np.logaddexp(0.0, x),
            lambda b, x, o: b.op("sigmoid", x),
            "softplus, log(1 + e^x)",
            "∂/∂x = sigmoid(x)",
            "\\operatorname{{softplus}}\\left({0}\\right)",
        ),
        Op(
            "min",
            (2, 2),
            np.minimum,
            lambda b, xs, o, n: [
                _half_sign(b, b.sub(xs[0], xs[1]), -1.0),
                _half_sign(b, b.sub(xs[0], xs[1]), 1.0),
            ],
            "the smaller of x and y",
            "∂/∂x = 1 where x < y, ∂/∂y = 1 where y < x",
            "\\min\\left({0}, {1}\\right)",
            ((-3, 3), (-3, 3)),
            kink=_is_tie,
            convention="min has a tie here; the derivative is split 1/2 to each argument",
            args=("x", "y"),
        ),
        Op(
            "max",
            (2, 2),
            np.maximum,
            lambda b, xs, o, n: [
                _half_sign(b, b.sub(xs[0], xs[1]), 1.0),
                _half_sign(b, b.sub(xs[0], xs[1]), -1.0),
            ],
            "the larger of x and y",
            "∂/∂x = 1 where x > y, ∂/∂y = 1 where y > x",
            "\\max\\left({0}, {1}\\right)",
            ((-3, 3), (-3, 3)),
            kink=_is_tie,
            convention="max has a tie here; the derivative is split 1/2 to each argument",
            args=("x", "y"),
        ),
        # xlogy(a, x) = a log(x), taken as 0 where a = 0 (scipy's and JAX's convention).
        Op(
            "xlogy",
            (2, 2),
            _xlogy,
            lambda b, xs, o, n: [b.op("log", xs[1]), b.div(xs[0], xs[1])],
            "x log(y), taken as 0 where x = 0 (as in scipy and JAX)",
            "∂/∂x = log(y), ∂/∂y = x/y",
            "\\operatorname{{xlogy}}\\left({0}, {1}\\right)",
            ((-3, 3), (0.2, 3)),
            args=("x", "y"),
            identity=_xlogy_identity,
        ),
        Op(
            "hypot",
            (2, 2),
            np.hypot,
            lambda b, xs, o, n: [b.div(xs[0], o), b.div(xs[1], o)],
            "sqrt(x^2 + y^2), without overflow",
            "∂/∂x = x/hypot(x, y), ∂/∂y = y/hypot(x, y)",
            "\\sqrt{{{0}^{{2}} + {1}^{{2}}}}",
            ((0.2, 3), (-3, 3)),
            args=("x", "y"),
        ),
    ]
    return {op.name: op for op in ops}


OPS: dict[str, Op] = {**_table(), **{op.name: op for op in ARRAY_OPS}}
_FORWARD = {name: op.forward for name, op in OPS.items()}

#: The elementwise primitives: rules that tests may check generically, entry by entry.
SCALAR_OPS: list[Op] = [op for op in OPS.values() if op.elementwise]

# Spelling of a call -> the ops it may mean, told apart by their number of arguments
# (max(a, b) is elementwise, max(x) the largest entry).
_CALLS: dict[str, list[Op]] = {}
for _op in OPS.values():
    if _op.callable:
        for _spelling in (_op.name, *_op.aliases):
            _CALLS.setdefault(_spelling, []).append(_op)

# Spelling of a call -> op name, for every op that may be called as ``name(...)``.
FUNCTIONS: dict[str, str] = {spelling: ops[0].name for spelling, ops in _CALLS.items()}


def suggest(name: str, known: Sequence[str], cutoff: float = 0.75) -> str | None:
    """The known spelling closest to ``name``, if one is close enough.

    >>> suggest("sine", list(FUNCTIONS)), suggest("ta", ["name", "at"])
    ('sin', 'at')
    """
    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=cutoff)
    if close:
        return lowered[close[0]]
    # Two letters swapped (ta for at, sni for sin) is a typo difflib rates low in short words.
    swapped = [k for k in lowered if len(k) == len(name) > 1 and sorted(k) == sorted(name.lower())]
    return lowered[swapped[0]] if len(swapped) == 1 else None


def resolve_function(name: str, n_args: int | None = None) -> Op | None:
    """The op a call spelled ``name`` with ``n_args`` arguments means, or None for a name
    that is not a function.

    >>> resolve_function("ln").name, resolve_function("max", 1).name
    ('log', 'amax')
    """
    ops = _CALLS.get(name)
    if not ops:
        return None
    if n_args is not None:
        for op in ops:
            if op.arity[0] <= n_args <= op.arity[1]:
                return op
    return ops[0]


def apply_checked(
    op: Op, args: Sequence[Any], params: dict[str, Any] | None = None
) -> tuple[Any, str | None]:
    """Apply ``op`` and say what went wrong: None, ``"undefined"`` or ``"overflow"``.

    A NaN, or an infinity from a division by zero (``1/0``, ``log(0)``), is undefined; an
    infinity from finite numbers growing too large (``exp(1000)``) is an overflow.

    >>> apply_checked(OPS["log"], [np.float64(-1.0)])[1]
    'undefined'
    """
    kw = params or {}
    with np.errstate(all="ignore"):
        out = op.forward(*args, **kw)
    finite = np.isfinite(out)
    if np.all(finite):
        return out, None
    if np.any(np.isnan(out)):
        return out, "undefined"
    try:
        with np.errstate(divide="raise", over="ignore", invalid="raise", under="ignore"):
            op.forward(*args, **kw)
    except FloatingPointError:
        return out, "undefined"
    return out, "overflow"

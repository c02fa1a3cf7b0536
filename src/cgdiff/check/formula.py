"""Formula answers: a student's formula against the truth, as functions, at random points.

A formula answer (``expect.derivative``, or any expected string without ``at``) passes when it
equals the true result at ``samples`` random points where the problem's expression and the
true result are defined (SPEC section 6, as WeBWorK and STACK do; the points come from
:mod:`cgdiff.check.sampling`).  It fails only with a counterexample that is real:

- a point where either side overflows, underflows to 0, or has lost its precision proves
  nothing: both sides are recomputed there in ``np.longdouble`` (64 significant bits and a
  wider exponent on x86), and a point where a node leaves float64's range, or where a side
  moves by more than a quarter of the tolerance, is skipped, not counted;
- the two sides must also differ at most of a few points nearby (within 0.1% of each
  input's range), so no single unlucky point (a rounding cliff, an exponent of ``1/n`` at
  ``n`` near 0) decides;
- the message says where, both values there, and how they differ (a factor, a constant,
  the opposite sign, or undefined).

This module knows graphs, settings and answers, not problems or result records, so
:mod:`cgdiff.check.problem` builds on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ad import backward
from ..evaluate import forward
from ..graph import Graph
from ..ops import NUMERIC
from .answer import Answer, pair_text
from .sampling import Sample, Sampler, pick, truth_at
from .settings import Settings, _g, describe_point

__all__ = ["Comparison", "compare", "evaluate_answer"]

NEARBY = 8  # points near a counterexample where the two sides must differ too
RADIUS = 1e-3  # how near: this fraction of each input's range
CANDIDATES = 8  # counterexamples confirmed together, in one batch
_F64 = np.finfo(np.float64)
_EXTENDED = np.finfo(np.longdouble).nmant > _F64.nmant  # NB: longdouble is float64 on some CPUs


def answer_values(answer: Graph, problem: Graph, values: Sequence[Any]) -> list[Any]:
    """Every node of the answer's graph where the problem's nodes take ``values``."""
    bound = {i: values[problem.by_name[answer.nodes[i].label]] for i in answer.inputs}
    out, _ = forward(answer, bound, strict=False)
    return out


def evaluate_answer(answer: Graph, problem: Graph, values: Sequence[Any]) -> Any:
    """The answer's value where the problem's nodes take ``values`` (one point or a draw).

    The answer's names are the problem's inputs and named nodes; undefined points come out
    as NaN or inf, for the caller to mask.

    >>> from cgdiff import parse
    >>> g = parse("y = x + 1")
    >>> values = [2.0 if n.name == "y" else 1.0 for n in g.nodes]
    >>> float(evaluate_answer(parse("2y"), g, values))
    4.0
    """
    return answer_values(answer, problem, values)[answer.output]


@dataclass
class Comparison:
    """The verdict on a formula answer: passed or not, the sentence that says why, and the
    counterexample (``point``, ``expected``, ``given``) when there is one."""

    passed: bool
    message: str
    counterexample: dict[str, Any] | None = None


def compare(
    sampler: Sampler,
    kind: str,
    node: int,
    ans: Answer,
    what: str,
    defined: str,
    note: str = "",
) -> Comparison:
    """Compare ``ans`` with the truth for (``kind``, ``node``) as functions, at random points
    where the problem's expression and the truth are both defined; the answer must be
    defined there too.  ``what`` names the truth in messages (``∂f/∂x``), ``defined`` says
    what must be defined (``f and ∂f/∂x are``), ``note`` is added to a counterexample.

    >>> from cgdiff import parse
    >>> from cgdiff.check.answer import read_answer
    >>> from cgdiff.check.settings import Settings
    >>> s = Sampler(parse("x^2"), Settings())
    >>> compare(s, "derivative", 0, read_answer("2x"), "∂f/∂x", "f is").message
    'equal at 200 random points in [-2, 2]'
    >>> print(compare(s, "derivative", 0, read_answer("3x"), "∂f/∂x", "f is").message)
    ... # doctest: +NORMALIZE_WHITESPACE
    differs at x=0.547847: ∂f/∂x is 1.09569 there, the answer gives 1.64354
    (1.5 times ∂f/∂x), and at 8 of 8 points nearby
    """
    g = sampler.graph
    settings = sampler.settings
    need = settings.samples
    valid = drawn = 0
    for s in sampler.draws(kind, node):
        size = len(s.defined)
        truth = np.broadcast_to(pick(kind, node, s.values, s.adjoints), (size,))
        got = _answer_at(ans, g, s.values, size)
        ok = sampler.defined(s, kind, node)
        with np.errstate(all="ignore"):
            # NB: points where the problem is undefined are not asked about, whatever
            # the answer does there; at every other point an undefined answer is wrong.
            bad = ok & ~(np.abs(got - truth) <= settings.tolerance(truth))
        drawn += size
        if np.any(bad):
            found = _confirm(sampler, kind, node, ans, s, np.flatnonzero(bad), what)
            if found is not None:
                return Comparison(False, found.message + note, found.counterexample)
        valid += int(np.count_nonzero(ok & ~bad))
        if valid >= need:
            where = sampler.describe(kind, node)
            return Comparison(True, f"equal at {valid} random points in {where}")
    where = sampler.describe(kind, node)
    return Comparison(
        False,
        f"undecided: only {valid} of {drawn} random points in {where} are where "
        f"{defined} defined, and {need} are needed (a key can move the points with "
        "sample_range)",
    )


def _answer_at(ans: Answer, g: Graph, values: Sequence[Any], size: int) -> Any:
    if ans.graph is not None:
        # NB: an answer holds no array here (Problem refuses one before it is compared)
        return np.broadcast_to(evaluate_answer(ans.graph, g, values), (size,))
    return np.full(size, ans.number, dtype=np.asarray(values[g.output]).dtype)


def _confirm(
    sampler: Sampler,
    kind: str,
    node: int,
    ans: Answer,
    s: Sample,
    candidates: np.ndarray,
    what: str,
) -> Comparison | None:
    """The first of ``candidates`` (indices into the draw ``s``) that is a real
    counterexample, as a failing :class:`Comparison`; None when none is (they are then
    skipped: neither agreement nor disagreement)."""
    g = sampler.graph
    names = g.input_names
    rng = np.random.default_rng((sampler.settings.seed, len(candidates), int(candidates[0])))
    for start in range(0, min(len(candidates), 4 * CANDIDATES), CANDIDATES):
        chunk = candidates[start : start + CANDIDATES]
        c = len(chunk)
        # Batch: the c points themselves, then NEARBY points around each, jittered by up to
        # RADIUS of each input's range.
        point: dict[str, np.ndarray] = {}
        for n in names:
            lo, hi = s.spans.get(n, (-2.0, 2.0))
            base = s.point[n][chunk]
            jitter = rng.uniform(-1.0, 1.0, (c, NEARBY)) * RADIUS * (hi - lo)
            point[n] = np.concatenate([base, (base[:, None] + jitter).ravel()])
        verdict = _judge(sampler, kind, node, ans, point)
        differ = verdict.differ
        counted = verdict.counted
        for j in range(c):
            if not (counted[j] and differ[j]):
                continue
            near = slice(c + j * NEARBY, c + (j + 1) * NEARBY)
            n_count = int(np.count_nonzero(counted[near]))
            n_differ = int(np.count_nonzero(counted[near] & differ[near]))
            if n_count < NEARBY // 2 or 4 * n_differ < 3 * n_count:
                continue  # not confirmed nearby: skipped
            at = {n: float(point[n][j]) for n in names}
            t, a = float(verdict.truth[j]), float(verdict.got[j])
            idx = np.r_[j, np.flatnonzero(counted[near] & differ[near]) + c + j * NEARBY]
            how = _how(verdict.truth[idx], verdict.got[idx], what, sampler.settings)
            e, v = pair_text(t, a, exact=False)
            where = describe_point(at)
            if math.isfinite(a):
                msg = f"differs at {where}: {what} is {e} there, the answer gives {v}"
                msg += f" ({how})" if how else ""
            elif math.isnan(a):
                msg = f"the answer is undefined at {where}, where {what} is {e}"
            else:
                msg = f"the answer is {v} at {where}, where {what} is {e}"
            msg += f", and at {n_differ} of {NEARBY} points nearby"
            return Comparison(False, msg, {"point": at, "expected": t, "given": a})
    return None


@dataclass
class _Verdict:
    truth: np.ndarray  # float64
    got: np.ndarray
    counted: np.ndarray  # the problem is defined, and neither side lost its range or digits
    differ: np.ndarray  # the sides differ beyond the tolerance, in float64 and longdouble


def _judge(
    sampler: Sampler, kind: str, node: int, ans: Answer, point: dict[str, np.ndarray]
) -> _Verdict:
    """Both sides at a batch of points, in float64 and in longdouble: where they can be
    trusted, and where they differ."""
    g, settings = sampler.graph, sampler.settings
    size = len(next(iter(point.values())))
    lo = truth_at(g, point)
    a_lo = answer_values(ans.graph, g, lo.values) if ans.graph is not None else []
    hi, a_hi = lo, a_lo
    if _EXTENDED:
        try:
            hi = truth_at(g, point, np.longdouble)
            a_hi = answer_values(ans.graph, g, hi.values) if ans.graph is not None else []
        except TypeError:  # NB: an op without a longdouble loop: judged in float64 alone
            hi, a_hi = lo, a_lo
    t64 = np.broadcast_to(pick(kind, node, lo.values, lo.adjoints), (size,)).astype(np.float64)
    tld = np.broadcast_to(pick(kind, node, hi.values, hi.adjoints), (size,))
    counted = lo.defined & np.isfinite(t64)
    counted &= ~_out_of_range(g, lo.values, hi.values, size, with_args=True)
    counted &= ~_out_of_range(g, lo.adjoints, hi.adjoints, size, with_args=False)
    if ans.graph is not None:
        counted &= ~_out_of_range(ans.graph, a_lo, a_hi, size, with_args=True)
        a64 = np.broadcast_to(a_lo[ans.graph.output], (size,))
        ald = np.broadcast_to(a_hi[ans.graph.output], (size,))
    else:
        a64 = ald = np.full(size, ans.number)
    with np.errstate(all="ignore"):
        tol = settings.tolerance(t64)
        # NB: the first-order bound of each side's rounding error must be well inside the
        # tolerance; it sees what longdouble cannot when both round to the same wrong value
        # (cosh(x)^2 - sinh(x)^2 is 0 in both at x = 23).
        err = np.zeros(size)
        if ans.graph is not None:
            err = err + _rounding(ans.graph, a_lo, size)
        tg = sampler.truth_graph(kind, node)
        if tg is g:
            err = err + _rounding(g, lo.values, size, lo.adjoints)
        elif tg is not None:
            err = err + _rounding(tg, truth_at(tg, point).values, size)
        counted &= (err <= tol / 4) | ~np.isfinite(a64)  # an undefined answer: no digits
        for x64, xld in ((t64, tld), (a64, ald)):
            # NB: a side that moves by more than a quarter of the tolerance when computed
            # with 11 more bits has lost its digits (cosh(x)^2 - sinh(x)^2 at x = 20).
            same = (x64 == xld) | (np.abs(x64 - xld) <= tol / 4) | (np.isnan(x64) & np.isnan(xld))
            counted &= same
        differ = ~(np.abs(a64 - t64) <= tol) & ~(np.abs(ald - tld) <= tol)
    return _Verdict(t64, np.asarray(a64, dtype=np.float64), counted, differ)


def _rounding(
    g: Graph, values: Sequence[Any], size: int, adjoints: Sequence[Any] | None = None
) -> np.ndarray:
    """A first-order bound of the rounding error in ``g``'s output (Linnainmaa's): every op
    rounds its value ``v`` by up to ``eps·|v|``, which reaches the output times its adjoint,
    so ``eps · Σ |∂output/∂v|·|v|``.  ``values`` are ``g``'s at a batch of points; its
    adjoints are computed unless given.

    >>> from cgdiff import parse
    >>> g = parse("(x + 1e8) - 1e8")
    >>> s = truth_at(g, {"x": np.array([0.5])})
    >>> bool(_rounding(g, s.values, 1)[0] > 1e-8)
    True
    """
    with np.errstate(all="ignore"):
        if adjoints is None:
            adjoints, _, _ = backward(g, values, NUMERIC, np.ones(size), g.variable())
        total = np.zeros(size)
        for i in g.op_ids:
            a, v = adjoints[i], values[i]
            if a is not None:
                total = total + np.abs(np.asarray(a, dtype=np.float64) * v)
        total[np.isnan(total)] = np.inf
    return np.asarray(_F64.eps * total, dtype=np.float64)


def _out_of_range(
    g: Graph, lo: Sequence[Any], hi: Sequence[Any], size: int, *, with_args: bool
) -> np.ndarray:
    """Where some node of ``g`` left float64's range, so the point proves nothing.

    ``lo``/``hi``: each node's value (or adjoint) in float64 and in longdouble.  A node
    overflowed where it is inf and longdouble is not, or where it is inf from finite nonzero
    inputs (``exp(1000)``; ``x^(1/n)`` at ``n = 1e-5`` overflows longdouble too); a pole,
    ``1/0``, has an input of 0 and is no overflow.  It underflowed where it is subnormal, or
    0 where longdouble is not, or 0 from nonzero inputs with every local derivative 0 too
    where its op is smooth: no smooth op is 0 with zero slope at a random point, while
    ``relu`` and ``step`` (ops with a kink) are, on half the line.  ``with_args``: ``lo`` is
    values, so an inf or 0 can be traced to its inputs.
    """
    bad = np.zeros(size, dtype=bool)
    tiny = _F64.tiny
    zeros: list[tuple[int, np.ndarray]] = []
    with np.errstate(all="ignore"):
        for n in g.nodes:
            a, b = lo[n.id], hi[n.id]
            if a is None or b is None:
                continue
            a = np.broadcast_to(np.asarray(a, dtype=np.float64), (size,))
            b = np.broadcast_to(b, (size,))
            finite = np.isfinite(a)
            bad |= ~finite & np.isfinite(b)
            bad |= finite & (a != 0) & (np.abs(a) < tiny)
            bad |= finite & (b != 0) & (np.abs(b) < tiny * 2.0**52)
            if with_args and n.args:
                inf, zero = np.isinf(a), (a == 0) & (n.op is not None and n.op.kink is None)
                for i in n.args:
                    x = np.broadcast_to(np.asarray(lo[i], dtype=np.float64), (size,))
                    nonzero = np.isfinite(x) & (x != 0)
                    inf, zero = inf & nonzero, zero & nonzero
                bad |= inf
                if zero.any():
                    zeros.append((n.id, zero))
        if zeros:
            _, local, _ = backward(g, lo, NUMERIC, np.ones(size), g.variable(), record=True)
            assert local is not None
            for i, zero in zeros:
                parts = [np.abs(np.asarray(p, dtype=np.float64)) for p in local[i] or ()]
                flat = zero & bool(parts)
                for p in parts:
                    flat = flat & (p < tiny * 2.0**52)
                bad |= flat
    return bad


def _how(truth: np.ndarray, got: np.ndarray, what: str, settings: Settings) -> str:
    """How a finite answer differs from the truth at a counterexample and the points near
    it that differ too: ``1.5 times ∂f/∂x``, ``the opposite sign``, ``∂f/∂x + 3``, or
    ``off by 0.5, 20% of ∂f/∂x``.

    >>> _how(np.array([1.0, 2.0]), np.array([-1.0, -2.0]), "f", Settings())
    'the opposite sign'
    """
    with np.errstate(all="ignore"):
        ratio = got / truth
        diff = got - truth
        if np.all(truth != 0) and np.all(np.abs(ratio - ratio[0]) <= 1e-6 * np.abs(ratio[0])):
            q = float(ratio[0])
            if q == 0:
                return ""  # the answer is 0 there: the values say it all
            return "the opposite sign" if abs(q + 1) <= 1e-6 else f"{_g(q)} times {what}"
        if np.all(np.abs(diff - diff[0]) <= settings.tolerance(truth)):
            d = float(diff[0])
            return f"{what} {'+' if d > 0 else '-'} {_g(abs(d))}"
        off, t = float(np.abs(diff[0])), float(np.abs(truth[0]))
        return f"off by {_g(off)}" + (f", {_g(100 * off / t, 3)}% of {what}" if t > 0 else "")

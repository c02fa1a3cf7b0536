"""Formula answers: a student's formula against the truth, as functions, at random points.

A formula answer (``expect.derivative``, or any expected string without ``at``) passes when it
equals the true result at many random points where the problem's expression and the true
result are defined (SPEC section 6, as WeBWorK and STACK do).  :class:`Sampler` draws the
points and runs the core passes there once per problem; :func:`compare` judges one answer
at those points and phrases the verdict.  This module knows graphs, settings and answers,
not problems or result records, so :mod:`cgdiff.check.problem` builds on it.
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
from .settings import DRAW, MAX_DRAWS, Settings, describe_point

__all__ = ["Comparison", "Sample", "Sampler", "compare", "evaluate_answer", "pick"]


@dataclass
class Sample:
    """One draw of random points and the truth there: every node's value and adjoint, and
    where the problem's expression (its output) is defined."""

    point: dict[str, np.ndarray]
    values: list[Any]
    adjoints: list[Any]
    defined: np.ndarray


class Sampler:
    """The random points of one problem, drawn ``DRAW`` at a time and kept, with the truth
    at each (one forward pass and one reverse sweep per draw, shared by every answer).

    >>> from cgdiff import parse
    >>> s = Sampler(parse("log(x)"), Settings()).sample(0)
    >>> bool(((s.point["x"] > 0) == s.defined).all())
    True
    """

    def __init__(self, graph: Graph, settings: Settings) -> None:
        self.graph = graph
        self.settings = settings
        self.samples: list[Sample] = []
        self._rng: np.random.Generator | None = None

    def sample(self, k: int) -> Sample:
        """The ``k``-th draw of random points (made once, then kept)."""
        g = self.graph
        while len(self.samples) <= k:
            if self._rng is None:
                self._rng = np.random.default_rng(self.settings.seed)
            point: dict[str, np.ndarray] = {}
            for i in g.inputs:
                name = g.nodes[i].label
                lo, hi = self.settings.range_of(name)
                point[name] = self._rng.uniform(lo, hi, DRAW)
            self.samples.append(truth_at(g, point))
        return self.samples[k]


def truth_at(g: Graph, point: dict[str, np.ndarray]) -> Sample:
    """Every node's value and adjoint at a batch of points (one pass each way).

    >>> from cgdiff import parse
    >>> s = truth_at(parse("x^2"), {"x": np.array([1.0, 3.0])})
    >>> [float(v) for v in s.adjoints[0]]
    [2.0, 6.0]
    """
    size = len(next(iter(point.values()))) if point else DRAW
    bound = {i: point[g.nodes[i].label] for i in g.inputs}
    values, _ = forward(g, bound, strict=False)
    with np.errstate(all="ignore"):
        adj, _, _ = backward(g, values, NUMERIC, np.ones(size), g.variable())
    defined = np.broadcast_to(np.isfinite(values[g.output]), (size,))
    return Sample(point, values, adj, defined)


def pick(kind: str, node: int, values: Sequence[Any], adjoints: Sequence[Any]) -> Any:
    """The truth for an item of ``kind`` about ``node``: its value, or its adjoint (0 for a
    node the output does not depend on).

    >>> pick("grad", 0, [2.0], [None])
    np.float64(0.0)
    """
    if kind in ("value", "node"):
        return values[node]
    a = adjoints[node]
    return np.float64(0.0) if a is None else a


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
    bound = {i: values[problem.by_name[answer.nodes[i].label]] for i in answer.inputs}
    out, _ = forward(answer, bound, strict=False)
    return out[answer.output]


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
    >>> s = Sampler(parse("x^2"), Settings())
    >>> compare(s, "derivative", 0, read_answer("2x"), "∂f/∂x", "f is").message
    'equal at 200 random points in [-2, 2]'
    """
    g = sampler.graph
    settings: Settings = sampler.settings
    names = g.input_names
    need = settings.samples
    valid = drawn = 0
    for k in range(MAX_DRAWS):
        s = sampler.sample(k)
        truth = np.broadcast_to(pick(kind, node, s.values, s.adjoints), (DRAW,))
        if ans.graph is not None:
            got = np.broadcast_to(evaluate_answer(ans.graph, g, s.values), (DRAW,))
        else:
            got = np.full(DRAW, ans.number)
        with np.errstate(all="ignore"):
            # NB: points where the problem is undefined are not asked about, whatever
            # the answer does there; at every other point an undefined answer is wrong.
            ok = s.defined & np.isfinite(truth)
            bad = ok & ~(np.abs(got - truth) <= settings.tolerance(truth))
        drawn += DRAW
        if np.any(bad):
            j = int(np.argmax(bad))
            point = {n: float(s.point[n][j]) for n in names}
            t, a = float(truth[j]), float(got[j])
            e, v = pair_text(t, a, exact=False)
            where = describe_point(point)
            if math.isfinite(a):
                msg = f"differs at {where}: {what} is {e} there, the answer gives {v}"
            elif math.isnan(a):
                msg = f"the answer is undefined at {where}, where {what} is {e}"
            else:
                msg = f"the answer is {v} at {where}, where {what} is {e}"
            return Comparison(
                False, msg + note, counterexample={"point": point, "expected": t, "given": a}
            )
        valid += int(np.count_nonzero(ok))
        if valid >= need:
            return Comparison(
                True, f"equal at {valid} random points in {settings.describe_ranges(names)}"
            )
    where = settings.describe_ranges(names)
    return Comparison(
        False,
        f"undecided: only {valid} of {drawn} random points in {where} are where "
        f"{defined} defined, and {need} are needed (a key can move the points with "
        "sample_range)",
    )

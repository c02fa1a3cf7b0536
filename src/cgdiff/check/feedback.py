"""Node-level feedback: where a student's hand computation of a spec went off.

The first wrong node value in evaluation order and the first wrong adjoint in backward order
are marked, and later wrong answers that follow from the student's own earlier answers are
marked as carried errors: found by rerunning the core passes with their answers held.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..ad import backward
from ..errors import CgdiffError
from ..evaluate import forward
from ..ops import NUMERIC
from .results import CheckResult
from .settings import _g

if TYPE_CHECKING:  # NB: for the annotations only; problem imports this module
    from .problem import Problem

__all__ = ["node_feedback"]


def node_feedback(problem: Problem, checks: Sequence[CheckResult]) -> list[str]:
    """Mark the first wrong node value (in evaluation order) and the first wrong adjoint (in
    backward order), and the later wrong ones that follow from the student's own earlier
    answers (a carried error); return a sentence for each, for the student to start from.

    >>> from cgdiff import parse
    >>> from cgdiff.check import Problem
    >>> p = Problem("u", parse("a=5; b=3; c=2; u=b*c; v=a+u; J=3v"))
    >>> cs = [p.check("node.u", 6), p.check("node.v", 12), p.check("node.J", 36)]
    >>> for sentence in node_feedback(p, cs)[0].split("; "): print(sentence)
    v is the first wrong node in evaluation order (forward values)
    J = 36 follows from your earlier answers (a carried error)
    """
    out: list[str] = []
    if not any(c.item.startswith(("node.", "adjoint.")) for c in checks):
        return out
    ids: dict[str, int] = {}
    for c in checks:
        try:
            ids[c.item] = problem.target(c.item)[1]
        except CgdiffError:
            continue
    for kind, order, text in (
        ("node", 1, "the first wrong node in evaluation order (forward values)"),
        ("adjoint", -1, "the first wrong adjoint in backward order"),
    ):
        mine = [c for c in checks if c.item.startswith(kind + ".") and c.item in ids]
        wrong = sorted((c for c in mine if not c.passed), key=lambda c: order * ids[c.item])
        if not wrong:
            continue
        first = wrong[0]
        first.first_wrong = True
        name = first.item.partition(".")[2]
        first.message = f"{text}: {first.message}" if first.message else text
        who = name if kind == "node" else f"the adjoint of {name}"
        sentence = f"{who} is {text}"
        given = {ids[c.item]: c.value for c in mine if c.value is not None}
        carried = []
        for c in wrong[1:]:
            if c.value is not None and _carried(problem, kind, ids[c.item], c.value, given):
                c.message += "; it follows from your earlier answers (a carried error)"
                carried.append(f"{c.item.partition('.')[2]} = {_g(c.value)}")
        if carried:
            sentence += (
                f"; {', '.join(carried)} follow{'s' if len(carried) == 1 else ''} "
                "from your earlier answers (a carried error)"
            )
        out.append(sentence)
    return out


def _carried(
    problem: Problem, kind: str, node: int, answer: float, given: Mapping[int, float]
) -> bool:
    """Whether a wrong answer for ``node`` is what the student's own earlier answers lead
    to: the core's forward pass (a value) or reverse sweep (an adjoint) rerun with every
    other node they answered held at their answer (``fixed=``), the rest computed as usual."""
    try:
        values, _ = problem._at_point()
    except CgdiffError:
        return False
    g = problem.graph
    # NB: the node being judged is never held: its answer is what the others should give.
    held = {i: np.float64(v) for i, v in given.items() if i != node}
    if kind == "node":
        if g.nodes[node].kind != "op":
            return False
        bound = {i: held.get(i, values[i]) for i in g.inputs}
        fixed = {i: v for i, v in held.items() if g.nodes[i].kind == "op"}
        redo, _ = forward(g, bound, strict=False, fixed=fixed)
    else:
        if node == g.output:
            return False
        with np.errstate(all="ignore"):
            redo, _, _ = backward(
                g, values, NUMERIC, np.float64(1.0), [True] * len(g.nodes), fixed=held
            )
    result = 0.0 if redo[node] is None else float(redo[node])
    tol = problem.settings.tolerance(result)
    return bool(math.isfinite(result) and abs(answer - result) <= tol)

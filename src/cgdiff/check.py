"""Homework checking (SPEC section 6): answer keys, answers, and the verdict on each one.

This module owns the rules a teacher and a student rely on when cgdiff marks an answer:

- reading a TOML answer key (``tomllib``) into :class:`Problem` records, and saying which
  file, which TOML key and what is wrong when it cannot;
- judging one answer for one *item* of a problem (``value``, ``grad.x``, ``node.c``,
  ``adjoint.c``, ``derivative.x``): numbers within ``rtol``/``atol`` at the problem's point,
  formula answers by evaluating both sides at random points where the problem's expression
  and the true answer are defined (an answer undefined at such a point is wrong there);
- node-level feedback: the first wrong node in evaluation order (values) or in backward
  order (adjoints);
- a class's submissions (a CSV of ``student,problem,item,answer``), scored per student and
  per item, with malformed rows reported by line and counted as wrong.

The truth always comes from the core passes (:func:`cgdiff.parse`, the forward pass of
:mod:`cgdiff.evaluate` and the reverse sweep of :mod:`cgdiff.ad`); this module adds no
evaluator of its own.  Answers go through the same grammar as every expression, never
``eval``.  Nothing here prints or exits: :mod:`cgdiff.check_report` renders the results and
the CLI picks the exit code.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .ad import backward
from .errors import CgdiffError, InputError, UndefinedError
from .evaluate import bind_point, forward
from .graph import Graph, format_number, short_number
from .ops import CONSTANTS, NUMERIC, suggest
from .parse import parse, parse_value, read_source, split_top

__all__ = [
    "ATOL_FLOOR",
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "DRAW",
    "MAX_ANSWER",
    "MAX_DRAWS",
    "SAMPLES",
    "SAMPLE_RANGE",
    "SEED",
    "AnswerResult",
    "CheckReport",
    "CheckResult",
    "ItemScore",
    "Key",
    "Problem",
    "ProblemResult",
    "RowError",
    "Settings",
    "StudentResult",
    "as_given",
    "check_answers",
    "check_expression",
    "check_key",
    "load_key",
    "pair_text",
    "parse_items",
]

# -- the documented numbers --------------------------------------------------------------------

DEFAULT_RTOL = 1e-6  # relative tolerance when neither the problem nor [defaults] sets one
DEFAULT_ATOL = 1e-9  # absolute tolerance, likewise
# NB: values are float64, so a true 0 may come out as 1e-17; no atol goes below this floor.
ATOL_FLOOR = 1e-12
SAMPLES = 100  # random points a formula answer must agree at (where the truth is defined)
SAMPLE_RANGE = (-2.0, 2.0)  # each input drawn uniformly from here (WeBWorK's default limits)
SEED = 0  # the random points are the same on every run
DRAW = 200  # points drawn in one vectorised pass
MAX_DRAWS = 10  # draws before the verdict is "too few points where the truth is defined"
MAX_ANSWER = 10_000  # characters; a longer answer fails without being parsed

KINDS = ("value", "grad", "node", "adjoint", "derivative")
# expect.<key> in a TOML key -> item kind (the SPEC's plural spellings, and the CSV's).
_EXPECT_KEYS = {
    "value": "value",
    "grad": "grad",
    "nodes": "node",
    "node": "node",
    "adjoints": "adjoint",
    "adjoint": "adjoint",
    "derivative": "derivative",
}
_SETTINGS_KEYS = ("rtol", "atol", "samples", "sample_range", "seed")
_PROBLEM_KEYS = ("name", "expr", "at", "expect", "output", *_SETTINGS_KEYS)
# An answer that is a plain number, in the grammar's own spelling (no inf, nan or 1_000):
# read with float() and no parser run, which keeps a class's worth of answers fast.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# -- settings and problems -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Tolerances and the random-point settings of one problem.

    >>> float(Settings(rtol=1e-3).tolerance(100.0))
    0.100000001
    """

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    samples: int = SAMPLES
    sample_range: tuple[float, float] = SAMPLE_RANGE
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    seed: int = SEED

    def tolerance(self, expected: Any) -> Any:
        """How far an answer may be from ``expected``: ``max(atol, floor) + rtol·|expected|``
        (a float for a float, an array for an array)."""
        size = abs(expected) if isinstance(expected, float) else np.abs(expected)
        return max(self.atol, ATOL_FLOOR) + self.rtol * size

    def range_of(self, name: str) -> tuple[float, float]:
        return self.ranges.get(name, self.sample_range)

    def describe_ranges(self, names: Sequence[str]) -> str:
        """``[-2, 2]``, or ``x in [0.1, 5], y in [-2, 2]`` when the inputs differ."""
        spans = [self.range_of(n) for n in names]
        if len(set(spans)) <= 1:
            return _span(spans[0] if spans else self.sample_range)
        return ", ".join(f"{n} in {_span(s)}" for n, s in zip(names, spans, strict=True))


def _span(s: tuple[float, float]) -> str:
    return f"[{_g(s[0])}, {_g(s[1])}]"


_g = short_number  # a number for a message


def pair_text(
    expected: Any, given: Any, exact: bool = True, digits: Sequence[int] = (6, 9, 12, 17)
) -> tuple[str, str]:
    """Two values as text with enough ``digits`` that different numbers never look the same.
    ``exact``: the given value is the student's own, shown as written (text as it is, a
    number with every digit); else both numbers get the same digits.  Text (a formula) and
    ``None`` are shown as they are.

    >>> pair_text(1000.0, "1001.001"), pair_text(0.1 + 0.2, 0.3), pair_text(-12.0, "-12.0")
    (('1000', '1001.001'), ('0.30000000000000004', '0.3'), ('-12', '-12.0'))
    >>> pair_text(1.0, 1.0000001, exact=False)
    ('1', '1.0000001')
    """
    number = as_given(given)
    fixed = _text_of(given) if exact or not isinstance(given, float) else None
    if not isinstance(expected, float):
        return _text_of(expected), fixed if fixed is not None else _text_of(given)
    e = g = ""
    for n in digits:
        e = _g(expected, n)
        g = fixed if fixed is not None else _g(given, n)
        if e != g or (isinstance(number, float) and number == expected):
            break
    return e, g


def _text_of(value: Any) -> str:
    """A value as written: text as it is, a number in the shortest form that reads back."""
    if value is None:
        return ""
    return value if isinstance(value, str) else format_number(value)


def _excess(off: float, tol: float) -> str:
    """``off by A, more than the tolerance B`` with enough digits that A and B differ."""
    a, b = pair_text(off, tol, exact=False, digits=range(3, 18))
    return f"off by {a}, more than the tolerance {b}"


@dataclass
class _Answer:
    """An answer read through the grammar: a number, a formula graph, or why it is neither."""

    text: str | None  # as written (None for a TOML number)
    number: float | None = None
    graph: Graph | None = None
    error: str | None = None
    malformed: bool = False  # could not be read at all (syntax, empty, too long)

    @property
    def plain(self) -> bool:
        """A number as written (a TOML number, or text such as ``-1.5e3``), not a formula."""
        return self.number is not None and (
            self.text is None or _NUMBER.fullmatch(self.text) is not None
        )

    def given(self) -> Any:
        """The answer as reports show it: a plain number as a number, else its text."""
        if self.plain and self.number is not None and math.isfinite(self.number):
            return self.number
        return self.text if self.text is not None else self.number


@dataclass
class _Sample:
    """One draw of random points and the truth there: every node's value and adjoint, and
    where the problem's expression (its output) is defined."""

    point: dict[str, np.ndarray]
    values: list[Any]
    adjoints: list[Any]
    defined: np.ndarray


class Problem:
    """One problem of a key: a graph, maybe a point, settings, and the answers to check.

    >>> p = Problem("1a", parse("x*y + z"), {"x": 1, "y": 2, "z": 3})
    >>> p.check("grad.x", 2).passed, p.check("value", "x*y").passed
    (True, False)
    """

    def __init__(
        self,
        name: str,
        graph: Graph,
        at: Mapping[str, float] | None = None,
        settings: Settings | None = None,
        expect: Sequence[tuple[str, Any]] = (),
        path: str = "",
    ) -> None:
        self.name = name
        self.graph = graph
        self.at = dict(at) if at is not None else None
        self.settings = settings or Settings()
        self.expect = list(expect)
        self.path = path  # "problem[2]" in the key, for messages
        point = {**graph.defaults(), **(self.at or {})}
        self.point: dict[str, float] | None = (
            point if all(n in point for n in graph.input_names) else None
        )
        self._truth: tuple[list[Any], list[Any]] | None = None
        self._truth_error: CgdiffError | None = None
        self._notes: list[str] = []
        self._samples: list[_Sample] = []
        self._rng: np.random.Generator | None = None
        self._texts: dict[str, str] = {}
        self._names: list[str] | None = None
        self._known: frozenset[str] = frozenset()

    @property
    def names(self) -> list[str]:
        """The names a formula answer may use: the inputs, the names the spec assigns, and
        the output (not the generated names ``t1, t2, ...`` of unnamed nodes).

        >>> Problem("p", parse("u = x*y; J = sin(u) + 1")).names
        ['x', 'y', 'u', 'J']
        """
        if self._names is None:
            g = self.graph
            assigned = set(g.assigned)  # the parser's own list, so comments hold none
            self._names = [
                n.label
                for n in g.nodes
                if n.name is not None
                and (n.kind == "input" or n.name in assigned or n.id == g.output)
            ]
            self._known = frozenset(self._names)
        return self._names

    # -- items -----------------------------------------------------------------------------
    def target(self, item: str) -> tuple[str, int]:
        """The kind of an item and the node it is about; InputError for an unknown item.

        >>> Problem("p", parse("a = 2; c = a*x")).target("adjoint.c")
        ('adjoint', 2)
        """
        g = self.graph
        kind, dot, name = item.partition(".")
        if kind == "value" and not dot:
            return "value", g.output
        if kind not in KINDS[1:] or not dot or not name:
            close = suggest(kind, list(KINDS), cutoff=0.6)
            hint = f"did you mean '{close}'?" if close and close != kind else None
            raise InputError(
                f"unknown item '{item}': items are value, grad.NAME, node.NAME, "
                "adjoint.NAME and derivative.NAME",
                hint=hint,
            )
        if kind in ("grad", "derivative"):
            if not _is_input(g, name):
                raise InputError(_not_a(name, g.input_names, "an input", item))
            return kind, g.by_name[name]
        if name not in g.by_name:
            raise InputError(_not_a(name, list(g.by_name), "a named node", item))
        return kind, g.by_name[name]

    def describe(self, item: str) -> str:
        """How messages name what an item is about: ``the value``, ``∂J/∂c``.

        >>> Problem("p", parse("x^2")).describe("derivative.x")
        '∂f/∂x'
        """
        kind, node = self.target(item)
        out = self.graph.output_name
        label = self.graph.nodes[node].label
        if kind == "value":
            return f"the value of {out}"
        if kind == "node":
            return f"the value of {label}"
        return f"∂{out}/∂{label}"

    # -- the truth -------------------------------------------------------------------------
    def _at_point(self) -> tuple[list[Any], list[Any]]:
        """Every node's value and adjoint at the problem's point (one reverse-mode pass).
        Raises the pass's error (an :class:`UndefinedError` where the problem is undefined
        there) every time it is asked."""
        if self._truth is None and self._truth_error is None:
            try:
                r = self.graph.grad(self.point or {})
                adj = r.adjoints or [None] * len(self.graph.nodes)
                self._truth = (r.values, adj)
                self._notes = [d.text() for d in r.diagnostics]
            except CgdiffError as exc:
                self._truth_error = exc
        if self._truth is None:
            raise self._truth_error or InputError("no point")
        return self._truth

    @property
    def undefined(self) -> str | None:
        """Why the problem is undefined at its point, once a check has needed the point."""
        e = self._truth_error
        return e.message if isinstance(e, UndefinedError) else None

    def _sample(self, k: int) -> _Sample:
        """The ``k``-th draw of random points, with the truth at each (made once, then kept)."""
        g = self.graph
        while len(self._samples) <= k:
            if self._rng is None:
                self._rng = np.random.default_rng(self.settings.seed)
            point: dict[str, np.ndarray] = {}
            bound: dict[int, Any] = {}
            for i in g.inputs:
                name = g.nodes[i].label
                lo, hi = self.settings.range_of(name)
                point[name] = bound[i] = self._rng.uniform(lo, hi, DRAW)
            values, _ = forward(g, bound, strict=False)
            with np.errstate(all="ignore"):
                seed = np.ones(DRAW)
                adj, _, _ = backward(g, values, NUMERIC, seed, g.variable())
            defined = np.broadcast_to(np.isfinite(values[g.output]), (DRAW,))
            self._samples.append(_Sample(point, values, adj, defined))
        return self._samples[k]

    @staticmethod
    def _pick(kind: str, node: int, values: Sequence[Any], adjoints: Sequence[Any]) -> Any:
        if kind in ("value", "node"):
            return values[node]
        a = adjoints[node]
        return np.float64(0.0) if a is None else a

    def _truth_text(self, item: str) -> str:
        """The true answer as a formula, when it is small enough to show; else its name."""
        if item not in self._texts:
            kind, node = self.target(item)
            text: str | None = None
            from .printing import to_text

            if kind in ("value", "node"):
                text = _small_text(self.graph, node, to_text)
            elif self.graph.nodes[node].kind == "input":
                # NB: imported here: simplifying is needed only for a formula shown, so a key
                # of numbers at points (--format json) never loads it.
                from .symbolic import derivative

                try:
                    d = derivative(self.graph, self.graph.nodes[node].label)
                    text = _small_text(d, d.output, to_text)
                except CgdiffError:
                    text = None
            self._texts[item] = text or self.describe(item)
        return self._texts[item]

    def _expected(self, item: str, kind: str, node: int) -> Any:
        """The truth to show beside an answer that could not be read."""
        if kind != "derivative" and self.point is not None:
            try:
                values, adjoints = self._at_point()
                return float(self._pick(kind, node, values, adjoints))
            except CgdiffError:
                return None
        return self._truth_text(item)

    # -- judging one answer ----------------------------------------------------------------
    def check(self, item: str, answer: Any) -> CheckResult:
        """Judge ``answer`` (a number, or text: a number or formula) for ``item``.

        >>> p = Problem("product rule", parse("x^2 sin(x)"))
        >>> p.check("derivative.x", "x(2 sin(x) + x cos(x))").passed
        True
        """
        kind, node = self.target(item)
        ans = read_answer(answer, self)
        given = ans.given()
        if ans.error is not None:
            return CheckResult(
                item,
                self._expected(item, kind, node),
                given,
                False,
                ans.error,
                malformed=ans.malformed,
            )
        functional = kind == "derivative" or (
            self.at is None if ans.graph is not None else self.point is None
        )
        if functional:
            return self._check_function(item, kind, node, ans, given)
        return self._check_at_point(item, kind, node, ans, given)

    def _check_at_point(
        self, item: str, kind: str, node: int, ans: _Answer, given: Any
    ) -> CheckResult:
        try:
            values, adjoints = self._at_point()
        except CgdiffError as exc:  # NB: run() reports an UndefinedError for the exit code
            return CheckResult(item, None, given, False, f"cannot check: {exc.message}")
        truth = float(self._pick(kind, node, values, adjoints))
        point = self.point or {}
        if ans.graph is not None:
            where = _describe_point(point)
            got = _evaluate(ans.graph, self.graph, values)
            value = float(np.asarray(got).flat[0])
            if not math.isfinite(value):
                # NB: an overflowing constant (10^10^10) is no longer folded to a number, so
                # it arrives here as a formula; it overflows, it is not undefined.
                what = "is undefined" if math.isnan(value) else f"overflows to {_g(value)}"
                return CheckResult(
                    item, truth, given, False, f"the answer {ans.text} {what} at {where}"
                )
            shown = f"{ans.text} = {_g(value)} at {where}"
        else:
            assert ans.number is not None
            value = ans.number
            # a constant expression (sqrt(2)/2, or 3..0, which is 3 times .0) shows its value
            shown = "" if ans.plain else f"{ans.text} = {_g(value)}"
        if not math.isfinite(truth):
            return CheckResult(
                item,
                truth,
                given,
                False,
                f"{self.describe(item)} is {_g(truth)} at {_describe_point(point)}: "
                "no finite answer matches",
            )
        tol = self.settings.tolerance(truth)
        off = abs(value - truth)
        if off <= tol:
            msg = f"{shown}; within tolerance" if shown else ""
            return CheckResult(item, truth, given, True, msg, value=value)
        e, g = pair_text(truth, value, exact=ans.graph is None and ans.plain)
        msg = f"expected {e}, given {g}"
        if shown:
            msg += f" ({shown})"
        msg += f": {_excess(off, tol)}"
        return CheckResult(item, truth, given, False, msg, value=value)

    def _check_function(
        self, item: str, kind: str, node: int, ans: _Answer, given: Any
    ) -> CheckResult:
        """Compare ``ans`` with the truth as functions, at random points where the problem's
        expression and the truth are both defined; the answer must be defined there too."""
        g = self.graph
        names = g.input_names
        what = self.describe(item)
        expected = self._truth_text(item)
        if not names:  # nothing to vary: the function is its value
            return self._check_at_point(item, kind, node, ans, given)
        need = self.settings.samples
        valid = drawn = 0
        for k in range(MAX_DRAWS):
            s = self._sample(k)
            truth = np.broadcast_to(self._pick(kind, node, s.values, s.adjoints), (DRAW,))
            if ans.graph is not None:
                got = np.broadcast_to(_evaluate(ans.graph, g, s.values), (DRAW,))
            else:
                got = np.full(DRAW, ans.number)
            with np.errstate(all="ignore"):
                # NB: points where the problem is undefined are not asked about, whatever
                # the answer does there; at every other point an undefined answer is wrong.
                ok = s.defined & np.isfinite(truth)
                bad = ok & ~(np.abs(got - truth) <= self.settings.tolerance(truth))
            drawn += DRAW
            if np.any(bad):
                j = int(np.argmax(bad))
                point = {n: float(s.point[n][j]) for n in names}
                t, a = float(truth[j]), float(got[j])
                e, v = pair_text(t, a, exact=False)
                where = _describe_point(point)
                if math.isfinite(a):
                    msg = f"differs at {where}: {what} is {e} there, the answer gives {v}"
                elif math.isnan(a):
                    msg = f"the answer is undefined at {where}, where {what} is {e}"
                else:
                    msg = f"the answer is {v} at {where}, where {what} is {e}"
                if ans.graph is None and self.at is None and kind != "derivative":
                    msg += (
                        f" (the problem has no point, so answers are compared as "
                        f"functions of {', '.join(names)})"
                    )
                return CheckResult(
                    item,
                    expected,
                    given,
                    False,
                    msg,
                    counterexample={"point": point, "expected": t, "given": a},
                )
            valid += int(np.count_nonzero(ok))
            if valid >= need:
                return CheckResult(
                    item,
                    expected,
                    given,
                    True,
                    f"equal at {valid} random points in {self.settings.describe_ranges(names)}",
                )
        where = self.settings.describe_ranges(names)
        out = g.output_name
        label = g.nodes[node].label
        if kind == "value" or (kind == "node" and node == g.output):
            defined = f"{out} is"
        elif kind == "node":
            defined = f"{out} and {label} are"
        else:
            defined = f"{out} and {what} are"
        return CheckResult(
            item,
            expected,
            given,
            False,
            f"undecided: only {valid} of {drawn} random points in {where} are where "
            f"{defined} defined, and {need} are needed (a key can move the points with "
            "sample_range)",
        )

    # -- a whole problem -------------------------------------------------------------------
    def run(self) -> ProblemResult:
        """Check every answer the key lists for this problem.

        >>> Problem("1a", parse("x*y"), {"x": 2, "y": 3}, expect=[("value", 6)]).run().passed
        True
        """
        checks = [self.check(item, answer) for item, answer in self.expect]
        feedback = node_feedback(self, checks)
        return ProblemResult(self.name, checks, feedback, list(self._notes), self.undefined)


def _is_input(graph: Graph, name: str) -> bool:
    """Whether ``name`` is an input of ``graph`` (a dict lookup: keys may have many inputs)."""
    i = graph.by_name.get(name)
    return i is not None and graph.nodes[i].kind == "input"


def _not_a(name: str, known: Sequence[str], what: str, item: str | None = None) -> str:
    close = suggest(name, list(known), cutoff=0.6)
    listing = ", ".join(known) or "none"
    hint = f"did you mean '{close}'?" if close else f"they are: {listing}"
    inside = f" in '{item}'" if item is not None and item != name else ""
    return f"'{name}'{inside} is not {what} of this problem; {hint}"


def _small_text(graph: Graph, node: int, to_text: Any, limit: int = 300) -> str | None:
    """``to_text`` of a node, unless written out it would be longer than ``limit`` nodes
    (shared nodes are written once per use, so the text can grow exponentially)."""
    size = [0] * len(graph.nodes)
    for n in graph.nodes:  # NB: args precede their node, so one loop sizes every subtree
        size[n.id] = 1 + sum(size[a] for a in n.args)
        if size[n.id] > limit:
            size[n.id] = limit + 1
    if size[node] > limit:
        return None
    text: str = to_text(graph, node)
    return text


def _shorten(digits: str, limit: int = 20) -> str:
    """A long run of digits for a message: its start, and how many there are.

    >>> _shorten("1" + "0" * 400)
    '10000000000000000000… (401 digits)'
    """
    if len(digits) <= limit:
        return digits
    return f"{digits[:limit]}… ({len(digits.lstrip('+-'))} digits)"


def _describe_point(point: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={_g(v)}" for k, v in point.items()) or "the point"


def _evaluate(answer: Graph, problem: Graph, values: Sequence[Any]) -> Any:
    """The answer's value where the problem's nodes take ``values`` (one point or a draw).

    The answer's names are the problem's inputs and named nodes; undefined points come out
    as NaN or inf, for the caller to mask."""
    bound = {i: values[problem.by_name[answer.nodes[i].label]] for i in answer.inputs}
    out, _ = forward(answer, bound, strict=False)
    return out[answer.output]


def read_answer(answer: Any, problem: Problem | None = None) -> _Answer:
    """Read an answer through the grammar: a number, a formula, or the reason it is neither.

    >>> read_answer("sqrt(4)").number, read_answer("2x +").error
    (2.0, 'not a number or formula: unexpected end of input at column 5')
    """
    if isinstance(answer, bool) or not isinstance(answer, (int, float, str)):
        return _Answer(
            str(answer), error="the answer must be a number or a formula", malformed=True
        )
    if not isinstance(answer, str):
        try:
            x = float(answer)
        except OverflowError:  # a TOML integer past float's range (1 and 400 zeros)
            digits = str(answer)
            return _Answer(
                digits,
                math.inf if answer > 0 else -math.inf,
                error=f"the answer {_shorten(digits)} is too large: it overflows to "
                f"{'' if answer > 0 else '-'}inf",
            )
        if not math.isfinite(x):
            return _Answer(None, x, error=f"the answer {_g(x)} is not a finite number")
        return _Answer(None, x)
    text = answer.strip()
    if not text:
        return _Answer(answer, error="empty answer", malformed=True)
    if len(text) > MAX_ANSWER:
        shown = text[:40] + "…"
        return _Answer(
            shown,
            error=f"the answer is too long ({len(text)} characters; at most {MAX_ANSWER})",
            malformed=True,
        )
    if _NUMBER.fullmatch(text):
        x = float(text)
        if not math.isfinite(x):
            return _Answer(text, x, error=f"the answer {text} overflows to {_g(x)}")
        return _Answer(text, x)
    if any(c in text for c in "=;\n"):
        return _Answer(
            text,
            error="an answer is one expression, without '=', ';' or line breaks",
            malformed=True,
        )
    try:
        g = parse(text)
    except CgdiffError as exc:
        msg = exc.message.replace(" at line 1, column ", " at column ")
        msg = re.sub(r" \(line 1, column (\d+)\)$", r" (column \1)", msg)
        if exc.hint:
            msg += f"; {exc.hint}"
        return _Answer(text, error=f"not a number or formula: {msg}", malformed=True)
    except (RecursionError, MemoryError):
        return _Answer(text, error="the answer is too deeply nested or too large", malformed=True)
    out = g.nodes[g.output]
    if out.kind == "const":
        x = float(out.value)
        if not math.isfinite(x):
            return _Answer(text, x, error=f"the answer {text} overflows to {_g(x)}")
        return _Answer(text, x)
    if problem is not None:
        known = problem.names
        unknown = [n for n in g.input_names if n not in problem._known]
        if unknown:
            name = unknown[0]
            close = suggest(name, known, cutoff=0.6)
            hint = f"did you mean '{close}'?" if close else f"its names are {', '.join(known)}"
            return _Answer(
                text, error=f"the answer uses '{name}', which is not a name of this problem; {hint}"
            )
    return _Answer(text, graph=g)


def as_given(answer: Any) -> Any:
    """An answer as reports show it (``given``, ``answer``): a plain number as a number,
    anything else (a formula, a constant expression, unreadable text) as written.

    >>> as_given(" 6 "), as_given(6), as_given("sqrt(2)/2"), as_given("3,0"), as_given(None)
    (6.0, 6.0, 'sqrt(2)/2', '3,0', None)
    """
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        try:
            return float(answer)
        except OverflowError:
            return str(answer)
    if isinstance(answer, str) and len(answer) <= MAX_ANSWER:
        text = answer.strip()
        if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
            return float(text)
    return answer


# -- node-level feedback ---------------------------------------------------------------------


def node_feedback(problem: Problem, checks: Sequence[CheckResult]) -> list[str]:
    """Mark the first wrong node value (in evaluation order) and the first wrong adjoint (in
    backward order), and the later wrong ones that follow from the student's own earlier
    answers (a carried error); return a sentence for each, for the student to start from.

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


# -- results ----------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """The verdict on one answer: ``expected`` is the truth (a number, or a formula's text)
    and ``given`` the answer as written.

    >>> CheckResult("value", 5.0, 5.0, True, "").passed
    True
    """

    item: str
    expected: Any
    given: Any
    passed: bool
    message: str
    counterexample: dict[str, Any] | None = None
    first_wrong: bool = False
    malformed: bool = False
    value: float | None = None  # the answer's number at the point, for node feedback


@dataclass
class ProblemResult:
    """Every check of one problem, node-level feedback, warnings from the passes, and why
    the problem is undefined at its point if it is (exit code 3).

    >>> ProblemResult("1a", [CheckResult("value", 1.0, 2.0, False, "")]).passed
    False
    """

    name: str
    checks: list[CheckResult]
    feedback: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undefined: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass
class AnswerResult:
    """One student's answer to one item (or one malformed row): where it came from and
    the verdict.

    >>> AnswerResult("1a", "value", "5", True, "", line=2).passed
    True
    """

    problem: str
    item: str
    answer: str | None
    passed: bool
    message: str
    line: int | None = None  # None: no row answered this item of the key
    expected: Any = None
    counterexample: dict[str, Any] | None = None
    value: float | None = None  # the answer's number at the point, for node feedback
    malformed: bool = False  # the row is malformed (reported by line), so it is wrong
    extra: bool = False  # not the answer to one of the key's items: an extra wrong item


@dataclass
class StudentResult:
    """A student's answers: one per item of the key, then each malformed row that is not
    the answer to one of them (each such row is one more wrong item).

    >>> StudentResult("ann", [AnswerResult("1a", "value", "5", True, "")]).score
    1
    """

    student: str
    items: list[AnswerResult]

    @property
    def score(self) -> int:
        return sum(1 for a in self.items if a.passed)

    @property
    def max_score(self) -> int:
        return len(self.items)

    @property
    def wrong(self) -> int:
        """Answers given and wrong (malformed rows included)."""
        return sum(1 for a in self.items if not a.passed and a.line is not None)

    @property
    def unanswered(self) -> int:
        """Items of the key that no row answers."""
        return sum(1 for a in self.items if a.line is None)

    @property
    def malformed(self) -> int:
        """The student's malformed rows: every one is reported by line."""
        return sum(1 for a in self.items if a.malformed)


@dataclass
class ItemScore:
    """How many students got one item of the key right.

    >>> ItemScore("1a", "value", 3, 4).total
    4
    """

    problem: str
    item: str
    passed: int
    total: int


@dataclass
class RowError:
    """A malformed row of the answers CSV.

    >>> RowError(7, "ann", "unknown problem '9'").text()
    "line 7 (ann): unknown problem '9'"
    """

    line: int
    student: str
    message: str

    def text(self) -> str:
        who = f" ({self.student})" if self.student else ""
        return f"line {self.line}{who}: {self.message}"


@dataclass
class CheckReport:
    """Everything one ``cgdiff check`` found.  ``passed``/``failed`` count problems.

    >>> r = check_expression("x*y+z", {"x": 1, "y": 2, "z": 3}, [("value", "5")])
    >>> r.passed, r.failed, r.ok
    (1, 0, True)
    """

    source: str
    problems: list[ProblemResult]
    students: list[StudentResult] | None = None
    items: list[ItemScore] | None = None
    malformed: list[RowError] | None = None

    @property
    def passed(self) -> int:
        return sum(1 for p in self.problems if p.passed)

    @property
    def failed(self) -> int:
        return len(self.problems) - self.passed

    @property
    def ok(self) -> bool:
        """True when every check passed (the key's and every student's): exit code 0."""
        if self.failed:
            return False
        if self.students is not None:
            if any(not a.passed for s in self.students for a in s.items):
                return False
        return not self.malformed

    @property
    def undefined(self) -> list[ProblemResult]:
        """The problems that are undefined at their point."""
        return [p for p in self.problems if p.undefined is not None]

    @property
    def exit_code(self) -> int:
        """SPEC section 7: 3 when a problem is undefined at its point, else 1 when an answer
        is wrong, else 0 (a key or answers file that cannot be read raised, for exit 2)."""
        if self.undefined:
            return 3
        return 0 if self.ok else 1


# -- the answer key ---------------------------------------------------------------------------


@dataclass
class Key:
    """An answer key read from TOML: its file and its problems.

    >>> Key(Path("key.toml"), []).problems
    []
    """

    path: Path
    problems: list[Problem]
    _by_name: dict[str, Problem] | None = field(default=None, init=False, repr=False)

    def problem(self, name: str) -> Problem | None:
        """The problem called ``name`` (a dict lookup: one per row of a class's answers)."""
        if self._by_name is None:
            self._by_name = {p.name: p for p in self.problems}
        return self._by_name.get(name)


class _Where:
    """Builds the key errors: file, TOML key path, and what is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, where: str, what: str) -> InputError:
        return InputError(f"{self.path}: {where}: {what}" if where else f"{self.path}: {what}")


def _unknown_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str, w: _Where) -> None:
    for k in table:
        if k not in allowed:
            close = suggest(k, list(allowed), cutoff=0.6)
            hint = f"did you mean '{close}'?" if close else f"known keys: {', '.join(allowed)}"
            raise w.error(f"{where}.{k}" if where else k, f"unknown key '{k}'; {hint}")


def _number(v: Any, where: str, w: _Where, *, minimum: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise w.error(where, f"must be a number, not {_toml_type(v)}")
    try:
        x = float(v)
    except OverflowError:  # a TOML integer past float's range: as infinite as inf
        x = math.inf
    if not math.isfinite(x) or (minimum is not None and x < minimum):
        raise w.error(
            where,
            f"must be a finite number of at least {minimum:g}"
            if minimum is not None
            else "must be a finite number",
        )
    return x


def _toml_type(v: Any) -> str:
    names = {
        bool: "a boolean",
        str: "a string",
        list: "an array",
        dict: "a table",
        int: "an integer",
        float: "a float",
    }
    return names.get(type(v), f"a {type(v).__name__}")


def _span_of(v: Any, where: str, w: _Where) -> tuple[float, float]:
    if not isinstance(v, list) or len(v) != 2:
        raise w.error(where, "must be [low, high], two numbers")
    lo, hi = (_number(x, where, w) for x in v)
    if not lo < hi:
        raise w.error(where, f"must be [low, high] with low < high, not [{_g(lo)}, {_g(hi)}]")
    return lo, hi


def _settings(table: Mapping[str, Any], base: Settings, where: str, w: _Where) -> Settings:
    """Apply the settings keys of ``table`` (a problem, or [defaults]) over ``base``."""
    s = base
    pre = f"{where}." if where else ""
    if "rtol" in table:
        s = replace(s, rtol=_number(table["rtol"], pre + "rtol", w, minimum=0.0))
    if "atol" in table:
        s = replace(s, atol=_number(table["atol"], pre + "atol", w, minimum=0.0))
    if "samples" in table:
        v = table["samples"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= DRAW * MAX_DRAWS // 2:
            raise w.error(
                pre + "samples", f"must be a whole number from 1 to {DRAW * MAX_DRAWS // 2}"
            )
        s = replace(s, samples=v)
    if "seed" in table:
        v = table["seed"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise w.error(pre + "seed", "must be a whole number, 0 or more")
        s = replace(s, seed=v)
    if "sample_range" in table:
        v = table["sample_range"]
        if isinstance(v, dict):
            ranges = dict(s.ranges)
            for name, span in v.items():
                ranges[name] = _span_of(span, f"{pre}sample_range.{name}", w)
            s = replace(s, ranges=ranges)
        else:
            s = replace(s, sample_range=_span_of(v, pre + "sample_range", w), ranges={})
    return s


def load_key(path: str | Path) -> Key:
    """Read an answer key; an :class:`InputError` (exit 2) names the file, the TOML key path
    and what is wrong.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "k.toml")
    >>> _ = open(f, "w").write('[[problem]]\\nexpr = "x^2"\\nexpect.derivative = {x = "2x"}\\n')
    >>> [p.name for p in load_key(f).problems]
    ['1']
    """
    path = Path(path)
    w = _Where(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the answer key '{path}': {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise w.error("", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise w.error("", f"not valid TOML: {exc}") from None
    _unknown_keys(data, ("defaults", "problem"), "", w)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise w.error("defaults", f"must be a table ([defaults]), not {_toml_type(defaults)}")
    _unknown_keys(defaults, _SETTINGS_KEYS, "defaults", w)
    base = _settings(defaults, Settings(), "defaults", w)
    tables = data.get("problem")
    if tables is None:
        raise w.error("", "no [[problem]] tables: a key lists its problems as [[problem]]")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise w.error("problem", "must be an array of tables, written [[problem]]")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    # NB: keys repeat expressions (one per point); each distinct one is parsed once and its
    # graph shared, which is safe because a graph holds no state of any one pass.
    graphs: dict[tuple[str, str | None], Graph] = {}
    for k, table in enumerate(tables, start=1):
        p = _problem(table, k, base, path.parent, w, graphs)
        if p.name in seen:
            raise w.error(
                f"problem[{k}].name", f"'{p.name}' is also the name of problem[{seen[p.name]}]"
            )
        seen[p.name] = k
        problems.append(p)
    # A per-input range in [defaults] applies to the problems that have that input; one that
    # no problem has is a typo.
    inputs = {n for p in problems for n in p.graph.input_names}
    for name in base.ranges:
        if name not in inputs:
            raise w.error(
                f"defaults.sample_range.{name}",
                f"'{name}' is not an input of any problem; "
                + _not_a(name, sorted(inputs), "an input").partition("; ")[2],
            )
    return Key(path, problems)


def _problem(
    table: dict[str, Any],
    k: int,
    base: Settings,
    folder: Path,
    w: _Where,
    graphs: dict[tuple[str, str | None], Graph],
) -> Problem:
    where = f"problem[{k}]"
    _unknown_keys(table, _PROBLEM_KEYS, where, w)
    name = table.get("name", str(k))
    if not isinstance(name, str) or not name.strip():
        raise w.error(f"{where}.name", "must be a non-empty string")
    name = name.strip()
    if "expr" not in table:
        raise w.error(where, f"problem '{name}' has no expr (an expression, or \"@file.cg\")")
    expr = table["expr"]
    if not isinstance(expr, str):
        raise w.error(f"{where}.expr", f"must be a string, not {_toml_type(expr)}")
    output = table.get("output")
    if output is not None and not isinstance(output, str):
        raise w.error(f"{where}.output", "must be a node name (a string)")
    try:
        source = read_source(expr, folder)
        graph = graphs.get((source, output))
        if graph is None:
            graph = graphs[(source, output)] = parse(source, output=output)
    except CgdiffError as exc:
        raise w.error(f"{where}.expr", exc.render()) from None
    at: dict[str, float] | None = None
    if "at" in table:
        at = _point(table["at"], graph, f"{where}.at", w)
    settings = _settings(table, base, where, w)
    own = table.get("sample_range")
    for name_ in own if isinstance(own, dict) else ():
        if not _is_input(graph, name_):
            raise w.error(
                f"{where}.sample_range.{name_}", _not_a(name_, graph.input_names, "an input")
            )
    expect = table.get("expect")
    if not isinstance(expect, dict) or not expect:
        raise w.error(
            where,
            f"problem '{name}' has nothing to check: add expect.value, "
            "expect.grad, expect.nodes, expect.adjoints or expect.derivative",
        )
    items: list[tuple[str, Any]] = []
    paths: list[str] = []  # the TOML key of each item, for messages
    _unknown_keys(expect, list(_EXPECT_KEYS), f"{where}.expect", w)
    for key, answers in expect.items():
        kind = _EXPECT_KEYS[key]
        if kind == "value":
            paths.append(f"{where}.expect.value")
            items.append(("value", _answer_value(answers, paths[-1], w)))
            continue
        if not isinstance(answers, dict):
            raise w.error(
                f"{where}.expect.{key}",
                f"must be a table of name = answer, as in {key} = {{ x = 1 }}",
            )
        for n, a in answers.items():
            paths.append(f"{where}.expect.{key}.{n}")
            items.append((f"{kind}.{n}", _answer_value(a, paths[-1], w)))
    if not items:  # only empty tables, e.g. expect.grad = {}
        empty = " and ".join(f"expect.{key}" for key in expect)
        raise w.error(
            f"{where}.expect",
            f"problem '{name}' has nothing to check: {empty} "
            f"{'is' if len(expect) == 1 else 'are'} empty; give answers, as in "
            "expect.grad = { x = 1 }",
        )
    problem = Problem(name, graph, at, settings, items, where)
    for (item, _), key_path in zip(items, paths, strict=True):
        try:
            problem.target(item)
        except InputError as exc:
            raise w.error(key_path, exc.message) from None
    return problem


def _answer_value(v: Any, where: str, w: _Where) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise w.error(where, f"an answer is a number or a formula string, not {_toml_type(v)}")
    return v


def _point(table: Any, graph: Graph, where: str, w: _Where) -> dict[str, float]:
    # NB: not bind_point: a key error names the TOML key (problem[2].at.q), and a value may
    # be a string read by the grammar ("pi/4"); bind_point's messages name --at instead.
    if not isinstance(table, dict):
        raise w.error(where, "must be a table of input = value, as in at = { x = 1, y = 2 }")
    point: dict[str, float] = {}
    for name, v in table.items():
        if name in CONSTANTS:
            raise w.error(f"{where}.{name}", f"'{name}' is a constant and cannot be given a value")
        if not _is_input(graph, name):
            raise w.error(f"{where}.{name}", _not_a(name, graph.input_names, "an input"))
        if isinstance(v, str):
            try:
                point[name] = parse_value(v)
            except CgdiffError as exc:
                raise w.error(f"{where}.{name}", exc.message) from None
        else:
            point[name] = _number(v, f"{where}.{name}", w)
        if not math.isfinite(point[name]):
            raise w.error(f"{where}.{name}", "must be finite")
    defaults = graph.defaults()  # NB: once; it is a new dict on every call
    missing = [n for n in graph.input_names if n not in point and n not in defaults]
    if missing:
        raise w.error(where, f"no value for input {', '.join(repr(m) for m in missing)}")
    return point


# -- running checks ---------------------------------------------------------------------------


def check_key(key: Key | str | Path) -> CheckReport:
    """Check every answer a key lists against what cgdiff computes.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "k.toml")
    >>> _ = open(f, "w").write('[[problem]]\\nexpr = "x*y"\\nat = {x = 2, y = 3}\\n'
    ...                        'expect.value = 6\\nexpect.grad = {x = 3, y = 3}\\n')
    >>> r = check_key(f); r.passed, r.failed
    (0, 1)
    """
    if not isinstance(key, Key):
        key = load_key(key)
    return CheckReport(str(key.path), [p.run() for p in key.problems])


def check_expression(
    text: str,
    at: Mapping[str, float] | None,
    items: Sequence[tuple[str, Any]],
    *,
    output: str | None = None,
    settings: Settings | None = None,
    name: str | None = None,
) -> CheckReport:
    """Check answers for one expression, as ``cgdiff check EXPR --at ... --expect ...`` does.

    >>> r = check_expression("x^2 sin(x)", None, [("derivative.x", "2x sin(x) + x cos(x)")])
    >>> r.ok, r.problems[0].checks[0].message.startswith("differs at x=")
    (False, True)
    """
    graph = parse(text, output=output)
    if not items:
        raise InputError("nothing to check: give --expect ITEMS, e.g. --expect value=5,grad.x=2")
    if at is not None:
        bind_point(graph, at)  # the core's errors: an unknown name, an input with no value
    if name is None:
        name = " ".join(text.split())
        name = name if len(name) <= 60 else name[:59] + "…"
    problem = Problem(name, graph, at, settings, items)
    for item, _ in items:
        problem.target(item)
    return CheckReport(name, [problem.run()])


def parse_items(text: str) -> list[tuple[str, str]]:
    """``value=5,grad.x=2`` into (item, answer) pairs; commas inside parentheses stay.

    >>> parse_items("value=5, derivative.x=log(x, 2)")
    [('value', '5'), ('derivative.x', 'log(x, 2)')]
    """
    out = []
    for part in split_top(text):
        item, eq, answer = part.partition("=")
        if not eq or not item.strip():
            raise InputError(
                f"'{part.strip()}' in --expect is not ITEM=ANSWER "
                "(e.g. value=5, grad.x=2, derivative.x=2x)"
            )
        out.append((item.strip(), answer.strip()))
    return out


# -- a class's answers ------------------------------------------------------------------------

_COLUMNS = ("student", "problem", "item", "answer")


def check_answers(key: Key | str | Path, answers: str | Path) -> CheckReport:
    """Check a class's answers (CSV: ``student,problem,item,answer``) against a key.

    Every student is scored on every item the key lists (one point each; no answer is a
    wrong answer).  A malformed row (unknown problem or item, empty or unreadable answer,
    a repeated answer, a row with fewer or more fields than the header) is reported by line
    and counted as one wrong answer for that student: the answer to its item when it is the
    first row for one of the key's items, else an extra wrong item that adds one to
    ``max_score``.  It never stops the run.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml"); a = os.path.join(d, "a.csv")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n")
    >>> [(s.student, s.score, s.max_score) for s in check_answers(k, a).students]
    [('ann', 1, 1), ('bob', 0, 1)]
    """
    if not isinstance(key, Key):
        key = load_key(key)
    report = check_key(key)
    key_items = [(p, item) for p in key.problems for item, _ in p.expect]
    asked = {(p.name, item) for p, item in key_items}
    # student -> (problem, item) -> their scored answer; and rows that name no key item
    given: dict[str, dict[tuple[str, str], AnswerResult]] = {}
    extra: dict[str, list[AnswerResult]] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    errors: list[RowError] = []
    for row in _read_rows(Path(answers)):
        if isinstance(row, RowError):
            errors.append(row)
            if row.student:
                given.setdefault(row.student, {})
                extra.setdefault(row.student, []).append(
                    AnswerResult(
                        "", "", None, False, row.message, row.line, malformed=True, extra=True
                    )
                )
            continue
        line, student, pname, item, answer = row
        if not student:
            errors.append(RowError(line, "", "no student name"))
            continue
        mine = given.setdefault(student, {})
        own_extra = extra.setdefault(student, [])
        problem = key.problem(pname)
        why: str | None = None
        if problem is None:
            close = suggest(pname, [p.name for p in key.problems], cutoff=0.6)
            why = f"unknown problem '{pname}'" + (f"; did you mean '{close}'?" if close else "")
        elif (pname, item) not in asked:
            listed = ", ".join(i for p, i in key_items if p is problem)
            try:
                problem.target(item)
                why = f"item '{item}' is not asked in problem '{pname}'"
            except InputError as exc:
                why = exc.message
            why += f" (the key asks: {listed})"
        elif (student, pname, item) in first_line:
            why = (
                f"a second answer to {pname} {item} (the first, on line "
                f"{first_line[(student, pname, item)]}, is the one scored)"
            )
        if why is not None or problem is None:
            message = why or "unknown problem"
            errors.append(RowError(line, student, message))
            own_extra.append(
                AnswerResult(pname, item, answer, False, message, line, malformed=True, extra=True)
            )
            continue
        first_line[(student, pname, item)] = line
        result = problem.check(item, answer)
        if result.malformed:
            errors.append(RowError(line, student, result.message))
        mine[(pname, item)] = AnswerResult(
            pname,
            item,
            answer,
            result.passed,
            result.message,
            line,
            result.expected,
            result.counterexample,
            value=result.value,
            malformed=result.malformed,
        )
    students = [
        StudentResult(student, _score_items(key, mine) + extra.get(student, []))
        for student, mine in given.items()
    ]
    right: dict[tuple[str, str], int] = {}
    for s in students:
        for a in s.items:
            if a.passed and not a.extra:
                right[(a.problem, a.item)] = right.get((a.problem, a.item), 0) + 1
    scores = [
        ItemScore(p.name, item, right.get((p.name, item), 0), len(students))
        for p, item in key_items
    ]
    errors.sort(key=lambda e: e.line)
    report.students, report.items, report.malformed = students, scores, errors
    return report


def _score_items(key: Key, mine: Mapping[tuple[str, str], AnswerResult]) -> list[AnswerResult]:
    """One result per item of the key, in key order (no answer is a wrong answer), with
    node-level feedback added to the first wrong node and adjoint of each problem."""
    out: list[AnswerResult] = []
    for p in key.problems:
        answered: list[tuple[AnswerResult, CheckResult]] = []
        for item, _ in p.expect:
            a = mine.get((p.name, item))
            if a is None:
                a = AnswerResult(p.name, item, None, False, "no answer")
            else:
                answered.append(
                    (a, CheckResult(item, a.expected, a.answer, a.passed, a.message, value=a.value))
                )
            out.append(a)
        if node_feedback(p, [c for _, c in answered]):
            for a, c in answered:
                a.message = c.message
    return out


def _read_rows(path: Path) -> list[tuple[int, str, str, str, str] | RowError]:
    """The rows of an answers CSV in file order: (line, student, problem, item, answer), or
    a :class:`RowError` for a row that cannot be read.  A file that cannot be read at all,
    or whose first line is not a header naming the four columns, is an InputError (exit 2).
    """
    out: list[tuple[int, str, str, str, str] | RowError] = []
    header: list[str] | None = None
    cols: list[int] = []
    limit = csv.field_size_limit()
    # NB: the default field limit (128 KiB) would lose a row whose answer is huge; such an
    # answer should fail its one check ("too long") and still name its student.
    csv.field_size_limit(1 << 27)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    out.append(RowError(reader.line_num, "", f"unreadable row: {exc}"))
                    continue
                line = reader.line_num
                if header is None:
                    header = [h.strip().lower() for h in row]
                    missing = [c for c in _COLUMNS if c not in header]
                    if missing:
                        raise InputError(
                            f"{path}: line {line} must be the header {','.join(_COLUMNS)} "
                            f"(missing: {', '.join(missing)})"
                        )
                    cols = [header.index(c) for c in _COLUMNS]
                    continue
                if not any(c.strip() for c in row):
                    continue
                # NB: a row longer than the header is as broken as a short one: "ann,1a,
                # value,5,9" is a decimal comma, and taking its "5" would mark a wrong number.
                if len(row) <= max(cols) or len(row) > len(header):
                    student = row[cols[0]].strip() if cols[0] < len(row) else ""
                    why = f"{len(row)} fields, but the header has {len(header)}"
                    if len(row) > len(header):
                        why += '; an answer with a comma in it is quoted: "5,9"'
                    out.append(RowError(line, student, why))
                    continue
                s, p, i, a = (row[c] for c in cols)
                out.append((line, s.strip(), p.strip(), i.strip(), a))
    except OSError as exc:
        raise InputError(f"cannot read the answers '{path}': {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    finally:
        csv.field_size_limit(limit)
    if header is None:
        raise InputError(
            f"{path}: the answers file is empty; its first line must be the "
            f"header {','.join(_COLUMNS)}"
        )
    return out

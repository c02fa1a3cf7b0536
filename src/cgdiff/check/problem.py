"""Judging one problem: which item an answer is for, the truth there, and the verdict.

:class:`Problem` is one problem of a key (or of ``cgdiff check EXPR``): its graph, maybe a
point, its settings and the answers the key lists.  :meth:`Problem.check` judges one answer
for one *item* (``value``, ``grad.x``, ``node.c``, ``adjoint.c``, ``derivative.x``): a number
within ``rtol``/``atol`` at the problem's point, or a formula compared with the truth as a
function at random points (:mod:`cgdiff.check.formula`).  The truth always comes from the
core passes (:func:`cgdiff.parse`, :mod:`cgdiff.evaluate`, :mod:`cgdiff.ad`); answers go
through the same grammar as every expression, never ``eval``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..ad import grad
from ..errors import CgdiffError, InputError, UndefinedError, clip
from ..evaluate import bind_point
from ..graph import Graph, format_number, shape_text
from ..ops import suggest
from ..parse import parse
from ..values import split_top
from .answer import Answer, _excess, pair_text, read_answer
from .feedback import node_feedback
from .formula import compare, evaluate_answer
from .results import CheckReport, CheckResult, ProblemResult
from .sampling import Sample, Sampler, pick
from .settings import Settings, _g, describe_point

__all__ = ["KINDS", "Problem", "check_expression", "parse_items"]

KINDS = ("value", "grad", "node", "adjoint", "derivative")
MAX_VERDICTS = 4096  # distinct answers judged once per problem (a bound on the memory)


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
        self.point: dict[str, Any] | None = (
            point if all(n in point for n in graph.input_names) else None
        )
        self._truth: tuple[Sequence[Any], Sequence[Any]] | None = None
        self._truth_error: CgdiffError | None = None
        self._notes: list[str] = []
        self._sampler = Sampler(graph, self.settings)
        self._texts: dict[str, str] = {}
        self._truths: dict[str, Any] = {}
        self._names: list[str] | None = None
        self._known: frozenset[str] = frozenset()
        self._verdicts: dict[tuple[str, str], CheckResult] = {}
        # NB: compared as functions, a problem is worked out at a batch of random points at
        # once, which an array operation (sum, mean, @) would mix: such a problem is checked
        # at its point only
        self._array_op = array_part(graph)

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
        name, _ = split_entry(name)
        if kind == "value" and not dot:
            self._at_a_point(item, kind)
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
            self._at_a_point(item, kind)
            return kind, g.by_name[name]
        self._at_a_point(item, kind)
        if name not in g.by_name:
            raise InputError(_not_a(name, list(g.by_name), "a named node", item))
        return kind, g.by_name[name]

    def _at_a_point(self, item: str, kind: str) -> None:
        """Refuse an item that would be compared as a function of a problem whose expression
        uses an array operation (its truth would mix the random points)."""
        if self._array_op is None or (kind != "derivative" and self.point is not None):
            return
        why = "a derivative formula" if kind == "derivative" else "without a point (at), it"
        raise InputError(
            f"'{item}' cannot be checked: {why} is compared as a function at random points, "
            f"and the expression uses {self._array_op}, which would mix them",
            hint="give the problem a point (at) and ask for value, grad, node or adjoint",
        )

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
    def _at_point(self) -> tuple[Sequence[Any], Sequence[Any]]:
        """Every node's value and adjoint at the problem's point (one reverse-mode pass).
        Raises the pass's error (an :class:`UndefinedError` where the problem is undefined
        there) every time it is asked."""
        if self._truth is None and self._truth_error is None:
            try:
                # every input, data too: every node's adjoint is the truth of some item
                r = grad(self.graph, self.point or {}, wrt=self.graph.input_names)
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

    def _sample(self, k: int) -> Sample:
        """The ``k``-th draw of random points, with the truth at each (made once, then kept)."""
        return self._sampler.sample(k)

    @property
    def _samples(self) -> list[Sample]:
        return self._sampler.samples

    def _truth_text(self, item: str) -> str:
        """The true answer as a formula, when it is small enough to show; else its name."""
        if item not in self._texts:
            kind, node = self.target(item)
            text: str | None = None
            from ..printing import to_text

            if kind in ("value", "node"):
                text = _small_text(self.graph, node, to_text)
            elif self.graph.nodes[node].kind == "input":
                # NB: imported here: simplifying is needed only for a formula shown, so a key
                # of numbers at points (--format json) never loads it.
                from ..symbolic import derivative

                try:
                    d = derivative(self.graph, self.graph.nodes[node].label)
                    text = _small_text(d, d.output, to_text)
                except CgdiffError:
                    text = None
            self._texts[item] = text or self.describe(item)
        return self._texts[item]

    def truth(self, item: str) -> Any:
        """The true answer of ``item``, as shown beside a wrong one (a number at the point,
        or a formula), for an item with no answer; None where it cannot be had."""
        if item not in self._truths:
            try:
                kind, node = self.target(item)
                self._truths[item] = self._expected(item, kind, node)
            except CgdiffError:
                self._truths[item] = None
        return self._truths[item]

    def _expected(self, item: str, kind: str, node: int) -> Any:
        """The truth to show beside an answer that could not be read."""
        if kind != "derivative" and self.point is not None:
            try:
                values, adjoints = self._at_point()
                truth = _entry(item, pick(kind, node, values, adjoints), scalar=False)
            except CgdiffError:
                return None
            return np.asarray(truth, dtype=np.float64).tolist()  # a float, or nested lists
        return self._truth_text(item)

    # -- judging one answer ----------------------------------------------------------------
    def check(self, item: str, answer: Any) -> CheckResult:
        """Judge ``answer`` (a number, or text: a number or formula) for ``item``.

        >>> p = Problem("product rule", parse("x^2 sin(x)"))
        >>> p.check("derivative.x", "x(2 sin(x) + x cos(x))").passed
        True
        """
        result, shared = self._verdict(item, answer)
        # NB: node feedback edits messages, so a verdict shared by identical answers is
        # copied; one judged for this answer alone (a number, as in most keys) is not
        return replace(result) if shared else result

    def verdict(self, item: str, answer: Any) -> CheckResult:
        """:meth:`check`'s verdict, shared by every identical answer: not to be changed.

        A class gives the same few answers to an item, and a verdict depends on the item
        and the answer alone (the random points are the problem's), so each distinct answer
        text is judged once.

        >>> p = Problem("p", parse("x^2"))
        >>> p.verdict("derivative.x", "2x") is p.verdict("derivative.x", "2x")
        True
        """
        return self._verdict(item, answer)[0]

    def _verdict(self, item: str, answer: Any) -> tuple[CheckResult, bool]:
        """The verdict, and whether it is kept for identical answers (shared)."""
        key = (item, answer) if type(answer) is str else None
        if key is not None:
            done = self._verdicts.get(key)
            if done is not None:
                return done, True
        result = self._judge(item, answer)
        if key is not None and len(self._verdicts) < MAX_VERDICTS:
            self._verdicts[key] = result
            return result, True
        return result, False

    def _judge(self, item: str, answer: Any) -> CheckResult:
        kind, node = self.target(item)
        if isinstance(answer, np.ndarray):
            return self._check_array(item, kind, node, answer)
        ans = read_answer(answer, self.names, self._known)
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
        if functional and self._array_op is not None and kind != "derivative":
            functional = False  # an array problem is checked at its point (see target)
        if ans.array is not None:  # a constant array, [[1, 1], [1, 1]]
            if functional and self.graph.input_names:
                return CheckResult(
                    item,
                    self._expected(item, kind, node),
                    given,
                    False,
                    f"the answer is {_shape_words(ans.array.shape)}; "
                    + (
                        f"{self.describe(item)} is one number at each point"
                        if kind == "derivative"
                        else "the problem has no point (at), so answers are compared as "
                        f"functions of {', '.join(self.graph.input_names)}, one number at "
                        "each point; give it a point to check an array"
                    ),
                )
            return self._check_array(item, kind, node, ans.array, given)
        if functional:
            return self._check_function(item, kind, node, ans, given)
        return self._check_at_point(item, kind, node, ans, given)

    def _check_at_point(
        self, item: str, kind: str, node: int, ans: Answer, given: Any
    ) -> CheckResult:
        try:
            values, adjoints = self._at_point()
        except CgdiffError as exc:  # NB: run() reports an UndefinedError for the exit code
            return CheckResult(item, None, given, False, f"cannot check: {exc.message}")
        point = self.point or {}
        if ans.graph is not None:
            try:
                got = evaluate_answer(ans.graph, self.graph, values)
            except CgdiffError as exc:  # shapes that do not fit: the answer is wrong
                reason = re.sub(r"^.*?\(line \d+\): ", "", exc.message)
                return CheckResult(
                    item,
                    self._expected(item, kind, node),
                    given,
                    False,
                    f"the answer {clip(str(ans.text))} cannot be worked out: {reason}",
                )
            if np.ndim(got):  # x*[1, 2]: an array, compared as one
                return self._check_array(item, kind, node, np.asarray(got, np.float64), given)
        try:
            truth = _entry(item, pick(kind, node, values, adjoints))
        except InputError as exc:  # a number given for an array: a wrong answer
            return CheckResult(item, self._expected(item, kind, node), given, False, exc.message)
        if ans.graph is not None:
            where = describe_point(point)
            value = float(got)
            if not math.isfinite(value):
                # NB: an overflowing constant (10^10^10) is no longer folded to a number, so
                # it arrives here as a formula; it overflows, it is not undefined.
                what = "is undefined" if math.isnan(value) else f"overflows to {_g(value)}"
                return CheckResult(
                    item, truth, given, False, f"the answer {clip(str(ans.text))} {what} at {where}"
                )
            shown = f"{clip(str(ans.text))} = {_g(value)} at {where}"
        else:
            assert ans.number is not None
            value = ans.number
            # a constant expression (sqrt(2)/2, or 3..0, which is 3 times .0) shows its value
            shown = "" if ans.plain else f"{clip(str(ans.text))} = {_g(value)}"
        if not math.isfinite(truth):
            return CheckResult(
                item,
                truth,
                given,
                False,
                f"{self.describe(item)} is {_g(truth)} at {describe_point(point)}: "
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

    def _check_array(
        self, item: str, kind: str, node: int, given: Any, shown: Any = None
    ) -> CheckResult:
        """An array answer against the array truth, entry by entry with the tolerances; a
        failure names the first wrong entry, its index, and how many entries are wrong.
        ``shown``: the answer as reports show it (default: the array's nested lists)."""
        shown = given.tolist() if shown is None else shown
        try:
            values, adjoints = self._at_point()
        except CgdiffError as exc:
            return CheckResult(item, None, shown, False, f"cannot check: {exc.message}")
        try:
            truth = np.asarray(_entry(item, pick(kind, node, values, adjoints), scalar=False))
        except InputError as exc:
            return CheckResult(item, None, shown, False, exc.message)
        if truth.shape != given.shape:
            return CheckResult(
                item,
                truth.tolist(),
                shown,
                False,
                f"expected {_shape_words(truth.shape)}, given {_shape_words(given.shape)}",
            )
        if not np.all(np.isfinite(truth)):  # as for one number: no answer matches
            first = np.unravel_index(int(np.argmax(~np.isfinite(truth))), truth.shape)
            return CheckResult(
                item,
                truth.tolist(),
                shown,
                False,
                f"{self.describe(item)} is {format_number(float(truth[first]))} at entry "
                f"[{', '.join(map(str, first))}] at {describe_point(self.point or {})}: "
                "no finite answer matches",
            )
        s = self.settings
        with np.errstate(all="ignore"):
            ok = np.abs(given - truth) <= s.atol + s.rtol * np.abs(truth)
        if np.all(ok):
            return CheckResult(item, truth.tolist(), shown, True, "")
        wrong = int(np.sum(~ok))
        first = np.unravel_index(int(np.argmax(~ok)), truth.shape)
        at = ", ".join(map(str, first))
        msg = (
            f"entry [{at}]: expected {format_number(float(truth[first]))}, "
            f"given {format_number(float(given[first]))}; "
            f"{wrong} of {truth.size} entries are wrong"
        )
        return CheckResult(item, truth.tolist(), shown, False, msg)

    def _check_function(
        self, item: str, kind: str, node: int, ans: Answer, given: Any
    ) -> CheckResult:
        """Compare ``ans`` with the truth as functions, at random points where the problem's
        expression and the truth are both defined (:func:`cgdiff.check.formula.compare`)."""
        g = self.graph
        names = g.input_names
        if not names:  # nothing to vary: the function is its value
            return self._check_at_point(item, kind, node, ans, given)
        what = self.describe(item)
        out = g.output_name
        label = g.nodes[node].label
        if kind == "value" or (kind == "node" and node == g.output):
            defined = f"{out} is"
        elif kind == "node":
            defined = f"{out} and {label} are"
        else:
            defined = f"{out} and {what} are"
        note = ""
        if ans.graph is None and self.at is None and kind != "derivative":
            note = (
                f" (the problem has no point, so answers are compared as "
                f"functions of {', '.join(names)})"
            )
        # NB: compared as functions, an answer is worked out at a batch of points at once: an
        # array (sum, norm, [a, b]) would mix or broadcast across them
        used = array_part(ans.graph) if ans.graph is not None else None
        if used is not None:
            return CheckResult(
                item,
                self._truth_text(item),
                given,
                False,
                f"the answer {clip(str(ans.text))} uses {used.removesuffix(', an array operation')}"
                f": compared as a function of {', '.join(names)}, an answer is one number at "
                "each point, written with numbers, operators and elementwise functions",
            )
        c = compare(self._sampler, kind, node, ans, what, defined, note)
        return CheckResult(
            item,
            self._truth_text(item),
            given,
            c.passed,
            c.message,
            counterexample=c.counterexample,
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


_ARRAY_WORDS = {"stack": "an array literal", "index": "indexing", "matmul": "@"}


def array_part(graph: Graph) -> str | None:
    """What in ``graph`` makes or mixes arrays (an array constant, or an operation that is not
    elementwise), in words for a message; None when it has none.

    >>> array_part(parse("sum(x*x)")), array_part(parse("x*[1, 2]")), array_part(parse("2x"))
    ('sum(), an array operation', 'an array literal', None)
    """
    for n in graph.nodes:
        if n.kind == "const" and np.ndim(n.value) > 0:
            return "an array literal"
        if n.op is not None and not n.op.elementwise:
            word = _ARRAY_WORDS.get(n.op.name)
            return word or f"{n.op.name}(), an array operation"
    return None


def _shape_words(shape: tuple[int, ...]) -> str:
    """``one number`` or ``an array of shape 2×3``.

    >>> _shape_words(()), _shape_words((2, 3))
    ('one number', 'an array of shape 2×3')
    """
    return "one number" if not shape else f"an array of shape {shape_text(shape)}"


def canonical_item(item: str) -> str:
    """An item with its entry written one way: ``grad.W[ 0,1 ]`` -> ``grad.W[0, 1]`` (left as
    it is when its entry is not whole numbers; :meth:`Problem.target` says why).

    >>> canonical_item("grad.W[ 0,1 ]"), canonical_item("grad.x"), canonical_item("grad.W[a]")
    ('grad.W[0, 1]', 'grad.x', 'grad.W[a]')
    """
    kind, dot, name = item.partition(".")
    try:
        base, entry = split_entry(name)
    except InputError:
        return item
    if entry is None:
        return item
    return f"{kind}{dot}{base}[{', '.join(map(str, entry))}]"


def split_entry(name: str) -> tuple[str, tuple[int, ...] | None]:
    """``W[0, 1]`` -> ``("W", (0, 1))``: an item may be about one entry of an array.

    >>> split_entry("W[0, -1]"), split_entry("x")
    (('W', (0, -1)), ('x', None))
    """
    if not name.endswith("]") or "[" not in name:
        return name, None
    base, _, rest = name.partition("[")
    try:
        return base.strip(), tuple(int(k) for k in rest[:-1].split(","))
    except ValueError:
        raise InputError(f"'{name}': an entry is named by whole numbers, as in W[0, 1]") from None


def _entry(item: str, truth: Any, scalar: bool = True) -> Any:
    """The truth of an item: one entry of an array when the item names one."""
    _, entry = split_entry(item.partition(".")[2])
    if entry is not None:
        try:
            truth = np.asarray(truth)[entry]
        except IndexError:
            raise InputError(
                f"'{item}': no such entry in an array of shape {shape_text(np.shape(truth))}"
            ) from None
    if scalar:
        if np.ndim(truth):
            one = ", ".join(["0"] * np.ndim(truth))
            raise InputError(
                f"'{item}' is an array of shape {shape_text(np.shape(truth))}: answer one "
                f"entry ({item}[{one}]) or give the array"
            )
        return float(truth)
    return truth


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


def check_expression(
    text: str,
    at: Mapping[str, float] | None,
    items: Sequence[tuple[str, Any]],
    *,
    output: str | None = None,
    settings: Settings | None = None,
    name: str | None = None,
    base: Path | None = None,
) -> CheckReport:
    """Check answers for one expression, as ``cgdiff check EXPR --at ... --expect ...`` does.
    ``base``: the folder its ``@data`` names are relative to (a spec file's own).

    >>> r = check_expression("x^2 sin(x)", None, [("derivative.x", "2x sin(x) + x cos(x)")])
    >>> r.ok, r.problems[0].checks[0].message.startswith("differs at x=")
    (False, True)
    """
    graph = parse(text, output=output, keep_assigned=True, base=base)
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

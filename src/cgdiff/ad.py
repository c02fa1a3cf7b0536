"""Differentiation over the graph: reverse mode (backprop), forward mode, central
differences, and the symbolic derivative graph.

All of them run the *same* rules of the ops table through a builder: numbers for the first
three, graph nodes for the last (which is how ``diff``, Hessians and ``--order 2`` come for
free).  An elementwise op's rule is its local derivatives, multiplied entry by entry with
the adjoint; any other op's is a VJP (reverse) and a JVP (forward).  A broadcast input's
adjoint is summed back to its own shape in one place, :func:`unbroadcast`.  Each pass counts
its own steps as it goes (SPEC section 4).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import Diagnostic, InputError, UndefinedError
from .evaluate import (
    Evaluation,
    Joined,
    bind_point,
    describe_point,
    evaluate_bound,
    evaluation,
    forward,
)
from .graph import Graph, GraphBuilder, shape_text
from .ops import NUMERIC, Builder, suggest

__all__ = [
    "MODES",
    "Gradient",
    "Progress",
    "Steps",
    "backward",
    "derivative_graph",
    "grad",
    "unbroadcast",
]

#: Called as ``progress(done, total)`` while forward mode or central differences run.
Progress = Callable[[int, int], None]

#: Tangents pushed at once by forward mode, at most (and at most ~64 MB of them).
TANGENT_CHUNK = 256

MODES = ("reverse", "forward", "numeric")


@dataclass
class Steps:
    """Step counts of SPEC section 4.  ``counted`` names the passes that really ran; any
    other figure is the cost that pass would take on this graph."""

    nodes: int
    inputs: int
    forward: int
    backward: int
    forward_mode: int
    numeric: int | None = None
    counted: tuple[str, ...] = ()
    # Measured wall time of each pass that ran, in seconds ("forward", "backward", ...).
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def reverse_total(self) -> int:
        return self.forward + self.backward

    @property
    def saving(self) -> float:
        """How many times more steps forward mode takes than reverse mode."""
        return self.forward_mode / self.reverse_total if self.reverse_total else 1.0

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "nodes": self.nodes,
            "inputs": self.inputs,
            "forward": self.forward,
            "backward": self.backward,
            "forward_mode": self.forward_mode,
        }
        if self.numeric is not None:
            d["numeric"] = self.numeric
        d["counted"] = list(self.counted)
        return d  # NB: no seconds: the same input gives the same JSON, byte for byte


@dataclass
class Gradient:
    """Value, gradient and everything the per-node table and ``--explain`` show."""

    evaluation: Evaluation
    wrt: list[str]
    gradient: dict[str, Any]
    steps: Steps
    mode: str
    adjoints: Sequence[Any] | None = None  # by node id
    # Each op node's local derivatives, by node id (for scalar nodes of elementwise ops).
    local_ids: list[Sequence[Any] | None] | None = None
    numeric: dict[str, Any] | None = None  # central differences, in numeric mode
    reverse: dict[str, Any] | None = None  # reverse mode's gradient, in forward mode
    difference: dict[str, Any] | None = None  # |central differences - reverse mode|
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def graph(self) -> Graph:
        return self.evaluation.graph

    @property
    def value(self) -> Any:
        return self.evaluation.value

    @property
    def values(self) -> Sequence[Any]:
        return self.evaluation.values

    @property
    def local(self) -> dict[str, dict[str, Any]] | None:
        """Local derivatives, node name -> {input name -> ∂node/∂input} (``record=True``).

        >>> from cgdiff import parse
        >>> r = parse("u = x*y; f = u + 1").grad(x=2, y=3, record=True)
        >>> {k: float(v) for k, v in r.local["u"].items()}
        {'x': 3.0, 'y': 2.0}
        """
        if self.local_ids is None:
            return None
        nodes = self.graph.nodes
        out = {}
        for n in nodes:
            ps = self.local_ids[n.id]
            if ps is not None:
                out[n.label] = {
                    nodes[a].label: p
                    for a, p in zip(n.args, ps)
                    if p is not None and nodes[a].kind != "const"
                }
        return out


def _wrt_ids(graph: Graph, wrt: Iterable[str] | str | None) -> list[int]:
    if wrt is None:  # every input but data read from a file
        data = set(graph.data_inputs())
        return [i for i in graph.inputs if i not in data]
    if isinstance(wrt, str):  # "x,y" as the CLI takes it, not the letters of a name
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    ids: list[int] = []
    seen: set[int] = set()
    inputs = set(graph.input_names)
    for name in wrt:
        if name not in inputs:
            if name in graph.by_name:
                raise InputError(
                    f"'{name}' is computed, not an input; derivatives are taken "
                    "with respect to inputs"
                )
            close = suggest(name, graph.input_names, cutoff=0.6)
            hint = (
                f"did you mean '{close}'?"
                if close
                else f"the inputs are: {', '.join(graph.input_names) or 'none'}"
            )
            raise InputError(
                f"cannot differentiate with respect to '{name}': not an input", hint=hint
            )
        i = graph.by_name[name]
        if i not in seen:
            seen.add(i)
            ids.append(i)
    return ids


def backward(
    graph: Graph,
    values: Sequence[Any],
    b: Builder,
    seed: Any,
    needs: Sequence[bool],
    record: bool = False,
    fixed: Mapping[int, Any] | None = None,
) -> tuple[list[Any], list[Sequence[Any] | None] | None, int]:
    """The reverse sweep: adjoints of every node that ``needs`` marks, one loop backwards.

    Returns the adjoints, the local derivatives (if ``record``) and the steps taken
    (one per op node).  ``b`` is the builder the rules run on.  ``fixed`` holds the adjoints
    of some nodes at given values (what a student wrote, to follow their error onwards).
    """
    n_nodes = len(graph.nodes)
    adj: list[Any] = [None] * n_nodes
    adj[graph.output] = seed
    local: list[Sequence[Any] | None] | None = [None] * n_nodes if record else None
    rows = reverse_plan(graph)
    # NB: the scalar fast path, where every value that takes an adjoint has one shape (all
    # numbers, or one number per point): nothing is broadcast, so nothing is summed back.
    # bench/bench_sweep.py: the general loop takes ~8.8x its time on a 10k-node scalar spec.
    uniform = graph.elementwise and len({_shape(values[i]) for i in graph.inputs}) <= 1
    sweep = _sweep if uniform else _sweep_arrays
    if not fixed:
        return adj, local, sweep(rows, values, b, needs, adj, local)
    steps, start = 0, 0
    for pos, row in enumerate(rows):
        if row[0] in fixed:  # everything after it in the sweep sees the held adjoint
            steps += sweep(rows[start:pos], values, b, needs, adj, local)
            adj[row[0]] = fixed[row[0]]
            start = pos
    steps += sweep(rows[start:], values, b, needs, adj, local)
    return adj, local, steps


Row = tuple[int, Any, int, int, int, tuple[int, ...]]


def reverse_plan(graph: Graph) -> list[Row]:
    """The op nodes, last first, as ``(id, rule, kind, arg0, arg1, args)`` rows for the
    scalar fast loop; ``kind`` is 0 for a one-input op whose rule is its one-value ``unary``
    form, 3 for a two-input ``linear`` op (its "rule" is then its constant local
    derivatives), 4 for a ``bilinear`` op (x*y: each local derivative is the other input),
    5 for an op with a VJP, and otherwise the number of inputs (the rule: ``partials``)."""
    rows: list[Row] | None = graph.cache.get("reverse")
    if rows is None:
        rows = []
        for i in reversed(graph.op_ids):
            n = graph.nodes[i]
            op = n.op
            assert op is not None
            a = n.args
            a0, a1 = (a[0] if a else -1), (a[1] if len(a) > 1 else -1)
            if not op.elementwise:
                rows.append((i, (op, n.params or {}), 5, a0, a1, a))
            elif len(a) == 1 and op.unary is not None:
                rows.append((i, op.unary, 0, a0, -1, a))
            elif len(a) == 2 and op.linear is not None:
                rows.append((i, op.linear, 3, a0, a1, a))
            elif len(a) == 2 and op.bilinear:
                rows.append((i, None, 4, a0, a1, a))
            else:
                rows.append((i, op.partials, len(a), a0, a1, a))
        graph.cache["reverse"] = rows
    return rows


def unbroadcast(adjoint: Any, shape: tuple[int, ...]) -> Any:
    """Sum an adjoint back to the shape of the input that numpy broadcast to make it.

    >>> unbroadcast(np.ones((2, 3)), (3,)), unbroadcast(np.ones((2, 3)), (2, 1)).shape
    (array([2., 2., 2.]), (2, 1))
    """
    if np.shape(adjoint) == shape:
        return adjoint
    a = np.asarray(adjoint)
    extra = a.ndim - len(shape)
    if extra > 0:
        a = a.sum(axis=tuple(range(extra)))
    keep = tuple(k for k, d in enumerate(shape) if d == 1 and a.shape[k] != 1)
    if keep:
        a = a.sum(axis=keep, keepdims=True)
    return np.broadcast_to(a, shape) if a.shape != shape else a


def _sweep_arrays(
    rows: Sequence[Row],
    values: Sequence[Any],
    b: Builder,
    needs: Sequence[bool],
    adj: list[Any],
    local: list[Sequence[Any] | None] | None,
) -> int:
    """The reverse sweep for graphs whose values have several shapes: each op's VJP (or its
    local derivatives times the adjoint), then each input's adjoint summed to its shape."""
    steps = 0
    for steps, (i, rule, kind, _a0, _a1, args) in enumerate(rows, 1):  # noqa: B007
        g = adj[i]
        if g is None:
            continue
        want = [needs[a] for a in args]
        xs = [values[a] for a in args]
        if kind == 5:
            op, params = rule
            cs = op.vjp(b, g, xs, values[i], params, want)
            ps = None
        else:
            if kind == 0:
                ps = [rule(b, xs[0], values[i])]
                cs = [b.mul(g, ps[0])]
            elif kind == 3:  # add, sub: the adjoint itself, or its negative; no product
                ps = [b.const(s) for s in rule] if local is not None else None
                cs = [(g if s > 0 else b.neg(g)) if w else None for s, w in zip(rule, want)]
            else:
                ps = [xs[1], xs[0]] if kind == 4 else rule(b, xs, values[i], want)
                cs = [b.mul(g, p) if w else None for p, w in zip(ps, want)]
        for a, c, w in zip(args, cs, want):
            if not w or c is None:
                continue
            c = unbroadcast(c, np.shape(values[a]))
            old = adj[a]
            adj[a] = c if old is None else b.add(old, c)
        if local is not None and ps is not None and np.ndim(values[i]) == 0:
            local[i] = ps
    return steps


def _sweep(
    rows: Sequence[Row],
    values: Sequence[Any],
    b: Builder,
    needs: Sequence[bool],
    adj: list[Any],
    local: list[Sequence[Any] | None] | None,
) -> int:
    """The scalar fast path of the reverse sweep over ``rows`` (of :func:`reverse_plan`),
    where nothing is broadcast; return the steps."""
    mul, add, neg, one = b.mul, b.add, b.neg, b.one
    steps = 0
    ps: Sequence[Any]
    # NB: one- and two-input ops, nearly all of them, take unrolled paths: this loop is the
    # cost of backprop, and list building and zip() per node would double it.  A node gets
    # an adjoint only through an input flagged in ``needs``, so ``needs`` is not checked here.
    # the loop's own count is the step count
    for steps, (i, rule, k, a0, a1, args) in enumerate(rows, 1):  # noqa: B007
        g = adj[i]
        if g is None:
            continue
        if k == 0:  # one input, and the rule's one-value form
            p = rule(b, values[a0], values[i])
            ps = (p,)
            c = g if p is one else mul(g, p)  # skip the product with a literal 1
            old = adj[a0]
            adj[a0] = c if old is None else add(old, c)
        elif k == 1:
            ps = rule(b, (values[a0],), values[i], (True,))
            p = ps[0]
            c = g if p is one else mul(g, p)
            old = adj[a0]
            adj[a0] = c if old is None else add(old, c)
        elif k == 2:
            w0, w1 = needs[a0], needs[a1]
            ps = rule(b, (values[a0], values[a1]), values[i], (w0, w1))
            if w0:
                p = ps[0]
                c = g if p is one else mul(g, p)
                old = adj[a0]
                adj[a0] = c if old is None else add(old, c)
            if w1:
                p = ps[1]
                c = g if p is one else mul(g, p)
                old = adj[a1]
                adj[a1] = c if old is None else add(old, c)
        elif k == 4:  # x*y: each local derivative is the other input, no rule call
            x0, x1 = values[a0], values[a1]
            ps = (x1, x0)
            if needs[a0]:
                c = mul(g, x1)
                old = adj[a0]
                adj[a0] = c if old is None else add(old, c)
            if needs[a1]:
                c = mul(g, x0)
                old = adj[a1]
                adj[a1] = c if old is None else add(old, c)
        elif k == 3:  # add, sub: local derivatives +1 or -1, so no rule call, no product
            s0, s1 = rule
            ps = (one, one if s1 > 0 else neg(one)) if local is not None else ()
            if needs[a0]:
                c = g if s0 > 0 else neg(g)
                old = adj[a0]
                adj[a0] = c if old is None else add(old, c)
            if needs[a1]:
                old = adj[a1]
                if s1 > 0:
                    adj[a1] = g if old is None else add(old, g)
                else:
                    adj[a1] = neg(g) if old is None else b.sub(old, g)
        else:  # pragma: no cover - no op of the table has more than two inputs yet
            want = [needs[a] for a in args]
            ps = rule(b, [values[a] for a in args], values[i], want)
            for a, p, w in zip(args, ps, want):
                if w:
                    c = g if p is one else mul(g, p)
                    old = adj[a]
                    adj[a] = c if old is None else add(old, c)
        if local is not None:
            local[i] = ps
    return steps


def _kinks(
    graph: Graph, values: Sequence[Any], bound: Sequence[Any], batch: bool
) -> list[Diagnostic]:
    """Warnings for nodes evaluated exactly where they are not differentiable."""
    found = []
    for i in graph.kinked():
        n = graph.nodes[i]
        assert n.op is not None and n.op.kink is not None
        hit = n.op.kink(*(values[a] for a in n.args))
        if np.any(hit):
            index = int(np.argmax(hit)) if np.ndim(hit) and batch else None
            where = describe_point(graph, bound, index)
            if np.ndim(hit) and not batch:
                entry = np.unravel_index(int(np.argmax(hit)), np.shape(hit))
                where += f"{', ' if where else ''}entry [{', '.join(map(str, entry))}]"
            found.append(Diagnostic(n.label, f"{n.op.convention} (at {where})"))
    return found


def _nonfinite(
    graph: Graph,
    ev: Evaluation,
    local: Sequence[Sequence[Any] | None] | None,
    bound: Sequence[Any],
) -> list[Diagnostic]:
    """Name the nodes whose local derivative is infinite or undefined though their value is
    not (``sqrt`` at 0), after a gradient came out non-finite."""
    from .printing import node_formula

    found = []
    for i in graph.op_ids:
        n = graph.nodes[i]
        assert n.op is not None
        if not n.op.elementwise or not np.all(np.isfinite(ev.values[i])):
            continue  # an overflowing value has its own warning; a VJP has no local ones
        ps = local[i] if local is not None else None
        variable = [graph.nodes[a].kind != "const" for a in n.args]
        if ps is None:
            vals = [ev.values[a] for a in n.args]
            with np.errstate(all="ignore"):
                ps = n.op.partials(NUMERIC, vals, ev.values[i], variable)
        for a, p, v in zip(n.args, ps, variable):
            if not v or p is None or np.all(np.isfinite(p)):
                continue  # no derivative is taken with respect to a constant
            bad = np.asarray(p)
            first = bad.ravel()[int(np.argmax(~np.isfinite(bad.ravel())))]
            what = "nan" if np.isnan(first) else ("inf" if first > 0 else "-inf")
            index = int(np.argmax(~np.isfinite(bad))) if bad.ndim and ev.batch else None
            where = describe_point(graph, bound, index)
            found.append(
                Diagnostic(
                    n.label,
                    f"the derivative of {node_formula(graph, i)} with respect to "
                    f"{graph.nodes[a].label} is {what} at {where}; the result reports {what}",
                )
            )
    return found


def _spell(v: Any) -> str:
    x = float(np.asarray(v).ravel()[int(np.argmax(~np.isfinite(np.ravel(v))))])
    return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")


def _seed(value: Any) -> Any:
    return np.ones_like(value) if np.ndim(value) else np.float64(1.0)


def _entries(value: Any, batch: int | None) -> int:
    """``p`` of one input: its scalar entries (a number is one, whatever the points)."""
    # NB: .size, not np.size(): this runs once per input, 1,000 times on a big scalar graph
    return 1 if batch is not None else int(getattr(value, "size", 1))


def _shape(value: Any) -> tuple[int, ...]:
    """A value's shape, without np.shape()'s cost on numpy scalars (the common case)."""
    shape: tuple[int, ...] = getattr(value, "shape", ())
    return shape


def _finite(value: Any) -> bool:
    """Whether every entry is finite; math.isfinite for a number (~20x faster than numpy)."""
    if isinstance(value, float):  # np.float64 is a float
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


def grad(
    graph: Graph,
    point: Mapping[str, Any],
    wrt: Iterable[str] | str | None = None,
    mode: str = "reverse",
    record: bool = False,
    progress: Progress | None = None,
) -> Gradient:
    """Value and gradient at a point (or a batch of points).  ``record`` keeps every node's
    local derivatives (for the per-node table and ``--explain``); ``progress`` is told how
    far forward mode or central differences have come.

    >>> from cgdiff import parse
    >>> r = grad(parse("a=5; b=3; c=2; u=b*c; v=a+u; J=3v"), {}, record=True)
    >>> {k: float(v) for k, v in r.gradient.items()}, r.steps.backward
    ({'a': 3.0, 'b': 6.0, 'c': 9.0}, 6)
    """
    if mode not in MODES:
        raise InputError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
    t0 = time.perf_counter()
    graph.diagnostics = [d for d in graph.diagnostics if d.node is None]
    bound, batch = bind_point(graph, point)
    if batch is not None and batch >= 2 * CHUNK and mode == "reverse" and not record:
        done = _chunked(graph, bound, batch, wrt)
        if done is not None:
            return done
    ev = evaluate_bound(graph, bound, batch)
    seconds = {"forward": time.perf_counter() - t0}
    if ev.batch is None and np.ndim(ev.value):
        out = graph.output_name
        raise InputError(
            f"the output {out} has shape {shape_text(np.shape(ev.value))}; a gradient "
            f"needs one number: reduce it (sum({out}), mean({out})) or pick an entry "
            f"({out}[0]), or choose another node as the output"
        )
    ids = _wrt_ids(graph, wrt)
    n = graph.n_ops
    p = sum(_entries(ev.values[i], ev.batch) for i in ids)
    steps = Steps(n, p, ev.forward_steps, n + p, n * p, counted=("forward",), seconds=seconds)
    zero = np.zeros_like(ev.value) if np.ndim(ev.value) else np.float64(0.0)
    numeric_notes: list[Diagnostic] = []
    result = Gradient(ev, [graph.nodes[i].label for i in ids], {}, steps, mode)
    with np.errstate(all="ignore"):
        # Reverse mode runs in every mode: the others are measured against it.
        # NB: with record (the per-node table) every node's adjoint is shown; otherwise
        # only nodes on a path from an input of wrt take one: the adjoint of the MLP's
        # data X (a 64×128 @ 128×784 product) is never asked for, so never computed.
        needs = graph.variable() if record else _needs(graph, ids)
        t0 = time.perf_counter()
        adj, local, counted = backward(
            graph, ev.values, NUMERIC, _seed(ev.value), needs, record=record
        )
        gradient = {}
        counted += p  # reading out each input's adjoint entries is the "+ p" of n + p
        for i, name in zip(ids, result.wrt):
            g_i = _zero_like(ev.values[i], zero) if adj[i] is None else adj[i]
            # NB: an adjoint may be a read-only broadcast view; the user gets an array
            gradient[name] = g_i.copy() if isinstance(g_i, np.ndarray) else g_i
        seconds["backward"] = time.perf_counter() - t0
        steps.backward = counted
        steps.counted = ("forward", "backward")
        result.gradient, result.adjoints, result.local_ids = gradient, adj, local
        if mode == "numeric":
            bound = {i: ev.values[i] for i in graph.inputs}
            t0 = time.perf_counter()
            result.numeric, steps.numeric = _central(
                graph, bound, ids, numeric_notes, ev.batch, progress
            )
            seconds["numeric"] = time.perf_counter() - t0
            result.difference = {k: np.abs(result.numeric[k] - gradient[k]) for k in result.numeric}
            steps.counted += ("numeric",)
        if mode == "forward":
            t0 = time.perf_counter()
            tangents, counted = _forward_mode(graph, ev.values, ids, ev.batch, progress)
            seconds["forward_mode"] = time.perf_counter() - t0
            result.reverse = gradient
            result.gradient = {graph.nodes[i].label: t for i, t in zip(ids, tangents)}
            result.difference = {k: np.abs(result.gradient[k] - gradient[k]) for k in gradient}
            steps.forward_mode = counted
            steps.counted += ("forward_mode",)
    return _finish(result, numeric_notes)


# Many points (a batch) run in chunks of this many points, on threads: numpy lets go of
# the GIL inside its loops, so both cores work, and a chunk's arrays stay in the cache.
# bench/bench_core.py (1,000,000 points) measures it against hand-written numpy.
CHUNK = 16_384


def _threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _chunked(
    graph: Graph, bound: dict[int, Any], batch: int, wrt: Iterable[str] | str | None
) -> Gradient | None:
    """Reverse mode at many points, forward and reverse pass chunk by chunk on threads:
    the same numbers as one pass over the whole batch, as every op works point by point.

    None (run the batch in one piece) when ``wrt`` is wrong or when a chunk's forward pass
    raised a floating-point flag (an overflow, a NaN): the one-piece pass then says which
    point and which node, in the usual order of errors.
    """
    try:
        ids = _wrt_ids(graph, wrt)
    except InputError:
        return None
    needs = _needs(graph, ids)
    t0 = time.perf_counter()

    def one(lo: int) -> tuple[list[Any], list[Any], int, int, float] | None:
        part = {i: v[lo : lo + CHUNK] for i, v in bound.items()}
        flags: list[bool] = []
        start = time.perf_counter()
        values, steps = forward(graph, part, strict=False, batch=True, flags=flags)
        if flags[0]:
            return None
        middle = time.perf_counter()
        with np.errstate(all="ignore"):  # NB: a thread starts with numpy's default errstate
            adj, _, counted = backward(graph, values, NUMERIC, _seed(values[graph.output]), needs)
        return (
            values,
            adj,
            steps,
            counted,
            (middle - start) / max(time.perf_counter() - start, 1e-9),
        )

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(_threads()) as pool:
        parts = list(pool.map(one, range(0, batch, CHUNK)))
    if any(p is None for p in parts):
        return None
    done = [p for p in parts if p is not None]
    wall = time.perf_counter() - t0
    share = sum(p[4] for p in done) / len(done)  # of the time, the forward pass's
    values, adj = Joined([p[0] for p in done]), Joined([p[1] for p in done])
    ev = evaluation(graph, bound, values, batch, done[0][2])
    n = graph.n_ops
    p = len(ids)
    seconds = {"forward": wall * share, "backward": wall * (1 - share)}
    counted = ("forward", "backward")
    steps = Steps(n, p, ev.forward_steps, done[0][3] + p, n * p, counted=counted, seconds=seconds)
    result = Gradient(ev, [graph.nodes[i].label for i in ids], {}, steps, "reverse")
    zero = np.zeros_like(ev.value)
    for i, name in zip(ids, result.wrt):
        g_i = _zero_like(values[i], zero) if adj[i] is None else adj[i]
        result.gradient[name] = g_i.copy() if isinstance(g_i, np.ndarray) else g_i
    result.adjoints = adj
    return _finish(result)


def _finish(result: Gradient, notes: Sequence[Diagnostic] = ()) -> Gradient:
    """The warnings of a result: the forward pass's, kinks, central differences' ``notes``,
    and where a gradient is not finite, why."""
    graph, ev = result.graph, result.evaluation
    # NB: the values list serves as the point: inputs are looked up by node id.
    kinks = _kinks(graph, ev.values, ev.values, ev.batch is not None)
    result.diagnostics = list(ev.diagnostics) + kinks + list(notes)
    if result.gradient and not all(_finite(v) for v in result.gradient.values()):
        found = _nonfinite(graph, ev, result.local_ids, ev.values)
        if not found and not ev.diagnostics:  # finite values and local derivatives: the
            # chain-rule product itself overflowed
            out = graph.output_name
            found = [
                Diagnostic(
                    None,
                    f"∂{out}/∂{k} overflows to {_spell(v)} (the product of the "
                    "chain rule is too large)",
                )
                for k, v in result.gradient.items()
                if not np.all(np.isfinite(v))
            ]
        result.diagnostics += found
    return result


def _needs(graph: Graph, ids: Sequence[int]) -> list[bool]:
    """:func:`depends_on` the inputs ``ids``, kept with the graph (one loop per graph)."""
    key = tuple(ids)
    kept: tuple[tuple[int, ...], list[bool]] | None = graph.cache.get("needs")
    if kept is None or kept[0] != key:
        kept = graph.cache["needs"] = (key, depends_on(graph, ids))
    return kept[1]


def _zero_like(value: Any, zero: Any) -> Any:
    """The gradient of an input the output does not depend on: zeros of its shape."""
    return np.zeros_like(value, dtype=float) if np.ndim(value) and np.ndim(zero) == 0 else zero


def _forward_mode(
    graph: Graph,
    values: Sequence[Any],
    ids: Sequence[int],
    batch: int | None,
    progress: Progress | None,
) -> tuple[list[Any], int]:
    """Forward mode: one tangent sweep over the graph per scalar entry of each input, a
    chunk of entries pushed together (each tangent array has a leading axis, one entry per
    tangent); returns d output / d input for each input, and the steps (n per entry)."""
    nodes = graph.nodes
    out = graph.output
    plan = [(i, nodes[i].op, nodes[i].args, nodes[i].params or {}) for i in graph.op_ids]
    biggest = max((np.size(values[i]) for i in graph.op_ids), default=1)
    chunk = max(1, min(TANGENT_CHUNK, 8_000_000 // max(biggest, 1)))
    steps = 0
    result = []
    total = sum(_entries(values[w], batch) for w in ids)
    done = 0
    for w in ids:
        shape = () if batch is not None else np.shape(values[w])
        size = _entries(values[w], batch)
        found = np.zeros((size,) if batch is None else (1, batch))
        for start in range(0, size, chunk):
            k = min(chunk, size - start)
            tangent: list[Any] = [None] * len(nodes)
            if batch is not None:  # the input's one tangent, at every point at once
                tangent[w] = np.ones((1, batch))
            else:  # k rows of the identity: the tangents of entries start .. start+k-1
                seed = np.zeros((k, size))
                seed[np.arange(k), start + np.arange(k)] = 1.0
                tangent[w] = seed.reshape((k, *shape))
            for i, op, args, params in plan:
                steps += k  # one step per node per tangent pushed: the count is honest
                ts = [tangent[a] for a in args]
                if any(t is not None for t in ts):
                    tangent[i] = _jvp(op, [values[a] for a in args], values[i], params, ts)
            if tangent[out] is not None:
                found[start : start + k] = (
                    np.reshape(tangent[out], (k, -1))[:, 0] if batch is None else tangent[out]
                )
            done += k
            if progress is not None:
                progress(done, total)
        if batch is not None:
            result.append(found[0])
        else:
            result.append(found.reshape(shape) if shape else np.float64(found[0]))
    return result, steps


def _jvp(op: Any, xs: list[Any], out: Any, params: dict[str, Any], ts: list[Any]) -> Any:
    """The tangents of one node from its inputs' tangents (each with a leading axis)."""
    shape = np.shape(out)
    if not op.elementwise:
        t = op.jvp(xs, out, params, ts)
    else:  # the local derivatives times each tangent, lined up as numpy broadcasts
        t = None
        for p, tk, x in zip(op.partials(NUMERIC, xs, out, [t is not None for t in ts]), ts, xs):
            if tk is not None:
                pad = (1,) * (len(shape) - np.ndim(x))
                c = p * tk.reshape((tk.shape[0], *pad, *tk.shape[1:]))
                t = c if t is None else t + c
    return np.broadcast_to(t, (t.shape[0], *shape))


def _central(
    graph: Graph,
    bound: Mapping[int, Any],
    ids: Sequence[int],
    diagnostics: list[Diagnostic],
    batch: int | None,
    progress: Progress | None,
) -> tuple[dict[str, Any], int]:
    """Central differences, h = cbrt(machine epsilon) * max(1, |x|): two passes per scalar
    entry of each input (every point at once when there are several)."""
    steps = 0
    estimate = {}
    total = sum(_entries(bound[w], batch) for w in ids)
    done = 0
    for w in ids:
        x = np.asarray(bound[w], dtype=float)
        name = graph.nodes[w].label
        entries: list[Any] = [None]
        if batch is None and x.ndim:
            entries = list(np.ndindex(*x.shape))
        out: Any = np.full(x.shape if batch is None else (batch,), np.nan)
        for e in entries:
            base = x if e is None else x[e]
            h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(base))
            plus, minus = dict(bound), dict(bound)
            if e is None:
                plus[w], minus[w] = x + h, x - h
            else:
                xp, xm = x.copy(), x.copy()
                xp[e] += h
                xm[e] -= h
                plus[w], minus[w] = xp, xm
            try:
                vp, sp = forward(graph, plus, batch=batch is not None)
                vm, sm = forward(graph, minus, batch=batch is not None)
            except UndefinedError as exc:
                # x ± h left the domain (sqrt at 0): no estimate, and say why.
                diagnostics.append(
                    Diagnostic(
                        None,
                        f"central differences for {name} step outside the domain "
                        f"({exc.message}); the estimate is nan",
                    )
                )
                steps += 2 * graph.n_ops
            else:
                steps += sp + sm
                d = (vp[graph.output] - vm[graph.output]) / (2 * h)
                if e is None:
                    out = np.asarray(d, dtype=float) if np.ndim(d) else np.float64(d)
                else:
                    out[e] = d
            done += 1
            if progress is not None:
                progress(done, total)
        estimate[name] = out
    return estimate, steps


def depends_on(graph: Graph, wrt: Iterable[int]) -> list[bool]:
    """For every node, whether its value depends on one of the nodes ``wrt``."""
    dep = [False] * len(graph.nodes)
    for w in wrt:
        dep[w] = True
    for i in graph.op_ids:
        dep[i] = any(dep[a] for a in graph.nodes[i].args)
    return dep


def derivative_name(output: str, wrt: str, order: int = 1) -> str:
    """The name of a derivative in a printed spec: ``df_dx``, ``d2f_dx2``.

    >>> derivative_name("f", "x"), derivative_name("J", "w", 2)
    ('df_dx', 'd2J_dw2')
    """
    if order == 1:
        return f"d{output}_d{wrt}"
    return f"d{order}{output}_d{wrt}{order}"


def gradient_graphs(
    graph: Graph, wrt: Iterable[str] | str | None = None, *, simplify: bool = True
) -> tuple[dict[str, Graph], int]:
    """The graph of ∂output/∂w for each input w (all, or those of ``wrt``), from one
    symbolic reverse sweep, and the steps that sweep took.

    It is the reverse sweep run on a graph builder: each derivative graph holds the forward
    nodes it needs, then adjoint nodes, so its size is O(n) in the size of the original.

    >>> from cgdiff import parse
    >>> graphs, steps = gradient_graphs(parse("x*y + z"))
    >>> from cgdiff.printing import to_text
    >>> {w: to_text(g) for w, g in graphs.items()}, steps
    ({'x': 'y', 'y': 'x', 'z': '1'}, 2)
    """
    if not graph.elementwise:
        raise InputError(
            "derivative graphs are built for specs of numbers; this one has vectors or "
            "matrices (their gradient at a point: grad)"
        )
    ids = _wrt_ids(graph, wrt)
    b = GraphBuilder(share=True, simplify=simplify)
    mapping = b.copy_nodes(graph)
    # The sweep walks the original graph; each node's "value" is the id of its copy, so the
    # rules append their local derivatives to the new graph.  Only nodes that depend on an
    # input of ``wrt`` get an adjoint.
    adj, _, steps = backward(graph, mapping, b, b.one, depends_on(graph, ids))
    inputs = [mapping[i] for i in graph.inputs]
    out = {}
    for i in ids:
        name = graph.nodes[i].label
        node = adj[i] if adj[i] is not None else b.zero
        out[name] = b.finish(
            node,
            source=graph.source,
            inputs=inputs,
            output_name=derivative_name(graph.output_name, name),
        )
    return out, steps


def derivative_graph(graph: Graph, wrt: str, *, simplify: bool = True) -> Graph:
    """The graph of d output / d ``wrt`` (see :func:`gradient_graphs`).  ``simplify`` here
    means the builder's identities of 0 and 1 only; :func:`cgdiff.symbolic.derivative`
    gives the fully simplified derivative that ``cgdiff diff`` prints.

    >>> from cgdiff import parse
    >>> from cgdiff.evaluate import evaluate
    >>> d = derivative_graph(parse("x^2*sin(x)"), "x")
    >>> float(evaluate(d, {"x": 1.0}).value) == float(2*np.sin(1.0) + np.cos(1.0))
    True
    """
    graphs, _ = gradient_graphs(graph, [wrt], simplify=simplify)
    return next(iter(graphs.values()))

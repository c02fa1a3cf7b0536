"""Differentiation at a point: reverse mode (backprop), forward mode and central
differences (the symbolic derivative graph built by the same sweep is in
:mod:`cgdiff.derivative_graphs`).

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

from .errors import Diagnostic, InputError
from .evaluate import (
    Evaluation,
    Joined,
    bind_point,
    describe_point,
    evaluate_bound,
    evaluation,
    forward,
)
from .graph import Graph, shape_text
from .ops import NUMERIC, Builder, suggest

__all__ = [
    "MODES",
    "Gradient",
    "Progress",
    "Steps",
    "backward",
    "depends_on",
    "grad",
    "unbroadcast",
]

#: Called as ``progress(done, total)`` while forward mode or central differences run.
Progress = Callable[[int, int], None]

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
                else f"the inputs are: {', '.join(graph.input_names)}"
                if graph.input_names
                else "the expression has no inputs: it is a constant, whose derivative is 0"
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
        bad_args: dict[int, list[tuple[int, Any]]] = {}  # arg node -> (position, its first)
        index: int | None = None
        entry = ""  # an array node's first bad entry: "entry [0]"
        for k, (a, p, v) in enumerate(zip(n.args, ps, variable)):
            if not v or p is None or np.all(np.isfinite(p)):
                continue  # no derivative is taken with respect to a constant
            bad = np.asarray(p)
            flat = int(np.argmax(~np.isfinite(bad.ravel())))
            if index is None and bad.ndim and ev.batch:
                index = flat
            elif not entry and bad.ndim and not ev.batch:
                at = np.unravel_index(flat, bad.shape)
                entry = f"entry [{', '.join(map(str, at))}]"
            bad_args.setdefault(a, []).append((k, bad.ravel()[flat]))
        for a, parts in bad_args.items():
            where = describe_point(graph, bound, index)
            where = f"{where}, {entry}" if entry and where else entry or where
            formula, name = node_formula(graph, i), graph.nodes[a].label
            if len(parts) == 1 and n.args.count(a) == 1:
                what = _spell(parts[0][1])
                text = f"the derivative of {formula} with respect to {name} is {what}"
            else:  # x^x: the same input twice, as base and as exponent; the chain rule adds
                roles = " and as ".join(_role(n.opname, k) for k, _ in parts)
                values = " and ".join(_spell(f) for _, f in parts)
                what = _spell(sum(float(f) for _, f in parts))  # the chain rule adds them
                verb = "are" if len(parts) > 1 else "is"
                text = (
                    f"the derivative{'s' if len(parts) > 1 else ''} of {formula} with respect "
                    f"to {name}, as {roles}, {verb} {values}"
                )
            found.append(Diagnostic(n.label, f"{text} at {where}; the result reports {what}"))
    return found


def _role(opname: str, k: int) -> str:
    """``base``, ``exponent``, or ``argument 2``: which place of a node an input is in."""
    if opname == "pow":
        return ("base", "exponent")[k]
    return f"argument {k + 1}"


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
        counted += p  # reading out each input's adjoint entries is the "+ p" of n + p
        gradient = _read_gradient(ids, result.wrt, ev.values, adj, zero)
        seconds["backward"] = time.perf_counter() - t0
        steps.backward = counted
        steps.counted = ("forward", "backward")
        result.gradient, result.adjoints, result.local_ids = gradient, adj, local
        if mode != "reverse":
            from .crosscheck import _central, _forward_mode
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
    result.gradient = _read_gradient(ids, result.wrt, values, adj, np.zeros_like(ev.value))
    result.adjoints = adj
    return _finish(result)


def _read_gradient(
    ids: Sequence[int], names: Sequence[str], values: Sequence[Any], adj: Sequence[Any], zero: Any
) -> dict[str, Any]:
    """Each input's adjoint, zero where it has none (nothing depends on it)."""
    gradient = {}
    for i, name in zip(ids, names):
        g_i = _zero_like(values[i], zero) if adj[i] is None else adj[i]
        # NB: an adjoint may be a read-only broadcast view; the user gets an array
        gradient[name] = g_i.copy() if isinstance(g_i, np.ndarray) else g_i
    return gradient


def _finish(result: Gradient, notes: Sequence[Diagnostic] = ()) -> Gradient:
    """The warnings of a result: the forward pass's, kinks, central differences' ``notes``,
    and where a gradient is not finite, why."""
    graph, ev = result.graph, result.evaluation
    # NB: the values list serves as the point: inputs are looked up by node id.
    kinks = _kinks(graph, ev.values, ev.values, ev.batch is not None)
    result.diagnostics = list(ev.diagnostics) + kinks + list(notes)
    if result.gradient and not all(_finite(v) for v in result.gradient.values()):
        found = _nonfinite(graph, ev, result.local_ids, ev.values)
        if not found and not ev.diagnostics:
            found = _through(graph, ev, result.adjoints)
        if not found and not ev.diagnostics:  # finite values and local derivatives: the
            # chain-rule product itself overflowed
            out = graph.output_name
            found = [
                Diagnostic(
                    None,
                    f"∂{out}/∂{k} overflows to {_spell(v)} (the product of the "
                    "chain rule is too large)"
                    if _spell(v) != "nan"
                    else f"∂{out}/∂{k} is nan: a step of the chain rule is undefined "
                    "(0/0, inf - inf or 0·inf, often after an overflow)",
                )
                for k, v in result.gradient.items()
                if not np.all(np.isfinite(v))
            ]
        result.diagnostics += found
    return result


def _through(graph: Graph, ev: Evaluation, adj: Sequence[Any] | None) -> list[Diagnostic]:
    """The array node (a VJP rule) whose finite adjoint gives an input a contribution that
    is not finite (``norm(x)`` at ``x = 0``: its rule is x / norm(x), 0/0)."""
    if adj is None:
        return []
    from .printing import node_formula

    for i in graph.op_ids:
        n = graph.nodes[i]
        op = n.op
        assert op is not None
        g = adj[i]
        if op.elementwise or op.vjp is None or g is None or not _finite(g):
            continue  # elementwise nodes: _nonfinite names their local derivatives
        xs = [ev.values[a] for a in n.args]
        want = [graph.nodes[a].kind != "const" for a in n.args]
        try:
            with np.errstate(all="ignore"):
                cs = op.vjp(NUMERIC, g, xs, ev.values[i], n.params or {}, want)
        except Exception:  # pragma: no cover - the sweep ran this rule already
            continue
        for a, c, w in zip(n.args, cs, want):
            if w and c is not None and not _finite(c):
                what = _spell(c)
                scalar = all(np.ndim(ev.values[j]) == 0 for j in graph.inputs)
                where = f" at {describe_point(graph, ev.values, None)}" if scalar else ""
                return [
                    Diagnostic(
                        n.label,
                        f"the chain rule through {node_formula(graph, i)} gives {what} for "
                        f"{graph.nodes[a].label}{where} "
                        + (
                            "(its derivative is not defined there)"
                            if what == "nan"
                            else "(the product overflows)"
                        )
                        + f"; the result reports {what}",
                    )
                ]
    return []


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


def depends_on(graph: Graph, wrt: Iterable[int]) -> list[bool]:
    """For every node, whether its value depends on one of the nodes ``wrt``."""
    dep = [False] * len(graph.nodes)
    for w in wrt:
        dep[w] = True
    for i in graph.op_ids:
        dep[i] = any(dep[a] for a in graph.nodes[i].args)
    return dep

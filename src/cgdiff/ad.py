"""Differentiation over the graph: reverse mode (backprop), forward mode, central
differences, and the symbolic derivative graph.

All of them run the *same* local-derivative rules of the ops table through a builder:
numbers for the first three, graph nodes for the last (which is how ``diff``, Hessians and
``--order 2`` come for free).  Each pass counts its own steps as it goes (SPEC section 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import Diagnostic, InputError, UndefinedError
from .evaluate import Evaluation, describe_point, evaluate, forward
from .graph import Graph, GraphBuilder
from .ops import NUMERIC, Builder, suggest

__all__ = ["MODES", "Gradient", "Steps", "backward", "derivative_graph", "grad"]

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
        return d


@dataclass
class Gradient:
    """Value, gradient and everything the per-node table and ``--explain`` show."""

    evaluation: Evaluation
    wrt: list[str]
    gradient: dict[str, Any]
    steps: Steps
    mode: str
    adjoints: list[Any] | None = None
    local: list[Sequence[Any] | None] | None = None
    numeric: dict[str, Any] | None = None  # central differences, in numeric mode
    difference: dict[str, Any] | None = None  # |central differences - reverse mode|
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def graph(self) -> Graph:
        return self.evaluation.graph

    @property
    def value(self) -> Any:
        return self.evaluation.value

    @property
    def values(self) -> list[Any]:
        return self.evaluation.values


def _wrt_ids(graph: Graph, wrt: Iterable[str] | str | None) -> list[int]:
    if wrt is None:
        return list(graph.inputs)
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
    rows = graph.reverse_plan()
    if not fixed:
        return adj, local, _sweep(rows, values, b, needs, adj, local)
    steps, start = 0, 0
    for pos, row in enumerate(rows):
        if row[0] in fixed:  # everything after it in the sweep sees the held adjoint
            steps += _sweep(rows[start:pos], values, b, needs, adj, local)
            adj[row[0]] = fixed[row[0]]
            start = pos
    steps += _sweep(rows[start:], values, b, needs, adj, local)
    return adj, local, steps


def _sweep(
    rows: Sequence[tuple[int, Any, int, int, int, tuple[int, ...]]],
    values: Sequence[Any],
    b: Builder,
    needs: Sequence[bool],
    adj: list[Any],
    local: list[Sequence[Any] | None] | None,
) -> int:
    """Run the reverse sweep over ``rows`` (of :meth:`Graph.reverse_plan`); return steps."""
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


def _kinks(graph: Graph, values: Sequence[Any], bound: Sequence[Any]) -> list[Diagnostic]:
    """Warnings for nodes evaluated exactly where they are not differentiable."""
    found = []
    for i in graph.kinked():
        n = graph.nodes[i]
        assert n.op is not None and n.op.kink is not None
        hit = n.op.kink(*(values[a] for a in n.args))
        if np.any(hit):
            index = int(np.argmax(hit)) if np.ndim(hit) else None
            where = describe_point(graph, bound, index)
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
        if not np.all(np.isfinite(ev.values[i])):
            continue  # an overflowing value has its own warning
        ps = local[i] if local is not None else None
        variable = [graph.nodes[a].kind != "const" for a in n.args]
        if ps is None:
            assert n.op is not None
            vals = [ev.values[a] for a in n.args]
            with np.errstate(all="ignore"):
                ps = n.op.partials(NUMERIC, vals, ev.values[i], variable)
        for a, p, v in zip(n.args, ps, variable):
            if not v or p is None or np.all(np.isfinite(p)):
                continue  # no derivative is taken with respect to a constant
            bad = np.asarray(p)
            first = bad.ravel()[int(np.argmax(~np.isfinite(bad.ravel())))]
            what = "nan" if np.isnan(first) else ("inf" if first > 0 else "-inf")
            index = int(np.argmax(~np.isfinite(bad))) if bad.ndim else None
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


def _zero(value: Any) -> Any:
    return np.zeros_like(value) if np.ndim(value) else np.float64(0.0)


def grad(
    graph: Graph,
    point: Mapping[str, Any],
    wrt: Iterable[str] | str | None = None,
    mode: str = "reverse",
    record: bool = False,
) -> Gradient:
    """Value and gradient at a point (or a batch of points).  ``record`` keeps every node's
    local derivatives (for the per-node table and ``--explain``).

    >>> from cgdiff import parse
    >>> r = grad(parse("a=5; b=3; c=2; u=b*c; v=a+u; J=3v"), {}, record=True)
    >>> {k: float(v) for k, v in r.gradient.items()}, r.steps.backward
    ({'a': 3.0, 'b': 6.0, 'c': 9.0}, 6)
    """
    if mode not in MODES:
        raise InputError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
    ev = evaluate(graph, point)
    ids = _wrt_ids(graph, wrt)
    n, p = graph.n_ops, len(ids)
    steps = Steps(n, p, ev.forward_steps, n + p, n * p, counted=("forward",))
    zero = _zero(ev.value)
    numeric_notes: list[Diagnostic] = []
    result = Gradient(
        ev,
        [graph.nodes[i].label for i in ids] if wrt is not None else list(graph.input_names),
        {},
        steps,
        mode,
    )
    with np.errstate(all="ignore"):
        if mode == "forward":
            tangents, counted = _forward_mode(graph, ev.values, ids)
            result.gradient = {graph.nodes[i].label: t for i, t in zip(ids, tangents)}
            steps.forward_mode = counted
            steps.counted = ("forward", "forward_mode")
        else:
            needs = graph.variable()
            adj, local, counted = backward(
                graph, ev.values, NUMERIC, _seed(ev.value), needs, record=record
            )
            gradient = {}
            for i, name in zip(ids, result.wrt):
                counted += 1  # reading out each input's adjoint is the "+ p" of n + p
                gradient[name] = zero if adj[i] is None else adj[i]
            steps.backward = counted
            steps.counted = ("forward", "backward")
            result.gradient, result.adjoints, result.local = gradient, adj, local
            if mode == "numeric":
                bound = {i: ev.values[i] for i in graph.inputs}
                result.numeric, steps.numeric = _central(graph, bound, ids, numeric_notes)
                result.difference = {
                    k: np.abs(result.numeric[k] - gradient[k]) for k in result.numeric
                }
                steps.counted += ("numeric",)
    # NB: the values list serves as the point: inputs are looked up by node id.
    result.diagnostics = list(ev.diagnostics) + _kinks(graph, ev.values, ev.values) + numeric_notes
    if result.gradient and not np.all(np.isfinite(np.array(list(result.gradient.values())))):
        found = _nonfinite(graph, ev, result.local, ev.values)
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


def _forward_mode(graph: Graph, values: Sequence[Any], ids: Sequence[int]) -> tuple[list[Any], int]:
    """One tangent sweep per input; returns d output / d input for each, and the steps."""
    nodes = graph.nodes
    out = graph.output
    zero = _zero(values[out])
    steps = 0
    result = []
    for w in ids:
        tangent: list[Any] = [None] * len(nodes)
        tangent[w] = _seed(values[w])
        for i in graph.op_ids:
            steps += 1
            n = nodes[i]
            ts = [tangent[a] for a in n.args]
            if all(t is None for t in ts):
                continue
            assert n.op is not None
            ps = n.op.partials(
                NUMERIC, [values[a] for a in n.args], values[i], [t is not None for t in ts]
            )
            acc = None
            for p, t in zip(ps, ts):
                if t is not None:
                    c = p * t
                    acc = c if acc is None else acc + c
            tangent[i] = acc
        result.append(zero if tangent[out] is None else tangent[out])
    return result, steps


def _central(
    graph: Graph, bound: Mapping[int, Any], ids: Sequence[int], diagnostics: list[Diagnostic]
) -> tuple[dict[str, Any], int]:
    """Central differences, h = cbrt(machine epsilon) * max(1, |x|): two passes per input."""
    steps = 0
    estimate = {}
    for w in ids:
        x = bound[w]
        h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
        plus, minus = dict(bound), dict(bound)
        plus[w], minus[w] = x + h, x - h
        try:
            vp, sp = forward(graph, plus)
            vm, sm = forward(graph, minus)
        except UndefinedError as exc:
            # x ± h left the domain (sqrt at 0): no estimate, and say why.
            diagnostics.append(
                Diagnostic(
                    None,
                    f"central differences for {graph.nodes[w].label}"
                    f" step outside the domain ({exc.message}); "
                    "the estimate is nan",
                )
            )
            estimate[graph.nodes[w].label] = np.full_like(np.asarray(x, dtype=float), np.nan)
            steps += 2 * graph.n_ops
            continue
        steps += sp + sm
        estimate[graph.nodes[w].label] = (vp[graph.output] - vm[graph.output]) / (2 * h)
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
    >>> {w: g.to_text() for w, g in graphs.items()}, steps
    ({'x': 'y', 'y': 'x', 'z': '1'}, 2)
    """
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
    >>> d = derivative_graph(parse("x^2*sin(x)"), "x")
    >>> float(d.eval(x=1.0).value) == float(2*np.sin(1.0) + np.cos(1.0))
    True
    """
    graphs, _ = gradient_graphs(graph, [wrt], simplify=simplify)
    return next(iter(graphs.values()))

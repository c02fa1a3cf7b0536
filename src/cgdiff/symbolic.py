"""Symbolic derivatives and second derivatives: ``cgdiff diff``, ``cgdiff hessian`` and the
API's :func:`diff` and :func:`hessian`.

A derivative is a graph: the reverse sweep of :mod:`cgdiff.ad` run on a graph builder, so the
derivative rules are the ops table's, applied once per node; one sweep gives the derivative
with respect to every input (:func:`gradient_graphs`).  Differentiating that graph again
gives higher orders.  :mod:`cgdiff.simplify` makes it readable and :mod:`cgdiff.printing`
writes it in cgdiff's own language, so the result parses back.

The Hessian is *reverse-over-reverse*: the symbolic reverse sweep builds the graph of each
∂f/∂xᵢ, then a numeric reverse pass over that graph gives the row ∂²f/∂xᵢ∂xⱼ for every j.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ad import _wrt_ids
from .derivative_graphs import derivative_name, derivative_names, gradient_graphs
from .errors import Diagnostic, InputError, UndefinedError
from .graph import Graph
from .parse import max_tokens
from .printing import Line, to_lines, to_text
from .simplify import input_order, simplify, simplify_many

__all__ = [
    "Differentiation",
    "Hessian",
    "HessianSteps",
    "derivative",
    "derivative_name",
    "diff",
    "differentiate",
    "gradient_graphs",
    "hessian",
]

METHOD = "reverse-over-reverse"


def _graph(expr: str | Graph, output: str | None = None) -> Graph:
    if isinstance(expr, Graph):
        return expr if output is None else expr.with_output(output)
    from .parse import parse

    return parse(expr, output=output)


def _order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise InputError(f"the order of a derivative is a whole number from 1 up, not {order!r}")
    return order


_ASSIGNED = re.compile(r"^\s*([^\W\d]\w*)\s*=")


def assigned_names(source: str) -> set[str]:
    """The names a spec assigns (the named nodes a user wrote, not generated ones).

    >>> sorted(assigned_names("a = 2; b = a*x  # b = ...\\nc = b + 1"))
    ['a', 'b', 'c']
    """
    names = set()
    for line in source.split("\n"):
        for statement in line.split("#", 1)[0].split(";"):
            m = _ASSIGNED.match(statement)
            if m:
                names.add(m.group(1))
    return names


@contextmanager
def _everywhere(output: str) -> Iterator[None]:
    """Name the derivative in an error found while building it: such an error is a
    constant part that is undefined, so the derivative is undefined at every point."""
    try:
        yield
    except UndefinedError as exc:
        raise UndefinedError(
            f"a derivative of {output} is undefined at every point: {exc.message}"
        ) from None


def numbers_only(graph: Graph, what: str, values: Sequence[Any] = ()) -> None:
    """Refuse a spec with vectors or matrices: formulas are written for numbers."""
    arrays = [n for n in graph.nodes if n.op is not None and not n.op.elementwise]
    arrays += [n for n in graph.nodes if n.kind != "op" and np.ndim(n.value) > 0]
    arrays += [graph.nodes[i] for i, v in enumerate(values) if np.ndim(v) > 0]
    if arrays:
        n = min(arrays, key=lambda n: n.id)  # the first: where the spec makes an array
        label = n.label if n.op is None or n.op.elementwise else f"{n.opname} at {n.label}"
        if n.kind == "const":
            from .graph import array_text

            label = array_text(n.value)
        line = n.line or next((m.line for m in graph.nodes if n.id in m.args and m.line), None)
        where = f" ({label}{f', line {line}' if line else ''})"
        raise InputError(
            f"cgdiff {what} works on specs of numbers; this one has vectors or matrices{where}",
            hint="cgdiff grad gives the gradient of an array spec at a point",
        )


def _raw(graph: Graph, wrt: Sequence[str], order: int, keep: set[str]) -> tuple[list[Graph], int]:
    """The ``order``-th derivative with respect to each of ``wrt``, not yet simplified, and
    the steps of the symbolic reverse sweeps that built them."""
    numbers_only(graph, "diff")
    firsts, steps = gradient_graphs(graph, wrt)
    inputs = input_order(graph)
    out = []
    for w in wrt:
        d = firsts[w]
        for k in range(2, order + 1):
            simple = simplify(d, keep=keep, order=inputs)
            top = simple.nodes[simple.output]
            if top.kind == "const" and top.value == 0:  # every later derivative is 0 too
                d = simple
                break
            if k > MAX_ORDER:
                raise InputError(
                    f"--order {order:,} is more than {MAX_ORDER:,}, and the derivative "
                    f"with respect to {w} is not 0 by then",
                    hint="orders up to 1,000 are worked out; past them only a derivative "
                    "that becomes 0 (a polynomial's)",
                )
            again, counted = gradient_graphs(simple, [w])
            d = again[w]
            steps += counted
            if len(d.nodes) > max_tokens() // 5:  # x^x doubles at each order
                raise InputError(
                    f"the derivative of order {k} with respect to {w} grows too large to "
                    f"write out ({len(d.nodes):,} nodes, more than {max_tokens() // 5:,})",
                    hint="cgdiff grad gives its value at a point; the environment variable "
                    "CGDIFF_MAX_TOKENS raises the limit",
                )
        out.append(d)
    return out, steps


MAX_ORDER = 1_000  # the highest --order worked out when the derivative does not become 0


def derivative(expr: str | Graph, wrt: str, order: int = 1, *, keep_nodes: bool = False) -> Graph:
    """The simplified graph of the ``order``-th derivative of ``expr`` with respect to ``wrt``.

    >>> d = derivative("x^3", "x", order=2)
    >>> d.to_text(), d.output_name, float(d.eval(x=2).value)
    ('6*x', 'd2f_dx2', 12.0)
    """
    graph = _graph(expr)
    order = _order(order)
    keep = assigned_names(graph.source) if keep_nodes else set()
    from .api import Graph as WithPasses

    with _everywhere(graph.output_name):
        (raw,), _ = _raw(graph, [wrt], order, keep)
        return WithPasses.of(
            simplify(
                raw,
                keep=keep,
                output_name=derivative_names(graph, [wrt], order)[0],
                order=input_order(graph),
            )
        )


@dataclass
class Differentiation:
    """Derivatives of one output, simplified into one graph where they share their parts."""

    output: str
    order: int
    wrt: list[str]
    names: list[str]  # the name of each derivative: df_dx, ...
    graph: Graph
    outputs: list[int]  # the node of each derivative in ``graph``
    kept: dict[int, str]  # nodes written as the spec's named nodes (--keep-nodes)
    keep_nodes: bool
    nodes: int = 0  # op nodes of the graph differentiated
    steps: int = 0  # steps of the symbolic reverse sweeps (one per order, and per input after
    #                 the first order)

    def sizes(self) -> dict[str, int]:
        """The op nodes each simplified derivative needs (shared parts counted in each).

        >>> from cgdiff import parse
        >>> differentiate(parse("x^2*y + sin(x)")).sizes()
        {'x': 4, 'y': 1}
        """
        out = {}
        nodes = self.graph.nodes
        for w, root in zip(self.wrt, self.outputs):
            need = {root}
            for i in range(root, -1, -1):  # NB: args always precede their node
                if i in need:
                    need.update(nodes[i].args)
            out[w] = sum(1 for i in need if nodes[i].kind == "op")
        return out

    def lines(self, k: int | None = None, *, latex: bool = False) -> list[Line]:
        """The statements that compute every derivative (or the k-th alone).

        >>> from cgdiff import parse
        >>> [(line.name, line.text) for line in differentiate(parse("x*y")).lines()]
        [('df_dx', 'y'), ('df_dy', 'x')]
        """
        pairs = list(zip(self.names, self.outputs))
        if k is not None:
            pairs = [pairs[k]]
        return to_lines(self.graph, pairs, names=self.kept, inputs=self.keep_nodes, latex=latex)

    def text(self, k: int | None = None) -> str:
        """The derivative alone when it is one expression; else a spec, one line per
        statement, whose last lines are the derivatives.

        >>> from cgdiff import parse
        >>> r = differentiate(parse("x*y"))
        >>> r.text(0), r.text()
        ('y', 'df_dx = y\\ndf_dy = x')
        """
        lines = self.lines(k)
        alone = k is not None or len(self.outputs) == 1
        if alone and len(lines) == 1 and not self.keep_nodes:
            return lines[0].text
        return "\n".join(f"{line.name} = {line.text}" for line in lines)


def differentiate(
    graph: Graph,
    wrt: Sequence[str] | None = None,
    order: int = 1,
    *,
    keep_nodes: bool = False,
) -> Differentiation:
    """The ``order``-th derivative of the output with respect to each input of ``wrt``.

    >>> from cgdiff import parse
    >>> print(differentiate(parse("x^2*y"), order=1).text())
    df_dx = 2*x*y
    df_dy = x^2
    """
    order = _order(order)
    names = [graph.nodes[i].label for i in _wrt_ids(graph, wrt)]
    if not names:
        raise InputError("the expression has no inputs to differentiate with respect to")
    keep = assigned_names(graph.source) if keep_nodes else set()
    with _everywhere(graph.output_name):
        raw, steps = _raw(graph, names, order, keep)
        combined, outputs = simplify_many(raw, keep=keep, order=input_order(graph))
    kept = {n.id: n.name for n in combined.nodes if n.kind == "op" and n.name is not None}
    return Differentiation(
        graph.output_name,
        order,
        names,
        derivative_names(graph, names, order),
        combined,
        outputs,
        kept,
        keep_nodes,
        graph.n_ops,
        steps,
    )


def diff(expr: str | Graph, wrt: str, order: int = 1, keep_nodes: bool = False) -> str:
    """The derivative of ``expr`` with respect to ``wrt`` as text cgdiff reads back.

    With ``keep_nodes``, a spec that reuses the spec's named nodes, one line per node.

    >>> diff("x^2*sin(x)", "x")
    '2*x*sin(x) + x^2*cos(x)'
    """
    if not isinstance(wrt, str):
        raise InputError("diff takes one input name; use differentiate() for several")
    return differentiate(_graph(expr), [wrt], order, keep_nodes=keep_nodes).text()


# -- the Hessian --------------------------------------------------------------------------------


@dataclass
class HessianSteps:
    """Steps of every pass the Hessian took (SPEC section 4, extended to second order).

    ``forward``/``backward``: the value and gradient by reverse mode.  ``symbolic``: the one
    symbolic reverse sweep that built the graph of every ∂f/∂xᵢ (``graph_nodes`` op nodes
    each).  ``second_forward``/``second_backward``: the reverse-mode passes over those graphs,
    one per input, each giving a row of the Hessian.
    """

    nodes: int
    inputs: int
    forward: int
    backward: int
    symbolic: int
    graph_nodes: dict[str, int] = field(default_factory=dict)
    second_forward: int = 0
    second_backward: int = 0

    @property
    def total(self) -> int:
        """Every step counted.

        >>> HessianSteps(2, 1, 2, 3, 2, {"x": 1}, 1, 2).total
        10
        """
        return (
            self.forward
            + self.backward
            + self.symbolic
            + self.second_forward
            + self.second_backward
        )

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON keys.

        >>> HessianSteps(2, 1, 2, 3, 2, {"x": 1}, 1, 2).as_dict()["graph_nodes"]
        {'x': 1}
        """
        return {
            "nodes": self.nodes,
            "inputs": self.inputs,
            "forward": self.forward,
            "backward": self.backward,
            "symbolic": self.symbolic,
            "graph_nodes": dict(self.graph_nodes),
            "second_forward": self.second_forward,
            "second_backward": self.second_backward,
            "total": self.total,
        }


@dataclass
class Hessian:
    """Value, gradient and the matrix ``hessian[xi][xj]`` = ∂²f/∂xi∂xj at one point."""

    output: str
    point: dict[str, Any]
    wrt: list[str]
    value: Any
    gradient: dict[str, Any]
    hessian: dict[str, dict[str, Any]]
    steps: HessianSteps
    graphs: dict[str, Graph]  # the simplified graph of each ∂f/∂xi
    diagnostics: list[Diagnostic] = field(default_factory=list)
    method: str = METHOD


def hessian(
    expr: str | Graph,
    point: Mapping[str, Any] | None = None,
    /,
    *,
    wrt: Iterable[str] | None = None,
    output: str | None = None,
    **values: Any,
) -> Hessian:
    """Value, gradient and Hessian at one point, by reverse-over-reverse.

    >>> h = hessian("x^2*y + y^3", x=1, y=2)
    >>> float(h.value), {k: float(v) for k, v in h.hessian["y"].items()}
    (10.0, {'x': 2.0, 'y': 12.0})
    """
    from .ad import grad
    from .values import as_point

    graph = _graph(expr, output)
    numbers_only(graph, "hessian")
    pt = as_point({**(point or {}), **values})
    first = grad(graph, pt, wrt=list(wrt) if wrt is not None else None)
    if first.evaluation.batch is not None:
        raise InputError("hessian works at one point; give one number per input")
    numbers_only(graph, "hessian", first.values)
    names = list(first.wrt)
    n, p = graph.n_ops, len(names)
    work, limit = p * max(n, p), 2 * max_tokens()
    if work > limit:  # NB: p rows, each a derivative graph of about n nodes, simplified, run
        raise InputError(
            f"the Hessian of {p:,} inputs over {n:,} operations would take about "
            f"{work:,} steps ({p:,} × {max(n, p):,}), more than the limit of {limit:,}",
            hint="the environment variable CGDIFF_MAX_TOKENS raises it (the limit is twice "
            "it); --wrt picks fewer inputs",
        )
    with _everywhere(graph.output_name):
        graphs, sweep = gradient_graphs(graph, names)
    inputs = input_order(graph)
    steps = HessianSteps(n, p, first.steps.forward, first.steps.backward, sweep)
    diagnostics = list(first.diagnostics)
    rows: dict[str, dict[str, Any]] = {}
    simplified: dict[str, Graph] = {}
    for w in names:
        with _everywhere(graph.output_name):
            g = simplify(graphs[w], output_name=derivative_name(graph.output_name, w), order=inputs)
        simplified[w] = g
        steps.graph_nodes[w] = g.n_ops
        label = f"∂{graph.output_name}/∂{w}"
        try:
            r = grad(g, pt, wrt=names)
        except UndefinedError:
            # NB: f is defined here but its derivative is not (sqrt at 0): not an error.
            steps.second_forward += g.n_ops
            rows[w] = {v: np.float64(np.nan) for v in names}
            text = to_text(g) if g.n_ops <= 12 else ""
            what = f"{label} = {text}" if text else label
            diagnostics.append(
                Diagnostic(None, f"{what} is undefined here; its row of the Hessian is nan")
            )
            continue
        steps.second_forward += r.steps.forward
        steps.second_backward += r.steps.backward
        rows[w] = dict(r.gradient)
        diagnostics += [Diagnostic(None, f"in {label}: {d.message}") for d in r.diagnostics]
    return Hessian(
        graph.output_name,
        dict(first.evaluation.point),
        names,
        first.value,
        dict(first.gradient),
        rows,
        steps,
        simplified,
        diagnostics,
    )

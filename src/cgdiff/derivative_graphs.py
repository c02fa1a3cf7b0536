"""Derivative graphs: the reverse sweep of :mod:`cgdiff.ad` run on a graph builder.

Each rule of the ops table appends its local derivatives to a new graph instead of computing
numbers, so ``diff``, Hessians and ``--order 2`` reuse the rules of ``grad`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from .ad import _wrt_ids, backward, depends_on
from .errors import InputError
from .graph import Graph, GraphBuilder

__all__ = ["derivative_graph", "derivative_name", "derivative_names", "gradient_graphs"]


def derivative_name(output: str, wrt: str, order: int = 1) -> str:
    """The name of a derivative in a printed spec: ``df_dx``, ``d2f_dx2``.

    >>> derivative_name("f", "x"), derivative_name("J", "w", 2)
    ('df_dx', 'd2J_dw2')
    """
    if order == 1:
        return f"d{output}_d{wrt}"
    return f"d{order}{output}_d{wrt}{order}"


def derivative_names(graph: Graph, wrt: Iterable[str], order: int = 1) -> list[str]:
    """The name of each derivative in a printed spec, none of them a name the graph has
    (an input, a named node): as the output ``f`` becomes ``f1`` when the spec has an ``f``,
    ``df_dx`` becomes ``df_dx1`` when it has a ``df_dx`` (and ``df_dx2`` if that is taken,
    or is another derivative's name).

    >>> from cgdiff import parse
    >>> derivative_names(parse("x*y"), ["x", "y"])
    ['df_dx', 'df_dy']
    >>> derivative_names(parse("df_dx = 2*x; f = df_dx*y"), ["x", "y"])
    ['df_dx1', 'df_dy']
    """
    wrt = list(wrt)
    bases = [derivative_name(graph.output_name, w, order) for w in wrt]
    taken = {n.name for n in graph.nodes if n.name is not None}
    reserved = taken | set(bases)
    out: list[str] = []
    for base in bases:
        name, k = base, 1
        if name in taken or name in out:
            while name in reserved or name in out:
                name = f"{base}{k}"
                k += 1
        out.append(name)
    return out


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
    >>> import numpy as np
    >>> float(evaluate(d, {"x": 1.0}).value) == float(2*np.sin(1.0) + np.cos(1.0))
    True
    """
    graphs, _ = gradient_graphs(graph, [wrt], simplify=simplify)
    return next(iter(graphs.values()))

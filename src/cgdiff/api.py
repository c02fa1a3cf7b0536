"""The public Python API (SPEC section 10): ``cgdiff.parse`` and the :class:`Graph` it
returns, whose methods run the passes.

The IR of :mod:`cgdiff.graph` knows nothing of evaluation or differentiation (it imports
nothing above the ops table); this module is where the passes meet it, as methods for the
convenience of people at a Python prompt.  The CLI and the checker call the passes
(:func:`cgdiff.evaluate.evaluate`, :func:`cgdiff.ad.grad`) directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import graph as ir
from .ad import Gradient, grad
from .derivative_graphs import derivative_graph
from .evaluate import Evaluation, evaluate
from .parse import parse as parse_ir

__all__ = ["Graph", "parse"]


class Graph(ir.Graph):
    """A computation graph with its passes as methods.

    >>> g = parse("x*y + z")
    >>> [n.label for n in g.nodes], g.output_name
    (['x', 'y', 't1', 'z', 'f'], 'f')
    """

    @classmethod
    def of(cls, graph: ir.Graph) -> Graph:
        """The same nodes, with the methods of the API."""
        if isinstance(graph, cls):
            return graph
        out = cls(graph.nodes, graph.output, graph.inputs, graph.source, graph.diagnostics)
        out.assigned = graph.assigned
        return out

    def evaluate(self, point: Mapping[str, Any] | None = None, /, **values: Any) -> Evaluation:
        """Forward pass at a point given as a mapping or keywords (a :class:`cgdiff.Batch`
        for several points at once).

        >>> float(parse("x*y + z").eval(x=1, y=2, z=3).value)
        5.0
        """
        return evaluate(self, _merge(point, values))

    eval = evaluate  # the short name, as the command: ``g.eval(x=1)``

    def grad(
        self,
        point: Mapping[str, Any] | None = None,
        /,
        *,
        wrt: Iterable[str] | str | None = None,
        mode: str = "reverse",
        record: bool = False,
        **values: Any,
    ) -> Gradient:
        """Value and gradient (reverse mode by default; ``forward`` or ``numeric`` too).
        ``record=True`` keeps each node's local derivatives in ``.local``.

        >>> r = parse("x*y + z").grad(x=1, y=2, z=3)
        >>> float(r.gradient["x"]), r.steps.backward
        (2.0, 5)
        """
        return grad(self, _merge(point, values), wrt=wrt, mode=mode, record=record)

    def derivative(self, wrt: str) -> Graph:
        """The graph of ∂output/∂wrt, built with the ops table's rules.

        >>> float(parse("x^3").derivative("x").derivative("x").eval(x=2).value)
        12.0
        """
        return Graph.of(derivative_graph(self, wrt))

    def with_output(self, name: str) -> Graph:
        """The same graph with the node ``name`` as output, pruned to what it needs.

        >>> parse("a = 2; b = a*3; c = b+1").with_output("b").n_ops
        1
        """
        return Graph.of(super().with_output(name))

    def to_text(self) -> str:
        """The output as one expression in cgdiff's language.

        >>> parse("a = 2; b = -a^2 + 1").to_text()
        '-a^2 + 1'
        """
        from .printing import to_text  # NB: not on the start-up path of the command

        return to_text(self)


def parse(
    text: str, output: str | None = None, *, seed: int = 0, base: str | Path | None = None
) -> Graph:
    """Parse an expression or model spec into a :class:`Graph` (see
    :func:`cgdiff.parse.parse` for the options).

    >>> parse("a=5; b=3; u=a*b").grad().gradient["a"]
    np.float64(3.0)
    """
    return Graph.of(parse_ir(text, output, seed=seed, base=base))


def _merge(point: Mapping[str, Any] | None, values: Mapping[str, Any]) -> Mapping[str, Any]:
    """A point given as a mapping and keywords; a Batch stays a Batch."""
    if point is None:
        return dict(values)
    merged = {**point, **values}
    return point.__class__(merged) if values else point  # type: ignore[call-arg]

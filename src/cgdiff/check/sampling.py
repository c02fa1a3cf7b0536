"""Where formula answers are compared: random points, drawn in regions where the problem is
defined, with the truth at each.

Each input is drawn uniformly from its range (``sample_range``, default ``[-2, 2]``), 200
points at a time, with numpy's ``default_rng(seed)``.  When too few of those points are where
the problem and the item's true result are defined (``sqrt(x - 10)``, or ``(x - 2)^k`` on
``[-2, 2]``), other regions are tried for the inputs whose range no key chose: positive,
shifted up and down, and wider (:data:`REGIONS`), one input at a time and all together, and
the best region found is sampled.  Which points count is decided by the problem alone, never
by an answer, so a :class:`Sampler` is shared by every answer to a problem.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ad import backward
from ..derivative_graphs import derivative_graph
from ..evaluate import forward
from ..graph import Graph
from ..ops import NUMERIC
from .settings import DRAW, MAX_DRAWS, Settings, _span

__all__ = ["REGIONS", "Sample", "Sampler", "pick", "truth_at"]

# The ranges searched for an input, after its default [-2, 2]: positive, shifted up, shifted
# down, wider, wider and positive.  NB: only inputs with the default range are searched, so
# these are fixed numbers, not computed from a range.
REGIONS: tuple[tuple[float, float], ...] = (
    (-2.0, 2.0),
    (0.0, 2.0),
    (2.0, 6.0),
    (-6.0, -2.0),
    (-20.0, 20.0),
    (0.0, 20.0),
)
SEARCH_ROUNDS = 3  # one input (or all) moved per round, to the region with most points
MAX_PROBES = 40  # draws spent on trying regions, at most


@dataclass
class Sample:
    """One draw of random points and the truth there: every node's value and adjoint,
    where the problem's expression (its output) is defined, and each input's range."""

    point: dict[str, np.ndarray]
    values: list[Any]
    adjoints: list[Any]
    defined: np.ndarray
    spans: dict[str, tuple[float, float]]


def truth_at(g: Graph, point: dict[str, np.ndarray], dtype: Any = np.float64) -> Sample:
    """Every node's value and adjoint at a batch of points (one pass each way), computed in
    ``dtype`` (``np.longdouble`` to see what float64 rounding lost).

    >>> from cgdiff import parse
    >>> s = truth_at(parse("x^2"), {"x": np.array([1.0, 3.0])})
    >>> [float(v) for v in s.adjoints[0]]
    [2.0, 6.0]
    """
    size = len(next(iter(point.values()))) if point else DRAW
    bound = {i: np.asarray(point[g.nodes[i].label], dtype=dtype) for i in g.inputs}
    values, _ = forward(g, bound, strict=False)
    with np.errstate(all="ignore"):
        adj, _, _ = backward(g, values, NUMERIC, np.ones(size, dtype=dtype), g.variable())
    defined = np.broadcast_to(np.isfinite(values[g.output]), (size,))
    return Sample(point, values, adj, defined, {})


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
        self.names = graph.input_names
        self.default = tuple(settings.range_of(n) for n in self.names)
        self.samples: list[Sample] = []  # the draws in the problem's own ranges
        self._rng: np.random.Generator | None = None
        self._regions: dict[tuple[int, ...], Sample] = {}
        self._plans: dict[tuple[str, int], list[tuple[tuple[int, ...], int]]] = {}
        self._chosen: dict[tuple[str, int], tuple[int, ...]] = {}
        self._graphs: dict[tuple[str, int], Graph | None] = {}

    def sample(self, k: int) -> Sample:
        """The ``k``-th draw in the problem's own ranges (made once, then kept)."""
        while len(self.samples) <= k:
            if self._rng is None:
                self._rng = np.random.default_rng(self.settings.seed)
            spans = dict(zip(self.names, self.default, strict=True))
            self.samples.append(self._draw(self._rng, spans))
        return self.samples[k]

    def _draw(self, rng: np.random.Generator, spans: dict[str, tuple[float, float]]) -> Sample:
        point = {n: rng.uniform(lo, hi, DRAW) for n, (lo, hi) in spans.items()}
        s = truth_at(self.graph, point)
        s.spans = spans
        return s

    def _region(self, region: tuple[int, ...], k: int) -> Sample:
        """The ``k``-th draw with input ``j`` in ``REGIONS[region[j]]`` (0: its own range)."""
        if not any(region):
            return self.sample(k)
        key = (*region, k)
        if key not in self._regions:
            # NB: a generator of its own per region and draw, so what is drawn does not
            # depend on which regions were tried before.
            rng = np.random.default_rng((self.settings.seed, k + 1, *region))
            spans = {
                n: REGIONS[r] if r else d
                for n, r, d in zip(self.names, region, self.default, strict=True)
            }
            self._regions[key] = self._draw(rng, spans)
        return self._regions[key]

    def truth_graph(self, kind: str, node: int) -> Graph | None:
        """A graph whose output is the truth for (``kind``, ``node``): the problem, the node's
        own graph, or the reverse-mode derivative graph for an input (None for the adjoint
        of an inner node).  Only for estimating rounding error: the truth itself comes from
        the problem's passes.

        >>> from cgdiff import parse
        >>> from cgdiff.evaluate import evaluate
        >>> d = Sampler(parse("x^3"), Settings()).truth_graph("derivative", 0)
        >>> float(evaluate(d, {"x": 2}).value)
        12.0
        """
        key = (kind, node)
        if key not in self._graphs:
            g = self.graph
            label = g.nodes[node].label
            t: Graph | None = None
            if kind == "value" or (kind == "node" and node == g.output):
                t = g
            elif kind == "node":
                t = g.with_output(label)
            elif g.nodes[node].kind == "input":
                t = derivative_graph(g, label)
            self._graphs[key] = t
        return self._graphs[key]

    def defined(self, s: Sample, kind: str, node: int) -> np.ndarray:
        """Where the problem's expression and the item's truth are both defined."""
        truth = np.broadcast_to(pick(kind, node, s.values, s.adjoints), (DRAW,))
        return np.asarray(s.defined & np.isfinite(truth), dtype=bool)

    def draws(self, kind: str, node: int) -> Iterator[Sample]:
        """The draws an answer for (``kind``, ``node``) is compared at, in order: the
        problem's own ranges, or, when too few of their points are defined, the regions
        tried and then the best one found (the same for every answer)."""
        plan = self._plans.get((kind, node))
        if plan is None:
            plan = self._plans[(kind, node)] = self._plan(kind, node)
        for region, k in plan:
            yield self._region(region, k)

    def _plan(self, kind: str, node: int) -> list[tuple[tuple[int, ...], int]]:
        need = self.settings.samples
        own = (0,) * len(self.names)
        count = int(np.count_nonzero(self.defined(self.sample(0), kind, node)))
        movable = [j for j, n in enumerate(self.names) if self.settings.searchable(n)]
        if count * MAX_DRAWS >= need or not movable:
            return [(own, k) for k in range(MAX_DRAWS)]
        plan = [(own, 0)]
        best, current, tried = count, own, {own}
        for _ in range(SEARCH_ROUNDS):
            # NB: one input at a time first, so an input whose range is fine stays in it.
            moves: list[tuple[int, ...]] = []
            for j in movable:
                for r in range(1, len(REGIONS)):
                    moves.append((*current[:j], r, *current[j + 1 :]))
            if len(movable) > 1:
                for r in range(1, len(REGIONS)):
                    moves.append(tuple(r if j in movable else 0 for j in range(len(own))))
            found = None
            for region in moves:
                if region in tried or len(plan) > MAX_PROBES:
                    continue
                tried.add(region)
                plan.append((region, 0))
                c = int(np.count_nonzero(self.defined(self._region(region, 0), kind, node)))
                if c > best:
                    best, found = c, region
            if found is None:
                break
            current = found
            if best * MAX_DRAWS >= need:
                break
        self._chosen[(kind, node)] = current
        plan += [(current, k) for k in range(1, MAX_DRAWS)] if current != own else []
        return plan

    def describe(self, kind: str, node: int) -> str:
        """The ranges the points of (``kind``, ``node``) were drawn from, for messages:
        ``[-2, 2]``; after a search, the region chosen (``x in [2, 6], k in [-2, 2]``) or
        every region tried.

        >>> from cgdiff import parse
        >>> s = Sampler(parse("sqrt(x - 4)"), Settings())
        >>> _ = list(s.draws("value", 1)); s.describe("value", 1)
        'x in [0, 20] (searched: too few points of [-2, 2] are defined)'
        """
        own = self.settings.describe_ranges(self.names)
        plan = self._plans.get((kind, node), [])
        if not any(any(r) for r, _ in plan):
            return own
        chosen = self._chosen[(kind, node)]
        if not any(chosen):
            used = {i for r, _ in plan for i in r}
            spans = [REGIONS[i] for i in range(1, len(REGIONS)) if i in used]
            moved = [n for j, n in enumerate(self.names) if any(r[j] for r, _ in plan)]
            who = f" for {', '.join(moved)}" if len(moved) < len(self.names) else ""
            return f"{own} and the regions searched{who} ({', '.join(map(_span, spans))})"
        spans = [REGIONS[r] if r else d for r, d in zip(chosen, self.default, strict=True)]
        where = ", ".join(f"{n} in {_span(sp)}" for n, sp in zip(self.names, spans, strict=True))
        return f"{where} (searched: too few points of {own} are defined)"

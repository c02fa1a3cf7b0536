"""A layered drawing of a directed acyclic graph, left to right (Sugiyama's method), in pure
Python: longest-path layers, crossing reduction by median sweeps, vertical placement by
isotonic regression, and edges routed through the gaps between columns.

It knows nothing of cgdiff: nodes are box sizes, edges are pairs of node indices with
``u < v`` (the nodes come in a topological order, as a cgdiff graph's do).  Every loop is
iterative, and ties are broken by index, so the same graph always gets the same drawing.

How an edge never passes through a box: boxes stand in columns, one per layer, and no box
stands in the gap between two columns.  An edge leaves its box's right side horizontally,
crosses each gap as a curve, crosses each column between its ends horizontally at the height
of a *dummy* node that the placement keeps clear of the boxes of that column (one chain of
dummies per source, shared by all its long edges, so a node used far away draws one line
that branches), and enters its target's left side horizontally.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Drawing", "Label", "NodeSize", "Route", "crossings", "draw", "dummies", "layer_of"]

BOX_GAP = 22.0  # vertical space between two boxes of a column
LINE_GAP = 10.0  # between a box and a line passing through its column, or two lines
LINE_HALF = 3.0  # the half-height a passing line claims
MIN_GAP = 56.0  # the narrowest gap between two columns
MAX_GAP = 150.0
LABEL_PAD = 10.0  # room on each side of an edge label inside its gap
PULL = 2  # a source whose first use is more than this many layers away moves next to it


@dataclass(frozen=True)
class NodeSize:
    """A node's box (``w`` × ``h``) and its footprint: the box plus what is drawn under it
    (``below``), as wide as ``foot_w``; the box is centred in the footprint."""

    w: float
    h: float
    below: float = 0.0
    foot_w: float = 0.0


@dataclass(frozen=True)
class Label:
    """An edge label's centre and size."""

    x: float
    y: float
    w: float
    h: float


@dataclass
class Route:
    """One edge as SVG path commands: ``("M", x, y)``, ``("L", x, y)``, ``("C", x1, y1, x2,
    y2, x, y)``; it starts on its source's box and ends on its target's."""

    commands: list[tuple[float | str, ...]]
    label: Label | None = None

    def path(self) -> str:
        """The ``d`` attribute of an SVG ``<path>``.

        >>> Route([("M", 0, 0), ("L", 1.5, 2)]).path()
        'M0 0 L1.5 2'
        """
        parts = []
        for head, *rest in self.commands:
            parts.append(str(head) + " ".join(_num(float(v)) for v in rest))
        return " ".join(parts)


@dataclass
class Drawing:
    """Where everything goes: a box (x, y of its top-left corner) per node, a route per edge,
    the layer of each node and the size of the whole."""

    boxes: list[tuple[float, float, float, float]]
    routes: list[Route]
    layers: list[int]
    width: float
    height: float
    dummies: int = 0
    crossings: int = 0
    columns: list[tuple[float, float]] = field(default_factory=list)  # x range per layer


def _num(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def layer_of(n: int, edges: Sequence[tuple[int, int]], pull: int = PULL) -> list[int]:
    """Longest-path layers from the sources; a source used only far away stands in the layer
    just before its first use instead.

    >>> layer_of(4, [(0, 2), (1, 2), (2, 3), (1, 3)])
    [0, 0, 1, 2]
    >>> layer_of(5, [(0, 1), (1, 2), (2, 4), (3, 4)])
    [0, 1, 2, 2, 3]
    """
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        if not u < v:
            raise ValueError(f"edge {u} -> {v}: nodes must come in a topological order")
        preds[v].append(u)
        succs[u].append(v)
    layer = [0] * n
    for v in range(n):
        if preds[v]:
            layer[v] = 1 + max(layer[u] for u in preds[v])
    for u in range(n):
        if not preds[u] and succs[u]:
            first = min(layer[v] for v in succs[u])
            if first > pull:
                layer[u] = first - 1
    return layer


def dummies(n: int, edges: Sequence[tuple[int, int]]) -> int:
    """How many dummy vertices :func:`draw` would add: a measure of the drawing's size that
    is cheap to find before drawing.

    >>> dummies(3, [(0, 1), (1, 2), (0, 2)])
    1
    """
    layer = layer_of(n, edges)
    far = list(layer)
    for u, v in edges:
        far[u] = max(far[u], layer[v] - 1)
    return sum(f - k for f, k in zip(far, layer))


def _count(pairs: list[tuple[int, int]], size: int) -> int:
    """Crossings among edges between two layers, as inversions (a Fenwick tree)."""
    pairs.sort()
    tree = [0] * (size + 1)
    seen = total = 0
    for _, b in pairs:
        # edges seen so far whose lower end is below b cross this one
        i, below = b + 1, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        total += seen - below
        seen += 1
        i = b + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return total


def crossings(order: Sequence[Sequence[int]], succs: Sequence[Sequence[int]]) -> int:
    """Edge crossings of a layered graph, each layer's vertices in ``order``.

    >>> crossings([[0, 1], [2, 3]], [[3], [2], [], []])
    1
    """
    pos = {v: i for layer in order for i, v in enumerate(layer)}
    total = 0
    for k in range(len(order) - 1):
        pairs = [(pos[u], pos[v]) for u in order[k] for v in succs[u]]
        total += _count(pairs, len(order[k + 1]))
    return total


def _median(ps: list[int]) -> float | None:
    # The weighted median of Gansner et al. (1993): the middle position, or, for an even
    # count, the two middle ones weighted towards the denser side.
    if not ps:
        return None
    ps.sort()
    m = len(ps) // 2
    if len(ps) % 2 == 1:
        return float(ps[m])
    if len(ps) == 2:
        return (ps[0] + ps[1]) / 2
    left, right = ps[m - 1] - ps[0], ps[-1] - ps[m]
    if left + right == 0:
        return (ps[m - 1] + ps[m]) / 2
    return (ps[m - 1] * right + ps[m] * left) / (left + right)


def _reorder(layer: list[int], key: list[float | None]) -> list[int]:
    """Sort the vertices that have a key; the others keep their places."""
    slots = [i for i, k in enumerate(key) if k is not None]
    moving = sorted(slots, key=lambda i: (key[i], i))
    out = list(layer)
    for slot, i in zip(slots, moving):
        out[slot] = layer[i]
    return out


def _transpose(
    order: list[list[int]], preds: list[list[int]], succs: list[list[int]], pos: list[int]
) -> None:
    """Swap neighbours in a layer wherever that removes crossings (a few rounds)."""

    def cost(u: int, v: int) -> int:  # crossings between u's edges and v's, u above v
        c = 0
        for side in (preds, succs):
            for a in side[u]:
                for b in side[v]:
                    if pos[a] > pos[b]:
                        c += 1
        return c

    for _ in range(4):
        changed = False
        for layer in order:
            for i in range(len(layer) - 1):
                u, v = layer[i], layer[i + 1]
                if cost(v, u) < cost(u, v):
                    layer[i], layer[i + 1] = v, u
                    pos[u], pos[v] = i + 1, i
                    changed = True
        if not changed:
            return


def _order(
    order: list[list[int]], preds: list[list[int]], succs: list[list[int]], rounds: int = 24
) -> tuple[list[list[int]], int]:
    """Median sweeps, down and up, keeping the best order seen."""
    n_vertices = len(preds)
    pos = [0] * n_vertices

    def index() -> None:
        for layer in order:
            for i, v in enumerate(layer):
                pos[v] = i

    index()
    best = [list(layer) for layer in order]
    best_count = crossings(order, succs)
    stale = 0
    for r in range(rounds):
        if best_count == 0:
            break
        down = r % 2 == 0
        ks = range(1, len(order)) if down else range(len(order) - 2, -1, -1)
        for k in ks:
            side = preds if down else succs
            keys = [_median([pos[u] for u in side[v]]) for v in order[k]]
            order[k] = _reorder(order[k], keys)
            for i, v in enumerate(order[k]):
                pos[v] = i
        if n_vertices <= 3000:
            _transpose(order, preds, succs, pos)
        count = crossings(order, succs)
        if count < best_count:
            best, best_count, stale = [list(layer) for layer in order], count, 0
        else:
            stale += 1
            if stale >= 6:
                break
    return best, best_count


def _isotonic(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` in weighted least squares (pool
    adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for m, _, c in blocks:
        out.extend([m] * int(c))
    return out


def _place(
    order: list[list[int]],
    preds: list[list[int]],
    succs: list[list[int]],
    above: list[float],
    below: list[float],
    dummy: list[bool],
) -> list[float]:
    """Each vertex's height (the centre of its box): near the mean of its neighbours, never
    closer to the next vertex of its layer than the gaps allow."""
    y = [0.0] * len(preds)
    offsets: list[list[float]] = []
    for layer in order:
        off = [0.0]
        for a, b in itertools.pairwise(layer):
            gap = BOX_GAP if not dummy[a] and not dummy[b] else LINE_GAP
            off.append(off[-1] + below[a] + gap + above[b])
        offsets.append(off)
        for v, o in zip(layer, off):
            y[v] = o - off[-1] / 2

    def settle(k: int, sides: tuple[list[list[int]], ...]) -> None:
        layer, off = order[k], offsets[k]
        targets, weights = [], []
        for i, (v, o) in enumerate(zip(layer, off)):
            near = [y[u] for side in sides for u in side[v]]
            if near:
                targets.append(sum(near) / len(near) - o)
                weights.append(2.0 if dummy[v] else 1.0)
                continue
            # no neighbour on this side: stay packed against the vertex before it (or after)
            j = i - 1 if i > 0 else i + 1 if i + 1 < len(layer) else i
            targets.append(y[layer[j]] - off[j])
            weights.append(0.05)
        for v, o, z in zip(layer, off, _isotonic(targets, weights)):
            y[v] = z + o

    last = len(order) - 1
    for _ in range(6):
        for k in range(1, last + 1):
            settle(k, (preds,))
        for k in range(last - 1, -1, -1):
            settle(k, (succs,))
    for _ in range(2):
        for k in range(last + 1):
            settle(k, (preds, succs))
    return y


def draw(
    sizes: Sequence[NodeSize],
    edges: Sequence[tuple[int, int]],
    labels: Sequence[tuple[float, float] | None] = (),
    *,
    top: float = 0.0,
    left: float = 0.0,
) -> Drawing:
    """Lay out the graph: boxes in columns left to right, edges between them.  ``labels``
    gives each edge's label size (or None); the drawing starts at (``left``, ``top``).

    >>> d = draw([NodeSize(40, 30)] * 3, [(0, 2), (1, 2)])
    >>> d.layers, d.crossings, len(d.routes)
    ([0, 0, 1], 0, 2)
    >>> d.routes[0].commands[0][0], d.routes[0].commands[-1][0]
    ('M', 'C')
    """
    n = len(sizes)
    layer = layer_of(n, edges)
    depth = max(layer, default=0) + 1
    # -- vertices: the nodes, then the dummies of each source's trunk ----------------------
    v_layer = list(layer)
    dummy = [False] * n
    trunk: dict[tuple[int, int], int] = {}  # (source, layer) -> dummy vertex
    far = [0] * n
    for u, v in edges:
        far[u] = max(far[u], layer[v] - 1)
    for u in range(n):
        for k in range(layer[u] + 1, far[u] + 1):
            trunk[(u, k)] = len(v_layer)
            v_layer.append(k)
            dummy.append(True)
    m = len(v_layer)
    chains: list[list[int]] = []
    seg: dict[tuple[int, int], None] = {}
    for u, v in edges:
        chain = [u] + [trunk[(u, k)] for k in range(layer[u] + 1, layer[v])] + [v]
        chains.append(chain)
        for a, b in itertools.pairwise(chain):
            seg[(a, b)] = None
    preds: list[list[int]] = [[] for _ in range(m)]
    succs: list[list[int]] = [[] for _ in range(m)]
    for a, b in seg:
        succs[a].append(b)
        preds[b].append(a)
    # -- order within layers ----------------------------------------------------------------
    order: list[list[int]] = [[] for _ in range(depth)]
    for v in range(m):  # nodes by index, a trunk's dummies after its source's
        order[v_layer[v]].append(v)
    order, n_cross = _order(order, preds, succs)
    # -- heights ----------------------------------------------------------------------------
    above = [s.h / 2 for s in sizes] + [LINE_HALF] * (m - n)
    below = [s.h / 2 + s.below for s in sizes] + [LINE_HALF] * (m - n)
    y = _place(order, preds, succs, above, below, dummy)
    shift = top - min((y[v] - above[v] for v in range(m)), default=0.0)
    y = [c + shift for c in y]
    # -- columns and gaps: a gap is as wide as its widest label, wider for steep edges -----
    col_w = [0.0] * depth
    for v in range(n):
        col_w[layer[v]] = max(col_w[layer[v]], sizes[v].w, sizes[v].foot_w)
    gap = [MIN_GAP] * depth  # gap[k]: the space before column k
    for e, chain in enumerate(chains):
        size = labels[e] if e < len(labels) else None
        k = v_layer[chain[-1]]
        if size is not None:
            gap[k] = max(gap[k], size[0] + 2 * LABEL_PAD)
    for a, b in seg:
        rise = abs(y[a] - y[b])
        k = v_layer[b]
        gap[k] = max(gap[k], min(MAX_GAP, 0.3 * rise))
    columns: list[tuple[float, float]] = []
    x = left
    for k in range(depth):
        if k:
            x += gap[k]
        columns.append((x, x + col_w[k]))
        x += col_w[k]
    boxes = []
    for v in range(n):
        c0, c1 = columns[layer[v]]
        w, h = sizes[v].w, sizes[v].h
        boxes.append(((c0 + c1 - w) / 2, y[v] - h / 2, w, h))
    # -- routes -------------------------------------------------------------------------
    ports: list[float] = [0.0] * len(edges)
    into: list[list[int]] = [[] for _ in range(n)]
    for e, chain in enumerate(chains):
        into[chain[-1]].append(e)
    for v in range(n):
        es = sorted(into[v], key=lambda e: (y[chains[e][-2]], e))
        bx, by, bw, bh = boxes[v]
        for j, e in enumerate(es):
            ports[e] = by + bh * (j + 1) / (len(es) + 1)
    routes = []
    placed: list[Label] = []
    for e, chain in enumerate(chains):
        u, v = chain[0], chain[-1]
        bx, by, bw, bh = boxes[u]
        sy = y[u]
        cmds: list[tuple[float | str, ...]] = [("M", bx + bw, sy)]
        cx = columns[layer[u]][1]
        if cx > bx + bw:
            cmds.append(("L", cx, sy))
        py = sy
        for d in chain[1:-1]:
            c0, c1 = columns[v_layer[d]]
            cmds.append(_curve(cx, py, c0, y[d]))
            cmds.append(("L", c1, y[d]))
            cx, py = c1, y[d]
        tx, ty = columns[layer[v]][0], ports[e]
        cmds.append(_curve(cx, py, tx, ty))
        if boxes[v][0] > tx:
            cmds.append(("L", boxes[v][0], ty))
        size = labels[e] if e < len(labels) else None
        label = None if size is None else _label(cx, py, tx, ty, size, placed)
        if label is not None:
            placed.append(label)
        routes.append(Route(cmds, label))
    width = x - left
    height = max((y[v] + below[v] for v in range(m)), default=top) - top
    return Drawing(boxes, routes, layer, width, height, m - n, n_cross, columns)


def _curve(x0: float, y0: float, x1: float, y1: float) -> tuple[float | str, ...]:
    """A cubic from (x0, y0) to (x1, y1), level at both ends; it stays between x0 and x1."""
    mid = (x1 - x0) / 2
    return ("C", x0 + mid, y0, x1 - mid, y1, x1, y1)


def _at(t: float, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
    # the point of _curve at t: with its control points half-way across, x moves as
    # 1.5t - 1.5t² + t³ and y as 3t² - 2t³ of the way
    sx = 1.5 * t - 1.5 * t * t + t * t * t
    sy = 3 * t * t - 2 * t * t * t
    return x0 + (x1 - x0) * sx, y0 + (y1 - y0) * sy


def _label(
    x0: float, y0: float, x1: float, y1: float, size: tuple[float, float], placed: list[Label]
) -> Label:
    """Where on its curve an edge label goes: the middle, or the nearest point along the
    curve that overlaps no label placed before it (the least overlap if none is free)."""
    w, h = size
    lo, hi = x0 + w / 2 + 2, x1 - w / 2 - 2
    best: tuple[float, Label] | None = None
    for t in (0.5, 0.62, 0.38, 0.74, 0.26, 0.84, 0.16):
        x, yy = _at(t, x0, y0, x1, y1)
        x = min(max(x, lo), hi) if lo <= hi else (x0 + x1) / 2
        cand = Label(x, yy, w, h)
        over = sum(_overlap(cand, p) for p in placed)
        if over == 0:
            return cand
        if best is None or over < best[0]:
            best = (over, cand)
    assert best is not None
    return best[1]


def _overlap(a: Label, b: Label) -> float:
    dx = min(a.x + a.w / 2, b.x + b.w / 2) - max(a.x - a.w / 2, b.x - b.w / 2) + 2
    dy = min(a.y + a.h / 2, b.y + b.h / 2) - max(a.y - a.h / 2, b.y - b.h / 2) + 1
    return dx * dy if dx > 0 and dy > 0 else 0.0

"""The computation graph as a picture: one standalone SVG, drawn by cgdiff itself.

Inputs stand on the left and the output on the right, a box per node with its name, its
operation and its value; each edge carries its local derivative, and each node's adjoint is
written under its box in a second colour, as the lecture draws the backward pass; the step
counts make the caption.  Without a point, the structure alone.  The layout is
:mod:`cgdiff.layout`'s; this module decides what each box says and how big it is, and writes
the SVG.  The text is real text (selectable), in generic font families only, in one small
palette that prints well in grey and has a dark variant (``prefers-color-scheme``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ad import Gradient
from .errors import InputError
from .graph import Graph, shape_text
from .layout import Drawing, NodeSize, draw, dummies
from .printing import node_formula, to_text
from .report import fmt_number, steps_text

__all__ = ["MAX_NODES", "Scene", "render_svg", "scene", "svg", "text_width"]

MAX_NODES = 400  # beyond this a picture cannot be read: refuse, and point to DOT
MAX_DUMMIES = 20_000  # the same for a graph whose long edges would pass too many columns
HINT = "--format dot gives it to Graphviz; --format json or table lists every node"

MARGIN = 16.0
PAD_X = 10.0
NAME_SIZE, NAME_SIZE_GENERATED, OP_SIZE, VALUE_SIZE = 14.0, 12.5, 11.0, 12.0
ADJOINT_SIZE, LABEL_SIZE, TITLE_SIZE, CAPTION_SIZE = 11.0, 11.0, 14.0, 11.5

# The palette: ink, paper, a quiet grey, the forward colour (values) and the backward colour
# (adjoints); each is dark enough to stay legible when printed in grey, and the two colours
# are told apart by more than hue (values sit in the box, adjoints under it, in italics).
LIGHT = {
    "paper": "#ffffff",
    "box": "#f5f6f8",
    "input": "#e9eef5",
    "ink": "#1b1f24",
    "muted": "#5f6b77",
    "edge": "#7b8794",
    "value": "#1d4e89",
    "adjoint": "#a23a1c",
}
DARK = {
    "paper": "#14181d",
    "box": "#1f252c",
    "input": "#243040",
    "ink": "#e6e9ed",
    "muted": "#a3adb8",
    "edge": "#8d99a6",
    "value": "#8ab8ff",
    "adjoint": "#ff9a7a",
}


# -- text widths ---------------------------------------------------------------------------
# Advance widths in em, rounded up from the widest common sans-serif (DejaVu Sans, which
# Linux substitutes for ``sans-serif``; Arial and Helvetica are narrower), so that a label
# estimated to fit does fit.
_NARROW = set("iljI!|.,:;'`")
_SEMI = set("frt()[]{}/\\- ")
_WIDE = set("mwMW@%")
_OPS = set("=+<>^~±×÷*")


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of the width of ``text`` at ``size`` px in a sans-serif font.

    >>> text_width("ii", 10) < text_width("mm", 10)
    True
    """
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.34
        elif ch in _SEMI:
            em += 0.45
        elif ch in _WIDE:
            em += 1.0
        elif ch in _OPS:
            em += 0.86
        elif ch.isupper():
            em += 0.8
        elif ch.isascii():
            em += 0.66
        elif ord(ch) < 0x2E80:  # Greek, ∂, · and other symbols
            em += 0.8
        else:  # CJK and the like are square
            em += 1.05
    return em * size * (1.1 if bold else 1.0)


# -- what the picture shows ------------------------------------------------------------------


@dataclass
class Box:
    """What one node's box says."""

    id: int
    name: str
    kind: str  # "input" or "op"
    formula: str  # the operation on its inputs' names, or "input"
    generated: bool  # a name cgdiff made up (t1, t2, ...): drawn as secondary
    output: bool
    value: str | None = None
    adjoint: str | None = None  # "∂J/∂u = 3", written under the box
    shape: str | None = None  # NB: for arrays (SPEC section 9): the node's shape, e.g. "3×4"


@dataclass
class Wire:
    """One edge, from an input of a node to the node."""

    src: int
    dst: int
    local: str | None = None  # the local derivative ∂dst/∂src, as written on the edge
    title: str = ""  # the same, spelled out: "∂u/∂b = 2"
    shape: str | None = None  # NB: for arrays: the shape that flows along the edge


@dataclass
class Scene:
    """Everything the picture and the page show, before any geometry."""

    graph: Graph
    boxes: list[Box]
    wires: list[Wire]
    title: str  # the output and its expression
    point: str  # "at x=1, y=2", or ""
    legend: str  # what the picture shows
    steps: list[str]  # the step counts, as report.steps_text writes them
    gradient: Gradient | None = None
    index: dict[int, int] = field(default_factory=dict)  # node id -> position in boxes

    def __post_init__(self) -> None:
        self.index = {b.id: k for k, b in enumerate(self.boxes)}


def numbers(r: Gradient | None) -> tuple[Any, Any, Any] | None:
    """The values, adjoints and local derivatives of a result, each indexed by node id.

    NB: the one place that reads a :class:`~cgdiff.ad.Gradient` (as ``report.render_dot``
    and ``render_graph_table`` do), so a change of its shape touches only this function.

    >>> numbers(None) is None
    True
    """
    if r is None:
        return None
    return r.values, r.adjoints, r.local_ids


def _wire_text(w: Wire) -> str:
    """An edge's label: its local derivative, or the shape that flows along it."""
    return (w.local or "") if w.shape is None else f"{w.local or ''} {w.shape}".strip()


def _short(v: Any) -> str:
    """A value in a box: a number, a short vector, or a large array's norm (its shape is
    on a line of its own)."""
    if np.size(v) <= 6:
        return fmt_number(v)
    with np.errstate(all="ignore"):
        return f"‖{fmt_number(float(np.sqrt(np.sum(np.square(v)))), 3)}‖"


def scene(graph: Graph, r: Gradient | None = None) -> Scene:
    """What each box and edge says: names, operations, values, local derivatives, adjoints.

    >>> from cgdiff import parse
    >>> s = scene(parse("x*y + z"))
    >>> [(b.name, b.formula) for b in s.boxes if b.kind == "op"], s.boxes[2].generated
    ([('t1', 'x * y'), ('f', 't1 + z')], True)
    """
    shown = [n for n in graph.nodes if n.kind != "const"]
    if len(shown) > MAX_NODES:
        raise InputError(
            f"the graph has {len(shown)} nodes, too many for a picture that can be read "
            f"(the limit is {MAX_NODES})",
            hint=HINT,
        )
    nums = numbers(r)
    values, adjoints, local = nums if nums is not None else (None, None, None)
    out = graph.output_name
    assigned = set(graph.assigned)
    boxes, wires = [], []
    for n in shown:
        b = Box(
            n.id,
            n.label,
            n.kind,
            node_formula(graph, n.id) if n.kind == "op" else "input",
            generated=n.kind == "op" and n.id != graph.output and n.label not in assigned,
            output=n.id == graph.output,
        )
        if values is not None:
            b.value = _short(values[n.id])
            if np.ndim(values[n.id]):  # an array: its shape on a line of its own
                b.shape = shape_text(np.shape(values[n.id]))
        if adjoints is not None:
            a = adjoints[n.id]
            b.adjoint = f"∂{out}/∂{n.label} = {_short(a if a is not None else 0.0)}"
        boxes.append(b)
        for k, a in enumerate(n.args):
            if graph.nodes[a].kind == "const":
                continue
            w = Wire(a, n.id)
            if values is not None and np.ndim(values[a]):  # the shape that flows
                w.shape = shape_text(np.shape(values[a]))
            parts = local[n.id] if local is not None else None
            if parts is not None and parts[k] is not None:
                w.local = fmt_number(parts[k])
                w.title = f"∂{n.label}/∂{graph.nodes[a].label} = {w.local}"
            wires.append(w)
    text = to_text(graph) if graph.n_ops <= 12 else f"({graph.n_ops} operations)"
    title = f"{out} = {text}"
    if r is not None:
        at = ", ".join(
            f"{k}={fmt_number(v)}" if np.size(v) <= 6 else f"{k}: {shape_text(np.shape(v))}"
            for k, v in r.evaluation.point.items()
        )
        legend = (
            "In each box: the node, its operation and its value (the forward pass).  On each "
            f"edge: the local derivative ∂node/∂input.  Under each box: the adjoint "
            f"∂{out}/∂node (the backward pass)."
        )
        return Scene(
            graph,
            boxes,
            wires,
            title,
            f"at {at}" if at else "",
            legend,
            steps_text(r.steps, times=False),
            r,
        )
    inputs = ", ".join(graph.input_names) or "none"
    legend = (
        f"{graph.n_ops} operations; inputs {inputs}.  Give every input a value with --at to "
        "see values, local derivatives and adjoints."
    )
    return Scene(graph, boxes, wires, title, "", legend, [], None)


# -- geometry --------------------------------------------------------------------------------


@dataclass
class _Lines:
    """The text lines of one box, top to bottom, as (text, size, css class, bold, italic)."""

    rows: list[tuple[str, float, str, bool, bool]]

    @property
    def height(self) -> float:
        return sum(size * 1.3 for _, size, *_ in self.rows) + 10.0

    @property
    def width(self) -> float:
        return max(text_width(t, s, b) for t, s, _, b, _ in self.rows) + 2 * PAD_X


def _box_lines(b: Box) -> _Lines:
    """The lines a box shows: name, operation, value (and, once arrays exist, shape)."""
    if b.generated:
        rows = [(b.name, NAME_SIZE_GENERATED, "cg-name cg-gen", False, True)]
    else:
        rows = [(b.name, NAME_SIZE, "cg-name", True, False)]
    rows.append((b.formula, OP_SIZE, "cg-formula", False, False))
    if b.shape is not None:
        rows.append((b.shape, OP_SIZE, "cg-shape", False, False))
    if b.value is not None:
        rows.append((f"= {b.value}", VALUE_SIZE, "cg-value", True, False))
    return _Lines(rows)


def geometry(s: Scene) -> Drawing:
    """Lay the scene out (see :mod:`cgdiff.layout`); the SVG moves it below the title.

    >>> from cgdiff import parse
    >>> geometry(scene(parse("x*y + z"))).layers
    [0, 0, 1, 0, 2]
    """
    sizes, labels = [], []
    for b in s.boxes:
        lines = _box_lines(b)
        w, h = max(lines.width, 44.0), lines.height
        below = foot = 0.0
        if b.adjoint is not None:
            below, foot = ADJOINT_SIZE * 1.5, text_width(b.adjoint, ADJOINT_SIZE) + 4
        sizes.append(NodeSize(w, h, below, foot))
    edges = [(s.index[w.src], s.index[w.dst]) for w in s.wires]
    for wire in s.wires:
        text = _wire_text(wire)
        labels.append(None if not text else (text_width(text, LABEL_SIZE) + 6, LABEL_SIZE + 4))
    lanes = dummies(len(sizes), edges)
    if lanes > MAX_DUMMIES:
        raise InputError(
            "the graph's long edges pass too many columns for a picture that can be read "
            f"({lanes} passes; the limit is {MAX_DUMMIES})",
            hint=HINT,
        )
    return draw(sizes, edges, labels, left=MARGIN)


# -- SVG ---------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _style(dark_media: bool = True) -> str:
    """The SVG's CSS: the light palette, and the dark one under ``prefers-color-scheme``."""

    def rules(p: dict[str, str]) -> str:
        return (
            f".cg-bg{{fill:{p['paper']}}}"
            f".cg-svg text{{fill:{p['ink']}}}"
            f".cg-box{{fill:{p['box']};stroke:{p['ink']}}}"
            f".cg-input .cg-box{{fill:{p['input']}}}"
            f".cg-svg .cg-formula,.cg-svg .cg-gen,.cg-svg .cg-caption text{{fill:{p['muted']}}}"
            f".cg-svg .cg-value{{fill:{p['value']}}}"
            f".cg-svg .cg-adjoint{{fill:{p['adjoint']}}}"
            f".cg-wire{{stroke:{p['edge']}}}"
            f".cg-arrow{{fill:{p['edge']}}}"
            f".cg-svg .cg-local{{fill:{p['ink']};stroke:{p['paper']}}}"
        )

    css = rules(LIGHT)
    if dark_media:
        css += f"@media (prefers-color-scheme: dark){{{rules(DARK)}}}"
    return css


def wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` (words are never split).

    >>> wrap("a b c", 10, 20)
    ['a b', 'c']
    """
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _mono_width(text: str, size: float) -> float:
    """The width of ``text`` in a monospace font (0.6 em a character, rounded up)."""
    return len(text) * 0.62 * size


def svg(
    s: Scene, d: Drawing | None = None, *, standalone: bool = True, inline: bool = False
) -> str:
    """The picture as SVG text; ``standalone`` adds the XML declaration (for a ``.svg``
    file); ``inline`` leaves out the title and the step counts, which an HTML page around
    the picture shows itself.

    >>> from cgdiff import parse
    >>> svg(scene(parse("2x")), standalone=False).startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    True
    """
    d = geometry(s) if d is None else d
    p = LIGHT
    width = max(
        d.width + 2 * MARGIN,
        480.0,
        *(_mono_width(line, CAPTION_SIZE) + 2 * MARGIN for line in s.steps),
    )
    room = width - 2 * MARGIN
    heading = wrap(s.title, TITLE_SIZE * 1.1, room) if not inline else []
    point = wrap(s.point, CAPTION_SIZE, room) if s.point and not inline else []
    steps = s.steps if not inline else []
    legend = wrap(s.legend, CAPTION_SIZE, room)
    line = CAPTION_SIZE * 1.5
    top = MARGIN + TITLE_SIZE * 1.4 * len(heading) + line * len(point) + 14
    cap_y = top + d.height + 28
    height = cap_y + line * 0.4 + line * (len(legend) + len(steps)) + MARGIN
    out: list[str] = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cg-svg" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        'font-family="sans-serif" role="img" aria-labelledby="cg-title">'
    )
    out.append(f'<title id="cg-title">{_e(" ".join([s.title, s.point]).strip())}</title>')
    out.append(f"<style>{_style()}</style>")
    out.append(
        '<defs><marker id="cg-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path class="cg-arrow" d="M0 1 L10 5 L0 9 z" fill="{p["edge"]}"/></marker></defs>'
    )
    out.append(f'<rect class="cg-bg" width="100%" height="100%" fill="{p["paper"]}"/>')
    y = MARGIN
    out.append('<g class="cg-head">')
    for text in heading:
        y += TITLE_SIZE * 1.4
        out.append(
            f'<text class="cg-heading" x="{_n(MARGIN)}" y="{_n(y - TITLE_SIZE * 0.4)}" '
            f'font-size="{TITLE_SIZE}" font-weight="bold">{_e(text)}</text>'
        )
    for text in point:
        y += line
        out.append(
            f'<text class="cg-point" x="{_n(MARGIN)}" y="{_n(y - CAPTION_SIZE * 0.4)}" '
            f'font-size="{CAPTION_SIZE}">{_e(text)}</text>'
        )
    out.append("</g>")
    out.append(f'<g class="cg-graph" transform="translate(0 {_n(top)})">')
    out.append('<g class="cg-edges">')
    for k, (w, route) in enumerate(zip(s.wires, d.routes)):
        src, dst = s.boxes[s.index[w.src]], s.boxes[s.index[w.dst]]
        title = w.title or f"{src.name} → {dst.name}"
        out.append(
            f'<g class="cg-edge" id="cg-e{k}" data-from="cg-n{w.src}" data-to="cg-n{w.dst}">'
            f"<title>{_e(title)}</title>"
            f'<path class="cg-wire" d="{route.path()}" fill="none" stroke="{p["edge"]}" '
            'stroke-width="1.3" marker-end="url(#cg-arrow)"/></g>'
        )
    out.append("</g>")
    out.append('<g class="cg-locals">')
    for k, (w, route) in enumerate(zip(s.wires, d.routes)):
        text = _wire_text(w)
        if route.label is None or not text:
            continue
        lb = route.label
        # NB: a rect of the paper's colour under the label hides the edge where it passes
        # between the glyphs, which the halo alone does not
        out.append(
            f'<rect class="cg-bg" x="{_n(lb.x - lb.w / 2)}" y="{_n(lb.y - lb.h / 2)}" '
            f'width="{_n(lb.w)}" height="{_n(lb.h)}" rx="3" fill="{p["paper"]}"/>'
        )
        out.append(
            f'<text class="cg-local" id="cg-l{k}" x="{_n(lb.x)}" y="{_n(lb.y)}" dy="0.35em" '
            f'font-size="{LABEL_SIZE}" font-style="italic" text-anchor="middle" '
            f'paint-order="stroke" stroke="{p["paper"]}" stroke-width="5" '
            f'stroke-linejoin="round">{_e(text)}</text>'
        )
    out.append("</g>")
    out.append('<g class="cg-nodes">')
    for b, (x, by, bw, bh) in zip(s.boxes, d.boxes):
        out.append(_box_svg(b, x, by, bw, bh))
    out.append("</g></g>")
    out.append('<g class="cg-caption">')
    y = cap_y
    for text in legend:
        out.append(
            f'<text class="cg-legend" x="{_n(MARGIN)}" y="{_n(y)}" '
            f'font-size="{CAPTION_SIZE}">{_e(text)}</text>'
        )
        y += line
    y += line * 0.4
    for text in steps:
        out.append(
            f'<text class="cg-steps" x="{_n(MARGIN)}" y="{_n(y)}" font-size="{CAPTION_SIZE}" '
            f'font-family="monospace" xml:space="preserve">{_e(text)}</text>'
        )
        y += line
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def _box_svg(b: Box, x: float, y: float, w: float, h: float) -> str:
    p = LIGHT
    kind = "cg-input" if b.kind == "input" else "cg-op"
    classes = f"cg-node {kind}" + (" cg-output" if b.output else "")
    classes += " cg-generated" if b.generated else ""
    fill = p["input"] if b.kind == "input" else p["box"]
    rx = 12 if b.kind == "input" else 4
    stroke_w = 2.2 if b.output else 1.1
    parts = [
        f'<g class="{classes}" id="cg-n{b.id}" data-name="{_e(b.name)}">',
        f"<title>{_e(b.name if b.kind == 'input' else f'{b.name} = {b.formula}')}</title>",
        f'<rect class="cg-box" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
        f'rx="{rx}" fill="{fill}" stroke="{p["ink"]}" stroke-width="{stroke_w}"/>',
    ]
    cx = x + w / 2
    ty = y + 5
    for text, size, cls, bold, italic in _box_lines(b).rows:
        ty += size * 1.3
        weight = ' font-weight="bold"' if bold else ""
        slant = ' font-style="italic"' if italic else ""
        parts.append(
            f'<text class="{cls}" x="{_n(cx)}" y="{_n(ty - size * 0.3)}" font-size="{size}" '
            f'text-anchor="middle"{weight}{slant}>{_e(text)}</text>'
        )
    if b.adjoint is not None:
        parts.append(
            f'<text class="cg-adjoint" x="{_n(cx)}" y="{_n(y + h + ADJOINT_SIZE * 1.2)}" '
            f'font-size="{ADJOINT_SIZE}" font-style="italic" '
            f'text-anchor="middle">{_e(b.adjoint)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def render_svg(graph: Graph, r: Gradient | None = None) -> str:
    """``cgdiff graph --format svg``: one standalone SVG document.

    >>> from cgdiff import parse
    >>> g = parse("x*y + z")
    >>> text = render_svg(g, g.grad(x=1, y=2, z=3, record=True))
    >>> text.startswith("<?xml"), text.count('class="cg-node '), text.count('class="cg-edge"')
    (True, 5, 4)
    """
    return svg(scene(graph, r))

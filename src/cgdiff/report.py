"""Results to text: Rich tables for people, and JSON, CSV/TSV, DOT and Mermaid for programs.

Nothing here prints or exits: every function returns a string or a Rich renderable, and the
CLI writes it.  Rich is imported only by the functions that draw tables, so the JSON path
of the command starts fast.  User text shown in a table is escaped, never read as markup.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .ad import Gradient, Steps
from .evaluate import Evaluation
from .graph import Graph, format_number, shape_text, short_number
from .ops import OPS
from .printing import node_formula

__all__ = [
    "delimited",
    "dumps",
    "eval_data",
    "fmt_number",
    "grad_data",
    "node_rows",
    "ops_data",
    "render_dot",
    "render_eval",
    "render_grad",
    "render_graph_structure",
    "render_graph_table",
    "render_mermaid",
    "render_ops",
    "render_tree",
    "steps_text",
    "to_jsonable",
]

MAX_ROWS = 200  # per-node tables longer than this are cut, with a note


def fmt_number(v: Any, digits: int = 6) -> str:
    """A value for a table: ``6g`` for numbers; a vector or several points as its entries;
    a matrix, or a long vector, as its shape, its norm and its first entries.

    >>> fmt_number(np.float64(1/3)), fmt_number(np.array([1.0, 2.0]))
    ('0.333333', '[1, 2]')
    >>> fmt_number(np.full((64, 128), 0.5))
    '64×128 ‖45.3‖ [0.5, 0.5, 0.5, …]'
    """
    if v is None:
        return ""
    a = np.asarray(v)
    if a.ndim == 0:
        return short_number(float(a), digits)
    if a.ndim == 1 and a.size <= 6:
        return f"[{', '.join(fmt_number(x, digits) for x in a)}]"
    with np.errstate(all="ignore"):
        norm = short_number(float(np.sqrt(np.sum(np.square(a)))), 3)
    items = [fmt_number(x, digits) for x in a.ravel()[:3]]
    more = ", …" if a.size > 3 else ""
    return f"{shape_text(a.shape)} ‖{norm}‖ [{', '.join(items)}{more}]"


def _ref(graph: Graph, i: int) -> str:
    """How text for people names node ``i``: its name, or a constant in the number format
    of the values (0.1 + 0.2 folds to 0.3, as its value would show), so that tables, trees,
    DOT and Mermaid all write a number one way."""
    n = graph.nodes[i]
    return fmt_number(n.value) if n.kind == "const" and not n.symbol else n.label


def _formula(graph: Graph, i: int) -> str:
    """A node's one-line formula (``t1 + 0.333333``), constants as :func:`_ref` writes them."""
    n = graph.nodes[i]
    if n.kind != "op":
        return _ref(graph, i)
    return node_formula(graph, i, [_ref(graph, a) for a in n.args])


def _scalar(x: float) -> Any:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def to_jsonable(v: Any) -> Any:
    """numpy values as JSON values; non-finite numbers as the strings of SPEC section 5.

    >>> to_jsonable(np.array([1.0, np.inf, np.nan]))
    [1.0, 'inf', 'nan']
    """
    if isinstance(v, dict):
        return {k: to_jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    if isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        if a.dtype.kind in "fc":
            if a.ndim == 0:
                return _scalar(float(a))
            if a.dtype.kind == "f":  # NB: whole arrays at once: a million points is common
                finite = np.isfinite(a)
                if finite.all():
                    return a.tolist()
                o = a.astype(object)
                o[np.isnan(a)] = "nan"
                o[np.isposinf(a)] = "inf"
                o[np.isneginf(a)] = "-inf"
                return o.tolist()
            return [to_jsonable(x) for x in a]
        return a.tolist()
    if isinstance(v, float):
        return _scalar(v)
    return v


def dumps(obj: Any) -> str:
    """One JSON document, valid per RFC 8259 (``allow_nan=False`` proves it)."""
    return json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False)


# -- the data behind every format -----------------------------------------------------------


def _point(ev: Evaluation) -> dict[str, Any]:
    key = "points" if ev.batch is not None else "point"
    return {key: dict(ev.point)}


def eval_data(ev: Evaluation) -> dict[str, Any]:
    return {"output": ev.graph.output_name, **_point(ev), "value": ev.value}


def grad_data(r: Gradient, nodes: bool = False) -> dict[str, Any]:
    d = {
        **eval_data(r.evaluation),
        "gradient": r.gradient,
        "mode": r.mode,
        "steps": r.steps.as_dict(),
    }
    if r.numeric is not None:
        d["numeric"] = r.numeric
    if r.difference is not None:  # |forward mode or central differences - reverse mode|
        d["difference"] = r.difference
    if nodes:
        d["nodes"] = node_rows(r.graph, r.values, r.adjoints, r.local_ids)
    if r.diagnostics:
        d["warnings"] = [w.text() for w in r.diagnostics]
    return d


def node_rows(
    graph: Graph,
    values: Sequence[Any] | None,
    adjoints: Sequence[Any] | None,
    local: Sequence[Any] | None,
) -> list[dict[str, Any]]:
    """One record per non-constant node, in evaluation order."""
    rows = []
    for n in graph.nodes:
        if n.kind == "const":
            continue
        row: dict[str, Any] = {
            "name": n.label,
            "op": n.opname,
            "inputs": [graph.nodes[a].label for a in n.args],
        }
        if values is not None:
            row["value"] = values[n.id]
        if local is not None and local[n.id] is not None:
            row["local"] = {
                graph.nodes[a].label: p
                for a, p in zip(n.args, local[n.id])
                if p is not None and graph.nodes[a].kind != "const"
            }
        if adjoints is not None:
            row["adjoint"] = adjoints[n.id] if adjoints[n.id] is not None else 0.0
        rows.append(row)
    return rows


def _columns(data: dict[str, Any], r: Gradient | None) -> list[tuple[str, Any]]:
    points = data.get("points", data.get("point", {}))
    # NB: an input called value is written input.value, so that the column value is always
    # the result (names have no dot: no other input meets a column of results)
    cols = [("input.value" if k == "value" else k, v) for k, v in points.items()]
    cols.append(("value", data["value"]))
    if r is not None:
        cols += [(f"grad.{k}", v) for k, v in r.gradient.items()]
        if r.numeric is not None:
            cols += [(f"numeric.{k}", v) for k, v in r.numeric.items()]
    return cols


def delimited(ev: Evaluation, r: Gradient | None, sep: str) -> str:
    """CSV or TSV: a header, then one row per point; numbers written to full precision.
    A point whose values are arrays gives two columns, ``name,value``, and one row per
    entry of each quantity, named like ``W[0,3]`` and ``grad.W[0,3]`` (quoted in CSV, as
    RFC 4180 quotes a field that holds a comma).

    >>> from cgdiff import parse
    >>> from cgdiff.evaluate import Batch
    >>> print(delimited(parse("2x").eval(Batch(x=[1, 2])), None, ","), end="")
    x,value
    1,2
    2,4
    >>> print(delimited(parse("sum(2x)").eval(x=[1, 2]), None, ","), end="")
    name,value
    x[0],1
    x[1],2
    value,6
    >>> print(delimited(parse("sum(W)").eval(W=[[1, 2]]), None, ",").split()[1])
    "W[0,0]",1
    """

    def text(x: float) -> str:
        return str(_scalar(x)) if not math.isfinite(x) else format_number(x)

    data = eval_data(ev)
    cols = _columns(data, r)
    if ev.batch is None and any(np.ndim(v) for _, v in cols):
        lines = [sep.join(("name", "value"))]
        for name, v in cols:
            a = np.asarray(v, dtype=float)
            if a.ndim == 0:
                lines.append(f"{name}{sep}{text(float(a))}")
                continue
            for e in np.ndindex(*a.shape):
                entry = f"{name}[{','.join(map(str, e))}]"
                if sep in entry:
                    entry = '"' + entry.replace('"', '""') + '"'
                lines.append(f"{entry}{sep}{text(float(a[e]))}")
        return "\n".join(lines) + "\n"
    n = ev.batch or 1
    lines = [sep.join(name for name, _ in cols)]
    for k in range(n):
        row = []
        for _, v in cols:
            a = np.asarray(v)
            row.append(text(float(a[k] if a.ndim else a)))
        lines.append(sep.join(row))
    return "\n".join(lines) + "\n"


# -- text for people --------------------------------------------------------------------------


def _steps(k: int) -> str:
    return f"{k} step" if k == 1 else f"{k} steps"


def _duration(seconds: float) -> str:
    """A measured time for people: ``0.42 ms``, ``3.1 s``.

    >>> _duration(0.000421), _duration(3.14159)
    ('0.421 ms', '3.14 s')
    """
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    return f"{seconds:.3g} s"


def steps_text(s: Steps, times: bool = True) -> list[str]:
    """The step counts of SPEC section 4, each marked as counted or as the cost it would take,
    and with ``times`` the measured wall time of each pass that ran (not in documents, which
    stay the same byte for byte).

    >>> print("\\n".join(steps_text(Steps(2, 3, 2, 5, 6, counted=("forward", "backward")))))
    forward pass:        2 steps (n = 2)
    reverse mode:        2 + 5 = 7 steps (forward n + backward n + p = 2 + 3)
    forward mode:        6 steps (n × p = 2 × 3), not run: the cost it would take
    reverse vs forward:  forward mode takes 0.86× the steps of reverse mode
    """

    def mark(key: str) -> str:
        if key not in s.counted:
            return ", not run: the cost it would take"
        took = s.seconds.get(key) if times else None
        if key == "backward" and took is not None:
            took += s.seconds.get("forward", 0.0)
        return f"; took {_duration(took)}" if took is not None else ""

    lines = [
        f"forward pass:        {_steps(s.forward)} (n = {s.nodes}){mark('forward')}",
        f"reverse mode:        {s.forward} + {s.backward} = {_steps(s.reverse_total)} "
        f"(forward n + backward n + p = {s.nodes} + {s.inputs}){mark('backward')}",
        f"forward mode:        {_steps(s.forward_mode)} (n × p = {s.nodes} × {s.inputs})"
        f"{mark('forward_mode')}",
    ]
    if s.numeric is not None:
        lines.append(
            f"central differences: {_steps(s.numeric)} (2 passes per input: "
            f"2 × n × p = 2 × {s.nodes} × {s.inputs}){mark('numeric')}"
        )
    if s.forward_mode == 0 and s.reverse_total == 0:
        return lines  # no operations, no inputs: nothing to compare (0 steps against 0)
    ratio = s.saving
    verdict = (
        f"reverse mode saves {s.forward_mode - s.reverse_total} steps ({ratio:.2f}× fewer)"
        if ratio > 1
        else f"forward mode takes {ratio:.2f}× the steps of reverse mode"
    )
    lines.append(f"reverse vs forward:  {verdict}")
    return lines


def _at(ev: Evaluation) -> str:
    if ev.batch is not None:
        return f"at {ev.batch} points"
    parts = [
        f"{k}={fmt_number(v)}" if np.size(v) <= 6 else f"{k}: {shape_text(np.shape(v))}"
        for k, v in ev.point.items()
    ]
    return "at " + ", ".join(parts) if parts else ""


def _title(graph: Graph, ev: Evaluation) -> str:
    from .printing import to_text

    head = graph.output_name
    text = to_text(graph, digits=6) if graph.n_ops <= 12 else f"({graph.n_ops} operations)"
    return f"{head} = {text}  {_at(ev)}".rstrip()


def _table(title: str | None = None, caption: str | None = None) -> Any:
    from rich import box
    from rich.table import Table

    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAVY,
        title_justify="left",
        caption_justify="left",
    )


def laid_out(console: Any, options: Any, tables: Sequence[Any], held: int) -> list[Any] | None:
    """The lines of each table as Rich lays them out in ``options``' width, or None where it
    cut a word to … (more … than the ``held`` ones the texts hold themselves): the caller
    then writes the rows as lines instead, so that no number is cut to ``1.…``."""
    out = []
    for t in tables:
        lines = console.render_lines(t, options, pad=False, new_lines=False)
        if sum(seg.text.count("…") for line in lines for seg in line) > held:
            return None
        out.append(lines)
    return out


def write_lines(laid: Sequence[Any]) -> Iterator[Any]:
    """The segments of tables :func:`laid_out`, a line at a time."""
    from rich.segment import Segment

    for lines in laid:
        for line in lines:
            yield from line
            yield Segment.line()


class _Fitting:
    """A table, or, where the terminal is too narrow for it to show each word whole (a
    header's too), the same rows as lines of ``name value``, as ``psql``'s expanded display
    prints a wide row: no number is cut to ``1.…``, no op to ``inp…``."""

    def __init__(
        self, table: Any, cells: Sequence[Sequence[str]], records: Sequence[str], title: str
    ) -> None:
        self.table, self.cells, self.records, self.title = table, cells, records, title

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        held = sum(cell.count("…") for row in self.cells for cell in row)
        held += sum(str(c.header).count("…") for c in self.table.columns)
        held += self.title.count("…") * 2  # NB: a title may wrap; it is never cut
        laid = laid_out(console, options, [self.table], held)
        if laid is not None:
            yield from write_lines(laid)
            return
        yield Text(self.title)
        for line in self.records:
            yield Text(line)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def render_eval(ev: Evaluation) -> Any:
    """A Rich renderable: the value, or a table with one row per point."""
    from rich.console import Group
    from rich.text import Text

    if ev.batch is None:
        return Group(Text(_title(ev.graph, ev)), Text(f"value: {fmt_number(ev.value, 10)}"))
    return _points_table(ev, None)


def _points_table(ev: Evaluation, r: Gradient | None) -> Any:
    data = eval_data(ev)
    cols = _columns(data, r)
    title = _title(ev.graph, ev)
    t = _table(_esc(title))
    t.add_column("#", justify="right", style="dim")
    for name, _ in cols:
        t.add_column(_esc(name), justify="right")
    n = ev.batch or 1
    records, rows = [], []
    for k in range(min(n, MAX_ROWS)):
        cells = [fmt_number(np.asarray(v)[k] if np.ndim(v) else v) for _, v in cols]
        t.add_row(str(k + 1), *cells)
        rows.append([str(k + 1), *cells])
        records.append(
            f"{k + 1}: " + ", ".join(f"{name} = {c}" for (name, _), c in zip(cols, cells))
        )
    if n > MAX_ROWS:
        more = f"{n - MAX_ROWS} more points: use --format csv or json for all"
        t.add_row("…", more)
        records.append(f"… {more}")
    return _Fitting(t, rows, records, title)


def _node_table(
    graph: Graph,
    ev: Evaluation,
    adjoints: Sequence[Any] | None,
    local: Sequence[Any] | None,
    title: str,
) -> Any:
    out = graph.output_name
    t = _table(_esc(title))
    t.add_column("node", style="bold")
    t.add_column("op")
    t.add_column("inputs")
    t.add_column("value", justify="right")
    t.add_column("local derivatives")
    t.add_column(f"adjoint ∂{_esc(out)}/∂node", justify="right")
    shown = 0
    rows = [n for n in graph.nodes if n.kind != "const"]
    records: list[str] = []
    cells: list[list[str]] = []
    for n in rows:
        shown += 1
        if shown > MAX_ROWS:
            more = f"{len(rows) - MAX_ROWS} more nodes"
            t.add_row("…", more, "", "", "", "use --format json for all")
            records.append(f"… {more}: use --format json for all")
            break
        ins = ", ".join(_ref(graph, a) for a in n.args)
        loc = ""
        if local is not None and local[n.id] is not None:
            loc = ", ".join(
                f"∂{n.label}/∂{graph.nodes[a].label} = {fmt_number(p)}"
                for a, p in zip(n.args, local[n.id])
                if p is not None and graph.nodes[a].kind != "const"
            )
        adj = (
            ""
            if adjoints is None
            else fmt_number(adjoints[n.id] if adjoints[n.id] is not None else 0.0)
        )
        op = n.opname if n.kind == "op" else "input"
        value = fmt_number(ev.values[n.id])
        t.add_row(_esc(n.label), op, _esc(ins), value, _esc(loc), adj)
        cells.append([n.label, op, ins, value, loc, adj])
        head = f"{n.label} = {op}({ins})" if n.kind == "op" else f"{n.label}: input"
        records.append(
            f"{head}: value {value}"
            + (f", adjoint ∂{out}/∂{n.label} = {adj}" if adj else "")
            + (f"; local {loc}" if loc else "")
        )
    return _Fitting(t, cells, records, title)


def render_grad(r: Gradient) -> Any:
    """The per-node table (one point) or the per-point table, then gradient and steps."""
    from rich.console import Group
    from rich.text import Text

    ev = r.evaluation
    parts: list[Any] = []
    out = r.graph.output_name
    if ev.batch is None:
        parts.append(
            _node_table(
                r.graph,
                ev,
                r.adjoints if r.mode != "forward" else None,
                r.local_ids,
                _title(r.graph, ev),
            )
        )
        grads = ", ".join(f"∂{out}/∂{k} = {fmt_number(v)}" for k, v in r.gradient.items())
        parts.append(Text(f"value:    {out} = {fmt_number(r.value, 10)}"))
        parts.append(Text(f"gradient: {grads}" if grads else "gradient: (no inputs)"))
    else:
        parts.append(_points_table(ev, r))
    if r.difference is not None:
        parts.append(_numeric_table(r))
    parts.append(Text(f"\nsteps ({r.mode} mode):"))
    parts.extend(Text("  " + line) for line in steps_text(r.steps))
    return Group(*parts)


def _numeric_table(r: Gradient) -> Any:
    """Forward mode or central differences beside reverse mode, input by input (for an
    array, its largest difference)."""
    assert r.difference is not None
    if r.numeric is not None:
        other, reverse, what = r.numeric, r.gradient, "central differences"
    else:
        assert r.reverse is not None
        other, reverse, what = r.gradient, r.reverse, "forward mode"
    t = _table(f"{what} against reverse mode")
    for name in ("input", "reverse mode", what, "largest |difference|"):
        t.add_column(name, justify="right" if name != "input" else "left")
    for k in other:
        diff = r.difference[k]
        t.add_row(
            _esc(k),
            fmt_number(reverse[k], 10),
            fmt_number(other[k], 10),
            fmt_number(np.max(diff) if np.ndim(diff) else diff, 3),
        )
    return t


def render_graph_table(r: Gradient | Evaluation) -> Any:
    """``cgdiff graph``: the per-node table and the step counts."""
    from rich.console import Group
    from rich.text import Text

    if isinstance(r, Gradient):
        ev, adj, loc = r.evaluation, r.adjoints, r.local_ids
    else:
        ev, adj, loc = r, None, None
    parts: list[Any] = [_node_table(ev.graph, ev, adj, loc, _title(ev.graph, ev))]
    if isinstance(r, Gradient):
        parts.append(Text("steps:"))
        parts.extend(Text("  " + line) for line in steps_text(r.steps))
    return Group(*parts)


def render_graph_structure(graph: Graph) -> Any:
    """``cgdiff graph`` with no point to evaluate at: the nodes and their operations."""
    t = _table(
        _esc(
            f"{graph.output_name}: {graph.n_ops} operations, "
            f"inputs {', '.join(graph.input_names) or 'none'}"
        )
    )
    for c in ("node", "op", "inputs", "formula"):
        t.add_column(c)
    for n in graph.nodes:
        if n.kind == "const":
            continue
        default = (
            f" (default {fmt_number(n.value)})" if n.kind == "input" and n.value is not None else ""
        )
        t.add_row(
            _esc(n.label),
            n.opname,
            _esc(", ".join(_ref(graph, a) for a in n.args)),
            _esc(_formula(graph, n.id) + default),
        )
    return t


def render_tree(graph: Graph, values: Sequence[Any] | None, adjoints: Sequence[Any] | None) -> str:
    """The graph as a tree from the output down, as plain text (it never wraps, however
    deep); a node used twice is drawn once and then referred to.

    >>> print(render_tree(__import__("cgdiff").parse("b = a*a; c = b + b"), None, None))
    c = b + b
    ├── b = a * a
    │   ├── a
    │   └── a
    └── b (shown above)
    """

    def label(i: int) -> str:
        n = graph.nodes[i]
        text = _ref(graph, i) if n.kind != "op" else f"{n.label} = {_formula(graph, i)}"
        if values is not None and n.kind != "const":
            text += f"  value {fmt_number(values[i])}"
        if adjoints is not None and n.kind != "const" and adjoints[i] is not None:
            text += f"  adjoint {fmt_number(adjoints[i])}"
        return text

    lines = [label(graph.output)]
    seen = {graph.output}
    # (node, prefix of its line, is it the last child): a pre-order walk with a stack
    stack = [
        (a, "", k == len(args) - 1)
        for args in [graph.nodes[graph.output].args]
        for k, a in enumerate(args)
    ][::-1]
    while stack:
        if len(lines) > MAX_ROWS:
            lines.append(f"… {len(stack)} more branches: use --format json or dot for all")
            break
        i, prefix, last = stack.pop()
        n = graph.nodes[i]
        branch = "└── " if last else "├── "
        if i in seen and n.kind == "op":
            lines.append(f"{prefix}{branch}{n.label} (shown above)")
            continue
        seen.add(i)
        lines.append(prefix + branch + label(i))
        inner = prefix + ("    " if last else "│   ")
        args = n.args
        for k in range(len(args) - 1, -1, -1):
            stack.append((args[k], inner, k == len(args) - 1))
    return "\n".join(lines)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render_dot(graph: Graph, values: Sequence[Any] | None, adjoints: Sequence[Any] | None) -> str:
    """Graphviz DOT: one box per node, edges from inputs to the ops that use them.

    >>> print(render_dot(__import__("cgdiff").parse("x*y"), None, None))
    digraph cgdiff {
      rankdir=LR;
      node [shape=box, fontname="Helvetica"];
      n0 [label="x\\ninput", shape=ellipse];
      n1 [label="y\\ninput", shape=ellipse];
      n2 [label="f = x * y\\nmul"];
      n0 -> n2;
      n1 -> n2;
    }
    """
    lines = ["digraph cgdiff {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for n in graph.nodes:
        if n.kind == "const":
            continue
        parts = [
            n.label if n.kind != "op" else f"{n.label} = {_formula(graph, n.id)}",
            n.opname,
        ]
        if values is not None:
            parts.append(f"value {fmt_number(values[n.id])}")
        if adjoints is not None and adjoints[n.id] is not None:
            parts.append(f"adjoint {fmt_number(adjoints[n.id])}")
        label = "\\n".join(_dot_escape(p) for p in parts)
        shape = ", shape=ellipse" if n.kind == "input" else ""
        lines.append(f'  n{n.id} [label="{label}"{shape}];')
    for n in graph.nodes:
        for a in n.args:
            if graph.nodes[a].kind != "const":
                lines.append(f"  n{a} -> n{n.id};")
    lines.append("}")
    return "\n".join(lines)


def render_mermaid(
    graph: Graph, values: Sequence[Any] | None, adjoints: Sequence[Any] | None
) -> str:
    """A Mermaid flowchart of the graph.

    >>> print(render_mermaid(__import__("cgdiff").parse("2x"), None, None))
    flowchart LR
      n1(["x"])
      n2["f = 2 * x"]
      n1 --> n2
    """
    lines = ["flowchart LR"]
    for n in graph.nodes:
        if n.kind == "const":
            continue
        text = n.label if n.kind != "op" else f"{n.label} = {_formula(graph, n.id)}"
        if values is not None:
            text += f"<br>value {fmt_number(values[n.id])}"
        if adjoints is not None and adjoints[n.id] is not None:
            text += f"<br>adjoint {fmt_number(adjoints[n.id])}"
        text = text.replace('"', "#quot;")
        shape = ('(["', '"])') if n.kind == "input" else ('["', '"]')
        lines.append(f"  n{n.id}{shape[0]}{text}{shape[1]}")
    for n in graph.nodes:
        for a in n.args:
            if graph.nodes[a].kind != "const":
                lines.append(f"  n{a} --> n{n.id}")
    return "\n".join(lines)


def ops_data() -> list[dict[str, Any]]:
    """Every primitive with its spelling, arity, summary and derivative rule."""
    rows = []
    for op in OPS.values():
        if op.internal:
            continue
        spelled = op.spelling or (op.symbol if op.symbol and not op.callable else op.name)
        lo, hi = op.arity
        rows.append(
            {
                "name": op.name,
                "spelling": spelled,
                "aliases": list(op.aliases),
                "arity": lo if lo == hi else [lo, hi],
                "summary": op.summary,
                "derivative": op.rule,
            }
        )
    return rows


def render_ops() -> Any:
    t = _table("operators and functions (constants: pi, e)")
    for c in ("op", "written", "summary", "derivative rule"):
        t.add_column(c)
    for row in ops_data():
        written = row["spelling"] + "".join(f", {a}" for a in row["aliases"])
        t.add_row(row["name"], _esc(written), _esc(row["summary"]), _esc(row["derivative"]))
    return t


# -- --explain ----------------------------------------------------------------------------

"""``cgdiff diff`` and ``cgdiff hessian`` results as text, LaTeX, JSON, CSV and Rich tables.

Nothing here prints: every function returns a string, a JSON-ready dict (written with
:func:`cgdiff.report.dumps`) or a Rich renderable.  Rich is imported inside the functions
that draw, so the text and JSON paths start fast.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .graph import format_number
from .printing import latex_name
from .symbolic import Differentiation, Hessian

__all__ = [
    "diff_data",
    "diff_latex",
    "diff_text",
    "hessian_csv",
    "hessian_data",
    "hessian_steps_text",
    "render_hessian",
]


def diff_text(r: Differentiation) -> str:
    """The derivative alone, or a spec whose last lines are the derivatives.

    >>> from cgdiff import parse
    >>> from cgdiff.symbolic import differentiate
    >>> diff_text(differentiate(parse("x^3"), ["x"], 2))
    '6*x'
    """
    return r.text()


def _partial(r: Differentiation, k: int) -> str:
    f, x = latex_name(r.output), latex_name(r.wrt[k])
    if r.order == 1:
        return f"\\frac{{\\partial {f}}}{{\\partial {x}}}"
    n = r.order
    return f"\\frac{{\\partial^{{{n}}} {f}}}{{\\partial {x}^{{{n}}}}}"


def diff_latex(r: Differentiation) -> str:
    """LaTeX: the derivative alone, or an ``aligned`` block, one equation per statement.

    >>> from cgdiff import parse
    >>> from cgdiff.symbolic import differentiate
    >>> diff_latex(differentiate(parse("x^2*sin(x)"), ["x"]))
    '2 x \\\\sin\\\\left(x\\\\right) + x^{2} \\\\cos\\\\left(x\\\\right)'
    """
    lines = r.lines(latex=True)
    if len(r.outputs) == 1 and len(lines) == 1 and not r.keep_nodes:
        return lines[0].text
    rows = []
    k = 0
    for line in lines:
        if line.kind == "output":
            left = _partial(r, k)
            k += 1
        else:
            left = latex_name(line.name)
        rows.append(f"  {left} &= {line.text}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def diff_data(r: Differentiation) -> dict[str, Any]:
    """SPEC section 5: ``{"wrt": "x", "derivative": "2*x"}``; with several inputs, ``wrt``
    is a list and ``derivative`` maps each input to its derivative.  ``steps`` counts the
    symbolic reverse sweeps (``symbolic``: one step per op node of the graph each sweep
    walks) and the op nodes of each simplified derivative.

    >>> from cgdiff import parse
    >>> from cgdiff.symbolic import differentiate
    >>> d = diff_data(differentiate(parse("x^2"), ["x"]))
    >>> d["wrt"], d["derivative"], d["steps"]
    ('x', '2*x', {'nodes': 1, 'inputs': 1, 'symbolic': 1, 'derivative_nodes': {'x': 1}})
    """
    data: dict[str, Any] = {"output": r.output, "order": r.order}
    if len(r.wrt) == 1:
        data["wrt"] = r.wrt[0]
        data["derivative"] = r.text(0)
    else:
        data["wrt"] = list(r.wrt)
        data["derivative"] = {w: r.text(k) for k, w in enumerate(r.wrt)}
    data["steps"] = {
        "nodes": r.nodes,
        "inputs": len(r.wrt),
        "symbolic": r.steps,
        "derivative_nodes": r.sizes(),
    }
    return data


# -- the Hessian ---------------------------------------------------------------------------------


def hessian_data(h: Hessian) -> dict[str, Any]:
    """SPEC section 5: ``{"value", "gradient", "hessian": {"x": {"x": ..., "y": ...}}}``,
    with the output, point, method, step counts and warnings beside them.

    >>> from cgdiff.symbolic import hessian
    >>> data = hessian_data(hessian("x^2*y", x=1, y=3))
    >>> {k: {j: float(v) for j, v in row.items()} for k, row in data["hessian"].items()}
    {'x': {'x': 6.0, 'y': 2.0}, 'y': {'x': 2.0, 'y': 0.0}}
    """
    data: dict[str, Any] = {
        "output": h.output,
        "point": dict(h.point),
        "value": h.value,
        "gradient": dict(h.gradient),
        "hessian": {w: dict(row) for w, row in h.hessian.items()},
        "method": h.method,
        "steps": h.steps.as_dict(),
    }
    if h.diagnostics:
        data["warnings"] = [d.text() for d in h.diagnostics]
    return data


def _cell(v: Any) -> str:
    x = float(np.asarray(v))
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format_number(x)


def hessian_csv(h: Hessian) -> str:
    """The matrix as CSV: a header row of the inputs, then one row per input.

    >>> from cgdiff.symbolic import hessian
    >>> print(hessian_csv(hessian("x^2*y", x=1, y=3)), end="")
    ,x,y
    x,6,2
    y,2,0
    """
    lines = ["," + ",".join(h.wrt)]
    for w in h.wrt:
        lines.append(w + "," + ",".join(_cell(h.hessian[w][v]) for v in h.wrt))
    return "\n".join(lines) + "\n"


def hessian_steps_text(h: Hessian) -> list[str]:
    """The step counts of every pass, one line each.

    >>> from cgdiff.symbolic import hessian
    >>> print("\\n".join(hessian_steps_text(hessian("x*y", x=1, y=2))))
    forward pass:            1 step (n = 1)
    reverse pass:            3 steps (n + p = 1 + 2): value and gradient
    symbolic reverse sweep:  1 step, one for all p = 2 graphs ∂f/∂x (0 ops), ∂f/∂y (0 ops)
    second reverse passes:   0 + 4 = 4 steps (forward m + backward m + p, per input)
    total:                   9 steps (reverse-over-reverse)
    differences of the gradient: 16 steps (2p reverse passes), not run: the cost it would take
    """
    from .report import _steps

    s = h.steps
    sizes = ", ".join(f"∂{h.output}/∂{w} ({m} ops)" for w, m in s.graph_nodes.items())
    fd = 2 * s.inputs * (s.forward + s.backward)
    return [
        f"forward pass:            {_steps(s.forward)} (n = {s.nodes})",
        f"reverse pass:            {_steps(s.backward)} (n + p = {s.nodes} + {s.inputs}): "
        "value and gradient",
        f"symbolic reverse sweep:  {_steps(s.symbolic)}, one for all p = {s.inputs} graphs {sizes}",
        f"second reverse passes:   {s.second_forward} + {s.second_backward} = "
        f"{_steps(s.second_forward + s.second_backward)} (forward m + backward m + p, per input)",
        f"total:                   {_steps(s.total)} ({h.method})",
        f"differences of the gradient: {_steps(fd)} (2p reverse passes), not run: "
        "the cost it would take",
    ]


def render_hessian(h: Hessian) -> Any:
    """A Rich renderable: value, gradient, the matrix as a table, and the step counts.

    >>> from rich.console import Console
    >>> from cgdiff.symbolic import hessian
    >>> console = Console(width=60, no_color=True)
    >>> with console.capture() as out:
    ...     console.print(render_hessian(hessian("x*y", x=1, y=2)))
    >>> print(out.get().splitlines()[0])
    value:    f = 2
    """
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from .report import fmt_number, laid_out, write_lines

    at = ", ".join(f"{k}={fmt_number(v)}" for k, v in h.point.items())
    grads = ", ".join(f"∂{h.output}/∂{k} = {fmt_number(v)}" for k, v in h.gradient.items())
    title = f"Hessian of {h.output}" + (f" at {at}" if at else "")
    cells = {w: [fmt_number(h.hessian[w][v]) for v in h.wrt] for w in h.wrt}
    corner = f"∂²{h.output}/∂row∂column"

    def table(columns: range, title: str) -> Table:
        t = Table(title=escape(title), box=box.SIMPLE_HEAVY, title_justify="left")
        t.add_column(escape(corner), style="bold")
        for k in columns:
            t.add_column(escape(h.wrt[k]), justify="right")
        for w in h.wrt:
            t.add_row(escape(w), *(cells[w][k] for k in columns))
        return t

    class Blocks:
        """The matrix as one table, or, wider than the terminal, as tables of as many
        columns as fit (as R and pandas print a wide frame): no number is cut short."""

        def __rich_console__(self, console: Any, options: Any) -> Any:
            from rich.cells import cell_len

            first = max([cell_len(corner), *(cell_len(w) for w in h.wrt)], default=0)
            widths = [
                max(cell_len(w), *(cell_len(cells[v][k]) for v in h.wrt))
                for k, w in enumerate(h.wrt)
            ]
            # SIMPLE_HEAVY: an edge of one cell each side, one between columns, and a
            # padding of one each side of every column.
            room = options.max_width - 2 - (first + 2)
            blocks: list[range] = []
            start, used = 0, 0
            for k, wd in enumerate(widths):
                if k > start and used + 1 + wd + 2 > room:
                    blocks.append(range(start, k))
                    start, used = k, 0
                used += (1 if k > start else 0) + wd + 2
            blocks.append(range(start, len(widths)))
            n = len(h.wrt)
            tables = []
            for j, b in enumerate(blocks):
                which = (
                    f"column {h.wrt[b[0]]} of {n}"
                    if len(b) == 1
                    else f"columns {h.wrt[b[0]]}–{h.wrt[b[-1]]} of {n}"
                )
                name = title if len(blocks) == 1 else f"{title}, {which}" if j == 0 else which
                tables.append(table(b, name))
            # NB: narrower than even one column (a long name, the corner's ∂²f/∂row∂column),
            # Rich cuts words to …; then a line per row
            held = 2 * title.count("…") + 2 * sum(w.count("…") for w in h.wrt)
            laid = laid_out(console, options, tables, held)
            if laid is None:
                yield Text(title)
                for w in h.wrt:
                    entries = ", ".join(f"{v} = {cells[w][k]}" for k, v in enumerate(h.wrt))
                    yield Text(f"row {w}: {entries}")
                return
            yield from write_lines(laid)
            if len(blocks) > 1:
                yield Text(
                    f"(wider than the terminal: in {len(blocks)} blocks of columns; "
                    "--format csv writes the matrix whole)"
                )

    t = Blocks()
    parts: list[Any] = [
        Text(f"value:    {h.output} = {fmt_number(h.value, 10)}"),
        Text(f"gradient: {grads}" if grads else "gradient: (no inputs)"),
        t,
        Text("steps:"),
    ]
    parts.extend(Text("  " + line) for line in hessian_steps_text(h))
    return Group(*parts)

"""Graph to text: one expression in cgdiff's own language (it parses back), a node's
one-line formula for tables, and LaTeX.  Every walk is a loop over the node list.
"""

from __future__ import annotations

from .graph import Graph, Node, format_number

__all__ = ["to_text", "node_formula", "to_latex"]

_ATOM = 9  # precedence of names, numbers and calls: never parenthesised


def _const_text(node: Node) -> tuple[str, int]:
    if node.symbol:
        return node.symbol, _ATOM
    text = format_number(node.value)
    return text, (3 if text.startswith("-") else _ATOM)


def _render(graph: Graph, latex: bool) -> list[tuple[str, int] | None]:
    """Text and precedence of every node the output needs, in evaluation order."""
    nodes = graph.nodes
    need = [False] * len(nodes)
    need[graph.output] = True
    for i in range(graph.output, -1, -1):
        if need[i]:
            for a in nodes[i].args:
                need[a] = True
    out: list[tuple[str, int] | None] = [None] * len(nodes)
    for n in nodes:
        if not need[n.id]:
            continue
        if n.kind == "input":
            out[n.id] = (_latex_name(n.label) if latex else n.label, _ATOM)
        elif n.kind == "const":
            text, prec = _const_text(n)
            if latex and n.symbol == "pi":
                text = "\\pi"
            out[n.id] = (text, prec)
        else:
            parts = [out[a] for a in n.args]
            out[n.id] = _latex_op(n, parts) if latex else _text_op(n, parts)  # type: ignore[arg-type]
    return out


def _wrap(part: tuple[str, int], need: bool, latex: bool = False) -> str:
    if not need:
        return part[0]
    return f"\\left({part[0]}\\right)" if latex else f"({part[0]})"


def _text_op(n: Node, parts: list[tuple[str, int]]) -> tuple[str, int]:
    op = n.op
    assert op is not None
    if op.symbol is None:
        return f"{op.name}({', '.join(p[0] for p in parts)})", _ATOM
    if len(parts) == 1:
        if op.name == "pos":
            return parts[0]
        (p,) = parts
        return f"-{_wrap(p, p[1] <= op.prec)}", op.prec
    left, right = parts
    if op.assoc == "right":  # pow: its right side may be signed, as in x^-2
        return f"{_wrap(left, left[1] <= op.prec)}^{_wrap(right, right[1] < 3)}", op.prec
    lhs = _wrap(left, left[1] < op.prec)
    rhs = _wrap(right, right[1] <= op.prec)
    sep = f" {op.symbol} " if op.prec == 1 else op.symbol
    return f"{lhs}{sep}{rhs}", op.prec


def to_text(graph: Graph, node: int | None = None) -> str:
    """The expression for ``node`` (default: the output), inputs as the only names.

    >>> from cgdiff import parse
    >>> to_text(parse("(a - (b - c))*-x^2 / (y*z)"))
    '(a - (b - c))*(-x^2)/(y*z)'
    """
    g = graph if node is None else Graph(graph.nodes, node, graph.inputs)
    rendered = _render(g, latex=False)
    result = rendered[g.output]
    assert result is not None
    return result[0]


def node_formula(graph: Graph, i: int, args: list[str] | None = None) -> str:
    """A node's operation on the names of its inputs (or on ``args``): ``x * y``, ``sin(t1)``.

    >>> from cgdiff import parse
    >>> g = parse("sin(x*y) + 2")
    >>> [node_formula(g, n.id) for n in g.nodes if n.kind == "op"]
    ['x * y', 'sin(t1)', 't2 + 2']
    """
    n = graph.nodes[i]
    if n.kind != "op":
        return n.label
    assert n.op is not None
    names = args if args is not None else [graph.nodes[a].label for a in n.args]
    if n.op.symbol is None:
        return f"{n.op.name}({', '.join(names)})"
    if len(names) == 1:
        return names[0] if n.op.name == "pos" else f"-{names[0]}"
    return f"{names[0]} {n.op.symbol} {names[1]}"


# -- LaTeX ----------------------------------------------------------------------------------

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega",
}


def _latex_name(name: str) -> str:
    base, _, sub = name.partition("_")
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        head = base.rstrip("0123456789")
        digits = base[len(head):]
        base = (f"\\mathrm{{{head}}}" if len(head) > 1 else head) + \
            (f"_{{{digits}}}" if digits and not sub else digits)
    return f"{base}_{{{sub}}}" if sub else base


def _latex_op(n: Node, parts: list[tuple[str, int]]) -> tuple[str, int]:
    op = n.op
    assert op is not None
    if op.name == "pos":
        return parts[0]
    if op.name == "neg":
        (p,) = parts
        return f"-{_wrap(p, p[1] <= op.prec, True)}", op.prec
    if op.name == "div":
        return op.latex.format(parts[0][0], parts[1][0]), _ATOM
    if op.name == "pow":
        base = _wrap(parts[0], parts[0][1] <= op.prec, True)
        return f"{base}^{{{parts[1][0]}}}", op.prec
    if op.name == "mul":
        left, right = parts
        lhs = _wrap(left, left[1] < op.prec, True)
        rhs = _wrap(right, right[1] <= op.prec, True)
        # A number after another factor needs a visible \cdot: 2 \cdot 3, not 2 3.
        joiner = " \\cdot " if right[0][:1].isdigit() or right[0].startswith("-") else " "
        return f"{lhs}{joiner}{rhs}", op.prec
    if op.symbol is not None and len(parts) == 2:
        left, right = parts
        lhs = _wrap(left, left[1] < op.prec, True)
        rhs = _wrap(right, right[1] <= op.prec, True)
        return op.latex.format(lhs, rhs), op.prec
    return op.latex.format(*(p[0] for p in parts)), _ATOM


def to_latex(graph: Graph) -> str:
    """The output as LaTeX.

    >>> from cgdiff import parse
    >>> to_latex(parse("x^2*sin(x)/2"))
    '\\\\frac{x^{2} \\\\sin\\\\left(x\\\\right)}{2}'
    """
    rendered = _render(graph, latex=True)
    result = rendered[graph.output]
    assert result is not None
    return result[0]

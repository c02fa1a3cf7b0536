"""Graph to text: one expression in cgdiff's own language (it parses back), a node's
one-line formula for tables, LaTeX, and a model spec whose lines name the shared parts.

Every node is laid out once, in evaluation order, as a *piece*: literal strings and
references to the pieces of its inputs, with its precedence.  Text is joined from the
pieces by one loop with an explicit stack, so a deep expression costs no recursion and no
repeated string copying.  :func:`to_lines` counts the characters an expression would take
when every node is written out, and, when sharing would make that large, writes each big
shared node once, on its own line, and refers to it by name.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .graph import Graph, Node, format_number, short_number
from .ops import OPS, Op

__all__ = ["latex_name", "node_formula", "to_latex", "to_lines", "to_text"]

_ATOM = 9  # precedence of names, numbers and calls: never parenthesised
INLINE_BUDGET = 2000  # characters: a longer expression writes its big shared parts once
_SHARED_MIN = 24  # characters: a shared part shorter than this is always written inline


class _Piece(NamedTuple):
    parts: tuple[str | int, ...]  # literal text, and node ids whose text goes there
    prec: int
    first: str  # the first character (for LaTeX's \cdot before a number or sign)
    size: int  # characters, when every referenced node is written out
    body: _Piece | None = None  # LaTeX: the same without its leading minus sign, if any


def _leaf(text: str, prec: int = _ATOM) -> _Piece:
    return _Piece((text,), prec, text[:1], len(text))


def _cat(prec: int, *items: str | _Piece) -> _Piece:
    parts: list[str | int] = []
    size = 0
    first = ""
    for item in items:
        if isinstance(item, str):
            if item:
                parts.append(item)
                size += len(item)
                first = first or item[0]
        else:
            parts.extend(item.parts)
            size += item.size
            first = first or item.first
    return _Piece(tuple(parts), prec, first, size)


def _wrap(p: _Piece, need: bool, latex: bool = False) -> _Piece:
    if not need:
        return p
    return _cat(_ATOM, "\\left(", p, "\\right)") if latex else _cat(_ATOM, "(", p, ")")


def _template(fmt: str) -> list[str | int]:
    """A LaTeX template of the ops table split into literals and argument positions."""
    out: list[str | int] = []
    for literal, field, _, _ in string.Formatter().parse(fmt):
        if literal:
            out.append(literal)
        if field is not None:
            out.append(int(field))
    return out


_TEMPLATES = {name: _template(op.latex) for name, op in OPS.items()}


def _const_text(node: Node, latex: bool, digits: int | None = None) -> _Piece:
    if node.symbol:
        return _leaf("\\pi" if latex and node.symbol == "pi" else node.symbol)
    # NB: with ``digits`` (titles for people) the number is rounded, so 0.1 + 0.2, folded,
    # shows as 0.3; text meant to be read back keeps every digit.
    text = format_number(node.value) if digits is None else short_number(node.value, digits)
    if text.startswith("-"):
        return _leaf(text, 3)._replace(body=_leaf(text[1:]))
    return _leaf(text)


# + and * are associative: with ``flat``, a + (b + c) and a*(b*c) are written without the
# parentheses (the same value; parsed back, the tree groups to the left).
_ASSOCIATIVE = ("add", "mul")


def _right_wrap(op: Op, right: _Piece, flat: bool) -> bool:
    if right.first == "-":  # a signed right operand is parenthesised: a*(-b), a - (-b)
        return True
    if flat and op.name in _ASSOCIATIVE and right.prec == op.prec:
        return False
    return right.prec <= op.prec


def _text_op(n: Node, parts: list[_Piece], flat: bool = False) -> _Piece:
    op = n.op
    assert op is not None
    params = n.params or {}
    if "index" in params:  # x[0, 1]
        (p,) = parts
        where = ", ".join(str(k) for k in params["index"])
        return _cat(_ATOM, _wrap(p, p.prec < _ATOM), f"[{where}]")
    if op.symbol is None:
        # max(x) is the op amax: an array op is written as the user spells it
        name = op.aliases[0] if op.aliases and not op.elementwise else op.name
        opening, closing = (f"{name}(", ")") if op.callable else ("[", "]")  # a literal
        items: list[str | _Piece] = [opening]
        for k, p in enumerate(parts):
            items += [", ", p] if k else [p]
        if params.get("axis") is not None:
            items += [f", {params['axis']}"]
        return _cat(_ATOM, *items, closing)
    if len(parts) == 1:
        (p,) = parts
        if op.name == "pos":
            return p
        return _cat(op.prec, "-", _wrap(p, p.prec <= op.prec))
    left, right = parts
    if op.assoc == "right":  # pow: its right side may be signed, as in x^-2
        return _cat(op.prec, _wrap(left, left.prec <= op.prec), "^", _wrap(right, right.prec < 3))
    sep = f" {op.symbol} " if op.prec == 1 or not op.elementwise else op.symbol
    return _cat(
        op.prec,
        _wrap(left, left.prec < op.prec),
        sep,
        _wrap(right, _right_wrap(op, right, flat)),
    )


def _latex_op(n: Node, parts: list[_Piece], flat: bool = False) -> _Piece:
    op = n.op
    assert op is not None
    name = op.name
    if name == "pos":
        return parts[0]
    if name == "neg":
        (p,) = parts
        inner = _wrap(p, p.prec <= op.prec, True)
        return _cat(op.prec, "-", inner)._replace(body=inner)
    if name == "div":
        top, bottom = parts
        # -a/b reads better as -\\frac{a}{b} than as \\frac{-a}{b}.
        if top.body is not None:
            return _cat(3, "-\\frac{", top.body, "}{", bottom, "}")
        return _cat(_ATOM, "\\frac{", top, "}{", bottom, "}")
    if name == "pow":
        return _cat(op.prec, _wrap(parts[0], parts[0].prec <= op.prec, True), "^{", parts[1], "}")
    if name == "mul":
        left, right = parts
        lhs = _wrap(left, left.prec < op.prec, True)
        rhs = _wrap(right, _right_wrap(op, right, flat), True)
        # A number after another factor needs a visible \cdot: 2 \cdot 3, not 2 3.
        joiner = " \\cdot " if rhs.first.isdigit() or rhs.first == "-" else " "
        body = None if lhs.body is None else _cat(op.prec, lhs.body, joiner, rhs)
        return _cat(op.prec, lhs, joiner, rhs)._replace(body=body)
    if op.symbol is not None and len(parts) == 2:
        left, right = parts
        parts = [
            _wrap(left, left.prec < op.prec, True),
            _wrap(right, _right_wrap(op, right, flat), True),
        ]
    items = [parts[k] if isinstance(k, int) else k for k in _TEMPLATES[name]]
    return _cat(op.prec if op.symbol is not None else _ATOM, *items)


def _needed(graph: Graph, roots: Sequence[int]) -> list[bool]:
    need = [False] * len(graph.nodes)
    for r in roots:
        need[r] = True
    for i in range(max(roots, default=-1), -1, -1):  # NB: args always precede their node
        if need[i]:
            for a in graph.nodes[i].args:
                need[a] = True
    return need


def _layout(
    graph: Graph,
    need: Sequence[bool],
    latex: bool,
    shown: dict[int, str],
    share: Sequence[int] | None = None,
    fresh: list[str] | None = None,
    bound: dict[int, str] | None = None,
    flat: bool = False,
    digits: int | None = None,
) -> list[_Piece | None]:
    """The piece of every needed node.  A node in ``shown`` is referred to by that text.

    With ``share`` (how many times each node is used), a shared node that depends on an
    input and whose text is long takes the next name of ``fresh`` (recorded in ``bound``
    and ``shown``), and is referred to by it.
    """
    nodes = graph.nodes
    pieces: list[_Piece | None] = [None] * len(nodes)
    varies = [n.kind == "input" for n in nodes]
    for n in nodes:
        if not need[n.id]:
            continue
        if n.kind == "input":
            pieces[n.id] = _leaf(latex_name(n.label) if latex else n.label)
            continue
        if n.kind == "const":
            pieces[n.id] = _const_text(n, latex, digits)
            continue
        parts = []
        for a in n.args:
            varies[n.id] = varies[n.id] or varies[a]
            p = pieces[a]
            assert p is not None
            if a in shown:
                parts.append(_leaf(shown[a]))
            elif nodes[a].kind == "op":
                parts.append(_Piece((a,), p.prec, p.first, p.size, p.body))
            else:
                parts.append(p)
        piece = _latex_op(n, parts, flat) if latex else _text_op(n, parts, flat)
        pieces[n.id] = piece
        if (
            share is not None
            and fresh
            and bound is not None
            and share[n.id] > 1
            and varies[n.id]
            and piece.size > _SHARED_MIN
            and n.id not in shown
        ):
            name = fresh.pop(0)
            bound[n.id] = name
            shown[n.id] = latex_name(name) if latex else name
    return pieces


def _emit(pieces: Sequence[_Piece | None], piece: _Piece) -> str:
    """The text of a piece, every referenced node written out (one loop, no recursion)."""
    out: list[str] = []
    stack: list[str | int] = list(reversed(piece.parts))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        else:
            p = pieces[item]
            assert p is not None
            stack.extend(reversed(p.parts))
    return "".join(out)


def _one(graph: Graph, node: int, latex: bool, digits: int | None = None) -> str:
    pieces = _layout(graph, _needed(graph, [node]), latex, {}, digits=digits)
    piece = pieces[node]
    assert piece is not None
    return _emit(pieces, piece)


def to_text(graph: Graph, node: int | None = None, *, digits: int | None = None) -> str:
    """The expression for ``node`` (default: the output), inputs as the only names; with
    ``digits``, constants are rounded to that many significant digits (for people).

    >>> from cgdiff import parse
    >>> to_text(parse("(a - (b - c))*-x^2 / (y*z)"))
    '(a - (b - c))*(-x^2)/(y*z)'
    >>> to_text(parse("x + (0.1 + 0.2)"), digits=6)
    'x + 0.3'
    """
    return _one(graph, graph.output if node is None else node, latex=False, digits=digits)


def node_formula(graph: Graph, i: int, args: list[str] | None = None) -> str:
    """A node's operation on the names of its inputs (or on ``args``): ``x * y``, ``sin(t1)``.

    >>> from cgdiff import parse
    >>> g = parse("sin(x*y) + 2")
    >>> [node_formula(g, n.id) for n in g.nodes if n.kind == "op"]
    ['x * y', 'sin(t1)', 't2 + 2']
    >>> g = parse("v = [x, y]; f = sum(v, 0) + v[-1]")
    >>> [node_formula(g, n.id) for n in g.nodes if n.kind == "op"]
    ['[x, y]', 'sum(v, 0)', 'v[-1]', 't1 + t2']
    """
    n = graph.nodes[i]
    if n.kind != "op":
        return n.label
    assert n.op is not None
    names = args if args is not None else [graph.nodes[a].label for a in n.args]
    op, params = n.op, n.params or {}
    if "index" in params:
        return f"{names[0]}[{', '.join(str(k) for k in params['index'])}]"
    if op.symbol is None:
        name = op.aliases[0] if op.aliases and not op.elementwise else op.name
        if params.get("axis") is not None:
            names = [*names, str(params["axis"])]
        if op.name == "stack":  # an array literal (unsum, unindex: not callable either)
            return f"[{', '.join(names)}]"
        return f"{name}({', '.join(names)})"
    if len(names) == 1:
        if n.op.name == "pos":
            return names[0]
        return f"-({names[0]})" if names[0].startswith("-") else f"-{names[0]}"
    return f"{names[0]} {n.op.symbol} {names[1]}"


# -- LaTeX ----------------------------------------------------------------------------------

_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
}


def _greek_letters() -> dict[str, str]:
    """Greek letters typed as Unicode, as LaTeX: θ is \\theta, Δ is \\Delta; a capital that
    looks Latin (Α, Β) is that Latin letter, as LaTeX has no command for it."""
    import unicodedata

    out = {}
    for code in range(0x391, 0x3CA):
        ch = chr(code)
        name = unicodedata.name(ch, "")
        if not name.startswith("GREEK"):
            continue
        word = name.split()[-1].lower().replace("lamda", "lambda")
        if word not in _GREEK:
            continue
        if "CAPITAL" in name:
            cap = "\\" + word.capitalize()
            out[ch] = (
                cap if word.capitalize() in _LATEX_CAPITALS else ch.translate(_LATIN_LOOKALIKE)
            )
        else:
            out[ch] = "\\" + word
    # NB: LaTeX's \epsilon and \phi are the lunate ϵ and the stroked ϕ; the usual ε and φ are
    # \varepsilon and \varphi (as unicode-math maps them).
    out.update({"ε": "\\varepsilon", "ϵ": "\\epsilon", "φ": "\\varphi", "ϕ": "\\phi"})
    out.update(
        {"ο": "o", "Ο": "O", "ϑ": "\\vartheta", "ς": "\\varsigma", "ϖ": "\\varpi", "ϱ": "\\varrho"}
    )
    return out


_LATEX_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon"}
_LATEX_CAPITALS |= {"Phi", "Psi", "Omega"}
_LATIN_LOOKALIKE = str.maketrans("ΑΒΕΖΗΙΚΜΝΡΤΧ", "ABEZHIKMNPTX")
_UNICODE_GREEK: dict[str, str] = {}


def latex_name(name: str) -> str:
    """A name as LaTeX: ``theta`` and ``θ`` are ``\\theta``, ``x_0`` is ``x_{0}``, ``w1`` is
    ``w_{1}``.

    >>> latex_name("x_0"), latex_name("w1"), latex_name("theta"), latex_name("θ1")
    ('x_{0}', 'w_{1}', '\\\\theta', '\\\\theta_{1}')
    """
    if not _UNICODE_GREEK:
        _UNICODE_GREEK.update(_greek_letters())
    base, _, sub = name.partition("_")
    if base[:1] in _UNICODE_GREEK and (len(base) == 1 or base[1:].isdigit()):
        base = _UNICODE_GREEK[base[0]] + (f"_{{{base[1:]}}}" if base[1:] and not sub else base[1:])
    elif base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        head = base.rstrip("0123456789")
        digits = base[len(head) :]
        base = (f"\\mathrm{{{head}}}" if len(head) > 1 else head) + (
            f"_{{{digits}}}" if digits and not sub else digits
        )
    return f"{base}_{{{sub}}}" if sub else base


def to_latex(graph: Graph) -> str:
    """The output as LaTeX.

    >>> from cgdiff import parse
    >>> to_latex(parse("x^2*sin(x)/2"))
    '\\\\frac{x^{2} \\\\sin\\\\left(x\\\\right)}{2}'
    """
    return _one(graph, graph.output, latex=True)


# -- several lines --------------------------------------------------------------------------


class Line(NamedTuple):
    """One statement of a printed spec: ``kind`` is ``input``, ``node`` or ``output``."""

    kind: str
    name: str
    text: str


def to_lines(
    graph: Graph,
    outputs: Sequence[tuple[str, int]],
    *,
    names: Mapping[int, str] | None = None,
    inputs: bool = False,
    latex: bool = False,
    budget: int = INLINE_BUDGET,
) -> list[Line]:
    """The statements that compute ``outputs`` (``(name, node)`` pairs), in order.

    Nodes in ``names`` get a line of their own and are referred to by name (a spec's named
    nodes, for ``diff --keep-nodes``).  With ``inputs``, inputs that have a default value
    come first (``w = 2``).  When writing every node out would take more than ``budget``
    characters, each long shared node also gets a line (``t1 = ...``), so the text grows
    with the number of nodes, never exponentially.  Names are never LaTeX-escaped here:
    ``latex`` changes only the formulas.

    >>> from cgdiff import parse
    >>> g = parse("a = sin(x)*y; b = a*a + a")
    >>> to_lines(g, [("f", g.output)], names={g.by_name["a"]: "a"})
    [Line(kind='node', name='a', text='sin(x)*y'), Line(kind='output', name='f', text='a*a + a')]
    """
    nodes = graph.nodes
    bound = dict(names or {})
    roots = [i for _, i in outputs]
    need = _needed(graph, roots)
    shown = {i: (latex_name(k) if latex else k) for i, k in bound.items()}
    # Every op node writes at least one character: past the budget, skip the first layout.
    big = sum(need[i] for i in graph.op_ids) > budget
    if not big:
        pieces = _layout(graph, need, latex, dict(shown), flat=True)
        total = sum(_ref(pieces, shown, i).size for i in roots)
        total += sum(p.size for i, p in enumerate(pieces) if p is not None and i in shown)
        big = total > budget
    if big:
        uses = [0] * len(nodes)
        for i in roots:
            uses[i] += 1
        for n in nodes:
            if need[n.id]:
                for a in n.args:
                    uses[a] += 1
        taken = {n.name for n in nodes if n.name} | {k for k, _ in outputs} | set(bound.values())
        fresh = [f"t{k}" for k in range(1, 2 * len(nodes) + 2) if f"t{k}" not in taken]
        pieces = _layout(graph, need, latex, shown, uses, fresh, bound, flat=True)
    lines: list[Line] = []
    if inputs:
        for i in graph.inputs:
            n = nodes[i]
            if n.value is not None:
                lines.append(Line("input", n.label, format_number(float(n.value))))
    for i, p in enumerate(pieces):
        if p is not None and i in bound:
            lines.append(Line("node", bound[i], _emit(pieces, p)))
    for name, i in outputs:
        lines.append(Line("output", name, _emit(pieces, _ref(pieces, shown, i))))
    return lines


def _ref(pieces: Sequence[_Piece | None], shown: Mapping[int, str], i: int) -> _Piece:
    if i in shown:
        return _leaf(shown[i])
    p = pieces[i]
    assert p is not None
    return p

"""The flat graph IR: a list of nodes in evaluation order, and the builder that appends them.

A node is an input, a constant, or one op of :mod:`cgdiff.ops` applied to earlier nodes, so
creation order is a topological order and every pass is a plain ``for`` loop.  Ids are list
positions, never ``id()``, so every output is repeatable byte for byte.

:class:`GraphBuilder` is also a *builder* in the sense of :mod:`cgdiff.ops`: derivative rules
run on it append nodes, which is how symbolic derivatives are made.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import NEGATIVE_POWER, Diagnostic, InputError, UndefinedError
from .ops import OPS, Op, apply_checked
from .primitive import shape_text

__all__ = ["Graph", "GraphBuilder", "Node", "format_number", "shape_reason", "shape_text"]


def format_number(value: float) -> str:
    """A float in the shortest form that reads back exactly, without a trailing ``.0``.

    >>> format_number(2.0), format_number(0.1), format_number(-1e-10)
    ('2', '0.1', '-1e-10')
    """
    if np.ndim(value):
        return array_text(value)
    v = float(value)
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def array_text(value: Any, limit: int = 6, number: Callable[[Any], str] | None = None) -> str:
    """An array as its literal, ``[1, 2, 3]``, or by its shape when it is large.

    ``number`` writes each element (``format_number``, every digit, unless told).

    >>> array_text(np.array([[1.0, 2.0], [3.0, 4.5]])), array_text(np.zeros((64, 784)))
    ('[[1, 2], [3, 4.5]]', 'array(64×784)')
    """
    a = np.asarray(value)
    if a.size > limit:
        return f"array({shape_text(a.shape)})"
    if a.ndim == 0:
        return (number or format_number)(float(a))
    rows = [array_text(row, limit, number) for row in a]  # depth: the array's ndim, at most 64
    return "[" + ", ".join(rows) + "]"


def shape_reason(exc: Exception, shapes: str) -> str:
    """numpy's reason for refusing shapes, in the words of a person.

    >>> shape_reason(ValueError("operands could not be broadcast together"), "2 and 3")
    'shapes 2 and 3 do not fit'
    """
    text = str(exc)
    if "broadcast" in text:
        return f"shapes {shapes} do not fit"
    if "zero-size array" in text:  # max, min, softmax, logsumexp of []
        which = "smallest" if "minimum" in text else "largest"
        return f"an empty array has no {which} entry (shape {shapes})"
    if "core dimension" in text:  # matmul's gufunc signature (n?,k),(k,m?)
        return (
            f"shapes {shapes} do not fit: a matrix product needs the left's last size "
            "to equal the right's first (or second-last) size"
        )
    return f"{text} (shape {shapes})"


def short_number(value: float, digits: int = 6) -> str:
    """A number for people: ``digits`` significant figures, ``inf``/``nan`` spelled out.

    >>> short_number(1 / 3), short_number(float("-inf")), short_number(-0.0)
    ('0.333333', '-inf', '0')
    >>> short_number(np.array([1 / 3, 2.0]))
    '[0.333333, 2]'
    """
    if np.ndim(value):
        return array_text(value, number=lambda v: short_number(v, digits))
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


class Node:
    """One node: ``kind`` is ``"input"``, ``"const"`` or ``"op"``.

    >>> Node(0, "const", None, (), None, np.float64(2.0)).label
    '2'
    """

    __slots__ = ("args", "id", "kind", "line", "name", "op", "params", "symbol", "value")

    def __init__(
        self,
        id: int,
        kind: str,
        op: Op | None,
        args: tuple[int, ...],
        name: str | None,
        value: Any = None,
        line: int | None = None,
        symbol: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.op = op
        self.args = args
        self.name = name
        self.value = value  # a constant's value, or an input's default (None: free input)
        self.line = line
        self.symbol = symbol  # "pi" or "e" for those constants
        # An op's params (sum's axis, an index), or an input's: {"file": path} for data read
        # from a file, which derivatives are not taken for unless asked (--wrt).
        self.params = params

    @property
    def label(self) -> str:
        """How other nodes refer to this one: its name, or a constant's value."""
        if self.name is not None:
            return self.name
        if self.kind == "const":
            return self.symbol or format_number(self.value)
        return f"#{self.id}"

    @property
    def opname(self) -> str:
        return self.op.name if self.op is not None else self.kind

    def __repr__(self) -> str:
        return f"Node({self.id}, {self.opname}, {self.args}, {self.name!r})"


class Graph:
    """A computation graph: nodes in evaluation order, its inputs and its output.

    >>> from cgdiff import parse
    >>> g = parse("x*y + z")
    >>> [n.label for n in g.nodes], g.output_name
    (['x', 'y', 't1', 'z', 'f'], 'f')
    """

    def __init__(
        self,
        nodes: list[Node],
        output: int,
        inputs: list[int],
        source: str = "",
        diagnostics: Sequence[Diagnostic] = (),
    ) -> None:
        self.nodes = nodes
        self.output = output
        self.inputs = inputs
        self.source = source
        self.diagnostics = list(diagnostics)
        self.by_name: dict[str, int] = {n.name: n.id for n in nodes if n.name is not None}
        # Every name the source text assigns (set by parse), kept even where the output
        # does not need it; empty for a graph not read from text.
        self.assigned: list[str] = []
        self.op_ids: list[int] = [n.id for n in nodes if n.kind == "op"]
        self._plan: list[tuple[int, Any, int, int, int, tuple[int, ...]]] | None = None
        self._kinked: list[int] | None = None
        self._variable: list[bool] | None = None
        self._input_names: list[str] | None = None
        # Derived data that the passes keep with the graph (their plans); never part of it.
        self.cache: dict[str, Any] = {}

    # -- facts -------------------------------------------------------------------------
    @property
    def output_name(self) -> str:
        return self.nodes[self.output].label

    @property
    def input_names(self) -> list[str]:
        if self._input_names is None:
            self._input_names = [self.nodes[i].label for i in self.inputs]
        return self._input_names

    @property
    def n_ops(self) -> int:
        """``n`` of SPEC section 4: operation nodes, inputs and constants not counted."""
        return len(self.op_ids)

    def defaults(self) -> dict[str, Any]:
        """Inputs that have a default value, name -> value (a float, or an array)."""
        return {
            self.nodes[i].label: _plain(self.nodes[i].value)
            for i in self.inputs
            if self.nodes[i].value is not None
        }

    def data_inputs(self) -> list[int]:
        """Inputs read from a file (``X = @x.csv``): data, not parameters."""
        return [i for i in self.inputs if (self.nodes[i].params or {}).get("file")]

    @property
    def elementwise(self) -> bool:
        """Whether every op is elementwise and every constant a number: then a 1-D value
        can only be several points, and the passes may take the scalar fast path."""
        if "elementwise" not in self.cache:
            self.cache["elementwise"] = all(
                n.op.elementwise if n.op is not None else np.ndim(n.value) == 0
                for n in self.nodes
                if n.kind != "input" or n.value is not None
            )
        return bool(self.cache["elementwise"])

    def plan(self) -> list[tuple[int, Any, int, int, int, tuple[int, ...]]]:
        """The op nodes as ``(id, forward, n_args, arg0, arg1, args)`` rows for the fast
        loops; ``forward`` has the node's params bound."""
        if self._plan is None:
            rows = []
            for i in self.op_ids:
                n = self.nodes[i]
                assert n.op is not None
                a = n.args
                fn = functools.partial(n.op.forward, **n.params) if n.params else n.op.forward
                rows.append((i, fn, len(a), a[0] if a else -1, a[1] if len(a) > 1 else -1, a))
            self._plan = rows
        return self._plan

    def variable(self) -> list[bool]:
        """For every node, whether it is not a constant (so an adjoint may flow into it)."""
        if self._variable is None:
            self._variable = [n.kind != "const" for n in self.nodes]
        return self._variable

    def kinked(self) -> list[int]:
        """The op nodes whose op has a point where it is not differentiable."""
        if self._kinked is None:
            self._kinked = [i for i in self.op_ids if self.nodes[i].op.kink is not None]  # type: ignore[union-attr]
        return self._kinked

    def node(self, name: str) -> Node:
        """The node called ``name``.

        >>> from cgdiff import parse
        >>> parse("a = 2; b = a*a").node("b").opname
        'mul'
        """
        if name not in self.by_name:
            from .ops import suggest

            close = suggest(name, list(self.by_name), cutoff=0.6)
            raise InputError(
                f"no node named '{name}'",
                hint=f"did you mean '{close}'?" if close else None,
            )
        return self.nodes[self.by_name[name]]

    def with_output(self, name: str) -> Graph:
        """The same graph with the node ``name`` as output, pruned to what it needs.

        >>> from cgdiff import parse
        >>> parse("a = 2; b = a*3; c = b+1").with_output("b").n_ops
        1
        """
        target = self.node(name).id
        b = GraphBuilder(fold=False)
        pruned = b.copy_from(self, target)
        pruned.assigned = self.assigned
        return pruned

    def __repr__(self) -> str:
        names = self.input_names
        shown = ", ".join(names[:8]) + (f", … ({len(names)} inputs)" if len(names) > 8 else "")
        return f"Graph({self.n_ops} ops, inputs=[{shown}], output={self.output_name!r})"


def _plain(value: Any) -> Any:
    return float(value) if np.ndim(value) == 0 else value


class GraphBuilder:
    """Appends nodes; folds ops on constants; optionally shares equal nodes and simplifies.

    It is a builder for the derivative rules of :mod:`cgdiff.ops` (handles are node ids).

    >>> b = GraphBuilder()
    >>> x = b.input("x")
    >>> y = b.mul(b.const(2.0), b.add(x, b.zero))
    >>> b.nodes[y].opname
    'mul'
    """

    def __init__(self, *, fold: bool = True, share: bool = False, simplify: bool = False):
        self.nodes: list[Node] = []
        self.fold = fold
        self.share = share
        self.simplify = simplify
        self.diagnostics: list[Diagnostic] = []
        self.inputs: list[int] = []
        self._consts: dict[tuple[float, str | None], int] = {}
        self._shared: dict[tuple[Any, ...], int] = {}
        self._one: int | None = None
        self._zero: int | None = None

    # -- the builder protocol ----------------------------------------------------------
    @property
    def one(self) -> int:
        if self._one is None:
            self._one = self.const(1.0)
        return self._one

    @property
    def zero(self) -> int:
        if self._zero is None:
            self._zero = self.const(0.0)
        return self._zero

    def const(self, value: Any, symbol: str | None = None) -> int:
        if np.ndim(value):  # an array: never shared by value
            return self._append("const", None, (), value=np.asarray(value, dtype=float))
        v = np.float64(value)
        key = (float(v), symbol)
        if key in self._consts and not np.isnan(v):
            return self._consts[key]
        i = self._append("const", None, (), value=v, symbol=symbol)
        self._consts[key] = i
        return i

    def input(
        self,
        name: str,
        default: Any = None,
        line: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> int:
        value: Any
        if default is None:
            value = None
        elif np.ndim(default):
            value = np.asarray(default, dtype=float)
        else:
            value = np.float64(default)
        i = self._append("input", None, (), name=name, value=value, line=line, params=params)
        self.inputs.append(i)
        return i

    def add(self, x: int, y: int) -> int:
        return self.op("add", x, y)

    def sub(self, x: int, y: int) -> int:
        return self.op("sub", x, y)

    def mul(self, x: int, y: int) -> int:
        return self.op("mul", x, y)

    def div(self, x: int, y: int) -> int:
        return self.op("div", x, y)

    def neg(self, x: int) -> int:
        return self.op("neg", x)

    def pow(self, x: int, y: int) -> int:
        return self.op("pow", x, y)

    def op(self, name: str, *args: int, line: int | None = None, **params: Any) -> int:
        """Append ``name(*args)`` (with ``params``: sum's axis, an index), folded or
        simplified when the builder is set to."""
        op = OPS[name]
        lo, hi = op.arity
        if op.static is None and not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} or {hi}"
            raise InputError(
                f"{name} takes {want} argument{'s' if hi > 1 else ''}, not {len(args)}", line=line
            )
        nodes = self.nodes
        kw = params or None
        if self.fold:
            for a in args:
                if nodes[a].kind != "const":
                    break
            else:  # every argument a constant (NB: a loop, not all(): the parser's hot path)
                return self._fold(op, args, line, kw)
        if self.simplify and op.identity is not None:
            same = op.identity(self, args)  # the identities of 0 and 1, from the ops table
            if same is not None:
                return same
        if self.share:
            key = (name, args, tuple(sorted(params.items())))
            found = self._shared.get(key)
            if found is not None:
                return found
            i = self._append("op", op, args, line=line, params=kw)
            self._shared[key] = i
            return i
        return self._append("op", op, args, line=line, params=kw)

    def named_copy(self, node: int, name: str, line: int | None = None) -> int:
        """A ``pos`` node called ``name`` that copies ``node`` (for ``b = a``)."""
        return self._append("op", OPS["pos"], (node,), name=name, line=line)

    # -- internals ---------------------------------------------------------------------
    def _append(
        self,
        kind: str,
        op: Op | None,
        args: tuple[int, ...],
        *,
        name: str | None = None,
        value: Any = None,
        line: int | None = None,
        symbol: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> int:
        i = len(self.nodes)
        self.nodes.append(Node(i, kind, op, args, name, value, line, symbol, params))
        return i

    def _fold(
        self, op: Op, args: tuple[int, ...], line: int | None, params: dict[str, Any] | None
    ) -> int:
        values = [self.nodes[a].value for a in args]
        try:
            out, problem = apply_checked(op, values, params)
        except (ValueError, IndexError):  # shapes that do not fit, an index too far
            # NB: left unfolded, so that the forward pass raises the error with the node's
            # name, its inputs' shapes and its line, as for shapes known only at a point.
            return self._append("op", op, args, line=line, params=params)
        if problem == "undefined":
            shown = [self.nodes[a].label for a in args]
            binary = bool(op.symbol) and len(shown) == 2
            if binary:  # NB: (-8) ^ 0.5, as it reads back, not -8 ^ 0.5, which is -(8^0.5)
                shown = [f"({t})" if t.startswith("-") else t for t in shown]
            text = f" {op.symbol} ".join(shown) if binary else f"{op.name}({', '.join(shown)})"
            hint = None
            if op.name == "pow" and np.ndim(values[0]) == 0 and float(values[0]) < 0:
                hint = NEGATIVE_POWER
            raise UndefinedError(f"{text} is undefined", line=line, hint=hint)
        if problem == "overflow":
            # NB: left unfolded, so it prints as written (exp(1000), not inf, which would read
            # back as a name) and the forward pass warns about it, naming its node.
            return self._append("op", op, args, line=line, params=params)
        return self.const(out)

    def is_const(self, i: int, value: float) -> bool:
        """Whether node ``i`` is the plain constant ``value`` (for identity rules)."""
        n = self.nodes[i]
        return n.kind == "const" and n.symbol is None and np.ndim(n.value) == 0 and n.value == value

    def op_args(self, i: int, name: str) -> tuple[int, ...]:
        """The arguments of node ``i`` if it is an ``name`` op, else ``()``."""
        n = self.nodes[i]
        return n.args if n.op is not None and n.op.name == name else ()

    def copy_from(self, graph: Graph, output: int | None = None) -> Graph:
        """Copy ``graph`` (pruned to what ``output`` needs) into this builder; finish it."""
        mapping = self.copy_nodes(graph)
        out = graph.output if output is None else output
        return self.finish(
            mapping[out], source=graph.source, inputs=[mapping[i] for i in graph.inputs]
        )

    def copy_nodes(self, graph: Graph) -> list[int]:
        """Append every node of ``graph``; return the new id of each old one."""
        mapping: list[int] = []
        for n in graph.nodes:
            if n.kind == "input":
                new = self.input(n.name or n.label, n.value, n.line, n.params)
            elif n.kind == "const":
                new = self.const(n.value, n.symbol)
            else:
                assert n.op is not None
                new = self.op(
                    n.op.name, *(mapping[a] for a in n.args), line=n.line, **(n.params or {})
                )
                if (
                    n.name is not None
                    and self.nodes[new].name is None
                    and self.nodes[new].kind == "op"
                ):
                    self.nodes[new].name = n.name
            mapping.append(new)
        return mapping

    def finish(
        self,
        output: int,
        *,
        source: str = "",
        inputs: Sequence[int] | None = None,
        output_name: str | None = None,
        copy_named: bool = False,
        also: Sequence[int] = (),
    ) -> Graph:
        """Prune to the nodes ``output`` (and the nodes ``also``) need, keeping every input;
        renumber, and name
        the unnamed op nodes ``t1, t2, ...`` in evaluation order.  The output is called
        ``output_name`` (``f1``, ``f2``, ... if that is taken); an output that is an input or
        already named keeps its name, or with ``copy_named`` gets a copy with the new name."""
        nodes = self.nodes
        keep = [False] * len(nodes)
        keep[output] = True
        for i in also:
            keep[i] = True
        for i in range(max(output, *also) if also else output, -1, -1):  # NB: args precede
            if keep[i]:
                for a in nodes[i].args:
                    keep[a] = True
        input_ids = list(self.inputs if inputs is None else inputs)
        for i in input_ids:
            keep[i] = True
        # NB: every name given so far is taken, kept or not: the output of ``f = x + 5; x*2``
        # is f1, never the user's f, even though f is not part of what the output needs.
        taken = {n.name for n in nodes if n.name is not None}
        if output_name is not None and (
            nodes[output].kind == "input" or nodes[output].name is not None
        ):
            if copy_named:
                # The expression ``x`` (or ``((x))``): its output is a copy called f.
                output = self.named_copy(output, "", None)
                keep.append(True)
            else:
                output_name = None  # e.g. a derivative that is just an input: d(xy)/dx = y
        if output_name is not None:
            base, k = output_name, 1
            while output_name in taken:  # a spec that names its own f: f1, f2, ...
                output_name = f"{base}{k}"
                k += 1
            taken.add(output_name)
        # NB: a list, and the old args tuple kept while no node before has been pruned (the
        # ids are then unchanged): a 1,000,000-term sum spends a fifth of its parse here
        new_id = [-1] * len(self.nodes)
        out_nodes: list[Node] = []
        counter = 0
        for i, n in enumerate(self.nodes):
            if not keep[i]:
                continue
            j = len(out_nodes)
            new_id[i] = j
            name = n.name
            if i == output and output_name is not None:
                name = output_name  # NB: an unnamed op, or the copy made above
            elif name is None and n.kind == "op":
                counter += 1
                while f"t{counter}" in taken:
                    counter += 1
                name = f"t{counter}"
            out_nodes.append(
                Node(
                    j,
                    n.kind,
                    n.op,
                    n.args if i == j else tuple([new_id[a] for a in n.args]),
                    name,
                    n.value,
                    n.line,
                    n.symbol,
                    n.params,
                )
            )
        seen: set[int] = set()
        ins = []
        for i in input_ids:
            if new_id[i] not in seen:
                seen.add(new_id[i])
                ins.append(new_id[i])
        return Graph(out_nodes, new_id[output], ins, source, self.diagnostics)

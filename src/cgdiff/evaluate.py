"""The forward pass: bind a point (or many points at once) to the inputs and compute the
value of every node with one loop over the graph.

Floating-point trouble is caught with numpy's error callback, which costs nothing when
nothing goes wrong; only then is the graph scanned to name the node at fault: an undefined
value (``log(-1)``, ``1/0``) is an :class:`UndefinedError`, an overflow is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import NEGATIVE_POWER, Diagnostic, InputError, UndefinedError, quoted_names
from .graph import Graph, array_text, format_number, shape_reason, shape_text
from .ops import apply_checked, suggest
from .primitive import ShapeError

__all__ = [
    "Batch",
    "Evaluation",
    "bind_point",
    "evaluate",
    "forward",
    "stack_columns",
    "stack_points",
]


class Batch(dict[str, Any]):
    """Several points at once: input name -> one value per point.

    A plain mapping is one point, whose values may be arrays; a batch is said so explicitly,
    never read from a value's shape (``x=[1, 2, 3]`` is a vector).

    >>> from cgdiff import parse
    >>> parse("x^2").eval(Batch(x=[1, 2, 3])).value
    array([1., 4., 9.])
    """


@dataclass
class Evaluation:
    """The result of a forward pass: every node's value at the point(s)."""

    graph: Graph
    point: dict[str, Any]  # input name -> value (0-d, or one entry per point)
    values: Sequence[Any]  # by node id: a list, or Joined (the points were split in chunks)
    batch: int | None  # number of points, or None for a single point
    forward_steps: int
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def value(self) -> Any:
        """The output's value.

        >>> from cgdiff import parse
        >>> float(parse("2x").eval(x=3).value)
        6.0
        """
        return self.values[self.graph.output]


class Joined(Sequence[Any]):
    """Values (or adjoints) of every node, computed over chunks of the points: a node's
    chunks are joined into one array the first time it is read, so that only the nodes that
    are read (the output, the gradient, a kink's inputs) cost a copy.

    >>> two = np.float64(2.0)
    >>> j = Joined([[two, np.array([1.0, 2.0]), None], [two, np.array([3.0]), None]])
    >>> j[0], j[1], j[2], len(j)
    (np.float64(2.0), array([1., 2., 3.]), None, 3)
    """

    def __init__(self, chunks: Sequence[Sequence[Any]]) -> None:
        self._chunks = chunks
        self._joined: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self._chunks[0])

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        i = range(len(self))[i]  # an int, negative from the end, or IndexError
        if i not in self._joined:
            first = self._chunks[0][i]
            # NB: a node that no input reaches (a constant) is one number in every chunk
            whole = first is None or np.ndim(first) == 0
            self._joined[i] = first if whole else np.concatenate([c[i] for c in self._chunks])
        return self._joined[i]


def _unknown(graph: Graph, name: str) -> InputError:
    if name in graph.by_name:
        n = graph.nodes[graph.by_name[name]]
        where = f" on line {n.line}" if n.line else ""
        return InputError(f"'{name}' is computed{where}, not an input; only inputs take values")
    close = suggest(name, graph.input_names, cutoff=0.6)
    inputs = ", ".join(graph.input_names)
    hint = (
        f"did you mean '{close}'?"
        if close
        else f"the inputs are: {inputs}"
        if inputs
        else "the expression has no inputs: it is a constant"
    )
    return InputError(f"'{name}' is not an input of this expression", hint=hint)


def stack_points(graph: Graph, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several points (one mapping each) as one batch: name -> array with one entry per point.
    An input a row leaves out takes its default.

    >>> from cgdiff import parse
    >>> stack_points(parse("w = 2; f = w*x"), [{"x": 1}, {"x": 2, "w": 3}])
    {'w': array([2., 3.]), 'x': array([1., 2.])}
    """
    _batchable(graph)
    defaults = graph.defaults()
    out: dict[str, list[float]] = {name: [] for name in graph.input_names}
    for row in rows:
        for name in row:
            if name not in out:
                raise _unknown(graph, name)
        for name, column in out.items():
            if name in row:
                if np.ndim(row[name]):
                    raise InputError(
                        f"'{name}' has shape {shape_text(np.shape(row[name]))} in point "
                        f"{len(column) + 1}; several points take one number per input: "
                        "give an array input at one point (one --at)"
                    )
                column.append(float(row[name]))
            elif name in defaults:
                column.append(defaults[name])
            else:
                raise InputError(f"no value for input '{name}' in point {len(column) + 1}")
    return Batch({name: np.array(column, dtype=float) for name, column in out.items()})


def stack_columns(graph: Graph, columns: Mapping[str, Any], n: int) -> dict[str, Any]:
    """:func:`stack_points` for points given a column at a time: name -> ``n`` numbers, or
    one number that every point shares.  An input with no column takes its default.

    >>> from cgdiff import parse
    >>> stack_columns(parse("w = 2; f = w*x"), {"x": [1.0, 2.0]}, 2)
    {'w': array([2., 2.]), 'x': array([1., 2.])}
    """
    _batchable(graph)
    for name in columns:
        if name not in graph.input_names:
            raise _unknown(graph, name)
    defaults = graph.defaults()
    out: dict[str, Any] = {}
    for name in graph.input_names:
        if name in columns:
            out[name] = np.broadcast_to(np.asarray(columns[name], dtype=float), (n,)).copy()
        elif name in defaults:
            out[name] = np.full(n, float(defaults[name]))
        else:
            raise InputError(f"no value for input '{name}' in point 1")
    return Batch(out)


def _batchable(graph: Graph) -> None:
    if not graph.elementwise:
        from .printing import node_formula

        first = next((n for n in graph.nodes if n.op is not None and not n.op.elementwise), None)
        where = ""
        if first is not None:
            line = f", line {first.line}" if first.line else ""
            where = f" ({first.label} = {node_formula(graph, first.id)}{line})"
        raise InputError(
            "several points need a spec of numbers; a spec with vectors or matrices"
            f"{where} takes one point at a time: give one --at"
        )


def bind_point(graph: Graph, point: Mapping[str, Any]) -> tuple[dict[int, Any], int | None]:
    """Check a point against the graph's inputs; return node id -> value and batch size."""
    known = set(graph.input_names)
    for name in point:
        if name not in known:
            raise _unknown(graph, name)
    several = isinstance(point, Batch)
    if several:
        _batchable(graph)
    bound: dict[int, Any] = {}
    batch: int | None = None
    missing = []
    for i in graph.inputs:
        n = graph.nodes[i]
        name = n.label
        if name in point:
            try:
                value = np.asarray(point[name], dtype=float)
            except (TypeError, ValueError, OverflowError):
                raise InputError(
                    f"the value of '{name}' is not a number or a rectangular array"
                ) from None
        elif n.value is not None:
            bound[i] = n.value  # a default: a finite numpy scalar already
            continue
        else:
            missing.append(name)
            continue
        if not several:
            if value.ndim == 0 and not np.isfinite(value):
                raise InputError(f"the value of '{name}' is not finite")
            bad = int(np.sum(~np.isfinite(value))) if value.ndim else 0
            if bad:  # data with holes: said, and carried through as NaN
                many = "entries are" if bad > 1 else "entry is"
                graph.diagnostics.append(Diagnostic(name, f"{bad} {many} NaN or infinite"))
            bound[i] = value
            continue
        if value.ndim > 1:
            raise InputError(
                f"the value of '{name}' has shape {shape_text(value.shape)}; "
                "give one number per point"
            )
        if value.ndim == 1:
            if batch is not None and len(value) != batch:
                raise InputError(
                    f"'{name}' has {len(value)} values but an earlier input has "
                    f"{batch}: every input needs one value per point"
                )
            batch = len(value)
        if not np.all(np.isfinite(value)):
            raise InputError(f"the value of '{name}' is not finite")
        bound[i] = value
    if missing:
        names = quoted_names(missing)
        # A missing input may be a misspelt name the spec assigns (velocty for velocity).
        close = [suggest(m, graph.assigned, cutoff=0.75) for m in missing[:3]]
        hint = (
            "; ".join(
                f"is '{m}' a misspelling of '{c}'?" for m, c in zip(missing, close) if c and c != m
            )
            or None
        )
        them = "them" if len(missing) > 1 else "it"
        raise InputError(
            f"no value for input{'s' if len(missing) > 1 else ''} {names}; give {them} a value",
            hint=hint,
        )
    for i, value in bound.items():
        if batch is not None:
            bound[i] = np.full(batch, value) if np.ndim(value) == 0 else value
        elif isinstance(value, np.ndarray) and value.ndim == 0:
            bound[i] = value[()]  # a numpy scalar: the fastest value numpy has
    return bound, batch


class _Flag:
    """numpy's floating-point error callback: remember that something happened."""

    def __init__(self) -> None:
        self.hit = False

    def __call__(self, kind: str, flag: int) -> None:
        self.hit = True


def forward(
    graph: Graph,
    bound: Mapping[int, Any],
    *,
    strict: bool = True,
    fixed: Mapping[int, Any] | None = None,
    batch: bool = False,
    flags: list[bool] | None = None,
) -> tuple[list[Any], int]:
    """Values of every node, and the steps taken (one per op node).

    With ``strict=False`` nothing is diagnosed: an undefined or overflowing value stays in
    the result as NaN or inf, for callers that mask such points out themselves (the
    random-point checks of formula answers in :mod:`cgdiff.check`).  ``fixed`` holds some
    op nodes at given values, so the nodes after them see those (a student's own numbers).
    ``batch`` says that the values hold several points (for the messages).  ``flags``, if
    given, is told whether any floating-point error (an overflow, a NaN) was seen.
    """
    values: list[Any] = [None] * len(graph.nodes)
    for n in graph.nodes:
        if n.kind == "const":
            values[n.id] = n.value
    for i, v in bound.items():
        values[i] = v
    flag = _Flag()
    steps = 0
    i = -1
    try:
        with np.errstate(all="call", under="ignore", call=flag):
            if not fixed:
                for i, fn, k, a0, a1, args in graph.plan():
                    if k == 1:
                        values[i] = fn(values[a0])
                    elif k == 2:
                        values[i] = fn(values[a0], values[a1])
                    else:
                        values[i] = fn(*[values[a] for a in args])
                    steps += 1
            else:  # NB: the same loop, holding the fixed nodes (kept apart: the hot path)
                for i, fn, _k, _a0, _a1, args in graph.plan():
                    values[i] = fn(*[values[a] for a in args])
                    steps += 1
                    if i in fixed:
                        values[i] = fixed[i]
    except (ValueError, IndexError) as exc:  # shapes that do not fit: name the node
        raise shape_error(graph, i, values, exc) from None
    if flags is not None:
        flags.append(flag.hit)
    if flag.hit and strict:
        _diagnose(graph, values, bound, batch)
    return values, steps


def shape_error(graph: Graph, i: int, values: Sequence[Any], exc: Exception) -> InputError:
    """The error for node ``i`` whose inputs' shapes do not fit its op: the node, its
    formula, its line, the shapes and what is wrong with them.

    >>> from cgdiff import parse
    >>> g = parse("a = [1, 2]\\nb = [1, 2, 3]\\nf = sum(a + b)")
    >>> g.eval()
    Traceback (most recent call last):
    cgdiff.errors.InputError: t1 = a + b (line 3): shapes 2 and 3 cannot be broadcast together
    """
    from .printing import node_formula

    n = graph.nodes[i]
    assert n.op is not None
    shapes = [np.shape(values[a]) for a in n.args]
    texts = [shape_text(sh) for sh in shapes]
    labels = [graph.nodes[a].label for a in n.args]
    params = n.params or {}
    axis = params.get("axis")
    if isinstance(exc, ShapeError):  # the op said it in a person's words
        why = str(exc)
    elif "index" in params:
        index, ndim = params["index"], len(shapes[0])
        where = ", ".join(map(str, index))
        if len(index) > ndim:
            why = (
                f"{len(index)} indices [{where}] for {labels[0]} of shape {texts[0]}, "
                f"which has {ndim} ax{'is' if ndim == 1 else 'es'}"
            )
        else:
            why = f"index [{where}] is out of range for {labels[0]} of shape {texts[0]}"
    elif axis is not None and not -len(shapes[0]) <= axis < max(len(shapes[0]), 1):
        ndim = len(shapes[0])
        have = f"axes 0 to {ndim - 1} (or -1 to -{ndim})" if ndim else "no axes"
        why = f"axis {axis} is out of range for {labels[0]} of shape {texts[0]}, which has {have}"
    elif n.op.elementwise and len(shapes) == 2 and "broadcast" in str(exc):
        why = f"shapes {' and '.join(texts)} cannot be broadcast together"
    else:
        why = shape_reason(exc, " and ".join(texts))
    line = f" (line {n.line})" if n.line else ""
    return InputError(f"{n.label} = {node_formula(graph, i)}{line}: {why}", line=n.line)


def describe_point(
    graph: Graph, bound: Mapping[int, Any] | Sequence[Any], index: int | None
) -> str:
    """``x=1, y=2`` (or the given point of a batch); ``bound`` maps input ids to values."""
    parts = []
    for i in graph.inputs:
        v = bound[i]
        v = v[index] if index is not None and np.ndim(v) else v
        if np.ndim(v):  # an array input: its entries when few, else its shape
            parts.append(f"{graph.nodes[i].label}={array_text(v)}")
        else:
            parts.append(f"{graph.nodes[i].label}={format_number(float(v))}")
    return ", ".join(parts)


def _diagnose(graph: Graph, values: list[Any], bound: Mapping[int, Any], batch: bool) -> None:
    """Find the first node whose value went wrong from good inputs; raise or warn."""
    from .printing import node_formula

    warned = graph.diagnostics
    for i in graph.op_ids:
        v = values[i]
        if np.all(np.isfinite(v)):
            continue
        n = graph.nodes[i]
        assert n.op is not None
        args = [values[a] for a in n.args]
        if n.op.elementwise:
            finite = np.broadcast_arrays(*[np.isfinite(a) for a in args]) if args else []
            good = np.logical_and.reduce(finite) if args else True
        else:  # entries do not line up with the inputs': all of them must be finite
            good = all(np.all(np.isfinite(a)) for a in args)
        bad = ~np.isfinite(v) & good
        if not np.any(bad):
            continue
        _, problem = apply_checked(n.op, args, n.params)
        flat = int(np.argmax(bad)) if np.ndim(bad) else None
        first = float(np.asarray(v).ravel()[flat or 0])
        if batch:
            at = describe_point(graph, bound, flat)
            where = f" (point {flat + 1})" if flat is not None else ""
        else:
            at = describe_point(graph, bound, None)
            entry = np.unravel_index(flat, np.shape(bad)) if flat is not None else None
            where = f" (entry [{', '.join(map(str, entry))}])" if entry else ""
        at = f" at {at}" if at else ""
        if problem == "undefined":
            negative = n.op.name == "pow" and bool(np.any((np.asarray(args[0]) < 0) & bad))
            raise UndefinedError(
                f"{n.label} = {node_formula(graph, i)} is undefined{at}{where}",
                hint=NEGATIVE_POWER if negative else None,
            )
        warned.append(
            Diagnostic(n.label, f"{node_formula(graph, i)} overflows to {first}{at}{where}")
        )


def evaluate(graph: Graph, point: Mapping[str, Any]) -> Evaluation:
    """Forward pass at a point (name -> number or array), or at many points at once (a
    :class:`Batch`: name -> one number per point).

    >>> from cgdiff import parse
    >>> evaluate(parse("x*y + z"), Batch(x=[1, 2], y=2, z=3)).value
    array([5., 7.])
    >>> evaluate(parse("sum(v^2)"), {"v": [1, 2, 3]}).value
    np.float64(14.0)
    """
    graph.diagnostics = [d for d in graph.diagnostics if d.node is None]
    bound, batch = bind_point(graph, point)
    return evaluate_bound(graph, bound, batch)


def evaluate_bound(graph: Graph, bound: dict[int, Any], batch: int | None) -> Evaluation:
    """:func:`evaluate` at a point already checked by :func:`bind_point` (whose warnings,
    a NaN in a data file, are kept with the graph's)."""
    values, steps = forward(graph, bound, batch=batch is not None)
    return evaluation(graph, bound, values, batch, steps)


def evaluation(
    graph: Graph, bound: dict[int, Any], values: Sequence[Any], batch: int | None, steps: int
) -> Evaluation:
    """The result of a forward pass whose values are computed."""
    names = dict(zip(graph.inputs, graph.input_names))
    named = {names[i]: v for i, v in bound.items()}
    return Evaluation(graph, named, values, batch, steps, list(graph.diagnostics))

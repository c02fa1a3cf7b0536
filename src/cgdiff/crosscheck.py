"""The two other modes of ``grad``, each measured against reverse mode: forward mode (one
tangent sweep per input entry, n × p steps) and central differences (two forward passes
per input entry).  Imported only when ``--mode forward`` or ``--mode numeric`` asks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .ad import Progress, _entries
from .errors import Diagnostic, UndefinedError
from .evaluate import forward
from .graph import Graph
from .ops import NUMERIC

#: Tangents pushed at once by forward mode, at most (and at most ~64 MB of them).
TANGENT_CHUNK = 256


def _forward_mode(
    graph: Graph,
    values: Sequence[Any],
    ids: Sequence[int],
    batch: int | None,
    progress: Progress | None,
) -> tuple[list[Any], int]:
    """Forward mode: one tangent sweep over the graph per scalar entry of each input, a
    chunk of entries pushed together (each tangent array has a leading axis, one entry per
    tangent); returns d output / d input for each input, and the steps (n per entry)."""
    nodes = graph.nodes
    out = graph.output
    plan = [(i, nodes[i].op, nodes[i].args, nodes[i].params or {}) for i in graph.op_ids]
    biggest = max((np.size(values[i]) for i in graph.op_ids), default=1)
    chunk = max(1, min(TANGENT_CHUNK, 8_000_000 // max(biggest, 1)))
    steps = 0
    result = []
    total = sum(_entries(values[w], batch) for w in ids)
    done = 0
    for w in ids:
        shape = () if batch is not None else np.shape(values[w])
        size = _entries(values[w], batch)
        found = np.zeros((size,) if batch is None else (1, batch))
        for start in range(0, size, chunk):
            k = min(chunk, size - start)
            tangent: list[Any] = [None] * len(nodes)
            if batch is not None:  # the input's one tangent, at every point at once
                tangent[w] = np.ones((1, batch))
            else:  # k rows of the identity: the tangents of entries start .. start+k-1
                seed = np.zeros((k, size))
                seed[np.arange(k), start + np.arange(k)] = 1.0
                tangent[w] = seed.reshape((k, *shape))
            for i, op, args, params in plan:
                steps += k  # one step per node per tangent pushed: the count is honest
                ts = [tangent[a] for a in args]
                if any(t is not None for t in ts):
                    tangent[i] = _jvp(op, [values[a] for a in args], values[i], params, ts)
            if tangent[out] is not None:
                found[start : start + k] = (
                    np.reshape(tangent[out], (k, -1))[:, 0] if batch is None else tangent[out]
                )
            done += k
            if progress is not None:
                progress(done, total)
        if batch is not None:
            result.append(found[0])
        else:
            result.append(found.reshape(shape) if shape else np.float64(found[0]))
    return result, steps


def _jvp(op: Any, xs: list[Any], out: Any, params: dict[str, Any], ts: list[Any]) -> Any:
    """The tangents of one node from its inputs' tangents (each with a leading axis)."""
    shape = np.shape(out)
    if not op.elementwise:
        t = op.jvp(xs, out, params, ts)
    else:  # the local derivatives times each tangent, lined up as numpy broadcasts
        t = None
        for p, tk, x in zip(op.partials(NUMERIC, xs, out, [t is not None for t in ts]), ts, xs):
            if tk is not None:
                pad = (1,) * (len(shape) - np.ndim(x))
                c = p * tk.reshape((tk.shape[0], *pad, *tk.shape[1:]))
                t = c if t is None else t + c
    return np.broadcast_to(t, (t.shape[0], *shape))


def _central(
    graph: Graph,
    bound: Mapping[int, Any],
    ids: Sequence[int],
    diagnostics: list[Diagnostic],
    batch: int | None,
    progress: Progress | None,
) -> tuple[dict[str, Any], int]:
    """Central differences, h = cbrt(machine epsilon) * max(1, |x|): two passes per scalar
    entry of each input (every point at once when there are several)."""
    steps = 0
    estimate = {}
    total = sum(_entries(bound[w], batch) for w in ids)
    done = 0
    for w in ids:
        x = np.asarray(bound[w], dtype=float)
        name = graph.nodes[w].label
        entries: list[Any] = [None]
        if batch is None and x.ndim:
            entries = list(np.ndindex(*x.shape))
        out: Any = np.full(x.shape if batch is None else (batch,), np.nan)
        for e in entries:
            base = x if e is None else x[e]
            h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(base))
            plus, minus = dict(bound), dict(bound)
            if e is None:
                plus[w], minus[w] = x + h, x - h
            else:
                xp, xm = x.copy(), x.copy()
                xp[e] += h
                xm[e] -= h
                plus[w], minus[w] = xp, xm
            try:
                vp, sp = forward(graph, plus, batch=batch is not None)
                vm, sm = forward(graph, minus, batch=batch is not None)
            except UndefinedError as exc:
                # x ± h left the domain (sqrt at 0): no estimate, and say why.
                diagnostics.append(
                    Diagnostic(
                        None,
                        f"central differences for {name} step outside the domain "
                        f"({exc.message}); the estimate is nan",
                    )
                )
                steps += 2 * graph.n_ops
            else:
                steps += sp + sm
                d = (vp[graph.output] - vm[graph.output]) / (2 * h)
                if e is None:
                    out = np.asarray(d, dtype=float) if np.ndim(d) else np.float64(d)
                else:
                    out[e] = d
            done += 1
            if progress is not None:
                progress(done, total)
        estimate[name] = out
    return estimate, steps

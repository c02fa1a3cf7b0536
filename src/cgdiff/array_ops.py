"""The array primitives of the ops table (SPEC section 9): matrix product, reductions,
softmax, indexing, array literals and the constructors ``randn zeros ones``.

None of them is elementwise, so each gives its reverse rule as a VJP (the adjoint of every
input, from the output's adjoint ``g``) and its forward-mode rule as a JVP (the output's
tangent from the inputs' tangents), as HIPS autograd's ``defvjp`` and JAX's rule tables do.
A matmul's local Jacobian is never formed: its VJP is ``g @ Bᵀ`` and ``Aᵀ @ g``.

VJPs are written with the builder's ops, like the scalar rules; ``unsum``, ``unindex`` and
``argmask`` are helper ops that VJPs call (not functions of the language).  JVPs run on
numbers only: their tangents carry a leading axis of tangents pushed at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .primitive import Builder, Op, ShapeError, Value, shape_text

__all__ = ["ARRAY_OPS", "size_of"]

#: The most entries one array may have (8 GB of float64); larger is refused before numpy
#: tries to allocate it.
MAX_ENTRIES = 1_000_000_000


def size_of(shape: Sequence[int]) -> int:
    """Entries of an array of ``shape`` (a Python int: no overflow).

    >>> size_of((784, 128)), size_of(())
    (100352, 1)
    """
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _no_partials(b: Builder, xs: Sequence[Value], out: Value, needs: Sequence[bool]) -> list[Any]:
    raise NotImplementedError("an array op has a VJP, not local derivatives")  # pragma: no cover


def _norm_axis(axis: int | None, ndim: int) -> int | None:
    return None if axis is None else axis % max(ndim, 1)


def _lead(axis: int | None, ndim: int) -> tuple[int, ...] | int:
    """The axes of a tangent (one leading axis of tangents) that ``axis`` of the value is."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    return int(axis % max(ndim, 1)) + 1


def _full(t: Any, shape: tuple[int, ...]) -> Any:
    """A tangent of a value of ``shape``, with its leading axis, broadcast to full size."""
    k = t.shape[0]
    extra = len(shape) + 1 - t.ndim
    return np.broadcast_to(t.reshape((k,) + (1,) * extra + t.shape[1:]), (k, *shape))


# -- forward functions -----------------------------------------------------------------------


def _no_axis_of_a_number(x: Any, axis: int | None) -> None:
    if axis is not None and np.ndim(x) == 0:
        raise ValueError(f"axis {axis} is out of range: the value is a number, it has no axes")


def _sum(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    _no_axis_of_a_number(x, axis)
    return np.sum(x, axis=axis, keepdims=keepdims)


def _mean(x: Any, axis: int | None = None) -> Any:
    _no_axis_of_a_number(x, axis)
    if np.size(x) == 0:  # NB: NaN (undefined, said so by the caller), without numpy's warning
        return np.sum(x, axis=axis) * np.nan
    return np.mean(x, axis=axis)


def _unsum(
    g: Any, *, shape: tuple[int, ...], axis: int | None = None, keepdims: bool = False
) -> Any:
    # The adjoint of a sum: put the summed axis back and repeat g along it.
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def _transpose(x: Any) -> Any:
    return np.swapaxes(x, -1, -2) if np.ndim(x) >= 2 else x


def _matmul(a: Any, b: Any) -> Any:
    sa, sb = np.shape(a), np.shape(b)
    shapes = f"shapes {shape_text(sa)} and {shape_text(sb)}"
    if not sa or not sb:
        raise ShapeError("@ multiplies vectors and matrices, not a scalar (use * for that)")
    if len(sa) > 2 or len(sb) > 2:
        raise ShapeError(f"@ multiplies vectors and matrices: at most 2 dimensions each ({shapes})")
    inner = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != inner:
        raise ShapeError(
            f"{shapes} do not fit: a matrix product needs the left's last size ({sa[-1]}) "
            f"to equal the right's first (or second-last) size ({inner})"
        )
    return np.matmul(a, b)


def _softmax(x: Any, axis: int = -1) -> Any:
    if np.ndim(x) == 0:
        return np.ones_like(x)
    # exp(x - max) cannot overflow; the max cancels in the ratio.
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


def _logsumexp(x: Any, axis: int | None = None) -> Any:
    _no_axis_of_a_number(x, axis)
    if np.ndim(x) == 0:
        return x
    # log(sum(exp(x))) overflows for large x; m + log(sum(exp(x - m))) does not.
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def _norm(x: Any) -> Any:
    return np.sqrt(np.sum(np.square(x)))


def _amax(x: Any) -> Any:
    return np.max(x)


def _amin(x: Any) -> Any:
    return np.min(x)


def _argmask(x: Any, m: Any) -> Any:
    # Where x takes its extreme m; a tie shares the derivative equally.
    hit = np.equal(x, m).astype(float)
    return hit / np.sum(hit)


def _index(x: Any, *, index: tuple[int, ...]) -> Any:
    return x[index]


def _unindex(g: Any, *, shape: tuple[int, ...], index: tuple[int, ...]) -> Any:
    out = np.zeros(shape)
    out[index] = g
    return out


def _stack(*xs: Any) -> Any:
    shapes = list(dict.fromkeys(shape_text(np.shape(x)) for x in xs))
    if len(shapes) > 1:
        raise ShapeError(f"a ragged array literal: its entries have shapes {' and '.join(shapes)}")
    if xs and np.ndim(xs[0]) >= MAX_DIMS:  # numpy's own limit: [[[...]]] nested 65 deep
        raise ShapeError(
            f"an array literal nested {np.ndim(xs[0]) + 1} deep: arrays have at most "
            f"{MAX_DIMS} dimensions"
        )
    return np.stack(xs)


MAX_DIMS = 64  # numpy's limit on an array's dimensions


def _randn(*, shape: tuple[int, ...], seed: tuple[int, int]) -> Any:
    # Each randn call of a spec draws from its own stream of the run's seed: runs repeat.
    return np.random.default_rng(list(seed)).standard_normal(shape)


def _zeros(*, shape: tuple[int, ...]) -> Any:
    return np.zeros(shape)


def _ones(*, shape: tuple[int, ...]) -> Any:
    return np.ones(shape)


# -- VJPs (builder ops) and JVPs (numbers) -----------------------------------------------------


def _sum_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    return [b.op("unsum", g, shape=np.shape(xs[0]), **p)]


def _sum_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    return np.sum(
        ts[0], axis=_lead(p.get("axis"), np.ndim(xs[0])), keepdims=p.get("keepdims", False)
    )


def _mean_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    count = np.size(xs[0]) // max(np.size(out), 1)
    return [b.div(b.op("unsum", g, shape=np.shape(xs[0]), **p), b.const(float(count)))]


def _mean_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    return np.mean(ts[0], axis=_lead(p.get("axis"), np.ndim(xs[0])))


def _unsum_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    axis, keep = p.get("axis"), p.get("keepdims", False)
    return [b.op("sum", g, axis=axis, keepdims=keep) if axis is not None else b.op("sum", g)]


def _unsum_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    t = ts[0]
    if p.get("axis") is not None and not p.get("keepdims", False):
        t = np.expand_dims(t, _lead(p["axis"], np.ndim(out)))
    return np.broadcast_to(t, (t.shape[0], *p["shape"]))


def _transpose_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    return [b.op("transpose", g)]


def _transpose_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    return np.swapaxes(ts[0], -1, -2) if np.ndim(xs[0]) >= 2 else ts[0]


def _matmul_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value | None]:
    a, m = xs
    na, nm = np.ndim(a), np.ndim(m)
    ga = gm = None
    if na == 1 and nm == 1:  # an inner product: g is a number
        return [b.mul(g, m) if needs[0] else None, b.mul(g, a) if needs[1] else None]
    if needs[0]:
        if nm == 1:  # ∂/∂A = g ⊗ B
            ga = b.mul(b.op("unsum", g, shape=np.shape(a), axis=-1), m)
        elif na == 1:  # a row vector times a matrix: B g
            ga = b.op("matmul", m, g)
        else:  # ∂/∂A = g Bᵀ
            ga = b.op("matmul", g, b.op("transpose", m))
    if needs[1]:
        if na == 1:  # ∂/∂B = A ⊗ g
            gm = b.mul(b.op("unsum", a, shape=np.shape(m), axis=-1), g)
        elif nm == 1:  # Aᵀ g
            gm = b.op("matmul", b.op("transpose", a), g)
        else:  # ∂/∂B = Aᵀ g
            gm = b.op("matmul", b.op("transpose", a), g)
    return [ga, gm]


def _matmul_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    a, m = xs
    ta, tm = ts
    acc = None
    if ta is not None:  # tA B: one matrix product over every tangent at once
        if np.ndim(m) == 2:
            acc = (ta.reshape(-1, m.shape[0]) @ m).reshape((*ta.shape[:-1], m.shape[1]))
        else:
            acc = np.matmul(ta, m)
    if tm is not None:
        if np.ndim(m) == 1:  # A tB with tB a stack of vectors: tB Aᵀ
            c = np.matmul(tm, np.swapaxes(a, -1, -2) if np.ndim(a) > 1 else a)
        elif np.ndim(a) == 2 and tm.ndim == 3:  # A tB for every tangent: one product
            c = np.moveaxis(np.tensordot(a, tm, axes=([1], [1])), 1, 0)
        else:
            c = np.matmul(a, tm)
        acc = c if acc is None else acc + c
    return acc


def _softmax_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    # J = diag(s) - s sᵀ, so gᵀJ = s ⊙ (g - Σ g ⊙ s): no n×n Jacobian.
    if np.ndim(out) == 0:  # the softmax of a number is 1, whatever the number
        return [b.mul(g, b.zero)]
    axis = p.get("axis", -1)
    return [b.mul(out, b.sub(g, b.op("sum", b.mul(g, out), axis=axis, keepdims=True)))]


def _softmax_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    if np.ndim(out) == 0:  # the softmax of a number is 1, whatever the number
        return np.zeros_like(ts[0])
    ax = _lead(p.get("axis", -1), np.ndim(out))
    return out * (ts[0] - np.sum(out * ts[0], axis=ax, keepdims=True))


def _logsumexp_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    # ∂/∂x logsumexp(x) = softmax(x) = exp(x - logsumexp(x)).
    shape, x = np.shape(xs[0]), xs[0]
    back = b.op("unsum", out, shape=shape, **p)
    return [b.mul(b.op("unsum", g, shape=shape, **p), b.op("exp", b.sub(x, back)))]


def _logsumexp_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    x, axis = xs[0], p.get("axis")
    s = np.exp(x - _unsum(out, shape=np.shape(x), axis=axis))
    return np.sum(s * ts[0], axis=_lead(axis, np.ndim(x)))


def _norm_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    return [b.mul(g, b.div(xs[0], out))]  # ∂‖x‖/∂x = x / ‖x‖


def _norm_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    return np.sum(xs[0] * ts[0], axis=_lead(None, np.ndim(xs[0]))) / out


def _extreme_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    return [b.mul(g, b.op("argmask", xs[0], out))]


def _extreme_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    mask = _argmask(xs[0], out)
    return np.sum(mask * ts[0], axis=_lead(None, np.ndim(xs[0])))


def _tie(x: Any, *_: Any) -> Any:
    return np.sum(np.equal(x, np.max(x))) > 1 or np.sum(np.equal(x, np.min(x))) > 1


def _zero_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value | None]:
    return [None for _ in xs]  # piecewise constant: no adjoint flows


def _zero_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    k = next(t.shape[0] for t in ts if t is not None)
    return np.zeros((k, *np.shape(out)))


def _index_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    return [b.op("unindex", g, shape=np.shape(xs[0]), index=p["index"])]


def _index_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    return ts[0][(slice(None), *p["index"])]


def _unindex_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value]:
    return [b.op("index", g, index=p["index"])]


def _unindex_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    t = ts[0]
    z = np.zeros((t.shape[0], *p["shape"]))
    z[(slice(None), *p["index"])] = t
    return z


def _stack_vjp(
    b: Builder, g: Value, xs: Sequence[Value], out: Value, p: dict[str, Any], needs: Sequence[bool]
) -> list[Value | None]:
    return [b.op("index", g, index=(k,)) if w else None for k, w in enumerate(needs)]


def _stack_jvp(xs: Sequence[Any], out: Any, p: dict[str, Any], ts: Sequence[Any]) -> Any:
    shape = np.shape(xs[0])
    k = next(t.shape[0] for t in ts if t is not None)
    parts = [np.zeros((k, *shape)) if t is None else _full(t, shape) for t in ts]
    return np.stack(parts, axis=1)


def _array(
    name: str, forward: Any, vjp: Any, jvp: Any, summary: str, rule: str, **extra: Any
) -> Op:
    extra.setdefault("latex", f"\\operatorname{{{{{name}}}}}\\left({{0}}\\right)")
    extra.setdefault("domain", ((-3.0, 3.0),))
    arity = extra.pop("arity", (1, 1))
    latex, domain = extra.pop("latex"), extra.pop("domain")
    return Op(
        name,
        arity,
        forward,
        _no_partials,
        summary,
        rule,
        latex,
        domain,
        elementwise=False,
        vjp=vjp,
        jvp=jvp,
        **extra,
    )


def _table() -> list[Op]:
    return [
        _array(
            "matmul",
            _matmul,
            _matmul_vjp,
            _matmul_jvp,
            "A @ B or dot(A, B): matrix product (vectors too: an inner product)",
            "∂/∂A = g Bᵀ, ∂/∂B = Aᵀ g",
            arity=(2, 2),
            symbol="@",
            prec=2,
            assoc="left",
            aliases=("dot",),
            args=("A", "B"),
            latex="{0} {1}",
            spelling="@ dot",
            explain=("{g}·{y}ᵀ", "{x}ᵀ·{g}"),
        ),
        _array(
            "transpose",
            _transpose,
            _transpose_vjp,
            _transpose_jvp,
            "the matrix transpose (swaps the last two axes; a vector is unchanged)",
            "∂/∂x = gᵀ",
            latex="{0}^{{\\top}}",
            explain=("{g}ᵀ",),
        ),
        _array(
            "sum",
            _sum,
            _sum_vjp,
            _sum_jvp,
            "sum(x): every entry added; sum(x, axis) along one axis",
            "∂/∂x = g repeated over the summed entries",
            arity=(1, 2),
            static="axis",
            args=("x", "axis"),
            latex="\\sum {0}",
            explain=("{g} repeated to {shape}",),
        ),
        _array(
            "mean",
            _mean,
            _mean_vjp,
            _mean_jvp,
            "mean(x): the mean of every entry; mean(x, axis) along one axis",
            "∂/∂x = g / N, repeated over the N entries",
            arity=(1, 2),
            static="axis",
            args=("x", "axis"),
            explain=("{g}/N repeated to {shape}",),
        ),
        _array(
            "amax",
            _amax,
            _extreme_vjp,
            _extreme_jvp,
            "max(x) with one argument: the largest entry",
            "∂/∂x = g where x is largest, else 0",
            aliases=("max",),
            kink=_tie,
            spelling="max(x)",
            convention="max(x) has a tie; the derivative is split equally among the tied entries",
            explain=("{g} at the largest entry",),
        ),
        _array(
            "amin",
            _amin,
            _extreme_vjp,
            _extreme_jvp,
            "min(x) with one argument: the smallest entry",
            "∂/∂x = g where x is smallest, else 0",
            aliases=("min",),
            kink=_tie,
            spelling="min(x)",
            convention="min(x) has a tie; the derivative is split equally among the tied entries",
            explain=("{g} at the smallest entry",),
        ),
        _array(
            "softmax",
            _softmax,
            _softmax_vjp,
            _softmax_jvp,
            "softmax(x): exp(x)/sum(exp(x)) along the last axis (or softmax(x, axis))",
            "∂/∂x = s ⊙ (g - sum(g ⊙ s)), s = softmax(x)",
            arity=(1, 2),
            static="axis",
            args=("x", "axis"),
            explain=("s⊙({g} - Σ {g}⊙s)",),
        ),
        _array(
            "logsumexp",
            _logsumexp,
            _logsumexp_vjp,
            _logsumexp_jvp,
            "log(sum(exp(x))), without overflow; logsumexp(x, axis) along one axis",
            "∂/∂x = g softmax(x)",
            arity=(1, 2),
            static="axis",
            args=("x", "axis"),
            explain=("{g}·softmax({x})",),
        ),
        _array(
            "norm",
            _norm,
            _norm_vjp,
            _norm_jvp,
            "the Euclidean (Frobenius) norm, sqrt(sum(x^2))",
            "∂/∂x = g x / norm(x)",
            latex="\\left\\|{0}\\right\\|",
            explain=("{g}·{x}/‖{x}‖",),
        ),
        _array(
            "index",
            _index,
            _index_vjp,
            _index_jvp,
            "x[0], W[1, 2], v[-1]: one entry (or row) at constant indices",
            "∂/∂x = g at that entry, 0 elsewhere",
            callable=False,
            spelling="x[i, j]",
            latex="{0}_{{i}}",
            explain=("{g} at [{index}]",),
        ),
        _array(
            "stack",
            _stack,
            _stack_vjp,
            _stack_jvp,
            "[a, b, c], [[1, 2], [3, 4]]: an array literal",
            "∂/∂(entry k) = g[k]",
            arity=(1, 1_000_000),
            callable=False,
            spelling="[a, b, ...]",
            latex="[{0}]",
        ),
        _array(
            "randn",
            _randn,
            None,
            None,
            "randn(m, n): standard normal entries (--seed N; default 0, so runs repeat)",
            "a constant",
            arity=(1, 8),
            static="shape",
            args=("m", "n"),
        ),
        _array(
            "zeros",
            _zeros,
            None,
            None,
            "zeros(m, n): an array of zeros",
            "a constant",
            arity=(1, 8),
            static="shape",
            args=("m", "n"),
        ),
        _array(
            "ones",
            _ones,
            None,
            None,
            "ones(m, n): an array of ones",
            "a constant",
            arity=(1, 8),
            static="shape",
            args=("m", "n"),
        ),
        # Helpers that the VJPs above call.
        _array(
            "unsum",
            _unsum,
            _unsum_vjp,
            _unsum_jvp,
            "the adjoint of a sum",
            "",
            internal=True,
            callable=False,
        ),
        _array(
            "unindex",
            _unindex,
            _unindex_vjp,
            _unindex_jvp,
            "the adjoint of an index",
            "",
            internal=True,
            callable=False,
        ),
        _array(
            "argmask",
            _argmask,
            _zero_vjp,
            _zero_jvp,
            "where x is extreme, shared by ties",
            "",
            internal=True,
            callable=False,
            arity=(2, 2),
        ),
    ]


ARRAY_OPS: list[Op] = _table()

"""The types of the ops table: what one primitive's record holds, and what a rule may call.

:mod:`cgdiff.ops` holds the table itself (the scalar primitives) and :mod:`cgdiff.array_ops`
the array primitives; both build their records from :class:`Op`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Builder", "Op", "Rule", "ShapeError", "Value", "shape_text"]

Value = Any  # a number (numpy scalar or array) or a node handle, depending on the builder


class Builder(Protocol):
    """What a derivative rule may call: constants and the ops of this table."""

    @property
    def one(self) -> Value: ...
    @property
    def zero(self) -> Value: ...

    def const(self, value: float) -> Value: ...
    def op(self, name: str, *args: Value, **params: Any) -> Value: ...
    def add(self, x: Value, y: Value) -> Value: ...
    def sub(self, x: Value, y: Value) -> Value: ...
    def mul(self, x: Value, y: Value) -> Value: ...
    def div(self, x: Value, y: Value) -> Value: ...
    def neg(self, x: Value) -> Value: ...
    def pow(self, x: Value, y: Value) -> Value: ...


# A rule maps (builder, inputs, output, needs) to one local derivative per input: the partial
# derivative of the node's value with respect to that input.  ``needs[k]`` is False when the
# k-th input does not depend on anything being differentiated; a rule may then return None
# for it (pow does, so that ``x^2`` never asks for ``log(x)``).
Rule = Callable[[Builder, Sequence[Value], Value, Sequence[bool]], Sequence[Value | None]]


@dataclass(frozen=True)
class Op:
    """One primitive.  ``symbol``/``prec``/``assoc`` are for infix operators only."""

    name: str
    arity: tuple[int, int]
    forward: Callable[..., Any]
    partials: Rule
    summary: str
    rule: str
    latex: str
    domain: tuple[tuple[float, float], ...]
    symbol: str | None = None
    prec: int = 9
    assoc: str | None = None
    callable: bool = True
    aliases: tuple[str, ...] = ()
    kink: Callable[..., Any] | None = None
    convention: str = ""
    args: tuple[str, ...] = field(default=("x",))
    # For one-input ops, the same rule as ``partials`` in the form (builder, x, out) -> the
    # one local derivative: the backward loop calls it without building lists.
    unary: Callable[[Builder, Value, Value], Value] | None = None
    # For ops whose local derivatives are constants (+1 or -1), those constants: the backward
    # loop then adds or subtracts the adjoint without calling the rule.
    linear: tuple[float, ...] | None = None
    # For x*y: the local derivative with respect to each input is the other input, so the
    # backward loop multiplies by it without calling the rule.
    bilinear: bool = False
    # How a user writes it, for ``cgdiff ops`` (default: the symbol, or the name).
    spelling: str = ""
    # Identities of 0 and 1 that a graph builder may apply when it appends this op: given
    # the builder and the argument nodes, the node to use instead, or None.  Only identities
    # that keep every value where the original is defined (x*0 -> 0 may turn x = inf into 0,
    # where x*0 was nan: x is then not defined as a number anyway).
    identity: Callable[[Any, tuple[int, ...]], int | None] | None = None
    # Elementwise ops (most of the table) broadcast as numpy does: their ``partials`` are
    # multiplied entry by entry with the adjoint (or tangent), and a broadcast input's
    # adjoint is summed back to its shape in one place, the reverse pass.  Other ops (matmul,
    # sum, softmax, ...) give their reverse rule as a VJP and their forward rule as a JVP.
    elementwise: bool = True
    # VJP: (builder, adjoint g, inputs, output, params, needs) -> each input's adjoint (None
    # where ``needs`` is False).  Written with the builder's ops, like the partials.
    vjp: Callable[..., Sequence[Value | None]] | None = None
    # JVP: (inputs, output, params, tangents) -> the output's tangent.  Tangents carry a
    # leading axis, one entry per tangent pushed at once; None where an input has none.
    jvp: Callable[..., Value] | None = None
    # Trailing call arguments that are not nodes but constant integers, kept as the node's
    # params: "axis" (sum(x, 1)), "shape" (randn(3, 4): every argument).
    static: str | None = None
    # How ``--explain`` says each input's adjoint, in matrix terms: templates over
    # {out} (the output node), {node}, {x}, {y} (the inputs), {gshape}, {shape}.
    explain: tuple[str, ...] = ()
    # Not a function of the language (a helper that VJP rules call): not in ``cgdiff ops``.
    internal: bool = False


class ShapeError(ValueError):
    """An op's inputs whose shapes do not fit, said in a person's words (the forward pass
    reports it as it stands, naming the node and its line)."""


def shape_text(shape: Sequence[int]) -> str:
    """``64×784`` for a shape; ``scalar`` for ().

    >>> shape_text((64, 784)), shape_text((3,)), shape_text(())
    ('64×784', '3', 'scalar')
    """
    return "×".join(str(d) for d in shape) if len(shape) else "scalar"

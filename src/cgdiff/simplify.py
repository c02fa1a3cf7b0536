"""The simplifier: a graph rebuilt through canonical sums and products, so that a derivative
reads like one worked by hand.

One loop over the flat graph, in evaluation order, gives every node a *normal form*: a sum
``const + Σ coef · monomial``, where a monomial is a product of *atoms* raised to powers
(an atom is an input, ``pi`` or ``e``, an irrational constant, or any node that is not
``+ - * / ^``, such as ``sin(...)``; exponents are numbers or nodes).  The normal form of a
node is made from those of its inputs; nodes are appended to a hash-consing
:class:`~cgdiff.graph.GraphBuilder` only when a normal form has to become a node (the
argument of ``sin``, the base of a power, the result), so equal subexpressions are one node.

What it does:

- constant folding, and the identities of 0 and 1 (``x + 0``, ``1*x``, ``x^1``, ``x^0``, ``0*x``);
- like terms collected (``2x + 3x`` → ``5*x``, ``x - x`` → ``0``) and powers of one base
  gathered (``x*x*x`` → ``x^3``, ``x/x`` → ``1``, ``x^2/x`` → ``x``, ``x*x^(x-1)`` → ``x^x``);
- a number times a sum distributed (``2*(x + 1)`` → ``2*x + 2``), and a sum that becomes a
  factor written with its common number and sign in front (``(2x + 2)*y`` → ``2*y*(x + 1)``);
- integer powers of products spread over the factors (``(2*x*y)^2`` → ``4*x^2*y^2``);
- signs pulled to the front (``-(a/b)`` → ``-a/b``, ``a + -b`` → ``a - b``), positive terms
  first, numbers last (``-x + 1`` → ``1 - x``), simple fractions as fractions (``x/3``);
- irrational constants the rules produce shown by name (``0.6931…`` → ``log(2)``).

What it does not do, on purpose: expand products of sums (``x*(x + 1) - x^2`` stays), factor,
use trigonometric or logarithmic identities (``sin(x)^2 + cos(x)^2`` stays), or combine powers
where that is wrong for some real values: ``(x^2)^(1/2)`` is ``|x|``, not ``x``, so a power of
a power is merged only for an integer outer exponent, and ``cbrt`` is never ``x^(1/3)``.
Every rewrite keeps the value at every point where the original is defined (up to rounding);
a few make an expression defined where it was not (``x/x`` is 1 also at 0).  An expression
that is undefined everywhere (``1/(x - x)``) is an :class:`~cgdiff.errors.UndefinedError`.

Sharing and size: a node used more than once whose normal form has more than
:data:`SHARED_PARTS` terms (or factors) stays one node, written once, instead of being copied
into every use; and like terms are collected among at most :data:`MAX_PARTS` terms (and
factors) at a time: a longer sum is kept as a sum of groups.  So the result has O(n) nodes
for a graph of n nodes, at the price of not collecting terms across those boundaries.
Terms are written in a fixed order (atoms in the order the expression first uses them;
higher powers first), so the output does not depend on how a rule happened to order them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Sequence
from fractions import Fraction

import numpy as np

from .errors import InputError, UndefinedError
from .graph import Graph, GraphBuilder, Node, format_number
from .ops import OPS, apply_checked

__all__ = ["MAX_PARTS", "SHARED_PARTS", "input_order", "simplify", "simplify_many"]

MAX_PARTS = 32  # terms of a sum (or factors of a product) gathered in one place
SHARED_PARTS = 4  # a node used twice or more with more parts than this stays one node
_MAX_DENOMINATOR = 1000  # numbers p/q with q up to this are written as fractions

# An exponent is ``number + node`` (node -1: none), so that x^(x-1) * x^1 is x^x without
# comparing expressions; a monomial is a tuple of (atom node, exponent) sorted by node.
Exp = tuple[float, int]
Mono = tuple[tuple[int, Exp], ...]
_ONE: Exp = (1.0, -1)


class _Sum:
    """A normal form: ``const + Σ terms[m] * m``.  Treated as immutable once built."""

    __slots__ = ("const", "terms")

    def __init__(self, const: float = 0.0, terms: dict[Mono, float] | None = None) -> None:
        self.const = const
        self.terms: dict[Mono, float] = {} if terms is None else terms

    @property
    def size(self) -> int:
        return len(self.terms) + (self.const != 0.0)

    def single(self) -> tuple[float, Mono] | None:
        """``(coef, monomial)`` when the sum is one term and nothing else."""
        if self.const == 0.0 and len(self.terms) == 1:
            ((m, c),) = self.terms.items()
            return c, m
        return None


class _OverflowError(Exception):
    """A coefficient left the finite floats: keep that operation as it is written."""


@functools.lru_cache(maxsize=4096)  # the same few coefficients come back again and again
def _ratio(c: float) -> tuple[int, int] | None:
    """``(p, q)`` when ``c`` is the fraction p/q with a small q, else None.

    >>> _ratio(0.5), _ratio(1/3), _ratio(-6.0), _ratio(math.pi)
    ((1, 2), (1, 3), (-6, 1), None)
    """
    if not math.isfinite(c):
        return None
    if c.is_integer():
        return int(c), 1
    f = Fraction(c).limit_denominator(_MAX_DENOMINATOR)
    if abs(f.numerator / f.denominator - c) <= 2 * math.ulp(c):
        return f.numerator, f.denominator
    return None


def _snap(c: float) -> float:
    """A coefficient within rounding error of a simple fraction p/q, as the float p/q:
    ``0.2*0.2`` is 0.04, not 0.04000000000000001, so it prints as 1/25.

    >>> _snap(0.2 * 0.2), _snap(1 / 0.04000000000000001), _snap(math.pi) == math.pi
    (0.04, 25.0, True)
    """
    if c.is_integer() or not math.isfinite(c):
        return c
    r = _ratio(c)
    return r[0] / r[1] if r is not None else c


def _known_constants() -> dict[float, tuple[str, int, int]]:
    """Irrational numbers the derivative rules produce, by value: how to write them.

    ``("log", k, 1)`` is log(k), ``("sqrt", k, 1)`` is sqrt(k), ``("pi", p, q)`` is pi*p/q.
    """
    known: dict[float, tuple[str, int, int]] = {}
    for p in range(12, 0, -1):
        for q in range(12, 0, -1):
            if math.gcd(p, q) == 1:
                for v in (math.pi * p / q, math.pi / q * p, p * math.pi / q):
                    known[v] = ("pi", p, q)
    for k in range(10, 1, -1):
        known[math.log(k)] = ("log", k, 1)
        known[float(np.log(float(k)))] = ("log", k, 1)
        if math.isqrt(k) ** 2 != k:
            known[math.sqrt(k)] = ("sqrt", k, 1)
    return known


_KNOWN = _known_constants()


def _key(m: Mono) -> tuple[tuple[int, tuple[float, ...]], ...]:
    """Where a term goes in a sum: compared on its last-made atom first, then the next...;
    for one atom, higher powers first.  ``2*x*sin(x) + x^2*cos(x)``, ``x^2 + 2*x + 1``."""
    return tuple((b, (0.0, -n) if s < 0 else (1.0, float(s), -n)) for b, (n, s) in reversed(m))


class _Simplifier:
    """Normal forms of the nodes of one or more graphs, built into one shared builder."""

    def __init__(self, order: Sequence[str] = ()) -> None:
        self.b = GraphBuilder(fold=False, share=True)
        self.inputs: dict[str, int] = {}
        self.order = list(order)  # input names in the order their atoms should sort
        self.declared: dict[str, Node] = {}
        self.forms: dict[int, _Sum] = {}  # built node -> the normal form it was built from
        self.kept: dict[int, str] = {}
        # NB: the work is bounded: a tower x^x^...^x has a derivative whose normal form takes
        # time quadratic in its height (1,000 levels: a million terms, 8 MB of text), so a
        # text or derivative too large to write out is refused, not simplified for hours
        self.steps_left = 0
        self._algebra: dict[str, Callable[..., _Sum]] = {
            "add": self.add,
            "sub": self.sub,
            "mul": self.mul,
            "div": self.div,
            "neg": lambda a: self.scale(a, -1.0),
            "pos": lambda a: a,
            "pow": self.power,
        }

    # -- the walk --------------------------------------------------------------------------
    def run(self, graph: Graph, keep: Collection[str] = ()) -> int:
        """Simplify ``graph`` into the builder; return the node of its output."""
        nodes = graph.nodes
        from .parse import max_tokens

        self.steps_left += 2 * max_tokens() + len(nodes)  # NB: derivatives take < 1 a node
        forms: list[_Sum | None] = [None] * len(nodes)
        for i in graph.inputs:
            self.declared.setdefault(nodes[i].label, nodes[i])
        if not keep:  # inputs first, so x*y*... terms come before cos(x) in a sum; with named
            for name in self.order:  # nodes kept, inputs come as used: a = c + b stays so
                if name in self.declared and name not in self.inputs:
                    self._make(self.declared[name])

        def form(a: int) -> _Sum:
            s = forms[a]
            if s is None:  # inputs and constants are made when first used, so that atoms
                n = nodes[a]  # sort in the order of use: x*log(2), not log(2)*x
                s = forms[a] = (
                    self.atom(self.input(n))
                    if n.kind == "input"
                    else self.constant(float(n.value), n.symbol)
                )
            return s

        uses = [0] * len(nodes)
        for n in nodes:
            for a in n.args:
                uses[a] += 1
        left = list(uses)  # uses still to come: a form no later node needs is dropped
        left[graph.output] += 1
        for n in nodes:
            if n.kind != "op":
                continue
            assert n.op is not None
            s = self.apply(n.op.name, [form(a) for a in n.args])
            for a in n.args:
                left[a] -= 1
                if left[a] == 0 and nodes[a].kind == "op":
                    forms[a] = None
            if n.name is not None and n.name in keep:
                s = self.atom(self.keep(s, n.name))
            elif s.size > MAX_PARTS or any(len(m) > MAX_PARTS for m in s.terms):
                s = self.atom(self.build(s))  # NB: the bound that keeps this linear
            elif uses[n.id] > 1 and (
                s.size > SHARED_PARTS or any(len(m) > SHARED_PARTS for m in s.terms)
            ):
                s = self.shared(s)  # NB: used again, so written once rather than copied
            forms[n.id] = s
        return self.build(form(graph.output))

    def shared(self, s: _Sum) -> _Sum:
        """A node used more than once, as one atom times its number."""
        one = s.single()
        if one is not None:
            c, m = one
            return _Sum(0.0, {((self.build(_Sum(0.0, {m: 1.0})), _ONE),): c})
        g, rest = self.content(s)
        return _Sum(0.0, {((self.build(rest), _ONE),): g})

    def input(self, n: Node) -> int:
        """The input's node, made when first used.  Atoms sort by node id, so the inputs
        listed before it in ``order`` are made first: ``w*x`` stays ``w*x`` even when a
        derivative rule happens to use ``x`` first."""
        name = n.label
        if name not in self.inputs:
            if name in self.order:
                for earlier in self.order[: self.order.index(name)]:
                    if earlier not in self.inputs and earlier in self.declared:
                        self._make(self.declared[earlier])
            self._make(n)
        return self.inputs[name]

    def _make(self, n: Node) -> None:
        default = None if n.value is None else float(n.value)
        self.inputs[n.label] = self.b.input(n.label, default, n.line)

    def keep(self, s: _Sum, name: str) -> int:
        """Build ``s`` as a node called ``name`` (a named node of a spec, for --keep-nodes)."""
        i = self.build(s)
        node = self.b.nodes[i]
        if node.kind == "op" and node.name is None:
            node.name = name
            self.kept[i] = name
        return i

    def apply(self, name: str, args: Sequence[_Sum]) -> _Sum:
        rule = self._algebra.get(name)
        try:
            return rule(*args) if rule is not None else self.call(name, args)
        except _OverflowError:
            return self.atom(self.b.op(name, *(self.build(a) for a in args)))

    # -- leaves ----------------------------------------------------------------------------
    @staticmethod
    def atom(i: int) -> _Sum:
        return _Sum(0.0, {((i, _ONE),): 1.0})

    def constant(self, v: float, symbol: str | None = None) -> _Sum:
        if symbol is not None or not math.isfinite(v):
            return self.atom(self.b.const(v, symbol))
        if _ratio(v) is not None:
            return _Sum(v)
        if v < 0:
            return self.scale(self.constant(-v), -1.0)
        known = _KNOWN.get(v)
        if known is None:
            return self.atom(self.b.const(v))
        kind, p, q = known
        if kind == "pi":
            pi = self.b.const(math.pi, "pi")
            return _Sum(0.0, {((pi, _ONE),): p / q})
        return self.atom(self.b.op(kind, self.b.const(float(p))))

    def form(self, i: int) -> _Sum:
        """The normal form of a built node (-1: the empty sum)."""
        if i < 0:
            return _Sum()
        s = self.forms.get(i)
        if s is not None:
            return s
        n = self.b.nodes[i]
        if n.kind == "const":
            return self.constant(float(n.value), n.symbol)
        return self.atom(i)

    # -- sums ------------------------------------------------------------------------------
    @staticmethod
    def scale(a: _Sum, c: float) -> _Sum:
        if c == 1.0:
            return a
        if c == 0.0:
            return _Sum()
        out = _Sum(_snap(a.const * c), {m: _snap(v * c) for m, v in a.terms.items()})
        if not math.isfinite(out.const) or not all(map(math.isfinite, out.terms.values())):
            raise _OverflowError
        return out

    @staticmethod
    def add(a: _Sum, b: _Sum) -> _Sum:
        if len(a.terms) < len(b.terms):
            a, b = b, a
        terms = dict(a.terms)
        for m, v in b.terms.items():
            w = _snap(terms.get(m, 0.0) + v)
            if w == 0.0:
                terms.pop(m, None)
            else:
                terms[m] = w
        const = _snap(a.const + b.const)
        if not math.isfinite(const) or not all(map(math.isfinite, terms.values())):
            raise _OverflowError
        return _Sum(const, terms)

    def sub(self, a: _Sum, b: _Sum) -> _Sum:
        return self.add(a, self.scale(b, -1.0))

    # -- products --------------------------------------------------------------------------
    def mul(self, a: _Sum, b: _Sum) -> _Sum:
        if not a.terms:
            return self.scale(b, a.const)
        if not b.terms:
            return self.scale(a, b.const)
        ca, ma = self.as_factor(a)
        cb, mb = self.as_factor(b)
        c = _snap(ca * cb)
        if not math.isfinite(c):
            raise _OverflowError
        m = self.mono_mul(ma, mb)
        return _Sum(0.0, {m: c}) if m else _Sum(c)

    def div(self, a: _Sum, b: _Sum) -> _Sum:
        if not b.terms and b.const == 0.0:
            raise UndefinedError("it divides by 0 at every point")
        return self.mul(a, self.power(b, _Sum(-1.0)))

    def as_factor(self, s: _Sum) -> tuple[float, Mono]:
        """A sum as ``coef * monomial``: a sum of several terms becomes one atom, with its
        common number and sign taken out (``-2x - 2`` is ``-2 * (x + 1)``)."""
        one = s.single()
        if one is not None:
            return one
        g, rest = self.content(s)
        return g, ((self.build(rest), _ONE),)

    def content(self, s: _Sum) -> tuple[float, _Sum]:
        """The sum's common number g (negative when its first term is) and the sum / g."""
        items = self.ordered(s)
        ratios = [_ratio(c) for _, c in items]
        g = 1.0
        if all(r is not None for r in ratios):
            num = den = 0
            for r in ratios:
                assert r is not None
                num = math.gcd(num, r[0])
                den = r[1] if den == 0 else den * r[1] // math.gcd(den, r[1])
            g = num / den
        if items and items[0][1] < 0:
            g = -g
        if g == 1.0:
            return 1.0, s
        return g, _Sum(_snap(s.const / g), {m: _snap(v / g) for m, v in s.terms.items()})

    def mono_mul(self, m1: Mono, m2: Mono) -> Mono:
        out: list[tuple[int, Exp]] = []
        i = j = 0
        while i < len(m1) and j < len(m2):
            (b1, e1), (b2, e2) = m1[i], m2[j]
            if b1 < b2:
                out.append(m1[i])
                i += 1
            elif b2 < b1:
                out.append(m2[j])
                j += 1
            else:
                e = self.exp_add(e1, e2)
                if e != (0.0, -1):
                    out.append((b1, e))
                i += 1
                j += 1
        out.extend(m1[i:])
        out.extend(m2[j:])
        return tuple(out)

    def exp_add(self, e1: Exp, e2: Exp) -> Exp:
        n = e1[0] + e2[0]
        if e1[1] < 0 and e2[1] < 0:
            return n, -1
        return self.split(self.add(self.form(e1[1]), self.form(e2[1])), n)

    def exp_scale(self, e: Exp, q: float) -> Exp:
        if e[1] < 0:
            return e[0] * q, -1
        return self.split(self.scale(self.form(e[1]), q), e[0] * q)

    def split(self, s: _Sum, n: float = 0.0) -> Exp:
        """An exponent ``n + s`` as (number, node)."""
        total = n + s.const
        if not s.terms:
            return total, -1
        return total, self.build(_Sum(0.0, s.terms))

    def power(self, a: _Sum, e: _Sum) -> _Sum:
        b = self.b
        if e.terms:  # a symbolic exponent
            n, sym = self.split(e)
            one = a.single()
            if one is not None and one[0] == 1.0 and len(one[1]) == 1 and one[1][0][1] == _ONE:
                return _Sum(0.0, {((one[1][0][0], (n, sym)),): 1.0})
            if not a.terms and a.const > 0:
                return _Sum(0.0, {((self.build(a), (n, sym)),): 1.0})
            return self.atom(b.pow(self.build(a), self.build(e)))
        q = e.const
        if q == 0.0:
            return _Sum(1.0)  # x^0 is 1 for every x (numpy: 0^0 = 1)
        if q == 1.0:
            return a
        if not a.terms:
            return self.fold_power(a.const, q)
        if q.is_integer():
            c, m = self.as_factor(a)
            try:
                coef = _snap(c**q)
            except (OverflowError, ZeroDivisionError):
                raise _OverflowError from None
            if not math.isfinite(coef):
                raise _OverflowError
            return _Sum(0.0, {tuple((x, self.exp_scale(ex, q)) for x, ex in m): coef})
        one = a.single()
        if one is not None and one[0] == 1.0 and len(one[1]) == 1 and one[1][0][1] == _ONE:
            return _Sum(0.0, {((one[1][0][0], (q, -1)),): 1.0})
        # NB: (x^2)^(1/2) is |x|: a non-integer power of anything else stays as written.
        return self.atom(b.pow(self.build(a), self.build(e)))

    def fold_power(self, c: float, q: float) -> _Sum:
        with np.errstate(all="ignore"):
            v = float(np.power(c, q))
        if math.isnan(v) or (math.isinf(v) and c == 0.0):
            raise UndefinedError(
                f"it computes {format_number(c)}^{format_number(q)}, undefined, at every point"
            )
        if math.isinf(v):
            raise _OverflowError
        return self.constant(v)

    # -- other ops ---------------------------------------------------------------------------
    def call(self, name: str, args: Sequence[_Sum]) -> _Sum:
        if all(not a.terms for a in args):
            values = [np.float64(a.const) for a in args]
            out, problem = apply_checked(OPS[name], values)
            if problem == "undefined":
                shown = ", ".join(format_number(float(v)) for v in values)
                raise UndefinedError(f"it computes {name}({shown}), undefined, at every point")
            if problem is None:
                return self.constant(float(out))
        return self.atom(self.b.op(name, *(self.build(a) for a in args)))

    # -- normal form -> nodes ------------------------------------------------------------------
    @staticmethod
    def ordered(s: _Sum) -> list[tuple[Mono | None, float]]:
        """The parts of a sum in the order they are written (None stands for the number)."""
        items: list[tuple[Mono | None, float]] = [
            (m, s.terms[m]) for m in sorted(s.terms, key=_key)
        ]
        if s.const != 0.0:
            items.append((None, s.const))
        if items and items[0][1] < 0:  # a positive part first: 1 - x, not -x + 1
            for k, (_, c) in enumerate(items):
                if c > 0:
                    items.insert(0, items.pop(k))
                    break
        return items

    def build(self, s: _Sum) -> int:
        """The node for a normal form (appended to the builder, or found there)."""
        b = self.b
        items = self.ordered(s)
        if not items:
            return self.number(0.0)
        acc = -1
        for m, c in items:
            if acc < 0:
                acc = self.term(m, c)
            elif c > 0:
                acc = b.add(acc, self.term(m, c))
            else:
                acc = b.sub(acc, self.term(m, -c))
        self.forms.setdefault(acc, s)
        return acc

    def number(self, c: float) -> int:
        b = self.b
        r = _ratio(c)
        if r is None:
            return b.const(c)
        p, q = r
        return b.const(float(p)) if q == 1 else b.div(b.const(float(p)), b.const(float(q)))

    def term(self, m: Mono | None, c: float) -> int:
        """``c * m`` written as numerator / denominator, the number and sign in front."""
        b = self.b
        if m is None:
            return self.number(c)
        self.steps_left -= 1
        if self.steps_left < 0:
            raise InputError(
                "the derivative is too large to work out as a formula: simplifying it took "
                "more steps than the limit (it grows faster than the expression, as that of "
                "a tower x^x^...^x does)",
                hint="cgdiff grad gives its value at a point; the environment variable "
                "CGDIFF_MAX_TOKENS raises the limit",
            )
        top: list[int] = []
        bottom: list[int] = []
        for x, (n, s) in m:
            if s < 0 and n < 0:
                bottom.append(self.factor(x, (-n, -1)))
            else:
                top.append(self.factor(x, (n, s)))
        r = _ratio(abs(c))
        p, q = (float(r[0]), float(r[1])) if r is not None else (abs(c), 1.0)
        if p != 1.0:
            top.insert(0, b.const(p))
        if q != 1.0:
            bottom.insert(0, b.const(q))
        if c < 0:
            if p != 1.0:
                top[0] = b.const(-p)
            elif top:
                top[0] = b.neg(top[0])
            else:
                top.append(b.const(-1.0))
        if not top:
            top.append(b.const(1.0))
        out = _chain(b, top)
        if bottom:
            out = b.div(out, _chain(b, bottom))
        self.forms.setdefault(out, _Sum(0.0, {m: c}))
        return out

    def factor(self, x: int, e: Exp) -> int:
        b = self.b
        n, s = e
        if s < 0:
            return x if n == 1.0 else b.pow(x, self.number(n))
        if n == 0.0:
            return b.pow(x, s)
        exponent = b.add(s, self.number(n)) if n > 0 else b.sub(s, self.number(-n))
        return b.pow(x, exponent)


def _chain(b: GraphBuilder, factors: list[int]) -> int:
    out = factors[0]
    for f in factors[1:]:
        out = b.mul(out, f)
    return out


def input_order(graph: Graph) -> list[str]:
    """The inputs in the order the graph first uses them (then any unused ones).

    >>> from cgdiff import parse
    >>> input_order(parse("x = 1; w = 2; c = w*x + y"))
    ['w', 'x', 'y']
    """
    seen: dict[str, None] = {}
    for i in graph.op_ids:
        for a in graph.nodes[i].args:
            if graph.nodes[a].kind == "input":
                seen.setdefault(graph.nodes[a].label)
    for name in graph.input_names:
        seen.setdefault(name)
    return list(seen)


def simplify(
    graph: Graph,
    *,
    keep: Collection[str] = (),
    output_name: str | None = None,
    order: Sequence[str] | None = None,
) -> Graph:
    """``graph`` with its output rebuilt in simplified form (inputs kept, in order).

    ``keep`` names nodes to keep as named nodes (for ``diff --keep-nodes``); ``order`` is the
    order in which inputs are written in a product or sum (default: :func:`input_order`).

    >>> from cgdiff import parse
    >>> from cgdiff.printing import to_text
    >>> to_text(simplify(parse("x*x*x + 2x - x + 3x*1")))
    'x^3 + 4*x'
    """
    s = _Simplifier(input_order(graph) if order is None else order)
    out = s.run(graph, keep)
    inputs = [s.input(graph.nodes[i]) for i in graph.inputs]
    return s.b.finish(
        out, source=graph.source, inputs=inputs, output_name=output_name or graph.output_name
    )


def simplify_many(
    graphs: Sequence[Graph],
    *,
    keep: Collection[str] = (),
    order: Sequence[str] = (),
) -> tuple[Graph, list[int]]:
    """Several graphs simplified into one graph (equal parts shared), and the node of each
    one's output.  Only nodes named in ``keep`` have names.  ``order`` is as for
    :func:`simplify` (default: the order of the first graph's inputs).

    >>> from cgdiff import parse
    >>> g, outs = simplify_many([parse("sin(x)^2"), parse("2*sin(x)")])
    >>> [g.nodes[o].opname for o in outs]
    ['pow', 'mul']
    """
    s = _Simplifier(order or (graphs[0].input_names if graphs else ()))
    outs = [s.run(g, keep) for g in graphs]
    inputs = [s.input(g.nodes[i]) for g in graphs for i in g.inputs]
    nodes = s.b.nodes
    live = [False] * len(nodes)
    for o in outs:
        live[o] = True
    for i in inputs:
        live[i] = True
    for i in range(len(nodes) - 1, -1, -1):  # NB: args always precede their node
        if live[i]:
            for a in nodes[i].args:
                live[a] = True
    new_id: dict[int, int] = {}
    out_nodes: list[Node] = []
    for n in nodes:
        if live[n.id]:
            j = new_id[n.id] = len(out_nodes)
            out_nodes.append(
                Node(
                    j,
                    n.kind,
                    n.op,
                    tuple(new_id[a] for a in n.args),
                    n.name if n.kind == "input" or n.id in s.kept else None,
                    n.value,
                    n.line,
                    n.symbol,
                )
            )
    ins = list(dict.fromkeys(new_id[i] for i in inputs))
    mapped = [new_id[o] for o in outs]
    source = graphs[0].source if graphs else ""
    return Graph(out_nodes, mapped[-1] if mapped else 0, ins, source), mapped

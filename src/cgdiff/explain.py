"""``grad --explain``: the forward pass and each chain-rule step of the backward pass, in
words, with the numbers substituted (scalar nodes) or the shapes of every product (arrays).
The HTML page of :mod:`cgdiff.page` steps through the same lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .ad import Gradient
from .graph import shape_text
from .printing import node_formula
from .report import _formula, _steps, fmt_number, steps_text

__all__ = ["explain", "explain_steps"]


def explain(r: Gradient) -> str:
    """The forward pass line by line, then each chain-rule step of the backward pass with
    the numbers substituted, accumulating where a node feeds several others.

    >>> from cgdiff import parse
    >>> print(explain(parse("a=5; b=3; c=2; u=b*c; v=a+u; J=3v").grad(record=True)))
    ... # doctest: +ELLIPSIS
    Forward pass (3 steps): each node from its inputs
      u = b * c = 3 · 2 = 6
      v = a + u = 5 + 6 = 11
      J = 3 * v = 3 · 11 = 33
    <BLANKLINE>
    Backward pass (6 steps): adjoints ∂J/∂node, from the output back, by the chain rule
      ∂J/∂J = 1
      ∂J/∂v = ∂J/∂J · ∂J/∂v = 1 · 3 = 3
      ∂J/∂a = ∂J/∂v · ∂v/∂a = 3 · 1 = 3
      ∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3
      ∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6
      ∂J/∂c = ∂J/∂u · ∂u/∂c = 3 · 3 = 9
    <BLANKLINE>
    Gradient: ∂J/∂a = 3, ∂J/∂b = 6, ∂J/∂c = 9
    ...
    """
    out = r.graph.output_name
    steps = explain_steps(r)
    lines = [f"Forward pass ({_steps(r.steps.forward)}): each node from its inputs"]
    lines += ["  " + t for kind, _, texts in steps if kind == "forward" for t in texts]
    if r.adjoints is None or r.local_ids is None:
        lines.append("")
        lines.append(f"Forward mode ran {_steps(r.steps.forward_mode)}: one sweep per input.")
    else:
        lines += [
            "",
            f"Backward pass ({_steps(r.steps.backward)}): adjoints ∂{out}/∂node, "
            "from the output back, by the chain rule",
        ]
        lines += ["  " + t for kind, _, texts in steps if kind == "backward" for t in texts]
    grads = ", ".join(f"∂{out}/∂{k} = {fmt_number(v)}" for k, v in r.gradient.items())
    lines += ["", f"Gradient: {grads}", ""]
    lines += steps_text(r.steps)
    return "\n".join(lines)


def _is_array(values: Sequence[Any], n: Any) -> bool:
    return bool(np.ndim(values[n.id]) or any(np.ndim(values[a]) for a in n.args))


def _matrix_steps(r: Gradient, n: Any) -> list[str]:
    """The chain rule of an array node in matrix terms, with the shapes of each product:
    ``∂L/∂W1 = Xᵀ·∂L/∂t1   (784×64 · 64×128 → 784×128)``."""
    g, values = r.graph, r.values
    out = g.output_name
    op = n.op
    assert op is not None
    gname = f"∂{out}/∂{n.label}"
    shapes = {"g": np.shape(values[n.id])}
    labels = {"g": gname}
    for key, a in zip("xy", n.args):
        shapes[key], labels[key] = np.shape(values[a]), g.nodes[a].label
    lines = []
    for k, a in enumerate(n.args):
        if g.nodes[a].kind == "const":
            continue
        name, target = g.nodes[a].label, shape_text(np.shape(values[a]))
        if op.elementwise:
            local = f"∂{n.label}/∂{name}"
            text = f"∂{out}/∂{name} = {gname} ⊙ {local}"
            summed = np.shape(values[a]) != shapes["g"]
            note = f"{shape_text(shapes['g'])}, entry by entry" + (
                f", summed to {target}" if summed else ""
            )
        else:
            template = op.explain[k] if k < len(op.explain) else "{g}"
            index = ", ".join(str(v) for v in (n.params or {}).get("index", ()))
            text = f"∂{out}/∂{name} = " + template.format(**labels, shape=target, index=index)
            parts = [
                shape_text(shapes[m.group(1)][::-1] if m.group(2) else shapes[m.group(1)])
                for m in re.finditer(r"\{([gxy])\}(ᵀ?)", template)
            ]
            note = f"{' · '.join(parts)} → {target}"
        lines.append(f"{text}   ({note})")
    return lines


def explain_steps(r: Gradient) -> list[tuple[str, int, list[str]]]:
    """The lines of :func:`explain`'s two passes, one step per node: ``("forward", id,
    [line])`` for each op in evaluation order, then ``("backward", id, lines)`` for the
    output's seed and for each op from the output back (a line per input it passes an
    adjoint to).

    >>> from cgdiff import parse
    >>> for step in explain_steps(parse("u = b*c").grad(b=3, c=2, record=True)):
    ...     print(step)
    ('forward', 2, ['u = b * c = 3 · 2 = 6'])
    ('backward', 2, ['∂u/∂u = 1'])
    ('backward', 2, ['∂u/∂b = ∂u/∂u · ∂u/∂b = 1 · 2 = 2', '∂u/∂c = ∂u/∂u · ∂u/∂c = 1 · 3 = 3'])
    """
    g, ev = r.graph, r.evaluation
    adj, local = r.adjoints, r.local_ids
    out = g.output_name
    steps: list[tuple[str, int, list[str]]] = []
    for i in g.op_ids:
        n = g.nodes[i]
        if _is_array(ev.values, n):  # shapes, not numbers: (64×784 @ 784×128 → 64×128)
            sym = f" {n.op.symbol} " if n.op is not None and n.op.symbol else ", "
            ins = sym.join(shape_text(np.shape(ev.values[a])) for a in n.args)
            shape = shape_text(np.shape(ev.values[i]))
            steps.append(("forward", i, [f"{n.label} = {_formula(g, i)}   ({ins} → {shape})"]))
            continue
        vals = [fmt_number(ev.values[a]) for a in n.args]
        with_values = node_formula(g, i, vals).replace(" * ", " · ")
        steps.append(
            (
                "forward",
                i,
                [f"{n.label} = {_formula(g, i)} = {with_values} = {fmt_number(ev.values[i])}"],
            )
        )
    if adj is None or local is None:
        return steps
    steps.append(("backward", g.output, [f"∂{out}/∂{out} = 1"]))
    total: dict[int, Any] = {}
    for i in reversed(g.op_ids):
        n = g.nodes[i]
        ps = local[i]
        if adj[i] is not None and _is_array(ev.values, n):
            lines = _matrix_steps(r, n)
            if lines:
                steps.append(("backward", i, lines))
            continue
        if ps is None or adj[i] is None:
            continue
        lines = []
        for a, p in zip(n.args, ps):
            if p is None or g.nodes[a].kind == "const":
                continue
            if g.nodes[a].kind == "input" and g.nodes[a].label not in r.gradient:
                continue  # NB: not asked for (--wrt): the pass counts no step for it
            name = g.nodes[a].label
            with np.errstate(all="ignore"):  # inf/nan are shown as data, never warned
                c = adj[i] * p
            chain = (
                f"∂{out}/∂{n.label} · ∂{n.label}/∂{name} = {fmt_number(adj[i])} · {fmt_number(p)}"
            )
            if a in total:
                with np.errstate(all="ignore"):
                    total[a] = total[a] + c
                lines.append(
                    f"∂{out}/∂{name} += {chain} = {fmt_number(c)}, "
                    f"so ∂{out}/∂{name} = {fmt_number(total[a])}"
                )
            else:
                total[a] = c
                lines.append(f"∂{out}/∂{name} = {chain} = {fmt_number(c)}")
        if lines:
            steps.append(("backward", i, lines))
    return steps

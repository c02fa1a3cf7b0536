"""Generators of benchmark inputs: a big random model spec, and a fixed 30-node expression.

>>> spec = big_spec(n_nodes=50, n_inputs=5)
>>> spec.count("\\n") > 5
True
"""

from __future__ import annotations

import random

# Line shapes: (template, op nodes it adds).  Every shape keeps values in [-1, 1] when its
# operands are, so a long chain neither overflows nor dies away.
SHAPES = [
    ("tanh({a} + {b})", 2),
    ("{a} * {b}", 1),
    ("sin({a}) * {b}", 2),
    ("cos({a} - {b})", 2),
    ("sigmoid({a} * {b}) - {c}", 3),
    ("{a} * {b} * {c}", 2),
]


def big_spec(n_nodes: int = 10_000, n_inputs: int = 1_000, seed: int = 0) -> str:
    """A spec of about ``n_nodes`` operations on ``n_inputs`` inputs with default values;
    every node feeds the output, so nothing is pruned."""
    rng = random.Random(seed)
    lines = [f"input{i} = {rng.uniform(-1, 1):.6f}" for i in range(n_inputs)]
    unused = [f"input{i}" for i in range(n_inputs)]
    rng.shuffle(unused)
    names = list(unused)
    ops = 0
    k = 0
    while ops < n_nodes - n_inputs // 2:
        template, cost = SHAPES[rng.randrange(len(SHAPES))]
        first = unused.pop() if unused else rng.choice(names)
        args = {"a": first, "b": rng.choice(names), "c": rng.choice(names)}
        name = f"node{k}"
        lines.append(f"{name} = {template.format(**args)}")
        names.append(name)
        unused.insert(0, name)
        ops += cost
        k += 1
    # Sum what no node used yet, so every node feeds the output.
    lines.append("J = " + " + ".join(unused))
    return "\n".join(lines) + "\n"


# A 30-node expression of two inputs, and its gradient written by hand with numpy.
EXPR30 = (
    "tanh(x*y + sin(x)) * exp(-x^2/2) + log(1 + y^2) * cos(x - y) "
    "+ sqrt(x^2 + y^2 + 1) / (1 + sigmoid(x*y)) - x*y*sin(y)"
)

"""The problems of bench/bench_check.py's answer key, each with its value and gradient
written by hand with ``math`` (no numpy, no cgdiff), for the baseline and for writing the
key."""

from __future__ import annotations

import math
from collections.abc import Callable


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# (expression, inputs, value, gradient): the value and gradient written by hand.
Fn = Callable[..., float]
TEMPLATES: list[tuple[str, tuple[str, ...], Fn, tuple[Fn, ...]]] = [
    (
        "x*y + z",
        ("x", "y", "z"),
        lambda x, y, z: x * y + z,
        (lambda x, y, z: y, lambda x, y, z: x, lambda x, y, z: 1.0),
    ),
    (
        "sin(x)*y + exp(z/3)",
        ("x", "y", "z"),
        lambda x, y, z: math.sin(x) * y + math.exp(z / 3),
        (
            lambda x, y, z: math.cos(x) * y,
            lambda x, y, z: math.sin(x),
            lambda x, y, z: math.exp(z / 3) / 3,
        ),
    ),
    (
        "(a + b*c)^2 / 2",
        ("a", "b", "c"),
        lambda a, b, c: (a + b * c) ** 2 / 2,
        (
            lambda a, b, c: a + b * c,
            lambda a, b, c: (a + b * c) * c,
            lambda a, b, c: (a + b * c) * b,
        ),
    ),
    (
        "log(1 + x^2) * y",
        ("x", "y"),
        lambda x, y: math.log(1 + x * x) * y,
        (lambda x, y: 2 * x / (1 + x * x) * y, lambda x, y: math.log(1 + x * x)),
    ),
    (
        "sigmoid(w*x + b)",
        ("w", "x", "b"),
        lambda w, x, b: _sig(w * x + b),
        (
            lambda w, x, b: _sig(w * x + b) * (1 - _sig(w * x + b)) * x,
            lambda w, x, b: _sig(w * x + b) * (1 - _sig(w * x + b)) * w,
            lambda w, x, b: _sig(w * x + b) * (1 - _sig(w * x + b)),
        ),
    ),
    (
        "sqrt(x^2 + y^2 + 1)",
        ("x", "y"),
        lambda x, y: math.sqrt(x * x + y * y + 1),
        (
            lambda x, y: x / math.sqrt(x * x + y * y + 1),
            lambda x, y: y / math.sqrt(x * x + y * y + 1),
        ),
    ),
    (
        "tanh(a*b) - c",
        ("a", "b", "c"),
        lambda a, b, c: math.tanh(a * b) - c,
        (
            lambda a, b, c: (1 - math.tanh(a * b) ** 2) * b,
            lambda a, b, c: (1 - math.tanh(a * b) ** 2) * a,
            lambda a, b, c: -1.0,
        ),
    ),
    (
        "x^3 - 2x y + y^2",
        ("x", "y"),
        lambda x, y: x**3 - 2 * x * y + y * y,
        (lambda x, y: 3 * x * x - 2 * y, lambda x, y: -2 * x + 2 * y),
    ),
]

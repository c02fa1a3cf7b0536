"""Benchmark of ``cgdiff check`` (issue 3).  Run by hand:

    python bench/bench_check.py              # 1,000 problems
    python bench/bench_check.py --n 5000     # more
    python bench/bench_check.py --sympy      # also time a sympy-based checker here

It writes an answer key of N small problems (value + gradient at a point, the answers
computed by hand-written lambdas), then prints:

1. in-process: ``load_key`` + ``check_key``, in problems per second;
2. the whole ``cgdiff check key.toml --format json`` process (target: under 0.75 s);
3. beside them, the same checks with precompiled hand-written lambdas (measured here), and
   the reference figures of the issue: a sympy-based checker 3.8 s, lambdas 0.19 s for the
   whole run.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cgdiff.check import DEFAULT_ATOL, DEFAULT_RTOL, check_key, load_key

REFERENCE = {"sympy-based checker": 3.8, "precompiled hand-written lambdas": 0.19}
TARGET = 0.75  # seconds for the whole command on 1,000 problems


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


def make_problems(n: int, seed: int = 0) -> list[tuple[int, dict[str, float]]]:
    """``n`` (template index, point) pairs, points in [-2, 2]."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        t = k % len(TEMPLATES)
        names = TEMPLATES[t][1]
        out.append((t, {v: round(float(rng.uniform(-2, 2)), 3) for v in names}))
    return out


def write_key(path: Path, problems: list[tuple[int, dict[str, float]]]) -> None:
    lines = ["[defaults]", f"rtol = {DEFAULT_RTOL}", f"atol = {DEFAULT_ATOL}", ""]
    for k, (t, point) in enumerate(problems, start=1):
        expr, names, value, grads = TEMPLATES[t]
        args = [point[v] for v in names]
        at = ", ".join(f"{v} = {point[v]!r}" for v in names)
        grad = ", ".join(f"{v} = {g(*args)!r}" for v, g in zip(names, grads, strict=True))
        lines += [
            "[[problem]]",
            f'name = "p{k}"',
            f'expr = "{expr}"',
            f"at = {{ {at} }}",
            f"expect.value = {value(*args)!r}",
            f"expect.grad = {{ {grad} }}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def lambdas_check(problems: list[tuple[int, dict[str, float]]], key: Path) -> float:
    """The baseline: read the same key and check it with the hand-written lambdas."""
    import tomllib

    start = time.perf_counter()
    data = tomllib.loads(key.read_text(encoding="utf-8"))
    ok = 0
    for table, (t, _) in zip(data["problem"], problems, strict=True):
        _, names, value, grads = TEMPLATES[t]
        args = [float(table["at"][v]) for v in names]
        want = [value(*args)] + [g(*args) for g in grads]
        got = [table["expect"]["value"]] + [table["expect"]["grad"][v] for v in names]
        ok += all(
            abs(a - b) <= DEFAULT_ATOL + DEFAULT_RTOL * abs(a)
            for a, b in zip(want, got, strict=True)
        )
    assert ok == len(problems)
    return time.perf_counter() - start


def sympy_check(key: Path) -> float:
    """A sympy-based checker of the same key: sympify, differentiate, substitute."""
    import tomllib

    import sympy

    start = time.perf_counter()
    data = tomllib.loads(key.read_text(encoding="utf-8"))
    for table in data["problem"]:
        text = table["expr"].replace("^", "**").replace("2x y", "2*x*y")
        f = sympy.sympify(text, locals={"sigmoid": lambda u: 1 / (1 + sympy.exp(-u))})
        subs = {sympy.Symbol(k): v for k, v in table["at"].items()}
        float(f.subs(subs))
        for k in table["expect"]["grad"]:
            float(sympy.diff(f, sympy.Symbol(k)).subs(subs))
    return time.perf_counter() - start


def whole_command(key: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "cgdiff", "check", str(key), "--format", "json"],
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - start)
        if r.returncode != 0:
            raise SystemExit(f"cgdiff check failed ({r.returncode}): {r.stderr[:500]}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="problems in the key")
    ap.add_argument("--repeat", type=int, default=5, help="runs of the whole command")
    ap.add_argument("--sympy", action="store_true", help="also time a sympy-based checker")
    args = ap.parse_args()
    problems = make_problems(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.toml"
        write_key(key, problems)
        start = time.perf_counter()
        report = check_key(load_key(key))
        inproc = time.perf_counter() - start
        assert report.failed == 0, [p for p in report.problems if not p.passed][:1]
        times = whole_command(key, args.repeat)
        base = min(lambdas_check(problems, key) for _ in range(3))
        sym = sympy_check(key) if args.sympy else None
    n = args.n
    best = min(times)
    print(f"cgdiff check: {n} problems (value + gradient at a point)")
    print(f"  in-process load + check      {inproc:7.3f} s   {n / inproc:9.0f} problems/s")
    print(
        f"  whole command, --format json {best:7.3f} s   (best of {len(times)}; "
        f"median {statistics.median(times):.3f} s; target < {TARGET} s"
        f"{' for 1,000' if n != 1000 else ''}: {'met' if best < TARGET else 'NOT met'})"
    )
    print(
        f"  hand-written lambdas, here   {base:7.3f} s   {n / base:9.0f} problems/s "
        "(checking only: no process start, no parsing)"
    )
    if sym is not None:
        print(f"  sympy-based checker, here    {sym:7.3f} s")
    print("reference figures of the issue (whole run, 1,000 problems):")
    for name, t in REFERENCE.items():
        print(f"  {name:<32} {t:5.2f} s")


if __name__ == "__main__":
    main()

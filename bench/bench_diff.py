"""Symbolic derivatives (issue 4): sizes and times of ``cgdiff diff`` on generated expressions
of about 10, 100, 1,000 and 10,000 operations, beside sympy's ``diff`` on the same
expressions (sympy is a bench/test-only dependency).  Run by hand:

    python bench/bench_diff.py            # all sizes; sympy gets 60 s per expression
    python bench/bench_diff.py --quick    # up to 1,000 operations, sympy 10 s

Two shapes: ``tree``, one expression with no shared parts, and ``dag``, a model spec whose
lines reuse earlier lines (written out in full, it would be exponentially long).  For each:
the derivative graph's op nodes as the reverse sweep builds it (``raw``), after the
simplifier (``simplified``), and the printout (characters and lines; long shared parts get
lines of their own), with times; the printed derivative is parsed back and checked against
the numeric reverse-mode gradient.  Sympy is given the same graph node by node (sharing the
Python objects of shared parts) and runs in a child process that is stopped after the limit;
its result size is the number of distinct subexpressions (as a DAG) and the tree size.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import cgdiff
from cgdiff.graph import Graph
from cgdiff.simplify import simplify_many
from cgdiff.symbolic import derivative_name, gradient_graphs

# Shapes keep values in a moderate range for x, y in [-1, 1], so checks stay meaningful.
# NB: no tanh: sympy's assumption queries on nested tanh stall for minutes even at 100
# nodes, and the point is to compare derivatives, not that.
UNARY = ["sin({a})", "cos({a})", "sigmoid({a})", "exp(-{a}^2)", "log(1 + {a}^2)"]
BINARY = ["{a} + {b}", "{a} - {b}", "{a}*{b}", "{a}/(1 + {b}^2)"]
COST = {"exp(-{a}^2)": 3, "log(1 + {a}^2)": 3, "{a}/(1 + {b}^2)": 4}


def tree_expression(n_ops: int, seed: int = 0) -> str:
    """One expression of about ``n_ops`` operations on x and y, nothing shared."""
    rng = random.Random(seed)
    pool: list[str] = []
    ops = 0
    while ops < n_ops:
        while len(pool) < 2 or rng.random() < 0.15:
            pool.append(rng.choice(["x", "y", "x", "y", "2", "0.5"]))
        if rng.random() < 0.4:
            shape = rng.choice(UNARY)
            pool.append(shape.format(a=f"({pool.pop(rng.randrange(len(pool)))})"))
        else:
            shape = rng.choice(BINARY)
            a = pool.pop(rng.randrange(len(pool)))
            b = pool.pop(rng.randrange(len(pool)))
            pool.append(shape.format(a=f"({a})", b=f"({b})"))
        ops += COST.get(shape, 1)
    return " + ".join(f"({p})" for p in pool)


DAG_SHAPES = [  # (line, ops): averages and squashing keep every value in [-1, 1]
    ("(sin({a}) + {b})/2", 3), ("(cos({a}) - {b})/2", 3), ("sigmoid({a} + {b})", 2),
    ("{a}*{b}", 1), ("sigmoid({a}*{b}) - {c}", 3), ("({a} + {b})/2", 2),
    ("exp(-{a}^2)*{b}", 4), ("{a}/(1 + {b}^2)", 4), ("log(1 + {a}^2)*{b}", 4),
]  # fmt: skip


def dag_spec(n_ops: int, seed: int = 0) -> str:
    """A spec of about ``n_ops`` operations; each line uses the previous line and one or two
    recent ones, so most nodes are used more than once."""
    rng = random.Random(seed)
    lines = ["t0 = x*y", "t1 = (sin(x) + y)/2"]
    ops, k = 4, 2
    while ops < n_ops:
        shape, cost = rng.choice(DAG_SHAPES)
        recent = [f"t{j}" for j in range(max(0, k - 6), k - 1)] or ["x"]
        lines.append(
            f"t{k} = " + shape.format(a=f"t{k - 1}", b=rng.choice(recent), c=rng.choice(recent))
        )
        ops += cost
        k += 1
    return "\n".join(lines)


# -- sympy, in a child process --------------------------------------------------------------------


def _to_sympy(graph: Graph) -> Any:
    import sympy as sp

    fns: dict[str, Any] = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "neg": lambda a: -a, "pos": lambda a: a,
        "pow": lambda a, b: a**b, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
        "exp": sp.exp, "log": sp.log, "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    }  # fmt: skip
    values: list[Any] = []
    for n in graph.nodes:
        if n.kind == "input":
            values.append(sp.Symbol(n.label))
        elif n.kind == "const":
            v = float(n.value)
            # NB: an exact rational of a float like sin(0.5) has a 53-bit denominator, and
            # sympy's arithmetic on those crawls; such constants are given as sympy Floats.
            exact = sp.Rational(v)
            values.append(exact if exact.q <= 1024 else sp.Float(v))
        else:
            assert n.op is not None
            values.append(fns[n.op.name](*(values[a] for a in n.args)))
    return values[graph.output]


def _sizes(expr: Any) -> tuple[int, int]:
    """Distinct subexpressions, and the size of the tree written out (iteratively)."""
    seen: dict[Any, int] = {}
    stack = [(expr, False)]
    while stack:
        e, done = stack.pop()
        if e in seen:
            continue
        if done:
            seen[e] = 1 + sum(seen[a] for a in e.args)
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in seen)
    return len(seen), seen[expr]


def sympy_child() -> None:
    """In the child process: read a spec on stdin, report each stage as it ends."""
    import sympy as sp

    g = cgdiff.parse(sys.stdin.read())
    t = time.perf_counter()
    expr = _to_sympy(g)
    print(f"built {time.perf_counter() - t:.3f}", flush=True)
    t = time.perf_counter()
    d = sp.diff(expr, sp.Symbol("x"))
    elapsed = time.perf_counter() - t
    distinct, tree = _sizes(d)
    print(f"diff {elapsed:.3f} {distinct} {tree}", flush=True)


def sympy_diff(text: str, limit: float) -> str:
    """Sympy's diff of the same graph in a child process (hash seed fixed: sympy's times
    depend on hash order), stopped after ``limit`` seconds."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, __file__, "--sympy-child"]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        out, err = proc.communicate(text, timeout=limit)
        done = True
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        done = False
    stages = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    built = f"built in {float(stages['built']):.3f} s" if "built" in stages else "not built"
    if not done:
        return f"{built}, diff not done in {limit:.0f} s"
    if "diff" not in stages:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        return f"{built}, failed: {last}"
    elapsed, distinct, tree = stages["diff"].split()
    return (
        f"{built}, diff {float(elapsed):.3f} s, result {int(distinct):,} distinct "
        f"subexpressions (tree {float(tree):.3g})"
    )


# -- cgdiff ----------------------------------------------------------------------------------------


def run(shape: str, text: str, limit: float) -> None:
    t0 = time.perf_counter()
    g = cgdiff.parse(text)
    t1 = time.perf_counter()
    graphs, _ = gradient_graphs(g, ["x"])
    t2 = time.perf_counter()
    combined, outs = simplify_many([graphs["x"]])
    t3 = time.perf_counter()
    from cgdiff.printing import to_lines

    lines = to_lines(combined, [(derivative_name(g.output_name, "x"), outs[0])])
    printed = "\n".join(f"{line.name} = {line.text}" for line in lines)
    t4 = time.perf_counter()
    point = {k: v for k, v in {"x": 0.3, "y": -0.7}.items() if k in g.input_names}
    back = cgdiff.parse(printed)
    got = float(back.eval({k: v for k, v in point.items() if k in back.input_names}).value)
    want = float(g.grad(point).gradient["x"])
    ok = "ok" if math.isclose(got, want, rel_tol=1e-8, abs_tol=1e-10) else f"MISMATCH {got} {want}"
    print(
        f"{shape:5} {g.n_ops:>7,} | parse {t1 - t0:6.3f} s | raw {graphs['x'].n_ops:>7,} "
        f"{t2 - t1:6.3f} s | simplified {combined.n_ops:>7,} {t3 - t2:6.3f} s | printout "
        f"{len(printed):>9,} chars {len(lines):>6,} lines {t4 - t3:6.3f} s | {ok}"
    )
    print(f"{'':5} {'':>7} | sympy: {sympy_diff(text, limit)}")


def main() -> None:
    if "--sympy-child" in sys.argv:
        sympy_child()
        return
    quick = "--quick" in sys.argv
    sizes = [10, 100, 1_000] if quick else [10, 100, 1_000, 10_000]
    limit = 10.0 if quick else 60.0
    print(__doc__.split("\n\n")[0].replace("\n", " ") + "\n")
    for n in sizes:
        run("tree", tree_expression(n, seed=n), limit)
        run("dag", dag_spec(n, seed=n), limit)


if __name__ == "__main__":
    main()

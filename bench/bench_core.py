"""Core benchmarks of issue 2, each beside a hand-written baseline.  Run by hand:

    python bench/bench_core.py            # all
    python bench/bench_core.py --quick    # fewer repeats

1. start-up: the whole ``cgdiff grad "x*y+z" --at x=1,y=2,z=3`` process, ``--format json``
   and the table, against ``python -c "import numpy, lark, typer"`` in paired runs (targets
   of issue 9: at most 1.15x and 1.35x).
2. a generated spec of 10,000 operations on 1,000 inputs: parsing (issue 9: at most half the
   time of Lark's own parser, measured in the same run), forward
   pass, value + gradient in-process (targets: at most 3x the forward pass, under 2 us per
   node), the whole ``cgdiff grad @big.cg --format json`` (target < 1 s); beside a plain
   interpreter loop over the same flat list with Python floats and ``math``.
3. 1,000,000 points of a 30-node expression through the Python API against its gradient
   written by hand with numpy (target: within 1.5x); cgdiff runs a big batch in chunks of
   16,384 points on two threads (cgdiff.ad.CHUNK).
"""

from __future__ import annotations

import importlib
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgdiff
from generate import EXPR30, big_spec


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def median_process(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def startup(repeat: int) -> None:
    """Paired runs: each round times the baseline and both cgdiff commands back to back, so
    the ratios hold while the machine's speed drifts (it swings by +-40% here)."""
    exe = str(Path(sys.executable).with_name("cgdiff"))
    point = ["grad", "x*y+z", "--at", "x=1,y=2,z=3"]
    cmds = {
        "base": [sys.executable, "-c", "import numpy, lark, typer"],
        "json": [exe, *point, "--format", "json"],
        "table": [exe, *point],
    }
    want = json.loads(subprocess.run(cmds["json"], check=True, capture_output=True).stdout)
    assert want["value"] == 5.0 and want["gradient"] == {"x": 2.0, "y": 1.0, "z": 1.0}
    ratios: dict[str, list[float]] = {"json": [], "table": []}
    base = []
    for _ in range(repeat):
        t = {k: median_process(c, 1) for k, c in cmds.items()}
        base.append(t["base"])
        for k in ratios:
            ratios[k].append(t[k] / t["base"])
    print(f"start-up ({repeat} paired runs; median ratio to the baseline of the same run)")
    if "site-packages" not in str(Path(cgdiff.__file__)):
        print("  NB: cgdiff is not installed with `pip install .` here; an editable install")
        print("  compiles its modules at each start when bytecode is not written: slower")
    print(f"  python -c 'import numpy, lark, typer'   {statistics.median(base) * 1e3:8.1f} ms")
    for k, target in (("json", 1.15), ("table", 1.35)):
        r = statistics.median(ratios[k])
        label = "cgdiff grad ... --format json" if k == "json" else "cgdiff grad ... (table)"
        verdict = "met" if r <= target else "NOT met"
        print(f"  {label:<39} ratio {r:.2f}x  (target <= {target}x: {verdict})")


_BUILD = """
import sys, time, typer.main
from cgdiff.cli import app
app._add_completion = sys.argv[1] == "1"
t = time.perf_counter()
typer.main.get_command(app)
print(time.perf_counter() - t)
"""


def completion_cost(repeat: int) -> None:
    """What the --install-completion and --show-completion options add to every start: the
    command line built with them against the same without (fresh processes, medians)."""
    runs: dict[str, list[float]] = {"0": [], "1": []}
    for _ in range(repeat):
        for flag in runs:  # interleaved, so a busy moment of the machine hits both
            out = subprocess.run(
                [sys.executable, "-c", _BUILD, flag], check=True, capture_output=True, text=True
            )
            runs[flag].append(float(out.stdout))
    without, with_ = (statistics.median(runs[f]) for f in ("0", "1"))
    print("shell completion options (building the command line, median of fresh processes)")
    print(f"  without completion options               {without * 1e3:8.2f} ms")
    print(
        f"  with --install-completion/--show-...     {with_ * 1e3:8.2f} ms   "
        f"ratio {with_ / without:.2f}x"
    )


# -- a hand-written interpreter over the same flat list: Python floats and math --------------


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


FWD = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
}


def baseline_grad(g: cgdiff.Graph) -> tuple[float, list[float]]:
    nodes = g.nodes
    v = [0.0] * len(nodes)
    for n in nodes:
        if n.kind != "op":
            v[n.id] = float(n.value)
    for n in nodes:
        if n.kind == "op":
            v[n.id] = FWD[n.op.name](*(v[a] for a in n.args))
    adj = [0.0] * len(nodes)
    adj[g.output] = 1.0
    for n in reversed(nodes):
        if n.kind != "op":
            continue
        gbar, name, a = adj[n.id], n.op.name, n.args
        if name == "add":
            adj[a[0]] += gbar
            adj[a[1]] += gbar
        elif name == "sub":
            adj[a[0]] += gbar
            adj[a[1]] -= gbar
        elif name == "mul":
            adj[a[0]] += gbar * v[a[1]]
            adj[a[1]] += gbar * v[a[0]]
        elif name == "sin":
            adj[a[0]] += gbar * math.cos(v[a[0]])
        elif name == "cos":
            adj[a[0]] -= gbar * math.sin(v[a[0]])
        elif name == "tanh":
            adj[a[0]] += gbar * (1 - v[n.id] ** 2)
        elif name == "sigmoid":
            adj[a[0]] += gbar * v[n.id] * (1 - v[n.id])
    return v[g.output], [adj[i] for i in g.inputs]


def big(repeat: int) -> None:
    text = big_spec()
    t_parse = best(lambda: cgdiff.parse(text), max(3, repeat // 4))
    # The baseline: Lark's own LALR parser and lexer running the same callbacks (what
    # cgdiff.parse did before cgdiff.lalr, and still does to describe an error).
    pp = importlib.import_module("cgdiff.parse")
    saved, pp._TABLES = pp._TABLES, False
    try:
        t_lark = best(lambda: cgdiff.parse(text), max(3, repeat // 4))
        by_lark = cgdiff.parse(text)
    finally:
        pp._TABLES = saved
    g = cgdiff.parse(text)
    assert [(x.opname, x.args, x.name) for x in g.nodes] == [
        (x.opname, x.args, x.name) for x in by_lark.nodes
    ]
    n = g.n_ops
    t_fwd = best(lambda: g.eval(), repeat)
    t_grad = best(lambda: g.grad(), repeat)
    t_base = best(lambda: baseline_grad(g), max(3, repeat // 4))
    r = g.grad()
    value, grads = baseline_grad(g)
    assert math.isclose(float(r.value), value, rel_tol=1e-9)
    assert np.allclose([float(r.gradient[k]) for k in g.input_names], grads, rtol=1e-7, atol=1e-12)
    with tempfile.NamedTemporaryFile("w", suffix=".cg", delete=False) as fh:
        fh.write(text)
    exe = str(Path(sys.executable).with_name("cgdiff"))
    t_cmd = median_process([exe, "grad", f"@{fh.name}", "--format", "json"], 5)
    Path(fh.name).unlink()
    print(f"\ngenerated spec: {len(text) / 1e3:.0f} KB, {n} operations, {len(g.inputs)} inputs")
    print(
        f"  parse                               {t_parse * 1e3:8.1f} ms   "
        f"{t_parse / t_lark:.2f}x Lark's own parser, {t_lark * 1e3:.1f} ms here "
        "(target <= 0.5x)"
    )
    print(
        f"  forward pass (eval)                 {t_fwd * 1e3:8.2f} ms   "
        f"{t_fwd / n * 1e6:.2f} us/node"
    )
    print(
        f"  value + gradient (reverse mode)     {t_grad * 1e3:8.2f} ms   "
        f"{t_grad / n * 1e6:.2f} us/node (target < 2)   "
        f"{t_grad / t_fwd:.2f}x forward (target <= 3x)"
    )
    print(
        f"  hand-written float interpreter      {t_base * 1e3:8.2f} ms   "
        f"ratio cgdiff/baseline {t_grad / t_base:.2f}x"
    )
    print(f"  cgdiff grad @big.cg --format json   {t_cmd * 1e3:8.1f} ms   (target < 1000 ms)")


def numpy_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The value and gradient of EXPR30, by hand."""
    xy = x * y
    a = np.tanh(xy + np.sin(x))
    da = 1 - a * a
    bb = np.exp(-x * x / 2)
    t1 = a * bb
    c = np.log(1 + y * y)
    d = np.cos(x - y)
    s_xy = np.sin(x - y)
    rr = np.sqrt(x * x + y * y + 1)
    s = np.exp(-np.logaddexp(0, -xy))
    ds = s * (1 - s)
    one_s = 1 + s
    siny = np.sin(y)
    f = t1 + c * d + rr / one_s - xy * siny
    dfdx = (
        da * (y + np.cos(x)) * bb
        - x * t1
        - c * s_xy
        + (x / rr) / one_s
        - rr * ds * y / one_s**2
        - y * siny
    )
    dfdy = (
        da * x * bb
        + 2 * y / (1 + y * y) * d
        + c * s_xy
        + (y / rr) / one_s
        - rr * ds * x / one_s**2
        - x * siny
        - xy * np.cos(y)
    )
    return f, dfdx, dfdy


def points(repeat: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 1_000_000)
    y = rng.uniform(-2, 2, 1_000_000)
    g = cgdiff.parse(EXPR30)
    batch = cgdiff.Batch(x=x, y=y)  # several points, said so (a plain mapping is one point)
    t_ours = best(lambda: g.grad(batch), repeat)
    t_hand = best(lambda: numpy_gradient(x, y), repeat)
    r = g.grad(batch)
    f, dx, dy = numpy_gradient(x, y)
    assert np.allclose(r.value, f) and np.allclose(r.gradient["x"], dx)
    assert np.allclose(r.gradient["y"], dy)
    print(f"\n1,000,000 points of a {g.n_ops}-node expression")
    print(f"  hand-written numpy gradient         {t_hand * 1e3:8.1f} ms")
    print(
        f"  cgdiff Graph.grad (chunks, threads)  {t_ours * 1e3:8.1f} ms   "
        f"ratio {t_ours / t_hand:.2f}x  (target <= 1.5x)"
    )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    startup(7 if quick else 21)
    completion_cost(7 if quick else 21)
    big(8 if quick else 30)
    points(3 if quick else 7)

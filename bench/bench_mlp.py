"""W4 of issue 7: the SPEC section 9 network (examples/mlp.cg: 784-128-10, batch 64, 101,770
weights), each figure beside a hand-written numpy baseline run in the same process.

    python bench/bench_mlp.py            # all
    python bench/bench_mlp.py --quick    # fewer repeats

1. value + gradient in-process: parse once, then time ``Graph.grad()`` against the numpy
   forward pass + backprop of bench/mlp_numpy.py on the same arrays (median of many runs;
   target: at most 1.3x); torch eager and jax.jit on the same work if they are importable.
2. the whole ``cgdiff grad @examples/mlp.cg --format json`` process against
   ``python bench/mlp_numpy.py``, which prints the same JSON document (median wall and CPU
   time, target at most 1.3x; CPU time is what a machine shared with other work measures
   fairly; peak memory of each process, its maximum resident set size from wait4, target
   at most 1.5x).

Every result is checked against the baseline's before a figure is printed.
"""

# ruff: noqa: N803, N806  (matrices are capitals, as in the spec: W1, X)

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = ROOT / "examples" / "mlp.cg"
sys.path.insert(0, str(HERE))
import cgdiff  # noqa: E402
from mlp_numpy import value_and_grad, weights  # noqa: E402


def median_time(fn: Any, repeat: int) -> float:
    fn()  # warm: caches, first allocations
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved(fns: list[Any], repeat: int) -> list[float]:
    """The median time of each function, run in turn (a, b, c, a, b, c, ...), so that a
    busy moment of a shared machine (or of BLAS's threads) hits every one alike."""
    times: list[list[float]] = [[] for _ in fns]
    for f in fns:
        f()  # warm
    for _ in range(repeat):
        for k, f in enumerate(fns):
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def check(grads: dict[str, Any], expected: dict[str, np.ndarray], who: str) -> None:
    for k, v in expected.items():
        got = np.asarray(grads[k])
        assert got.shape == v.shape, (who, k)
        assert np.allclose(got, v, rtol=1e-9, atol=1e-15), (who, k)


def torch_time(point: dict[str, np.ndarray], expected: dict, repeat: int) -> str:
    try:
        import torch
    except ImportError:
        return "not installed"
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in point.items()}
    ws = ["W1", "b1", "W2", "b2"]

    def step() -> dict[str, Any]:
        p = {k: (t[k].clone().requires_grad_(True) if k in ws else t[k]) for k in t}
        H = torch.relu(p["X"] @ p["W1"] + p["b1"])
        P = torch.softmax(H @ p["W2"] + p["b2"], dim=1)
        L = -torch.mean(torch.sum(p["Y"] * torch.log(P), 1))
        L.backward()
        return {k: p[k].grad.numpy() for k in ws}

    check(step(), expected, "torch")
    return f"{median_time(step, repeat) * 1e3:8.3f} ms"


def jax_time(point: dict[str, np.ndarray], expected: dict, repeat: int) -> str:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return "not installed"
    jax.config.update("jax_enable_x64", True)

    def loss(w: dict, X: Any, Y: Any) -> Any:
        H = jax.nn.relu(X @ w["W1"] + w["b1"])
        P = jax.nn.softmax(H @ w["W2"] + w["b2"], axis=1)
        return -jnp.mean(jnp.sum(Y * jnp.log(P), 1))

    f = jax.jit(jax.value_and_grad(loss))
    w = {k: jnp.asarray(point[k]) for k in ("W1", "b1", "W2", "b2")}
    X, Y = jnp.asarray(point["X"]), jnp.asarray(point["Y"])

    def step() -> Any:
        _value, g = f(w, X, Y)
        return jax.block_until_ready(g)

    check({k: np.asarray(v) for k, v in step().items()}, expected, "jax")
    return f"{median_time(step, repeat) * 1e3:8.3f} ms"


def in_process(repeat: int) -> None:
    g = cgdiff.parse(SPEC.read_text(), base=SPEC.parent)
    point = weights()
    r = g.grad()
    L, expected = value_and_grad(**point)
    assert abs(float(r.value) - L) <= 1e-12 * abs(L)
    check(r.gradient, expected, "cgdiff")
    t_np, t_ours, t_eval = interleaved([lambda: value_and_grad(**point), g.grad, g.eval], repeat)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"W4: examples/mlp.cg, {g.n_ops} operations, {r.steps.inputs:,} weights "
        f"(medians, interleaved; OPENBLAS_NUM_THREADS={threads})"
    )
    print(f"  hand-written numpy forward + backprop  {t_np * 1e3:8.3f} ms")
    print(
        f"  cgdiff Graph.grad() (value + gradient) {t_ours * 1e3:8.3f} ms   "
        f"ratio {t_ours / t_np:.2f}x  (target <= 1.3x)"
    )
    print(f"  cgdiff Graph.eval() (forward only)     {t_eval * 1e3:8.3f} ms")
    print(f"  torch eager (float64)                  {torch_time(point, expected, repeat)}")
    print(f"  jax.jit(value_and_grad) (float64)      {jax_time(point, expected, repeat)}")


# NB: as an installed package runs (pip compiles it): with bytecode, which a development
# shell may switch off (PYTHONDONTWRITEBYTECODE), and then cgdiff's own modules, not numpy's
# (installed, compiled), would be compiled from source at every start (~50 ms).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_process(cmd: list[str]) -> tuple[float, float, int, bytes]:
    """Wall time, CPU time (user + system), peak resident memory (bytes) and stdout of one
    whole process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, env=ENV)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, cmd
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss * 1024, out  # ru_maxrss is in KB on Linux


def same_document(ours: bytes, base: bytes) -> None:
    a, b = json.loads(ours), json.loads(base)
    assert a.keys() == b.keys() and a["steps"] == b["steps"] and a["output"] == b["output"]
    assert abs(a["value"] - b["value"]) <= 1e-12 * abs(b["value"])
    for part in ("point", "gradient"):
        assert a[part].keys() == b[part].keys()
        check(a[part], {k: np.array(v) for k, v in b[part].items()}, part)


def whole_process(repeat: int) -> None:
    exe = str(Path(sys.executable).with_name("cgdiff"))
    ours_cmd = [exe, "grad", f"@{SPEC.relative_to(ROOT)}", "--format", "json"]
    base_cmd = [sys.executable, str(HERE / "mlp_numpy.py")]
    runs: dict[str, list[tuple[float, float, int]]] = {"ours": [], "base": []}
    outs: dict[str, bytes] = {}
    for cmd in (ours_cmd, base_cmd):  # warm: the file cache, and bytecode written once
        run_process(cmd)
    for _ in range(repeat):  # interleaved, so a busy moment of the machine hits both
        for key, cmd in (("ours", ours_cmd), ("base", base_cmd)):
            wall, cpu, peak, out = run_process(cmd)
            runs[key].append((wall, cpu, peak))
            outs[key] = out
    same_document(outs["ours"], outs["base"])
    wall = {k: statistics.median(w for w, _, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c, _ in v) for k, v in runs.items()}
    peak = {k: max(m for _, _, m in v) for k, v in runs.items()}
    print(f"\nwhole processes (medians of {repeat}: wall time, CPU time; peak resident memory)")
    for key, name in (("base", "python bench/mlp_numpy.py"), ("ours", "cgdiff grad ... json")):
        print(
            f"  {name:26} {wall[key] * 1e3:7.1f} ms wall  {cpu[key] * 1e3:7.1f} ms CPU  "
            f"{peak[key] / 1e6:6.1f} MB   ({len(outs[key]):,} bytes of JSON)"
        )
    print(
        f"  ratio: wall {wall['ours'] / wall['base']:.2f}x, CPU {cpu['ours'] / cpu['base']:.2f}x "
        f"(target <= 1.3x); memory {peak['ours'] / peak['base']:.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    in_process(50 if quick else 300)
    whole_process(5 if quick else 15)

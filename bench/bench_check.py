"""Benchmark of ``cgdiff check`` (issue 3).  Run by hand:

    python bench/bench_check.py              # 1,000 problems
    python bench/bench_check.py --n 5000     # more
    python bench/bench_check.py --sympy      # also time a sympy-based checker here

It writes an answer key of N small problems (value + gradient at a point, the answers
computed by hand-written lambdas), then prints:

1. in-process: ``load_key`` + ``check_key``, in problems per second;
2. the whole ``cgdiff check key.toml --format json`` process, in paired runs beside the
   baseline process ``bench/check_baseline.py`` (tomllib and the precompiled lambdas of
   ``bench/key_templates.py``); issue 9's target: at most 2x.  Beside them, two floors: a
   process that only imports numpy and typer and reads the key, what any checker on this
   stack pays before judging anything, and one that imports every module of cgdiff that
   ``check`` loads and reads the key, judging nothing;
3. the same checks with the lambdas in-process, and the reference figures of issue 3: a
   sympy-based checker 3.8 s, lambdas 0.19 s for the whole run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cgdiff.check import DEFAULT_ATOL, DEFAULT_RTOL, check_key, load_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_baseline import ATOL, RTOL
from key_templates import TEMPLATES

REFERENCE = {"sympy-based checker": 3.8, "precompiled hand-written lambdas": 0.19}


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


def _timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"{cmd[1:3]} failed ({r.returncode}): {r.stderr[:500]}")
    return took, r.stdout


# What any checker built on cgdiff's stack pays before it judges anything: the imports of
# numpy and typer, and reading the key with tomllib.
FLOOR = "import sys, tomllib, numpy, typer; tomllib.loads(open(sys.argv[1]).read())"

# The modules of cgdiff that ``cgdiff check KEY --format json`` has loaded when it ends,
# printed by a child process that runs the command (its own output goes to /dev/null).
_MODULES = (
    "import os, sys, runpy\n"
    "sys.argv = ['cgdiff', 'check', sys.argv[1], '--format', 'json']\n"
    "out, sys.stdout = sys.stdout, open(os.devnull, 'w')\n"
    "try:\n"
    "    runpy.run_module('cgdiff', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(' '.join(sorted(m for m in sys.modules if m.startswith('cgdiff'))), file=out)\n"
)


def own_floor(key: Path) -> str:
    """The second floor: a process that imports every module of cgdiff that ``check``
    loads (and so numpy and typer) and reads the key with tomllib, judging nothing."""
    r = subprocess.run(
        [sys.executable, "-c", _MODULES, str(key)], capture_output=True, text=True, check=True
    )
    modules = r.stdout.split()
    assert "cgdiff.check" in modules, r.stdout
    return (
        "import sys, tomllib, importlib\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "tomllib.loads(open(sys.argv[1]).read())\n"
    )


def whole_processes(
    key: Path, repeat: int
) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    """Paired runs of ``cgdiff check KEY --format json``, of the baseline process (tomllib
    and the precompiled lambdas) and of the two floors (:data:`FLOOR`, :func:`own_floor`):
    each round runs them back to back, so their ratios hold while the machine's speed
    drifts.  cgdiff and the baseline must agree that every problem passes.  Returns cgdiff's
    and the baseline's times, then the two floors' and cgdiff's paired ratios to the
    baseline."""
    ours, base, floor, own, ratios = [], [], [], [], []
    exe = [sys.executable, "-m", "cgdiff", "check", str(key), "--format", "json"]
    baseline = [sys.executable, str(Path(__file__).with_name("check_baseline.py")), str(key)]
    imports = own_floor(key)
    for _ in range(repeat):
        a, out = _timed(exe)
        b, out_base = _timed(baseline)
        c, _ = _timed([sys.executable, "-c", FLOOR, str(key)])
        d, _ = _timed([sys.executable, "-c", imports, str(key)])
        report, summary = json.loads(out), json.loads(out_base)
        assert (report["passed"], report["failed"]) == (summary["passed"], summary["failed"])
        ours.append(a)
        base.append(b)
        floor.append(c / b)
        own.append(d / b)
        ratios.append(a / b)
    return ours, base, floor, own, ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="problems in the key")
    ap.add_argument("--repeat", type=int, default=7, help="paired runs of the whole command")
    ap.add_argument("--sympy", action="store_true", help="also time a sympy-based checker")
    args = ap.parse_args()
    assert (DEFAULT_RTOL, DEFAULT_ATOL) == (RTOL, ATOL)
    problems = make_problems(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.toml"
        write_key(key, problems)
        start = time.perf_counter()
        report = check_key(load_key(key))
        inproc = time.perf_counter() - start
        assert report.failed == 0, [p for p in report.problems if not p.passed][:1]
        ours, base_runs, floor, own, ratios = whole_processes(key, args.repeat)
        base = min(lambdas_check(problems, key) for _ in range(3))
        sym = sympy_check(key) if args.sympy else None
    n = args.n
    ratio = statistics.median(ratios)
    print(f"cgdiff check: {n} problems (value + gradient at a point)")
    print(f"  in-process load + check        {inproc:7.3f} s   {n / inproc:9.0f} problems/s")
    print(
        f"  whole command, --format json   {statistics.median(ours):7.3f} s   (median of "
        f"{len(ours)} paired runs)"
    )
    print(
        f"  baseline process               {statistics.median(base_runs):7.3f} s   (tomllib + "
        "the precompiled lambdas, no numpy)"
    )
    print(
        f"  ratio, paired                  {ratio:7.2f}x  (target <= 2x: "
        f"{'met' if ratio <= 2 else 'NOT met'})"
    )
    print(
        f"  floor, paired                  {statistics.median(floor):7.2f}x  (python importing "
        "numpy and typer and reading the key with tomllib, nothing judged)"
    )
    print(
        f"  cgdiff's imports, paired       {statistics.median(own):7.2f}x  (python importing "
        "every module of cgdiff that check loads, and reading the key, nothing judged)"
    )
    print(
        f"  hand-written lambdas, here     {base:7.3f} s   {n / base:9.0f} problems/s "
        "(checking only: no process start, no parsing)"
    )
    if sym is not None:
        print(f"  sympy-based checker, here      {sym:7.3f} s")
    print("reference figures of the issue (whole run, 1,000 problems):")
    for name, t in REFERENCE.items():
        print(f"  {name:<32} {t:5.2f} s")


if __name__ == "__main__":
    main()

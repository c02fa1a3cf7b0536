"""Benchmark of ``cgdiff grad EXPR --points CSV --format json`` (issue 9).  Run by hand:

    python bench/bench_points.py            # 10,000 and 200,000 points, best of 3
    python bench/bench_points.py --quick    # best of 1

For a 30-node expression of x and y (``generate.EXPR30``) and a CSV of random points, it times
(each a whole process, in this run):

1. ``cgdiff grad EXPR30 --points points.csv --format json`` (targets: within 2x of the
   baseline at 10,000 rows, within 1.5x at 200,000);
2. the baseline: a script that reads the CSV with ``csv``, computes the value and gradient
   with numpy by hand (``bench_core.numpy_gradient``) and prints the same JSON document
   (the same keys, numbers written by ``json``, "nan"/"inf" as strings);
3. a check that both documents have the same keys and the same numbers (within 1e-12).
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgdiff
from bench_core import numpy_gradient
from generate import EXPR30

BASELINE = (
    "import csv, json, sys\nimport numpy as np\n\n"
    + inspect.getsource(numpy_gradient)
    .replace("-> tuple[np.ndarray, np.ndarray, np.ndarray]", "")
    .replace("x: np.ndarray, y: np.ndarray", "x, y")
    + r"""

def _json(a):
    out = a.tolist()
    if not np.isfinite(a).all():
        out = [v if np.isfinite(v) else ("nan" if v != v else "inf" if v > 0 else "-inf")
               for v in out]
    return out


with open(sys.argv[1], newline="") as fh:
    rows = csv.reader(fh)
    header = next(rows)
    cols = [[] for _ in header]
    for row in rows:
        for c, cell in zip(cols, row):
            c.append(float(cell))
x, y = (np.array(c) for c in cols)
f, dx, dy = numpy_gradient(x, y)
doc = {"output": "f", "points": {"x": _json(x), "y": _json(y)}, "value": _json(f),
       "gradient": {"x": _json(dx), "y": _json(dy)}, "mode": "reverse",
       "steps": json.loads(sys.argv[2])}
sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
"""
)


def timed(cmd: list[str], out: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        with open(out, "w") as fh:
            subprocess.run(cmd, stdout=fh, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        if a and isinstance(a[0], float):
            return bool(np.allclose(np.array(a), np.array(b), rtol=1e-12, atol=1e-12))
        return all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 1 if args.quick else 3
    g = cgdiff.parse(EXPR30)
    steps = json.dumps(g.grad(x=1.0, y=2.0).steps.as_dict())
    rng = np.random.default_rng(0)
    failed = False
    print(f"grad --points --format json, a {g.n_ops}-node expression of x and y (best of {repeat})")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "base.py").write_text(BASELINE)
        for n, target in ((10_000, 2.0), (200_000, 1.5)):
            pts = d / f"p{n}.csv"
            xy = rng.uniform(-2, 2, (n, 2))
            pts.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in xy.tolist()))
            cmd = [sys.executable, "-m", "cgdiff", "grad", EXPR30, "--points", str(pts)]
            t_cg = timed([*cmd, "--format", "json"], d / "cg.json", repeat)
            t_base = timed(
                [sys.executable, str(d / "base.py"), str(pts), steps], d / "base.json", repeat
            )
            ok = same(
                json.loads((d / "cg.json").read_text()), json.loads((d / "base.json").read_text())
            )
            ratio = t_cg / t_base
            print(
                f"  {n:>7,} points: cgdiff {t_cg:6.2f} s   csv + numpy {t_base:6.2f} s   "
                f"ratio {ratio:.2f}x (target <= {target}x)   same document: {ok}"
            )
            failed = failed or not ok
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

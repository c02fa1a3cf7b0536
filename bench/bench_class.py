"""Benchmark of ``cgdiff check KEY --answers CSV`` on a whole class (issue 9).  Run by hand:

    python bench/bench_class.py                    # 10,000 students x 45 items
    python bench/bench_class.py --students 2000    # a smaller class

It writes a class's answers for ``examples/homework/key.toml``: every student answers every
item of the key, most with the key's own answer (a number, rounded as students round, or a
formula written another way), some with a common mistake, a few with a malformed cell.  Then
it prints, each measured in a process of its own in this run:

1. the whole ``cgdiff check key.toml --answers class.csv --format junit`` (time and peak
   memory, worker processes included), ``--format json``, and ``--format json --jobs 1``
   (one process; the default is one per core);
2. beside them, a hand-written baseline: ``csv`` reading the same rows and comparing each
   numeric cell with the truth within the key's tolerance (formula cells compared as text),
   which is a lower bound, not a grader;
3. a check that cgdiff's scores agree with the baseline on every numeric item (formula items
   are judged by cgdiff alone).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cgdiff.check import load_key

ROOT = Path(__file__).resolve().parent.parent
KEY = ROOT / "examples" / "homework" / "key.toml"

# A right formula written another way, per (problem, item), as students write them.
REWRITES = {
    ("neuron", "grad.w1"): ["x1*f*(1 - f)", "x1 f - x1 f^2"],
    ("trig", "grad.t"): ["cos(t)", "sin(t + pi/2)"],
    ("product rule", "derivative.x"): ["x (2 sin(x) + x cos(x))", "2 x sin(x) + x^2 cos(x)"],
    ("quotient rule", "derivative.x"): ["cos(x)/x - sin(x)/x^2"],
    ("chain rule", "derivative.x"): ["2 x exp(sin(x^2)) cos(x^2)"],
    ("two inputs", "derivative.x"): ["y (y + cos(x y))"],
    ("two inputs", "derivative.y"): ["x (2 y + cos(x y))"],
    ("log", "derivative.x"): ["2 log(x)/x + 0.5/sqrt(x)"],
}
# A common wrong formula, per item.
MISTAKES = {
    ("neuron", "grad.w1"): "x1 f",
    ("trig", "grad.t"): "-cos(t)",
    ("product rule", "derivative.x"): "2x cos(x)",
    ("quotient rule", "derivative.x"): "(x cos(x) + sin(x)) / x^2",
    ("chain rule", "derivative.x"): "cos(x^2) exp(sin(x^2))",
    ("two inputs", "derivative.x"): "y^2 + cos(x y)",
    ("two inputs", "derivative.y"): "2 x y + cos(x y)",
    ("log", "derivative.x"): "2/x + 1/(2 sqrt(x))",
}


def write_class(
    path: Path, students: int, seed: int = 0
) -> tuple[int, dict[tuple[str, str], float]]:
    """Write the class's CSV; return the number of rows and the truth of every numeric item."""
    key = load_key(KEY)
    rng = random.Random(seed)
    truth: dict[tuple[str, str], float] = {}
    items = []
    for p in key.problems:
        for item, answer in p.expect:
            result = p.check(item, answer)
            if isinstance(result.expected, float):  # a number at a point
                truth[(p.name, item)] = float(result.expected)
            items.append((p.name, item, answer))
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["student", "problem", "item", "answer"])
        for s in range(students):
            name = f"s{s:06d}"
            for pname, item, answer in items:
                r = rng.random()
                if (pname, item) in truth:
                    t = truth[(pname, item)]
                    if r < 0.6:
                        cell = f"{t:.6g}"
                    elif r < 0.8:
                        cell = f"{t:.5g}"
                    elif r < 0.95:
                        cell = f"{t * 1.1 + 1:.4g}"
                    elif r < 0.98:
                        cell = f"{-t:.4g}"
                    else:
                        cell = "" if r < 0.99 else "3,0"
                else:
                    forms = REWRITES.get((pname, item), [])
                    if r < 0.5 or not forms:
                        cell = str(answer)
                    elif r < 0.8:
                        cell = forms[int(r * 100) % len(forms)]
                    elif r < 0.97:
                        cell = MISTAKES.get((pname, item), f"({answer}) + 1")
                    else:
                        cell = "2x +"
                out.writerow([name, pname, item, cell])
                rows += 1
    return rows, truth


BASELINE = r"""
import csv, json, sys
truth = {tuple(k.split("\t")): v for k, v in json.loads(sys.argv[2]).items()}
rtol, atol = float(sys.argv[3]), float(sys.argv[4])
score = {}
with open(sys.argv[1], newline="") as fh:
    rows = csv.reader(fh)
    next(rows)
    for student, problem, item, answer in rows:
        t = truth.get((problem, item))
        if t is None:
            continue
        try:
            ok = abs(float(answer) - t) <= atol + rtol * abs(t)
        except ValueError:
            ok = False
        score[student] = score.get(student, 0) + ok
json.dump(score, sys.stdout)
"""


# Runs a command and prints its peak memory (maxrss of the child, in KB on Linux) to stderr.
PEAK = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=False); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"
)


def run(cmd: list[str], out: Path) -> tuple[float, float]:
    """Time one process (wall seconds) and its peak memory (MB), its output to ``out``."""
    t0 = time.perf_counter()
    with open(out, "w") as fh:
        done = subprocess.run(
            [sys.executable, "-c", PEAK, *cmd], stdout=fh, stderr=subprocess.PIPE, text=True
        )
    seconds = time.perf_counter() - t0
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=10_000)
    args = ap.parse_args()
    key = load_key(KEY)
    rtol, atol = key.problems[0].settings.rtol, key.problems[0].settings.atol
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        answers = d / "class.csv"
        t0 = time.perf_counter()
        rows, truth = write_class(answers, args.students)
        print(
            f"class: {args.students} students x {rows // args.students} items = {rows} rows "
            f"({answers.stat().st_size / 1e6:.1f} MB), written in {time.perf_counter() - t0:.1f} s"
        )
        tr = json.dumps({f"{p}\t{i}": v for (p, i), v in truth.items()})
        base_s, base_mb = run(
            [sys.executable, "-c", BASELINE, str(answers), tr, str(rtol), str(atol)],
            d / "base.json",
        )
        cg = [sys.executable, "-m", "cgdiff", "check", str(KEY), "--answers", str(answers)]
        junit_s, junit_mb = run([*cg, "--format", "junit"], d / "out.xml")
        json_s, json_mb = run([*cg, "--format", "json"], d / "out.json")
        one_s, one_mb = run([*cg, "--format", "json", "--jobs", "1"], d / "one.json")
        print(f"  cgdiff --format junit     {junit_s:7.2f} s  {junit_mb:7.0f} MB peak")
        print(f"  cgdiff --format json      {json_s:7.2f} s  {json_mb:7.0f} MB peak")
        print(f"  ... json --jobs 1         {one_s:7.2f} s  {one_mb:7.0f} MB peak")
        print(f"  csv + float compare       {base_s:7.2f} s  {base_mb:7.0f} MB peak   (baseline)")
        print(f"  ratio (json / baseline)   {json_s / base_s:7.1f} x")
        # The scores agree with the baseline's on the numeric items of every student.
        base = json.loads((d / "base.json").read_text())
        data = json.loads((d / "out.json").read_text())
        differ = 0
        for s in data["students"]:
            mine = sum(a["passed"] for a in s["items"] if (a["problem"], a["item"]) in truth)
            differ += mine != base.get(s["student"], 0)
        print(
            f"  students whose numeric score differs from the baseline's: {differ} of "
            f"{len(data['students'])}"
        )
        same = (d / "one.json").read_bytes() == (d / "out.json").read_bytes()
        print(f"  --jobs 1 output byte-identical to the default's: {same}")
        if differ or len(data["students"]) != args.students or not same:
            sys.exit(1)


if __name__ == "__main__":
    main()

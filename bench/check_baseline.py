"""The baseline of bench/bench_check.py, run as a whole process: read the key with tomllib
and check each problem's value and gradient with the hand-written (precompiled) lambdas of
bench/key_templates.py; print the number of problems passed and failed as JSON.

    python bench/check_baseline.py KEY.toml
"""

from __future__ import annotations

import json
import sys
import tomllib

from key_templates import TEMPLATES

RTOL, ATOL = 1e-6, 1e-9  # cgdiff check's defaults (asserted by bench_check.py)


def main() -> None:
    with open(sys.argv[1], "rb") as f:
        data = tomllib.load(f)
    d = data.get("defaults", {})
    rtol, atol = d.get("rtol", RTOL), d.get("atol", ATOL)
    by_expr = {t[0]: t for t in TEMPLATES}
    passed = failed = 0
    for table in data["problem"]:
        _, names, value, grads = by_expr[table["expr"]]
        args = [float(table["at"][v]) for v in names]
        want = [value(*args)] + [g(*args) for g in grads]
        got = [table["expect"]["value"]] + [table["expect"]["grad"][v] for v in names]
        ok = all(abs(a - b) <= atol + rtol * abs(a) for a, b in zip(want, got, strict=True))
        passed += ok
        failed += not ok
    print(json.dumps({"passed": passed, "failed": failed}))


if __name__ == "__main__":
    main()

"""Why the reverse pass keeps a scalar fast path (issue 7): the generated 10,000-operation
scalar spec swept backwards by the fast loop and by the general loop that array specs take
(VJPs, local derivatives times the adjoint, and ``unbroadcast`` for every input).

    python bench/bench_sweep.py

Both must give the same adjoints; the figure is the general loop's time over the fast one's.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cgdiff
from cgdiff import ad
from cgdiff.ops import NUMERIC
from generate import big_spec


def main(repeat: int = 9) -> None:
    g = cgdiff.parse(big_spec())
    ev = g.eval()
    needs = g.variable()
    rows = ad.reverse_plan(g)

    def run(sweep: object) -> tuple[float, list[object]]:
        best, adj = float("inf"), []
        for _ in range(repeat):
            adj = [None] * len(g.nodes)
            adj[g.output] = np.float64(1.0)
            t = time.perf_counter()
            sweep(rows, ev.values, NUMERIC, needs, adj, None)  # type: ignore[operator]
            best = min(best, time.perf_counter() - t)
        return best, adj

    fast, adj_fast = run(ad._sweep)
    general, adj_general = run(ad._sweep_arrays)
    same = all(
        (x is None and y is None) or bool(np.allclose(x, y)) for x, y in zip(adj_fast, adj_general)
    )
    assert same, "the two loops disagree"
    n = g.n_ops
    print(f"backward sweep of {n} scalar operations (best of {repeat}):")
    print(f"  scalar fast path: {fast * 1e3:7.2f} ms  ({fast / n * 1e6:.2f} µs per node)")
    print(f"  general loop:     {general * 1e3:7.2f} ms  ({general / n * 1e6:.2f} µs per node)")
    print(f"  general / fast:   {general / fast:.2f}×   (same adjoints: {same})")


if __name__ == "__main__":
    main()

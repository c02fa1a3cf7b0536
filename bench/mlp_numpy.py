"""The hand-written baseline of bench/bench_mlp.py: examples/mlp.cg (SPEC section 9) in plain
numpy, forward pass and backprop written out, printing the JSON document that

    cgdiff grad @examples/mlp.cg --format json

prints (the same keys, shapes and numbers).  Run alone: ``python bench/mlp_numpy.py``.
"""

# ruff: noqa: N803, N806  (matrices are capitals, as in the spec: W1, X, dZ2)

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"


def weights(seed: int = 0) -> dict[str, np.ndarray]:
    """The inputs of mlp.cg: the data, and weights drawn as cgdiff draws them (the k-th
    randn call of a spec from the stream [seed, k])."""
    return {
        "X": np.loadtxt(DATA / "x.csv", delimiter=","),
        "Y": np.loadtxt(DATA / "y.csv", delimiter=","),
        "W1": np.random.default_rng([seed, 0]).standard_normal((784, 128)) * 0.01,
        "b1": np.zeros(128),
        "W2": np.random.default_rng([seed, 1]).standard_normal((128, 10)) * 0.01,
        "b2": np.zeros(10),
    }


def value_and_grad(X, Y, W1, b1, W2, b2):
    """L = -mean(sum(Y * log(softmax(relu(X W1 + b1) W2 + b2)), 1)) and its gradient."""
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0.0)
    Z2 = H @ W2 + b2
    E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    n = X.shape[0]
    L = -np.sum(Y * np.log(P)) / n
    # d/dZ2 of -mean(sum(Y log softmax(Z2))): (P * sum(Y) - Y) / n, row by row
    dZ2 = (P * Y.sum(axis=1, keepdims=True) - Y) / n
    dH = dZ2 @ W2.T
    dZ1 = dH * (Z1 > 0)
    return L, {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": H.T @ dZ2, "b2": dZ2.sum(axis=0)}


def document(point: dict[str, np.ndarray]) -> dict:
    L, grads = value_and_grad(**point)
    n = 11  # the spec's operations: 2 matmuls, 2 adds, relu, softmax, *, log, sum, mean, neg
    p = sum(v.size for v in grads.values())
    return {
        "output": "L",
        "point": {k: v.tolist() for k, v in point.items()},
        "value": float(L),
        "gradient": {k: v.tolist() for k, v in grads.items()},
        "mode": "reverse",
        "steps": {
            "nodes": n,
            "inputs": p,
            "forward": n,
            "backward": n + p,
            "forward_mode": n * p,
            "counted": ["forward", "backward"],
        },
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(document(weights()), ensure_ascii=False, allow_nan=False))

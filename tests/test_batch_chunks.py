"""Many points at once run in chunks on threads (cgdiff.ad.CHUNK): the same numbers, the
same warnings and the same errors, naming the same point, as one pass over the whole batch."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import cgdiff
from cgdiff import Batch, UndefinedError

ad = importlib.import_module("cgdiff.ad")
EXPR = "tanh(x*y + sin(x)) * exp(-x^2/2) + log(1 + y^2) * cos(x - y) + sqrt(x^2 + y^2 + 1)/(1 + w)"
N = 5 * ad.CHUNK + 123  # several chunks and a short last one


def both(text: str, point: dict, monkeypatch: pytest.MonkeyPatch, **kw: object):
    """The result in chunks, and the result in one piece (the chunk as big as the batch)."""
    g = cgdiff.parse(text)
    chunked = g.grad(Batch(**point), **kw)
    with monkeypatch.context() as m:
        m.setattr(ad, "CHUNK", 10**9)
        whole = g.grad(Batch(**point), **kw)
    return chunked, whole


def points(seed: int = 0, w: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    shared = {"w": 0.5} if w else {}  # one value for every point
    return {"x": rng.uniform(-2, 2, N), "y": rng.uniform(-2, 2, N), **shared}


def test_chunks_give_the_numbers_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = ad.forward
    monkeypatch.setattr(ad, "forward", lambda g, b, **k: calls.append(1) or real(g, b, **k))
    chunked, whole = both(EXPR, points(w=True), monkeypatch)
    assert len(calls) == 6  # it did run in chunks, and then once whole
    assert np.array_equal(chunked.value, whole.value)
    assert chunked.gradient.keys() == whole.gradient.keys() == {"x", "y", "w"}
    for k in whole.gradient:
        assert np.array_equal(chunked.gradient[k], whole.gradient[k]), k
        assert chunked.gradient[k].shape == (N,) and chunked.gradient[k].flags.writeable
    for i in range(len(whole.values)):  # every node's value and adjoint, joined
        assert np.array_equal(chunked.values[i], whole.values[i])
        assert (chunked.adjoints[i] is None) == (whole.adjoints[i] is None)
        if whole.adjoints[i] is not None:
            assert np.array_equal(chunked.adjoints[i], whole.adjoints[i])
    assert chunked.steps.as_dict() == whole.steps.as_dict()
    assert chunked.diagnostics == whole.diagnostics == []


def test_chunks_against_central_differences() -> None:
    """An oracle outside the reverse pass: central differences of the value."""
    g = cgdiff.parse(EXPR)
    p = points(1, w=True)
    r = g.grad(Batch(**p))
    h = 1e-6
    for k in ("x", "y"):
        plus = {**p, k: p[k] + h}
        minus = {**p, k: p[k] - h}
        numeric = (g.eval(Batch(**plus)).value - g.eval(Batch(**minus)).value) / (2 * h)
        assert np.allclose(r.gradient[k], numeric, rtol=1e-6, atol=1e-7)


def test_wrt_picks_inputs_in_chunks_too(monkeypatch: pytest.MonkeyPatch) -> None:
    chunked, whole = both(EXPR, points(w=True), monkeypatch, wrt="y")
    assert list(chunked.gradient) == ["y"] and np.array_equal(
        chunked.gradient["y"], whole.gradient["y"]
    )
    with pytest.raises(cgdiff.InputError, match="not an input"):
        cgdiff.parse(EXPR).grad(Batch(**points(w=True)), wrt="z")


def test_an_undefined_point_is_named_as_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    p = points()
    p["x"] = np.abs(p["x"]) + 0.5
    p["x"][N - 7] = -1.0  # in the last chunk: the point number is the batch's, not the chunk's
    errors = []
    for chunk in (ad.CHUNK, 10**9):
        monkeypatch.setattr(ad, "CHUNK", chunk)
        with pytest.raises(UndefinedError) as exc:
            cgdiff.parse("log(x) * y").grad(Batch(**p))
        errors.append(str(exc.value))
    assert errors[0] == errors[1] and f"point {N - 6}" in errors[0]


def test_overflow_and_kinks_warn_as_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    p = points()
    p["x"][3 * ad.CHUNK + 5] = 800.0  # exp overflows there
    chunked, whole = both("exp(x) + y", p, monkeypatch)
    assert chunked.diagnostics == whole.diagnostics and chunked.diagnostics
    assert f"point {3 * ad.CHUNK + 6}" in chunked.diagnostics[0].message
    q = points()
    q["x"][2 * ad.CHUNK + 1] = 0.0  # abs has a kink there: a warning, not a flag
    chunked, whole = both("abs(x) * y", q, monkeypatch)
    assert chunked.diagnostics == whole.diagnostics and len(chunked.diagnostics) == 1
    assert "at x=0, y=" in chunked.diagnostics[0].message
    assert np.array_equal(chunked.gradient["x"], whole.gradient["x"])


def test_joined_values_index_like_a_list() -> None:
    r = cgdiff.parse("x*y + 1").grad(Batch(**points()))
    assert len(r.values) == len(r.graph.nodes)
    assert np.array_equal(r.values[-1], r.value) and np.array_equal(
        r.values[-1], list(r.values)[-1]
    )
    assert r.values[0:2][1].shape == (N,)
    with pytest.raises(IndexError):
        r.values[len(r.values)]

"""Arrays (issue 7, SPEC section 9): every array op's VJP (reverse mode) and JVP (forward
mode) against central differences computed here, entry by entry, through the forward pass
only; broadcasting; every elementwise function of the ops table on arrays; step counts;
the MLP of examples/mlp.cg against a numpy backprop written out by hand; JSON and CSV."""

# ruff: noqa: N803, N806  (matrices are capitals, as in the spec files: W1, X, dZ2)

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgdiff import parse
from cgdiff.graph import Graph
from cgdiff.ops import SCALAR_OPS, Op
from conftest import EXAMPLES

RTOL, ATOL = 1e-5, 1e-7


def central(graph: Graph, point: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The oracle: d output / d each entry of ``point[name]``, by central differences of the
    forward pass alone (not cgdiff's numeric mode)."""
    x = np.asarray(point[name], dtype=float)
    out = np.zeros(x.shape)
    for e in np.ndindex(*x.shape):
        h = 1e-6 * max(1.0, abs(float(x[e])))
        plus, minus = x.copy(), x.copy()
        plus[e] += h
        minus[e] -= h
        fp = float(graph.eval({**point, name: plus}).value)
        fm = float(graph.eval({**point, name: minus}).value)
        out[e] = (fp - fm) / (2 * h)
    return out


def check_both_modes(
    spec: str, point: dict[str, np.ndarray], wrt: list[str], *, rtol: float = RTOL
) -> None:
    """Reverse and forward mode both match central differences for every input of ``wrt``;
    each gradient has its input's shape; the step counts are those of SPEC section 4."""
    g = parse(spec)
    oracle = {w: central(g, point, w) for w in wrt}
    p = sum(np.size(point[w]) for w in wrt)
    for mode in ("reverse", "forward"):
        r = g.grad(point, wrt=wrt, mode=mode)
        assert np.ndim(r.value) == 0
        for w in wrt:
            got = np.asarray(r.gradient[w])
            assert got.shape == np.shape(point[w]), (mode, w)
            np.testing.assert_allclose(got, oracle[w], rtol=rtol, atol=ATOL, err_msg=f"{mode} {w}")
        assert r.steps.inputs == p
        if mode == "forward":  # one tangent sweep per scalar entry: n × p, honestly counted
            assert r.steps.forward_mode == g.n_ops * p
        else:
            assert r.steps.backward == g.n_ops + p


def rand(
    rng: np.random.Generator, shape: tuple[int, ...], lo: float = -2, hi: float = 2
) -> np.ndarray:
    return rng.uniform(lo, hi, shape)


# -- every elementwise function of the ops table, on arrays, broadcast ---------------------


def call_text(op: Op, args: list[str]) -> str:
    """How a user writes ``op`` applied to ``args``."""
    if op.symbol and not op.callable:
        if len(args) == 2:
            return f"({args[0]}) {op.symbol} ({args[1]})"
        return f"{op.symbol}({args[0]})"
    if op.name == "pow":
        return f"({args[0]})^({args[1]})"
    return f"{op.name}({', '.join(args)})"


ELEMENTWISE = [(op, k) for op in SCALAR_OPS for k in range(op.arity[0], op.arity[1] + 1)]

# The shapes of the inputs of a one- and a two-input op: (3,1) with (4,) broadcasts to 3×4.
UNARY_SHAPE = (2, 3)
BINARY_SHAPES = ((3, 1), (4,))


@pytest.mark.parametrize(
    ("op", "arity"), ELEMENTWISE, ids=[f"{o.name}/{k}" for o, k in ELEMENTWISE]
)
def test_every_elementwise_function_on_broadcast_arrays(op: Op, arity: int) -> None:
    rng = np.random.default_rng([7, arity, len(op.name), ord(op.name[0])])
    names = ["x", "y"][:arity]
    shapes = [UNARY_SHAPE] if arity == 1 else list(BINARY_SHAPES)
    point = {n: rand(rng, sh, *op.domain[k]) for k, (n, sh) in enumerate(zip(names, shapes))}
    if op.kink is not None:  # keep away from the kinks (x = 0, x = y): no derivative there
        for n in names:
            v = point[n]
            point[n] = np.where(np.abs(v) < 0.05, v + 0.3, v)
    out_shape = np.broadcast_shapes(*shapes)
    point["w"] = rand(rng, out_shape)  # weights: every entry of the output counts differently
    check_both_modes(f"sum(w * {call_text(op, names)})", point, names)


# -- broadcasting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "shapes"),
    [
        ("a + b", {"a": (3, 1), "b": (4,)}),  # (3,1) + (4,) -> 3×4
        ("a * b", {"a": (3, 4), "b": (4,)}),  # a matrix times a row vector
        ("a - b", {"a": (3, 4), "b": (3, 1)}),  # a matrix minus a column
        ("a * b", {"a": (), "b": (3, 4)}),  # a scalar times a matrix
        ("a / b", {"a": (2, 3), "b": ()}),
        ("a ^ b", {"a": (2, 3), "b": (3,)}),
        ("exp(a) * b + a", {"a": (1, 3), "b": (2, 1)}),
    ],
)
def test_broadcast_inputs_get_adjoints_of_their_own_shape(
    expr: str, shapes: dict[str, tuple[int, ...]]
) -> None:
    rng = np.random.default_rng(11)
    point = {n: rand(rng, sh, 0.5, 2) for n, sh in shapes.items()}
    point["w"] = rand(rng, np.broadcast_shapes(*shapes.values()))
    check_both_modes(f"sum(w * ({expr}))", point, list(shapes))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    a_rows=st.booleans(),
    a_cols=st.booleans(),
    b_ndim=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_broadcast_shapes(
    rows: int, cols: int, a_rows: bool, a_cols: bool, b_ndim: int, seed: int
) -> None:
    # a is rows×cols with either axis possibly 1; b has 0, 1 or 2 axes that fit it.
    a_shape = (rows if a_rows else 1, cols if a_cols else 1)
    b_shape = ((), (cols,), (rows, 1))[b_ndim]
    rng = np.random.default_rng(seed)
    point = {"a": rand(rng, a_shape), "b": rand(rng, b_shape)}
    point["w"] = rand(rng, np.broadcast_shapes(a_shape, b_shape))
    check_both_modes("sum(w * (a*b + sin(a) - b/2))", point, ["a", "b"])


# -- the array ops ----------------------------------------------------------------------------


MATMUL_SHAPES = [
    ((3, 4), (4, 2)),  # matrix @ matrix
    ((4,), (4, 2)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4,)),  # vector @ vector: a number
    ((1, 4), (4, 1)),
]


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
@pytest.mark.parametrize("spelling", ["A @ B", "dot(A, B)"])
def test_matmul_in_every_1d_2d_combination(sa: tuple, sb: tuple, spelling: str) -> None:
    rng = np.random.default_rng(3)
    point = {"A": rand(rng, sa), "B": rand(rng, sb)}
    out = np.matmul(point["A"], point["B"])
    point["w"] = rand(rng, out.shape)
    g = parse(f"sum(w * ({spelling}))")
    assert float(g.eval(point).value) == pytest.approx(float(np.sum(point["w"] * out)))
    check_both_modes(f"sum(w * ({spelling}))", point, ["A", "B"])


def test_matmul_chain_and_transpose() -> None:
    rng = np.random.default_rng(4)
    point = {"A": rand(rng, (3, 4)), "B": rand(rng, (3, 2)), "v": rand(rng, (2,))}
    check_both_modes("sum(transpose(A) @ B @ v)", point, ["A", "B", "v"])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("fn", ["sum", "mean"])
def test_sum_and_mean_over_an_axis(fn: str, axis: int | None) -> None:
    rng = np.random.default_rng(5)
    point = {"X": rand(rng, (3, 4))}
    arg = "" if axis is None else f", {axis}"
    expected = getattr(np, fn)(point["X"], axis=axis)
    point["w"] = rand(rng, np.shape(expected))
    g = parse(f"sum(w * {fn}(X{arg}))")
    assert float(g.eval(point).value) == pytest.approx(float(np.sum(point["w"] * expected)))
    check_both_modes(f"sum(w * {fn}(X{arg}))", point, ["X"])


@pytest.mark.parametrize("axis", [0, -1])
def test_sum_of_a_vector_over_its_axis(axis: int) -> None:
    point = {"v": np.array([1.0, -2.0, 0.5])}
    check_both_modes(f"sum(v^2, {axis}) + mean(v, {axis})", point, ["v"])


def test_sum_over_an_axis_of_a_3d_input() -> None:
    rng = np.random.default_rng(6)
    point = {"T": rand(rng, (2, 3, 2))}
    point["w"] = rand(rng, (2, 2))
    check_both_modes("sum(w * sum(T^2, 1))", point, ["T"])


@pytest.mark.parametrize("axis", ["", ", 0", ", 1", ", -1"])
def test_softmax_on_rows_and_columns(axis: str) -> None:
    rng = np.random.default_rng(8)
    point = {"X": rand(rng, (3, 4)), "w": rand(rng, (3, 4))}
    g = parse(f"S = softmax(X{axis}); f = sum(w * S)")
    s = g.eval(point).values[g.by_name["S"]]
    ax = -1 if not axis else int(axis[2:])
    e = np.exp(point["X"])
    np.testing.assert_allclose(s, e / e.sum(axis=ax, keepdims=True), rtol=1e-12)
    check_both_modes(f"sum(w * softmax(X{axis}))", point, ["X"])


def test_softmax_of_a_vector() -> None:
    point = {"v": np.array([0.1, 2.0, -1.0, 0.5]), "w": np.array([1.0, -2.0, 0.5, 3.0])}
    check_both_modes("sum(w * softmax(v))", point, ["v"])


@pytest.mark.parametrize("axis", ["", ", 0", ", 1"])
def test_logsumexp(axis: str) -> None:
    rng = np.random.default_rng(9)
    point = {"X": rand(rng, (3, 4))}
    ax = None if not axis else int(axis[2:])
    expected = np.log(np.sum(np.exp(point["X"]), axis=ax))
    point["w"] = rand(rng, np.shape(expected))
    assert float(parse(f"sum(w * logsumexp(X{axis}))").eval(point).value) == pytest.approx(
        float(np.sum(point["w"] * expected))
    )
    check_both_modes(f"sum(w * logsumexp(X{axis}))", point, ["X"])


def test_logsumexp_does_not_overflow() -> None:
    r = parse("logsumexp(v)").grad(v=np.array([1000.0, 1000.0]))
    assert float(r.value) == pytest.approx(1000 + np.log(2))
    np.testing.assert_allclose(r.gradient["v"], [0.5, 0.5])


@pytest.mark.parametrize("shape", [(5,), (2, 3)])
def test_norm(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(10)
    point = {"x": rand(rng, shape)}
    assert float(parse("norm(x)").eval(point).value) == pytest.approx(np.linalg.norm(point["x"]))
    check_both_modes("norm(x)", point, ["x"])


@pytest.mark.parametrize("fn", ["max", "min"])
def test_max_and_min_of_one_array(fn: str) -> None:
    rng = np.random.default_rng(12)
    point = {"X": rand(rng, (3, 4))}
    check_both_modes(f"{fn}(X) * 2 + {fn}(X^2)", point, ["X"])


@pytest.mark.parametrize(
    ("fn", "x", "expected"),
    [
        ("max", [1.0, 3.0, 3.0, 2.0], [0, 0.5, 0.5, 0]),
        ("min", [2.0, -1.0, 4.0, -1.0], [0, 0.5, 0, 0.5]),
        ("max", [5.0, 5.0, 5.0], [1 / 3, 1 / 3, 1 / 3]),
    ],
)
def test_max_and_min_split_a_tie_equally(fn: str, x: list[float], expected: list[float]) -> None:
    g = parse(f"{fn}(x)")
    for mode in ("reverse", "forward"):
        r = g.grad(x=np.array(x), mode=mode)
        np.testing.assert_allclose(r.gradient["x"], expected, err_msg=mode)
        assert any("tie" in d.text() for d in r.diagnostics), mode


def test_two_argument_max_stays_elementwise() -> None:
    r = parse("sum(max(x, y))").grad(x=np.array([1.0, 5.0]), y=np.array([3.0, 2.0]))
    np.testing.assert_array_equal(r.gradient["x"], [0, 1])
    np.testing.assert_array_equal(r.gradient["y"], [1, 0])


@pytest.mark.parametrize(
    ("expr", "picked"),
    [
        ("W[1, 2]", (1, 2)),
        ("W[1, -1]", (1, 3)),
        ("W[-2, 0]", (1, 0)),
        ("sum(W[0])", (0,)),  # a whole row
        ("W[2][1]", (2, 1)),
    ],
)
def test_indexing_including_negative_indices(expr: str, picked: tuple[int, ...]) -> None:
    rng = np.random.default_rng(13)
    W = rand(rng, (3, 4))
    g = parse(expr)
    assert float(g.eval(W=W).value) == pytest.approx(float(np.sum(W[picked])))
    expected = np.zeros_like(W)
    expected[picked] = 1.0
    for mode in ("reverse", "forward"):
        np.testing.assert_array_equal(g.grad(W=W, mode=mode).gradient["W"], expected)
    check_both_modes(f"({expr})^2", {"W": W}, ["W"])


def test_literals_built_from_variables() -> None:
    point = {"x": np.float64(0.7), "y": np.float64(-1.3), "w": np.array([2.0, -1.0])}
    check_both_modes("sum(w * [x, 2y])", point, ["x", "y"])
    r = parse("v = [x, 2y, x*y]; f = v[0] + v[1]^2 + v[2]").grad(x=0.7, y=-1.3)
    assert float(r.gradient["x"]) == pytest.approx(1 + -1.3)
    assert float(r.gradient["y"]) == pytest.approx(2 * 2 * 2 * -1.3 + 0.7)


def test_nested_literals_of_variables_and_of_vectors() -> None:
    point = {"a": np.float64(1.5), "b": np.float64(-0.5), "w": np.array([[1.0, 2.0], [-1.0, 0.5]])}
    check_both_modes("sum(w * [[a, b], [a*b, 3]])", point, ["a", "b"])
    rng = np.random.default_rng(14)
    point = {"v": rand(rng, (3,)), "w": rand(rng, (2, 3))}
    check_both_modes("sum(w * [v, exp(v)])", point, ["v"])  # two vectors stacked: 2×3


def test_logistic_example_against_a_hand_gradient() -> None:
    g = parse((EXAMPLES / "logistic.cg").read_text())
    x, w, b, y = np.array([1.0, 2, -1]), np.array([0.5, -0.25, 0.1]), 0.2, 1.0
    a = 1 / (1 + np.exp(-(w @ x + b)))
    for mode in ("reverse", "forward", "numeric"):
        r = g.grad(mode=mode)
        assert float(r.value) == pytest.approx(-np.log(a))
        np.testing.assert_allclose(
            r.gradient["w"], (a - y) * x, rtol=1e-6 if mode == "numeric" else 1e-12
        )
        assert float(r.gradient["b"]) == pytest.approx(a - y)


# -- forward, reverse and numeric mode agree on array specs -------------------------------


SMALL_MLP = """\
H = relu(X @ W1 + b1)
P = softmax(H @ W2 + b2)
L = -mean(sum(Y * log(P), 1))
"""


def small_mlp_point(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 6)
    return {
        "X": rng.standard_normal((6, 5)),
        "Y": np.eye(3)[labels],
        "W1": rng.standard_normal((5, 4)),
        "b1": rng.standard_normal(4) * 0.1,
        "W2": rng.standard_normal((4, 3)),
        "b2": rng.standard_normal(3) * 0.1,
    }


def test_forward_reverse_and_numeric_mode_agree_on_a_small_network() -> None:
    point = small_mlp_point()
    wrt = ["W1", "b1", "W2", "b2"]
    g = parse(SMALL_MLP)
    rev = g.grad(point, wrt=wrt)
    fwd = g.grad(point, wrt=wrt, mode="forward")
    num = g.grad(point, wrt=wrt, mode="numeric")
    p = 5 * 4 + 4 + 4 * 3 + 3
    assert rev.steps.inputs == fwd.steps.inputs == p
    assert fwd.steps.forward_mode == g.n_ops * p
    assert num.steps.numeric == 2 * g.n_ops * p
    for w in wrt:
        np.testing.assert_allclose(fwd.gradient[w], rev.gradient[w], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(num.numeric[w], rev.gradient[w], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(num.gradient[w], rev.gradient[w])  # numeric keeps reverse
        assert np.max(num.difference[w]) < 1e-6
    check_both_modes(SMALL_MLP, point, wrt)


# -- the MLP of examples/mlp.cg against a hand-written numpy backprop ----------------------


def numpy_mlp(X, Y, W1, b1, W2, b2):
    """The SPEC section 9 network, forward and backward, written out by hand."""
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0)
    Z2 = H @ W2 + b2
    E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    n = X.shape[0]
    L = -np.mean(np.sum(Y * np.log(P), axis=1))
    dP = -Y / P / n
    dZ2 = P * (dP - np.sum(dP * P, axis=1, keepdims=True))
    dW2, db2 = H.T @ dZ2, dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
    return L, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def mlp_baseline():
    X = np.loadtxt(EXAMPLES / "data" / "x.csv", delimiter=",")
    Y = np.loadtxt(EXAMPLES / "data" / "y.csv", delimiter=",")
    # parse.py draws each randn(...) of a spec from the stream [seed, k] of its k-th call.
    W1 = np.random.default_rng([0, 0]).standard_normal((784, 128)) * 0.01
    W2 = np.random.default_rng([0, 1]).standard_normal((128, 10)) * 0.01
    return numpy_mlp(X, Y, W1, np.zeros(128), W2, np.zeros(10))


def test_mlp_value_and_gradient_match_a_hand_written_backprop() -> None:
    g = parse((EXAMPLES / "mlp.cg").read_text(), base=EXAMPLES)
    r = g.grad()
    L, grads = mlp_baseline()
    assert float(r.value) == pytest.approx(L, rel=1e-12)
    assert sorted(r.gradient) == sorted(grads)  # the data X, Y take no gradient unless asked
    for k, v in grads.items():
        np.testing.assert_allclose(r.gradient[k], v, rtol=1e-9, atol=1e-15, err_msg=k)
    p = 784 * 128 + 128 + 128 * 10 + 10
    assert p == 101_770 and r.steps.inputs == p
    assert r.steps.backward == g.n_ops + p
    assert r.steps.forward_mode == g.n_ops * p


def test_mlp_adjoints_of_the_data_only_when_every_node_is_shown() -> None:
    # The data X takes no gradient, so plain reverse mode never computes its adjoint (a
    # 64×128 @ 128×784 product); the per-node table (record) shows every node's adjoint.
    g = parse((EXAMPLES / "mlp.cg").read_text(), base=EXAMPLES)
    X = g.by_name["X"]
    assert g.grad().adjoints[X] is None
    r = g.grad(record=True)
    W1 = r.values[g.by_name["W1"]]
    Z1 = r.values[X] @ W1
    H = np.maximum(Z1, 0)
    P = r.values[g.by_name["P"]]
    Y = r.values[g.by_name["Y"]]
    dZ2 = (P * Y.sum(axis=1, keepdims=True) - Y) / 64
    dZ1 = (dZ2 @ r.values[g.by_name["W2"]].T) * (H > 0)
    np.testing.assert_allclose(r.adjoints[X], dZ1 @ W1.T, rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(r.gradient["W1"], g.grad().gradient["W1"])


def test_mlp_through_the_cli_as_json(cli) -> None:
    run = cli("grad", f"@{EXAMPLES / 'mlp.cg'}", "--format", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    L, grads = mlp_baseline()
    assert data["value"] == pytest.approx(L, rel=1e-12)
    for k, v in grads.items():
        got = np.array(data["gradient"][k])  # nested lists, of the input's shape
        assert got.shape == v.shape
        np.testing.assert_allclose(got, v, rtol=1e-9, atol=1e-15, err_msg=k)
    assert data["steps"]["inputs"] == 101_770


def test_a_different_seed_draws_different_weights() -> None:
    text = (EXAMPLES / "mlp.cg").read_text()
    a = parse(text, base=EXAMPLES, seed=0).defaults()["W1"]
    b = parse(text, base=EXAMPLES, seed=1).defaults()["W1"]
    np.testing.assert_array_equal(
        a, np.random.default_rng([0, 0]).standard_normal((784, 128)) * 0.01
    )
    assert not np.allclose(a, b)


# -- output formats ---------------------------------------------------------------------------


SPEC_2x2 = "sum(W * x)"
AT_2x2 = "W=[[1,2],[3,4]],x=[1,2]"


def test_json_gives_arrays_as_nested_lists(cli) -> None:
    run = cli("grad", SPEC_2x2, "--at", AT_2x2, "--format", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["point"] == {"W": [[1, 2], [3, 4]], "x": [1, 2]}
    assert data["value"] == 1 + 4 + 3 + 8
    assert data["gradient"] == {"W": [[1, 2], [1, 2]], "x": [4, 6]}


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_give_one_row_per_entry(cli, fmt: str, sep: str) -> None:
    run = cli("grad", SPEC_2x2, "--at", AT_2x2, "--format", fmt)
    assert run.code == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out), delimiter=sep))
    assert rows[0] == ["name", "value"]
    got = {name: float(v) for name, v in rows[1:]}
    W, x = np.array([[1.0, 2], [3, 4]]), np.array([1.0, 2])
    expected = {f"W[{i},{j}]": W[i, j] for i in range(2) for j in range(2)}
    expected |= {f"x[{i}]": x[i] for i in range(2)}
    expected["value"] = float(np.sum(W * x))
    expected |= {f"grad.W[{i},{j}]": x[j] for i in range(2) for j in range(2)}
    expected |= {f"grad.x[{j}]": W[:, j].sum() for j in range(2)}
    assert got == expected
    assert [name for name, _ in rows[1:]][:5] == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "x[0]"]


def test_csv_of_an_array_valued_eval(cli) -> None:
    run = cli("eval", "2*x", "--at", "x=[1, 2, 3]", "--format", "csv")
    assert run.code == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows == [
        ["name", "value"],
        ["x[0]", "1"],
        ["x[1]", "2"],
        ["x[2]", "3"],
        ["value[0]", "2"],
        ["value[1]", "4"],
        ["value[2]", "6"],
    ]


def test_csv_of_scalars_is_unchanged(cli) -> None:
    run = cli("grad", "x*y", "--at", "x=2,y=3", "--format", "csv")
    assert run.code == 0, run.err
    assert run.out.splitlines() == ["x,y,value,grad.x,grad.y", "2,3,6,3,2"]

"""Arrays through the commands (issue 7): answer keys with arrays, --seed, specs that
diff and hessian refuse, tables and --explain in matrix terms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES

KEY = """
[[problem]]
name = "vec"
expr = "v = [1, 2, 3]; f = sum(v^2)"
expect.grad = { v = [2, 4, 6] }

[[problem]]
name = "entries"
expr = "W = [[1, 2], [3, 4]]; x = [1, -1]; L = sum(W @ x)"
expect.grad = { "W[0, 1]" = -1, x = [4, 7] }
"""


def test_array_answers_are_compared_entry_by_entry(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text(KEY)
    r = cli("check", str(key), "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    checks = {c["item"]: c for p in data["problems"] for c in p["checks"]}
    assert checks["grad.v"]["passed"] and checks["grad.W[0, 1]"]["passed"]
    # ∂L/∂x = Wᵀ·1 = [4, 6]: the second entry is wrong, and the message says which
    assert not checks["grad.x"]["passed"]
    assert checks["grad.x"]["expected"] == [4.0, 6.0]
    assert "entry [1]: expected 6, given 7; 1 of 2 entries are wrong" in checks["grad.x"]["message"]


def test_array_answer_from_a_file(cli, tmp_path: Path) -> None:
    np.save(tmp_path / "g.npy", np.array([2.0, 4.0, 6.0]))
    key = tmp_path / "key.toml"
    key.write_text(
        '[[problem]]\nname = "f"\nexpr = "v = [1, 2, 3]; f = sum(v^2)"\n'
        'expect.grad = { v = "@g.npy" }\n'
    )
    assert cli("check", str(key)).code == 0
    np.save(tmp_path / "g.npy", np.array([2.0, 4.0]))
    r = cli("check", str(key))
    assert r.code == 1 and "expected an array of shape 3, given an array of shape 2" in r.out


def test_a_class_answers_one_entry(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text(KEY)
    answers = tmp_path / "a.csv"
    answers.write_text(
        'student,problem,item,answer\nann,entries,"grad.W[0, 1]",-1\nbob,entries,"grad.W[0, 1]",1\n'
    )
    data = json.loads(cli("check", str(key), "--answers", str(answers), "--format", "json").out)
    marks = {
        s["student"]: [i["passed"] for i in s["items"] if i["item"] == "grad.W[0, 1]"]
        for s in data["students"]
    }
    assert marks == {"ann": [True], "bob": [False]}


def test_seed_changes_randn_and_runs_repeat(cli) -> None:
    text = "W = randn(3, 2); f = sum(W)"
    a = cli("eval", text, "--format", "json")
    b = cli("eval", text, "--format", "json")
    c = cli("eval", text, "--seed", "7", "--format", "json")
    assert a.code == b.code == c.code == 0
    assert a.out == b.out != c.out
    expected = np.random.default_rng([7, 0]).standard_normal((3, 2)).sum()
    assert abs(json.loads(c.out)["value"] - expected) < 1e-12
    bad = cli("eval", text, "--seed", "x")
    assert bad.code == 2 and bad.err.startswith("error: --seed")


def test_diff_and_hessian_refuse_array_specs(cli) -> None:
    r = cli("diff", "f = sum(v^2)")
    assert r.code == 2 and "specs of numbers" in r.err and "cgdiff grad" in r.err
    r = cli("hessian", "W = [[1, 2], [3, 4]]; f = sum(W)", "--at", "")
    assert r.code == 2 and "specs of numbers" in r.err


def test_mlp_tables_and_explain_speak_in_shapes(cli) -> None:
    spec = "@" + str(EXAMPLES / "mlp.cg")
    r = cli("grad", spec, "--explain")
    assert r.code == 0, r.err
    assert "t1 = X @ W1   (64×784 @ 784×128 → 64×128)" in r.out
    assert "∂L/∂W1 = Xᵀ·∂L/∂t1   (784×64 · 64×128 → 784×128)" in r.out
    assert "n + p = 11 + 101770" in r.out
    table = cli("grad", spec)
    assert "784×128 ‖" in table.out


def test_pictures_show_shapes_on_nodes_and_edges(cli) -> None:
    import xml.etree.ElementTree as ET

    r = cli("graph", "W = ones(2, 3); x = [1, 2, 3]; f = sum(W @ x)", "--format", "svg")
    assert r.code == 0, r.err
    root = ET.fromstring(r.out)
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "2×3" in texts  # W's box says its shape
    locals_ = [
        t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "cg-local"
    ]
    assert {"2×3", "3", "2"} <= {t.text for t in locals_}  # the shapes that flow on the edges


def test_a_users_name_means_the_users_node_in_check(cli) -> None:
    # issue 8: in `f = x + 5; x*2` the output is f1, and node.f is the user's f = x + 5
    r = cli("check", "f = x + 5; x*2", "--at", "x=1", "--expect", "node.f=6,value=2,adjoint.f=0")
    assert r.code == 0, r.out + r.err
    wrong = cli("check", "f = x + 5; x*2", "--at", "x=1", "--expect", "node.f=2")
    assert wrong.code == 1


def test_a_misspelt_key_field_gets_a_did_you_mean(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text('[[problem]]\nname = "a"\nexpr = "x^2"\nta = { x = 1 }\nexpect.value = 1\n')
    r = cli("check", str(key))
    assert r.code == 2 and "unknown key 'ta'; did you mean 'at'?" in r.err


def test_a_header_only_answers_file_warns(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text(KEY)
    answers = tmp_path / "a.csv"
    answers.write_text("student,problem,item,answer\n")
    r = cli("check", str(key), "--answers", str(answers), "--format", "json")
    assert "has a header but no answers" in r.err
    assert json.loads(r.out)["students"] == []


# Found in review: each of these once exited 70 or gave a wrong gradient.
@pytest.mark.parametrize(
    ("expr", "at", "says"),
    [
        ("T = randn(2,3,4); v = [1,2,3,4]; f = sum(sin(T @ v))", "", "at most 2 dimensions"),
        ("f = sum(x, 0)", "x=2", "no axes"),
        ("f = logsumexp(x, -1)", "x=2", "no axes"),
    ],
)
def test_review_findings_are_clean_errors(cli, expr: str, at: str, says: str) -> None:
    args = ["grad", expr] + (["--at", at] if at else [])
    r = cli(*args)
    assert r.code == 2 and r.err.startswith("error:") and says in r.err, r.err


@pytest.mark.parametrize("mode", ["reverse", "forward", "numeric"])
def test_softmax_of_a_number_has_derivative_zero(cli, mode: str) -> None:
    r = cli("grad", "f = softmax(x)", "--at", "x=2", "--mode", mode, "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["value"] == 1.0 and abs(data["gradient"]["x"]) < 1e-6


def test_non_finite_values_of_mixed_shapes_are_diagnosed(cli) -> None:
    r = cli("grad", "f = logsumexp(v*0 - exp(1000)) + x", "--at", "x=2,v=[1,2,3]")
    assert r.code in (0, 3) and "internal error" not in r.err


def test_gradients_are_arrays_of_their_own() -> None:
    import cgdiff

    r = cgdiff.parse("f = sum(v)").grad(v=[1, 2, 3])
    r.gradient["v"] += 1  # not a read-only broadcast view
    assert r.gradient["v"].tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(cgdiff.CgdiffError, match="specs of numbers"):
        cgdiff.parse("f = mean(sin(A))").derivative("A")


# -- arrays where a scalar was expected, and arrays written as text (a hostile sweep) ---------


@pytest.mark.parametrize(
    ("source", "title", "value"),
    [
        ("[1,2]", "f = [1, 2]", [1, 2]),
        ("W = [[1, 2], [3, 4]]; W @ [1, -1]", "f = W @ [1, -1]", [-1, -1]),
        ("zeros(0)", "f = []", []),
        ("[1/3, 2]", "f = [0.333333, 2]", [1 / 3, 2]),
    ],
)
def test_eval_table_of_a_constant_array(cli, source: str, title: str, value: list) -> None:
    # the title writes a folded constant rounded for people; it used to be exit 70
    r = cli("eval", source)
    assert r.code == 0, r.err
    assert title in r.out
    assert json.loads(cli("eval", source, "--format", "json").out)["value"] == value


def _check(cli, *args: str) -> dict:
    r = cli("check", *args, "--format", "json")
    assert r.code in (0, 1), r.err
    assert r.err == ""
    (check,) = json.loads(r.out)["problems"][0]["checks"]
    return check


def test_an_array_written_as_text_is_an_array_answer(cli) -> None:
    spec = "f = sum(W*W)"
    at = "W=[[1,2],[3,4]]"
    right = _check(cli, spec, "--at", at, "--expect", "grad.W=[[2,4],[6,8]]")
    assert right["passed"] and right["expected"] == [[2.0, 4.0], [6.0, 8.0]]
    assert right["given"] == "[[2,4],[6,8]]"
    wrong = _check(cli, spec, "--at", at, "--expect", "grad.W=[[2,4],[6,9]]")
    assert not wrong["passed"]
    assert "entry [1, 1]: expected 8, given 9; 1 of 4 entries are wrong" in wrong["message"]
    # a formula whose value is an array is compared as one: 2W is right, W is not
    assert _check(cli, spec, "--at", at, "--expect", "grad.W=2*W")["passed"]
    half = _check(cli, spec, "--at", at, "--expect", "grad.W=W")
    assert not half["passed"] and "4 of 4 entries are wrong" in half["message"]
    shape = _check(cli, spec, "--at", at, "--expect", "grad.W=[2,4]")
    assert "expected an array of shape 2×2, given an array of shape 2" in shape["message"]
    # an answer that cannot be read shows the array truth beside it (it was exit 70)
    bad = _check(cli, spec, "--at", at, "--expect", "grad.W=2x+")
    assert not bad["passed"] and bad["expected"] == [[2.0, 4.0], [6.0, 8.0]]
    number = _check(cli, spec, "--at", at, "--expect", "grad.W=1")
    assert not number["passed"] and number["expected"] == [[2.0, 4.0], [6.0, 8.0]]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("[3, 3]", "expected one number, given an array of shape 2"),
        ("x*[2, 1]", "expected one number, given an array of shape 2"),
        ("[6]", "expected one number, given an array of shape 1"),
        ("x*[1,2,3]+[1,2]", "cannot be worked out: shapes 3 and 2 cannot be broadcast"),
    ],
)
def test_an_array_is_wrong_where_one_number_is_asked(cli, answer: str, said: str) -> None:
    # x*[2, 1] at x = 3 is [6, 3]: its first entry is the truth, and it used to pass
    c = _check(cli, "x^2", "--at", "x=3", "--expect", f"grad.x={answer}")
    assert c["passed"] is False and c["expected"] == 6.0
    assert said in c["message"]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("[2, 2]", "the answer is an array of shape 2; ∂f/∂x is one number at each point"),
        ("x*[2, 2]", "uses an array literal"),
        ("3*x*[1]", "uses an array literal"),  # it passed: [3x] broadcast over the points
        ("sum(x*[1, 2])", "uses an array literal"),  # right at any one point, but not checkable
        ("sum(3x)", "uses sum()"),  # it summed over the 200 points and named a false value
    ],
)
def test_an_array_is_wrong_as_a_formula_of_scalars(cli, answer: str, said: str) -> None:
    # compared as functions at random points: an answer is one number at each point
    c = _check(cli, "1.5*x^2", "--expect", f"derivative.x={answer}")
    assert c["passed"] is False
    assert said in c["message"]
    assert _check(cli, "1.5*x^2", "--expect", "derivative.x=3x")["passed"]


def test_an_answer_never_reads_a_file(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.csv").write_text("41\n")
    for answer in ("@secret.csv", "sum(@secret.csv) + 1"):
        c = _check(cli, "x^2", "--at", "x=1", "--expect", f"value={answer}")
        assert not c["passed"]
        assert "an answer cannot read a file (@path)" in c["message"]
        assert "41" not in c["message"] and "42" not in c["message"]


def test_a_class_answers_arrays_as_text(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text(
        '[[problem]]\nname = "ann"\nexpr = "f = sum(W*W)"\nat = { W = [[1, 2], [3, 4]] }\n'
        "expect.grad = { W = [[2, 4], [6, 8]] }\n"
    )
    answers = tmp_path / "a.csv"
    answers.write_text(
        "student,problem,item,answer\n"
        'ann,ann,grad.W,"[[2,4],[6,8]]"\n'
        "bob,ann,grad.W,2*W\n"
        'cy,ann,"grad.W[0,1]",4\n'
        'dee,ann,grad.W,"[[1,1],[1,1]]"\n'
    )
    r = cli("check", str(key), "--answers", str(answers), "--format", "json")
    assert r.code == 1 and r.err == ""
    scores = {s["student"]: s["score"] for s in json.loads(r.out)["students"]}
    # cy gave one entry, not the array grad.W that the key asks for
    assert scores == {"ann": 1, "bob": 1, "cy": 0, "dee": 0}
    junit = cli("check", str(key), "--answers", str(answers), "--format", "junit")
    assert junit.code == 1 and junit.err == ""
    assert junit.out.count("<failure") == 3 and "4 of 4 entries are wrong" in junit.out


def test_a_key_gives_array_inputs_at_its_point(cli, tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text("1,1\n")
    key = tmp_path / "key.toml"
    key.write_text(
        '[[problem]]\nname = "list"\nexpr = "f = sum(W*W)"\nat = { W = [[1, 2], [3, 4]] }\n'
        'expect.value = 30\nexpect.grad = { W = "2*W" }\n\n'
        '[[problem]]\nname = "text"\nexpr = "f = sum(W*W)"\nat = { W = "[[1,2],[3,4]]" }\n'
        "expect.grad = { W = [[2, 4], [6, 8]] }\n\n"
        '[[problem]]\nname = "file"\nexpr = "f = sum(W @ v)"\n'
        'at = { W = [[1, 2], [3, 4]], v = "@v.csv" }\nexpect.grad = { v = [4, 6] }\n'
    )
    r = cli("check", str(key), "--format", "json")
    assert r.code == 0, r.out + r.err
    assert json.loads(r.out)["passed"] == 3
    ragged = tmp_path / "ragged.toml"
    ragged.write_text(key.read_text().replace("[[1, 2], [3, 4]]", "[[1, 2], [3]]", 1))
    bad = cli("check", str(ragged))
    assert bad.code == 2
    assert "problem[1].at.W: an array value must be a rectangular array of numbers" in bad.err


def test_a_sample_range_too_wide_to_draw_from(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text(
        '[[problem]]\nexpr = "x^2"\nsample_range = { x = [-1e308, 1e308] }\n'
        'expect.derivative = { x = "2x" }\n'
    )
    r = cli("check", str(key))
    assert r.code == 2 and r.out == ""
    assert "problem[1].sample_range.x: is too wide" in r.err and "overflows to inf" in r.err

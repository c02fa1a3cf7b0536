"""What a hostile-input sweep found: each case once gave a traceback, a numpy warning, a
message that was wrong or a silent wrong value.  Oracles: the maths (log to base 0 is not
defined; the derivative of x^x at 0 adds nan and -inf), and the commands' own contract
(one ``error:`` line, SPEC section 7's exit code)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest


def test_an_empty_mean_is_undefined_without_numpy_noise() -> None:
    # NB: a real process: in-process, pytest's own warnings capture would hide numpy's
    for source in ("mean(zeros(0))", "mean(zeros(2, 0), 1)"):
        r = subprocess.run(
            [sys.executable, "-m", "cgdiff", "grad", source],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert r.returncode == 3 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "is undefined" in r.stderr
        assert "RuntimeWarning" not in r.stderr and "Mean of empty slice" not in r.stderr


def test_an_empty_max_names_the_reason(cli) -> None:
    r = cli("grad", "max(zeros(0))")
    assert r.code == 2 and "an empty array has no largest entry" in r.err
    assert "zero-size array" not in r.err
    assert "an empty array has no smallest entry" in cli("grad", "min(zeros(0))").err


@pytest.mark.parametrize("base", ["0", "1", "-2"])
def test_a_log_to_a_base_without_logs_is_undefined(cli, base: str) -> None:
    # log(2, 0) = ln 2 / ln 0 = ln 2 / -inf read -0.0 and passed silently
    r = cli("grad", f"log(x, {base})", "--at", "x=2")
    assert r.code == 3 and r.out == ""
    assert f"log(x, {base}) is undefined at x=2" in r.err


def test_a_log_to_a_base_still_works(cli) -> None:
    out = json.loads(cli("grad", "log(x, 2)", "--at", "x=8", "--format", "json").out)
    assert out["value"] == pytest.approx(3.0)
    assert out["gradient"]["x"] == pytest.approx(1 / (8 * math.log(2)))


def test_x_to_the_x_at_0_gets_one_warning_that_adds_up(cli) -> None:
    # d/dx x^x = x * x^(x-1) (as base) + x^x log(x) (as exponent): nan + (-inf) = nan
    r = cli("grad", "x^x", "--at", "x=0", "--format", "json")
    out = json.loads(r.out)
    assert out["gradient"]["x"] == "nan"
    (warning,) = out["warnings"]
    assert "as base and as exponent, are nan and -inf" in warning
    assert warning.endswith("the result reports nan")


def test_a_vjp_rule_that_is_undefined_is_named(cli) -> None:
    # ∂‖x‖/∂x = x/‖x‖ is 0/0 at x = 0: not an overflow, and the node is named
    out = json.loads(cli("grad", "norm(x)", "--at", "x=[0,0]", "--format", "json").out)
    assert out["gradient"]["x"] == ["nan", "nan"]
    (warning,) = out["warnings"]
    assert warning.startswith("node f: the chain rule through norm(x) gives nan for x")
    assert "overflow" not in warning
    # beside another use of x, the norm is still the node named
    both = cli("grad", "norm(2*x) + x[0]", "--at", "x=[0,0]", "--format", "json").out
    (warning,) = json.loads(both)["warnings"]
    assert "through norm(" in warning


def test_several_points_for_a_one_point_command(cli) -> None:
    r = cli("hessian", "x*y", "--at", "x=1,y=2", "--at", "x=2,y=3")
    assert r.code == 2
    # joining them (--at x=1,y=2,x=2,y=3) would itself be an error: not suggested
    assert "x=1,y=2,x=2,y=3" not in r.err
    assert "'x' is given in more than one --at" in r.err
    joined = cli("hessian", "x*y", "--at", "x=1", "--at", "y=3")
    assert joined.code == 2 and "write --at x=1,y=3" in joined.err


def test_a_ragged_data_file_is_said_in_cgdiffs_words(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.csv").write_text("1,2\n3\n")
    r = cli("eval", "X = @rag.csv; sum(X)")
    assert r.code == 2
    assert "the number of columns changed from 2 to 1 at row 2" in r.err
    assert "usecols" not in r.err  # numpy's keyword, which no cgdiff user can pass


def test_a_points_cell_that_overflows_says_its_line_once(cli, tmp_path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("x\n1\n1e400\n")
    r = cli("grad", "x^2", "--points", str(points))
    assert r.code == 2
    assert r.err.strip().endswith("p.csv, line 3: the number 1e400 is too large")
    assert "column" not in r.err


def test_answers_whose_every_row_is_malformed(cli, tmp_path) -> None:
    key = tmp_path / "k.toml"
    key.write_text('[[problem]]\nname = "s"\nexpr = "x^2"\nat = { x = 3 }\nexpect.value = 9\n')
    answers = tmp_path / "a.csv"
    answers.write_text("student,problem,item,answer\n,s,value,9\n  ,s,value,9\n")
    r = cli("check", str(key), "--answers", str(answers), "--format", "json")
    assert r.code == 1  # a malformed row counts as wrong (SPEC section 6)
    out = json.loads(r.out)
    assert out["students"] == [] and [m["line"] for m in out["malformed"]] == [2, 3]
    assert "every row is malformed" in r.err and "header but no answers" not in r.err


def test_an_overflowing_rule_is_not_called_undefined(cli) -> None:
    r = cli("grad", "log([x, x] @ [1e200, 1e200])", "--at", "x=1e-310", "--format", "json")
    (warning,) = json.loads(r.out)["warnings"]
    assert "gives inf" in warning and "(the product overflows)" in warning
    assert "not defined" not in warning


def test_an_array_truth_that_is_not_finite(cli) -> None:
    # ∂‖W‖/∂W at W = 0 is [nan, nan]: JSON says "nan" (it was exit 70), and no answer matches
    for answer in ("[0,0]", "2x+"):
        r = cli(
            "check",
            "f = norm(W)",
            "--at",
            "W=[0,0]",
            "--expect",
            f"grad.W={answer}",
            "--format",
            "json",
        )
        assert r.code == 1, r.err
        (c,) = json.loads(r.out)["problems"][0]["checks"]
        assert c["expected"] == ["nan", "nan"] and not c["passed"]
    assert "no finite answer matches" in c["message"] or "not a number" in c["message"]
    r = cli(
        "check", "f = norm(W)", "--at", "W=[0,0]", "--expect", "grad.W=[0,0]", "--format", "json"
    )
    assert "∂f/∂W is nan at entry [0] at W=[0, 0]: no finite answer matches" in r.out


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("[1, 1" + "0" * 400 + "]", "holds a number too large for a float"),
        ("[1, true]", "holds a boolean; it must hold numbers"),
        ('["1e3", 2]', "holds a string; it must hold numbers"),
        ("[[1, 2], [3]]", "must be a rectangular array of numbers"),
    ],
)
def test_a_key_array_that_is_not_numbers(cli, tmp_path, value: str, said: str) -> None:
    for place in (
        "at = {{ W = {} }}\nexpect.value = 1",
        "at = {{ W = [1, 2] }}\nexpect.grad = {{ W = {} }}",
    ):
        key = tmp_path / "k.toml"
        key.write_text('[[problem]]\nexpr = "f = sum(W)"\n' + place.format(value) + "\n")
        r = cli("check", str(key))
        assert r.code == 2 and r.out == "", r.err
        assert said in r.err


def test_an_answer_cannot_make_a_huge_array(cli) -> None:
    r = cli(
        "check",
        "x^2",
        "--at",
        "x=1",
        "--expect",
        "value=sum(ones(15000,15000)*x)",
        "--format",
        "json",
    )
    (c,) = json.loads(r.out)["problems"][0]["checks"]
    assert not c["passed"] and "the limit is 1,000,000" in c["message"]
    assert "CGDIFF_MAX_ENTRIES" not in c["message"]  # the grader's limit, not the student's
    ok = cli("check", "x^2", "--at", "x=1", "--expect", "value=sum(ones(100,100)*x)/10000")
    assert ok.code == 0


def test_a_large_token_limit_does_not_allocate_it(cli, tmp_path, monkeypatch) -> None:
    # reads go in pieces: a limit of 64 GB must not be allocated to read a 4-byte file
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "1000000000")
    spec = tmp_path / "s.cg"
    spec.write_text("x+1\n")
    r = cli("eval", f"@{spec}", "--at", "x=1", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["value"] == 2


# -- a second sweep --------------------------------------------------------------------------


def test_an_array_problem_is_not_compared_as_a_function(cli) -> None:
    # the random points come in one batch: mean(x) over them is not mean(x) at any one
    for args in (
        ("mean(x)", "--expect", "value=sum(x)/200"),
        ("sum(W*W)", "--expect", "grad.W=3*W"),
        ("sum(W*W)", "--at", "W=[1,2]", "--expect", "derivative.W=2W"),
    ):
        r = cli("check", *args)
        assert r.code == 2 and r.out == "", r.out
        assert "cannot be checked" in r.err and "an array operation" in r.err
    # at a point it is checked, and a wrong answer is only a wrong answer (exit 1)
    at = ("sum(W*W)", "--at", "W=[1,2]", "--format", "json")
    assert cli("check", *at, "--expect", "grad.W=2*W").code == 0
    wrong = cli("check", *at, "--expect", "grad.W=2*sum(W)")
    assert wrong.code == 1 and json.loads(wrong.out)["failed"] == 1


@pytest.mark.parametrize("answer", ["sum(3x)", "x[0]", "sum(x, 0)", "3*x*ones(1)", "mean(3x)"])
def test_a_student_array_operation_is_one_wrong_answer(cli, tmp_path, answer: str) -> None:
    # these aborted a whole class (exit 70 or 2, half a JSON document) or passed
    key = tmp_path / "k.toml"
    key.write_text('[[problem]]\nname = "d"\nexpr = "1.5*x^2"\nexpect.derivative = { x = "3x" }\n')
    answers = tmp_path / "a.csv"
    answers.write_text(
        f'student,problem,item,answer\nann,d,derivative.x,"{answer}"\nbob,d,derivative.x,3x\n'
    )
    r = cli("check", str(key), "--answers", str(answers), "--format", "json")
    assert r.code == 1, r.err
    scores = {s["student"]: s["score"] for s in json.loads(r.out)["students"]}
    assert scores == {"ann": 0, "bob": 1}


def test_check_reads_a_specs_data_beside_it(cli, tmp_path, monkeypatch) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "v.csv").write_text("1,2,3\n")
    (tmp_path / "sub" / "s.cg").write_text("v = @v.csv\nf = sum(v*x)\n")
    monkeypatch.chdir(tmp_path)
    r = cli("check", "@sub/s.cg", "--at", "x=2", "--expect", "value=12", "--format", "json")
    assert r.code == 0, r.err


def test_an_entry_item_is_the_same_however_spaced(cli, tmp_path) -> None:
    key = tmp_path / "k.toml"
    key.write_text(
        '[[problem]]\nname = "e"\nexpr = "f = sum(W*W)"\nat = { W = [[1, 2], [3, 4]] }\n'
        'expect.grad = { "W[0,1]" = 4, "W[ 1 , 1 ]" = 8 }\n'
    )
    answers = tmp_path / "a.csv"
    answers.write_text(
        'student,problem,item,answer\nann,e,"grad.W[0, 1]",4\nann,e,"grad.W[1,1]",8\n'
    )
    r = cli("check", str(key), "--answers", str(answers), "--format", "json")
    assert r.code == 0, r.out
    assert json.loads(r.out)["students"][0]["score"] == 2


def test_a_hessian_too_large_is_refused_at_once(cli, tmp_path) -> None:
    n = 1100
    spec = tmp_path / "h.cg"
    spec.write_text(
        ";".join(f"x{i}=1" for i in range(n + 1))
        + ";f="
        + "+".join(f"x{i}*x{i + 1}" for i in range(n))
    )
    r = cli("hessian", f"@{spec}")
    assert r.code == 2 and r.out == ""
    assert "the Hessian of 1,101 inputs" in r.err and "more than the limit of 1,000,000" in r.err
    small = cli("hessian", f"@{spec}", "--wrt", "x0,x1", "--format", "json")
    assert small.code == 0 and json.loads(small.out)["hessian"]["x0"]["x1"] == 1


def test_a_data_file_that_is_not_real_numbers(cli, tmp_path, monkeypatch) -> None:
    import numpy as np

    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "c.npy", np.array([1 + 2j, 3]))
    np.save(tmp_path / "b.npy", np.array([True, False]))
    (tmp_path / "d.csv").mkdir()
    r = cli("eval", "sum(@c.npy)")
    assert r.code == 2 and "holds complex numbers of type complex128" in r.err
    assert "ComplexWarning" not in r.err
    assert "holds values of type bool" in cli("eval", "sum(@b.npy)").err
    assert "not a regular file" in cli("eval", "sum(@d.csv)").err


def test_a_table_shows_no_control_characters(cli, tmp_path) -> None:
    key = tmp_path / "k.toml"
    key.write_text('[[problem]]\nname = "s"\nexpr = "x^2"\nat = { x = 3 }\nexpect.value = 9\n')
    answers = tmp_path / "a.csv"
    answers.write_text('student,problem,item,answer\nann,s,value,"\x1b[31m2"\n')
    r = cli("check", str(key), "--answers", str(answers))
    assert r.code == 1
    assert "\x1b" not in r.out and "\ufffd[31m2" in r.out


def test_a_long_answer_is_cut_in_its_message(cli) -> None:
    answer = "x*[" + ",".join(["1"] * 3000) + "]"
    r = cli("check", "x^2", "--expect", f"derivative.x={answer}", "--format", "json")
    (c,) = json.loads(r.out)["problems"][0]["checks"]
    assert not c["passed"] and len(c["message"]) < 400


def test_points_have_a_bound_of_rows(cli, tmp_path, monkeypatch) -> None:
    # `--points <(echo x; yes 1)` grew without end: at most CGDIFF_MAX_ENTRIES / 50 cells
    monkeypatch.setenv("CGDIFF_MAX_ENTRIES", "500")  # 10 cells: 10 rows of one column
    points = tmp_path / "p.csv"
    points.write_text("x\n" + "\n".join(map(str, range(10))) + "\n")
    assert cli("grad", "x^2", "--points", str(points), "--format", "csv").code == 0
    points.write_text("x\n" + "\n".join(map(str, range(11))) + "\n")
    r = cli("grad", "x^2", "--points", str(points), "--format", "csv")
    assert r.code == 2 and r.out == ""
    assert "more than 10 points (rows)" in r.err and "CGDIFF_MAX_ENTRIES" in r.err


def test_a_bad_local_derivative_of_an_array_names_its_entry(cli) -> None:
    r = cli("grad", "sum(sqrt(W))", "--at", "W=[1,0]", "--format", "json")
    (warning,) = json.loads(r.out)["warnings"]
    assert "sqrt(W) with respect to W is inf" in warning and "entry [1]" in warning


@pytest.mark.parametrize("fmt", ["json", "junit", "table"])
def test_answers_from_an_endless_pipe_are_refused(cli, tmp_path, monkeypatch, fmt) -> None:
    # a pipe holds every row until its end (no first pass over it): at most a bound, and
    # refused before a byte of the document is written
    import cgdiff.check.classrun as classrun

    monkeypatch.setattr(classrun, "last_rows", lambda path: None)  # read as a pipe is
    monkeypatch.setenv("CGDIFF_MAX_ENTRIES", "500")  # 10 rows
    key = tmp_path / "k.toml"
    key.write_text('[[problem]]\nname = "1"\nexpr = "x^2"\nat = { x = 3 }\nexpect.value = 9\n')
    answers = tmp_path / "a.csv"
    rows = [f"s{k},1,value,9\n" for k in range(11)]
    answers.write_text("student,problem,item,answer\n" + "".join(rows[:10]))
    assert cli("check", str(key), "--answers", str(answers), "--format", fmt).code == 0
    answers.write_text("student,problem,item,answer\n" + "".join(rows))
    r = cli("check", str(key), "--answers", str(answers), "--format", fmt)
    assert r.code == 2 and r.out == ""
    assert "more than 10 rows from a pipe" in r.err


@pytest.mark.parametrize("where", ["at", "expr"])
def test_an_array_past_64_dimensions_is_not_called_ragged(cli, where: str) -> None:
    # numpy's limit on dimensions: 65 nested brackets were "a ragged array literal"
    deep = "[" * 65 + "1" + "]" * 65
    args = ["grad", "sum(W)", "--at", f"W={deep}"] if where == "at" else ["eval", deep]
    r = cli(*args)
    assert r.code == 2 and r.err.count("\n") == 1
    assert "nested 65 deep" in r.err and "at most 64 dimensions" in r.err
    assert "ragged" not in r.err
    ok = "[" * 64 + "1" + "]" * 64  # 64 is numpy's own limit, and works
    assert cli("grad", "sum(W)", "--at", f"W={ok}", "--format", "json").code == 0


def test_an_array_input_is_shown_by_its_entries_in_a_message(cli) -> None:
    # "at W: 2" read as if W were 2; a small array is now written out, a large one named
    r = cli("grad", "sum(log(W))", "--at", "W=[0,1]")
    assert r.code == 3 and "at W=[0, 1] (entry [0])" in r.err and "W: 2" not in r.err
    big = "[" + ", ".join(["[0, 1, 2, 3]"] * 2) + "]"
    r = cli("grad", "sum(log(W))", "--at", f"W={big}")
    assert r.code == 3 and "at W=array(2×4) (entry [0, 0])" in r.err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        # diff and hessian name the array itself, where the spec first makes one (not t1, f)
        (("diff", "a = [1,2]*x; f = sum(a)"), "vectors or matrices ([1, 2], line 1)"),
        (("diff", "y = 2*x\nb = y @ y"), "vectors or matrices (matmul at b, line 2)"),
        (("hessian", "sum([1,2]*x)", "--at", "x=1"), "vectors or matrices ([1, 2]"),
        # a point: no value, no name, ';' between values ("the expression is empty", ...)
        (("grad", "x*y", "--at", "x="), "'x=' gives x no value; write x=NUMBER"),
        (("grad", "x*y", "--at", "=1"), "'=1' names no input"),
        (("grad", "x*y", "--at", "x=1;y=2"), "separate the values of a point with commas"),
        # no file named ("'.': Is a directory")
        (("eval", "x", "--at", "x=1", "-o", ""), "-o (--output-file) needs a file name"),
        (("eval", "x", "--at", "x=1", "--output-file="), "-o (--output-file) needs a file"),
        (("eval", "@"), "'@' names no file"),
        (("eval", "x", "--at", "x=@"), "'@' names no file"),
        (("eval", "x", "--at", "x=1", "--seed", "-1"), "--seed takes a whole number from 0 up"),
        # a statement of a one-line spec says its line, as a line of a longer one does
        (("eval", "unused = log(-2); f = x", "--at", "x=1"), "log(-2) is undefined (line 1)"),
    ],
)
def test_messages_that_said_the_wrong_thing(cli, args, says) -> None:
    r = cli(*args)
    assert r.code in (2, 3) and r.out == "" and r.err.count("\n") == 1, r.err
    assert r.err.startswith("error: ") and says in r.err, r.err
    assert "empty" not in r.err and "Is a directory" not in r.err


def test_a_long_list_of_missing_inputs_is_cut_at_a_name(cli) -> None:
    names = [f"very_long_input_name_{i}" for i in range(40)]
    r = cli("eval", "+".join(names))
    assert r.code == 2 and "…" not in r.err.split(";")[0]
    assert f"'{names[0]}'" in r.err and "and 3" in r.err and " more" in r.err
    assert all(f"'{n}'" in r.err for n in names[:3])
    hint = r.err.split("give them with --at ", 1)[1].strip()
    assert hint.endswith(",…") and all(
        part.endswith("=VALUE") and part[: -len("=VALUE")] in names for part in hint.split(",")[:-1]
    )
    r = cli("eval", "x*y*z*w*v")  # a short list is written whole
    assert (
        "'x', 'y', 'z', 'w', 'v';" in r.err and "x=VALUE,y=VALUE,z=VALUE,w=VALUE,v=VALUE" in r.err
    )


def test_stdin_for_points_and_answers_and_not_twice(tmp_path) -> None:
    homework = Path(__file__).parents[1] / "examples" / "homework"

    def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cgdiff", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            cwd=homework,
        )

    p = run("eval", "2x", "--points", "-", "--format", "csv", stdin="x\n1\n2\n")
    assert p.returncode == 0 and p.stdout.splitlines() == ["x,value", "1,2", "2,4"]
    whole = run("check", "key.toml", "--answers", "submissions.csv", "--format", "json", stdin="")
    piped = run(
        "check",
        "key.toml",
        "--answers",
        "-",
        "--format",
        "json",
        stdin=(homework / "submissions.csv").read_text(encoding="utf-8"),
    )
    assert piped.returncode == whole.returncode == 1
    assert json.loads(piped.stdout)["students"] == json.loads(whole.stdout)["students"]
    p = run("eval", "-", "--points", "-", stdin="x\n")
    assert p.returncode == 2 and "standard input is read twice" in p.stderr
    # by another name: @/dev/stdin read the CSV as the spec ("statement 1 is an expression...")
    p = run("eval", "@/dev/stdin", "--points", "-", stdin="x\n1\n")
    assert p.returncode == 2 and "standard input is read twice" in p.stderr
    p = run("eval", "-", "--points", "/dev/stdin", stdin="2*x\n")
    assert p.returncode == 2 and "standard input is read twice" in p.stderr
    p = run("eval", "@/dev/stdin", "--at", "x=1", "--format", "json", stdin="2*x\n")
    assert p.returncode == 0 and json.loads(p.stdout)["value"] == 2.0


def test_a_negative_base_to_a_fraction_says_why_and_reads_back(cli) -> None:
    # "-8 ^ 0.333" read back as -(8^0.333); the hint says what a student meant
    r = cli("eval", "(-8)^(1/3)")
    assert r.code == 3 and "(-8) ^ 0.3333333333333333 is undefined" in r.err
    assert "for a cube root write cbrt(x)" in r.err
    r = cli("eval", "x^(1/3)", "--at", "x=-8")
    assert r.code == 3 and "cbrt(x)" in r.err
    r = cli("eval", "sum(x^y)", "--at", "x=[-1,0],y=-1")  # 0^-1 is undefined for another reason
    assert r.code == 3 and "(entry [1])" in r.err and "cbrt" not in r.err


def test_a_constant_says_it_has_no_inputs(cli) -> None:
    for args in (("diff", "3", "--wrt", "x"), ("grad", "3", "--at", "x=1")):
        r = cli(*args)
        assert r.code == 2 and "the expression has no inputs: it is a constant" in r.err
        assert "none" not in r.err


def test_a_quote_left_open_loses_no_other_student(cli, tmp_path) -> None:
    # `ann,1a,value,"-12` took in the rest of the file as her answer: bob and cid vanished
    key = Path(__file__).parents[1] / "examples" / "homework" / "key.toml"
    answers = tmp_path / "a.csv"
    answers.write_text(
        "student,problem,item,answer\n"
        'ann,1a,value,"-12\nbob,1a,value,-12\ndan,1a,value,"-1\n2"\ncid,1a,value,-12\n'
    )
    r = cli("check", str(key), "--answers", str(answers), "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    assert [s["student"] for s in data["students"]] == ["ann", "bob", "dan", "cid"]
    scores = {s["student"]: s["score"] for s in data["students"]}
    assert scores["bob"] == scores["cid"] > scores["ann"] == scores["dan"] == 0
    assert [(m["line"], m["student"]) for m in data["malformed"]] == [
        (2, "ann"), (4, "dan"), (5, "")
    ]  # fmt: skip
    assert "not closed on it" in data["malformed"][0]["message"]


def _homework_rows(student: str) -> list[str]:
    lines = (Path(__file__).parents[1] / "examples" / "homework" / "submissions.csv").read_text(
        encoding="utf-8"
    )
    return [line for line in lines.splitlines() if line.startswith(student + ",")]


def test_gradescope_scores_an_empty_submission_and_a_row_without_a_student(cli, tmp_path) -> None:
    import xml.etree.ElementTree as ET

    key = str(Path(__file__).parents[1] / "examples" / "homework" / "key.toml")
    header = "student,problem,item,answer\n"
    empty = tmp_path / "empty.csv"
    empty.write_text(header)
    r = cli("check", key, "--answers", str(empty), "--format", "gradescope")
    data = json.loads(r.out)  # it wrote no results.json: Gradescope says the autograder failed
    assert data["score"] == 0 and len(data["tests"]) == 45
    assert all(t["status"] == "failed" and "no answer" in t["output"] for t in data["tests"])
    assert data["tests"][0]["output"].startswith("expected: -12\ngiven: (none)")  # was blank
    # ann's right answers and a row with no student name: 45 of 46, so not 100%
    extra = tmp_path / "extra.csv"
    extra.write_text(header + "\n".join([*_homework_rows("ann"), ",1a,value,1"]) + "\n")
    r = cli("check", key, "--answers", str(extra), "--format", "gradescope")
    data = json.loads(r.out)
    assert r.code == 1 and len(data["tests"]) == 46
    assert (
        data["tests"][-1]["status"] == "failed" and "no student name" in data["tests"][-1]["output"]
    )
    assert data["score"] == pytest.approx(45 * 45 / 46, abs=1e-4) and data["score"] < 45
    # JUnit shows that row as a failure too: it said failures="0" with exit 1
    r = cli("check", key, "--answers", str(extra), "--format", "junit")
    root = ET.fromstring(r.out)
    assert r.code == 1 and root.get("failures") == "1" and root.get("tests") == "91"
    (suite,) = [s for s in root if s.get("name") == "malformed rows without a student"]
    assert suite.get("failures") == "1" and suite[0].get("name").startswith("line ")


def test_junit_reports_a_key_problem_undefined_at_its_point_as_an_error(cli) -> None:
    import xml.etree.ElementTree as ET

    r = cli("check", "1/x", "--at", "x=0", "--expect", "value=1", "--format", "junit")
    root = ET.fromstring(r.out)
    assert r.code == 3 and root.get("errors") == "1" and root.get("failures") == "0"
    case = root.find("testsuite/testcase")
    assert case is not None and case.find("error") is not None and case.find("failure") is None
    assert case.find("error").get("type") == "Undefined"


def test_a_header_again_a_column_twice_and_an_option_twice_are_said(cli, tmp_path) -> None:
    key = str(Path(__file__).parents[1] / "examples" / "homework" / "key.toml")
    header = "student,problem,item,answer\n"
    joined = tmp_path / "joined.csv"  # two exports joined with cat: a student "student"
    joined.write_text(header + "ann,1a,value,-12\n" + "\ufeff" + header + "bob,1a,value,-12\n")
    r = cli("check", key, "--answers", str(joined), "--format", "json")
    data = json.loads(r.out)
    assert [s["student"] for s in data["students"]] == ["ann", "bob"]
    assert data["malformed"] == [
        {"line": 3, "student": "", "message": "the header again (two files joined?)"}
    ]
    twice = tmp_path / "twice.csv"
    twice.write_text("student,student,problem,item,answer\nann,ann,1a,value,-12\n")
    r = cli("check", key, "--answers", str(twice))
    assert r.code == 2 and "names the column 'student' twice" in r.err
    r = cli("check", key, "--answers", str(joined), "--answers", str(twice))  # the last won
    assert r.code == 2 and r.err.startswith("error: --answers is given twice")
    quote = tmp_path / "quote.csv"  # a file said "missing" columns, a pipe the open quote
    quote.write_text('"')
    r = cli("check", key, "--answers", str(quote))
    assert r.code == 2 and "line 1, the header, has a quote it does not close" in r.err
    r = cli("diff", "x*y", "--wrt", "x", "--wrt", "y")
    assert r.code == 2 and "--wrt x,y" in r.err
    assert cli("grad", "x", "--at", "x=1", "--at", "x=2", "--format", "csv").code == 0


def test_a_pasted_minus_is_a_number_in_an_answer_and_counts_as_one_token(cli, monkeypatch) -> None:
    r = cli("check", "x*1e-3", "--at", "x=1", "--expect", "value=1e−3", "--format", "json")
    (c,) = json.loads(r.out)["problems"][0]["checks"]
    assert r.code == 0 and c["given"] == 0.001 and c["message"] == ""  # a number, not a formula
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "3")  # 1.5e−3, +, 2
    assert cli("eval", "1.5e−3+2", "--format", "json").code == 0


def test_stdin_closed_for_points_says_so() -> None:
    p = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m cgdiff eval x --points - <&-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 2 and p.stderr == (
        "error: standard input is closed; nothing to read for --points -\n"
    )

"""``cgdiff check`` on the command line: exit codes, messages and every output format."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import EXAMPLES

HOMEWORK = EXAMPLES / "homework"
KEY = str(HOMEWORK / "key.toml")
ANSWERS = str(HOMEWORK / "submissions.csv")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- an expression and --expect ---------------------------------------------------------------


def test_expect_numbers_pass(cli) -> None:
    r = cli("check", "x*y+z", "--at", "x=1,y=2,z=3", "--expect", "value=5,grad.x=2,grad.y=1")
    assert r.code == 0, r.err
    assert r.out.count("✓") == 3 and "✗" not in r.out


def test_expect_number_fails_exit_1(cli) -> None:
    r = cli("check", "x*y+z", "--at", "x=1,y=2,z=3", "--expect", "value=5,grad.x=3")
    assert r.code == 1 and r.err == ""
    assert "✗" in r.out and "expected 2, given 3" in r.out


def test_expect_derivative_formula(cli) -> None:
    r = cli("check", "x^2 sin(x)", "--expect", "derivative.x=2x sin(x) + x^2 cos(x)")
    assert r.code == 0, r.out
    r = cli(
        "check", "x^2 sin(x)", "--expect", "derivative.x=2x sin(x) + x cos(x)", "--format", "json"
    )
    assert r.code == 1
    check = json.loads(r.out)["problems"][0]["checks"][0]
    assert check["passed"] is False and check["message"].startswith("differs at x=")
    assert set(check["counterexample"]) == {"point", "expected", "given"}


def test_expect_several_options_and_spec_file(cli) -> None:
    r = cli(
        "check",
        f"@{HOMEWORK.parent / 'linear.cg'}",
        "--expect",
        "node.c=-4,node.a=4",
        "--expect",
        "adjoint.w=-4",
        "--format",
        "json",
    )
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert [c["item"] for c in data["problems"][0]["checks"]] == ["node.c", "node.a", "adjoint.w"]


def test_expression_names_its_problem(cli) -> None:
    r = cli("check", "x*y", "--at", "x=2,y=3", "--expect", "value=6", "--format", "json")
    data = json.loads(r.out)
    assert data["source"] == "x*y" and data["problems"][0]["name"] == "x*y"


def test_expect_from_stdin(cli) -> None:
    r = cli("check", "-", "--at", "x=3", "--expect", "value=9", stdin="x^2\n")
    assert r.code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x*y", "--at", "x=1,y=2", "--expect", "grad.q=1"), "'q' in 'grad.q' is not an input"),
        (("x*y", "--expect", "value"), "is not ITEM=ANSWER"),
        (("x*y", "--at", "x=1", "--expect", "value=1"), "no value for input 'y'"),
        (("x*y",), "not a file; to check an expression give --expect"),
        (("x*y", "--at", "x=1,y=2", "--at", "x=2,y=3", "--expect", "value=2"), "one point"),
        (("x*y", "--expect", "value=2", "--answers", "a.csv"), "--answers goes with"),
        ((KEY, "--at", "x=1"), "--at goes with an expression"),
        (("nokey.toml",), "cannot read the answer key"),
        (("x*(y+)z", "--expect", "value=1"), "unexpected ')'"),
        (("x", "--expect", "velue=1"), "did you mean 'value'"),
    ],
)
def test_usage_errors_exit_2(cli, args: tuple[str, ...], message: str) -> None:
    r = cli("check", *args)
    assert r.code == 2
    assert r.err.startswith("error: ") and message in r.err
    assert "Traceback" not in r.err


def test_bad_answer_in_expect_fails_the_check_not_the_run(cli) -> None:
    r = cli(
        "check",
        "x^2",
        "--at",
        "x=3",
        "--expect",
        "value=9,grad.x=6 +,derivative.x=2q",
        "--format",
        "json",
    )
    assert r.code == 1 and r.err == ""
    checks = json.loads(r.out)["problems"][0]["checks"]
    assert [c["passed"] for c in checks] == [True, False, False]
    assert "not a number or formula" in checks[1]["message"]
    assert "'q'" in checks[2]["message"]


# -- an answer key ----------------------------------------------------------------------------


def test_homework_key_table(cli) -> None:
    r = cli("check", KEY)
    assert r.code == 0, r.out
    assert "✗" not in r.out
    assert "11 of 11 problems passed" in r.out


def test_homework_key_json_keys(cli) -> None:
    r = cli("check", KEY, "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)
    assert {"passed", "failed", "problems"} <= set(data)
    assert data["failed"] == 0 and data["passed"] == len(data["problems"])
    for p in data["problems"]:
        assert {"name", "passed", "checks"} <= set(p)
        for c in p["checks"]:
            assert {"item", "expected", "given", "passed", "message"} <= set(c)


def test_key_errors_exit_2_with_path(cli, tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "key.toml",
        "[[problem]]\nexpr = 'x*y'\nat = {x = 1, y = 2}\nexpect.nodes = {zz = 1}\n",
    )
    r = cli("check", key)
    assert r.code == 2
    assert r.err.startswith(f"error: {key}: problem[1].expect.nodes.zz: ")
    key = write(tmp_path, "bad.toml", "[[problem]\n")
    r = cli("check", key)
    assert r.code == 2 and "not valid TOML" in r.err and "line 1" in r.err


def wrong_key(tmp_path: Path) -> str:
    return write(
        tmp_path,
        "key.toml",
        """
[[problem]]
name = "1a"
expr = "(x+y)*z"
at = { x = -2, y = 5, z = -4 }
expect.value = -12
expect.grad = { x = -4, y = 4, z = 3 }

[[problem]]
name = "product rule"
expr = "x^2 sin(x)"
expect.derivative = { x = "2x sin(x) + x cos(x)" }

[[problem]]
name = "fine"
expr = "x"
expect.derivative = { x = "1" }
""",
    )


def test_junit_parses_with_the_right_failure_count(cli, tmp_path: Path) -> None:
    r = cli("check", wrong_key(tmp_path), "--format", "junit")
    assert r.code == 1
    root = ET.fromstring(r.out)
    cases = root.findall(".//testcase")
    failures = root.findall(".//testcase/failure")
    # by hand: 1a has 4 checks (grad.y wrong), product rule 1 (wrong), fine 1
    assert len(cases) == 6 and len(failures) == 2
    assert root.get("tests") == "6" and root.get("failures") == "2"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "2"
    for f in failures:
        assert f.get("message")
    names = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert names == {("1a", "grad.y"), ("product rule", "derivative.x")}


def test_gradescope_structure(cli, tmp_path: Path) -> None:
    r = cli("check", wrong_key(tmp_path), "--format", "gradescope")
    assert r.code == 1
    data = json.loads(r.out)
    assert set(data) >= {"score", "tests"}
    assert isinstance(data["score"], float)
    for t in data["tests"]:
        assert {"name", "score", "max_score", "output"} <= set(t)
        assert t["status"] in ("passed", "failed")
        assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert data["score"] == sum(t["score"] for t in data["tests"]) == 4.0
    assert sum(t["max_score"] for t in data["tests"]) == 6.0


# -- a class's answers -----------------------------------------------------------------------


def test_homework_answers_table(cli) -> None:
    r = cli("check", KEY, "--answers", ANSWERS)
    assert r.code == 1
    for text in (
        "scores per student",
        "scores per item",
        "wrong answers",
        "malformed rows",
        "line 93 (cid): unknown problem '1z'",
    ):
        assert text in r.out, text
    # table cells wrap: look for single words of the node feedback and the counterexample
    for word in ("first", "evaluation", "carried", "differs"):
        assert word in r.out, word


def test_homework_answers_json(cli) -> None:
    r = cli("check", KEY, "--answers", ANSWERS, "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    rows = list(csv.DictReader(io.StringIO(Path(ANSWERS).read_text())))
    students = list(dict.fromkeys(row["student"] for row in rows))
    assert [s["student"] for s in data["students"]] == students
    for s in data["students"]:
        assert {"student", "score", "max_score", "items"} <= set(s)
        assert s["score"] == sum(1 for a in s["items"] if a["passed"] and a.get("scored", True))
        for a in s["items"]:
            assert {"problem", "item", "answer", "passed", "message"} <= set(a)
    # every row of the CSV shows up once in its student's items
    answered = sum(1 for s in data["students"] for a in s["items"] if "line" in a)
    assert answered == len(rows)
    assert {"problem", "item", "passed", "total"} <= set(data["item_scores"][0])
    assert {m["line"] for m in data["malformed"]}


def test_gradescope_for_one_student(cli, tmp_path: Path) -> None:
    rows = [r for r in Path(ANSWERS).read_text().splitlines() if r.startswith(("student,", "bob,"))]
    answers = write(tmp_path, "bob.csv", "\n".join(rows) + "\n")
    r = cli("check", KEY, "--answers", answers, "--format", "gradescope")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert len(data["tests"]) == len(rows) - 1
    failed = [t for t in data["tests"] if t["score"] == 0]
    assert len(failed) == 10
    assert all(t["max_score"] == 1.0 for t in data["tests"])
    r = cli("check", KEY, "--answers", ANSWERS, "--format", "gradescope")
    assert r.code == 2 and "one submission" in r.err


def test_junit_for_a_class(cli) -> None:
    r = cli("check", KEY, "--answers", ANSWERS, "--format", "junit")
    assert r.code == 1
    root = ET.fromstring(r.out)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites[1:]] == ["student ann", "student bob", "student cid"]
    assert suites[1].get("failures") == "0"
    assert int(root.get("failures") or 0) == len(root.findall(".//failure"))


def test_hostile_answers_in_the_outputs(cli, tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "k.toml",
        "[[problem]]\nname = '1'\nexpr = 'x*y'\n"
        "at = { x = 2, y = 3 }\nexpect.value = 6\n"
        "expect.grad = { x = 3, y = 2 }\n",
    )
    answers = write(
        tmp_path,
        "a.csv",
        "student,problem,item,answer\n"
        'eve,1,value,"[red]x\x01\x1b[0m"\n'
        "eve,1,grad.x," + "(" * 50_000 + "3" + ")" * 50_000 + "\n"
        "eve,1,grad.y,10^10^10\n"
        "ann,1,value,6\n",
    )
    for fmt in ("table", "json", "junit"):
        r = cli("check", key, "--answers", answers, "--format", fmt)
        assert r.code == 1 and "Traceback" not in r.err
        if fmt == "junit":
            ET.fromstring(r.out)  # control characters did not break the XML
        if fmt == "json":
            scores = {s["student"]: s["score"] for s in json.loads(r.out)["students"]}
            assert scores == {"eve": 0, "ann": 1}


def test_no_color_table(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    r = cli("check", "x", "--at", "x=1", "--expect", "value=1")
    assert r.code == 0 and "\x1b[" not in r.out


# -- fixes from a new-user review ------------------------------------------------------------


def test_undefined_at_the_point_exits_3(cli, tmp_path: Path) -> None:
    r = cli("check", "1/x", "--at", "x=0", "--expect", "value=1")
    assert r.code == 3
    assert r.err == "error: f = 1 / x is undefined at x=0\n"
    assert "cannot check" in r.out  # the report is still written
    key = write(
        tmp_path,
        "key.toml",
        """
[[problem]]
name = "fine"
expr = "x"
at = { x = 1 }
expect.value = 1
[[problem]]
name = "bad"
expr = "log(x)"
at = { x = -1 }
expect.value = 0
[[problem]]
name = "wrong"
expr = "2x"
at = { x = 1 }
expect.value = 3
""",
    )
    r = cli("check", key, "--format", "json")
    assert r.code == 3  # 3 before 1: a wrong answer elsewhere does not hide it
    assert r.err.startswith("error: problem 'bad': ") and "undefined" in r.err
    data = json.loads(r.out)
    assert [p["passed"] for p in data["problems"]] == [True, False, False]
    # 2 before 3: a key that cannot be read stops everything
    bad = Path(key).read_text() + "[[problem]]\nexpr = 'x'\nexpect.velue = 1\n"
    r = cli("check", write(tmp_path, "bad.toml", bad))
    assert r.code == 2 and r.err.startswith("error: ")


def test_empty_expect_table_exits_2(cli, tmp_path: Path) -> None:
    key = write(tmp_path, "key.toml", "[[problem]]\nexpr = 'x*y'\nexpect.grad = {}\n")
    r = cli("check", key)
    assert r.code == 2
    assert r.err.startswith(f"error: {key}: problem[1].expect: ") and "nothing to check" in r.err


def test_junit_messages_and_classnames_for_a_class(cli) -> None:
    r = cli("check", KEY, "--answers", ANSWERS, "--format", "junit")
    root = ET.fromstring(r.out)
    pairs = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert len(pairs) == len(set(pairs))  # tools merging by (classname, name) keep them apart
    bob = next(s for s in root.findall("testsuite") if s.get("name") == "student bob")
    cases = {c.get("name"): c for c in bob.findall("testcase") if c.get("classname") == "bob.1a"}
    # bob,1a,grad.z,-4 on line 50; by hand dJ/dz = x + y = 3
    failure = cases["grad.z"].find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert message.startswith("expected 3, given -4: off by 7")
    assert message.endswith("(line 50 of the answers)")
    cid = next(s for s in root.findall("testsuite") if s.get("name") == "student cid")
    names = {(c.get("classname"), c.get("name")) for c in cid.findall("testcase")}
    assert ("cid.malformed row", "line 93") in names


def test_warnings_go_to_stderr(cli) -> None:
    r = cli("check", "abs(x)", "--at", "x=0", "--expect", "grad.x=0")
    assert r.code == 0
    assert r.err == (
        "warning: node f: abs is not differentiable at 0; the sub-gradient 0 is used (at x=0)\n"
    )
    assert "warning" not in r.out
    r = cli("check", "abs(x)", "--at", "x=0", "--expect", "grad.x=0", "--format", "json")
    assert json.loads(r.out)["problems"][0]["warnings"] == [
        "node f: abs is not differentiable at 0; the sub-gradient 0 is used (at x=0)"
    ]
    assert r.err.startswith("warning: node f: abs")
    # a constant that overflows stays unfolded and is warned about where it is evaluated
    r = cli("check", "10^10^10*x", "--at", "x=1", "--expect", "value=1")
    assert r.code == 1
    assert r.err == "warning: node t1: 10 ^ 10000000000 overflows to inf at x=1\n"


def test_warnings_in_a_key_name_their_problem(cli, tmp_path: Path) -> None:
    key = write(
        tmp_path,
        "key.toml",
        "[[problem]]\nname = 'kink'\nexpr = 'relu(x)'\nat = { x = 0 }\nexpect.grad = { x = 0 }\n",
    )
    r = cli("check", key)
    assert r.code == 0
    assert r.err.startswith("warning: problem 'kink': node f: relu is not differentiable at 0")


def test_given_in_json_is_a_number_or_the_formula(cli, tmp_path: Path) -> None:
    r = cli("check", "x*y", "--at", "x=2,y=3", "--expect", "value=6,grad.x=y", "--format", "json")
    checks = json.loads(r.out)["problems"][0]["checks"]
    assert [c["given"] for c in checks] == [6.0, "y"]
    assert [c["expected"] for c in checks] == [6.0, 3.0]
    key = write(
        tmp_path, "key.toml", "[[problem]]\nexpr = 'x*y'\nat = {x = 2, y = 3}\nexpect.value = 6\n"
    )
    r = cli("check", key, "--format", "json")
    assert json.loads(r.out)["problems"][0]["checks"][0]["given"] == 6.0
    r = cli("check", KEY, "--answers", ANSWERS, "--format", "json")
    cid = next(s for s in json.loads(r.out)["students"] if s["student"] == "cid")
    by_line = {a["line"]: a for a in cid["items"] if "line" in a}
    assert by_line[92]["answer"] == -12.0  # cid,1a,value,-12.0
    assert by_line[100]["answer"] == "2x sin(x) + x^2 cos(t)"
    assert by_line[93]["malformed"] is True and by_line[93]["extra"] is True


def test_students_table_counts_every_malformed_row(cli) -> None:
    r = cli("check", KEY, "--answers", ANSWERS)
    row = next(line.split() for line in r.out.splitlines() if line.strip().startswith("cid"))
    # cid: 4 right of 45 items + 3 extra rows = 48; 7 wrong; 37 unanswered; 5 malformed rows,
    # as many as the section below lists for cid
    assert row == ["cid", "4", "48", "8", "7", "37", "5"]
    assert r.out.count("(cid):") == 5


def test_long_answer_length_in_the_table(tmp_path: Path) -> None:
    from rich.console import Console

    from cgdiff.check import check_expression
    from cgdiff.check_report import render_check

    answer = "+".join(["x"] * 4000) + "+x"  # 8,001 characters
    assert len(answer) == 8001
    console = Console(width=2000, record=True, color_system=None)
    console.print(render_check(check_expression("x", None, [("value", answer)])))
    text = console.export_text()
    assert "(8001 characters)" in text and "(218 characters)" not in text


def test_check_help_and_missing_expect(cli) -> None:
    r = cli("check", "--help")
    assert r.code == 0
    at = " ".join(r.out[r.out.index("--at POINT") : r.out.index("--expect ITEMS")].split())
    assert "several" not in at and "the one point" in at
    r = cli("check", "x*y", "--at", "x=1,y=2")
    assert r.code == 2 and "--expect is missing" in r.err


@pytest.mark.parametrize("name", ["[red]k.toml", "[/x].toml", "[bold]a:smile:.toml"])
def test_a_key_path_is_shown_as_written(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # NB: the path reaches the table's title; read as Rich markup it lost its brackets or
    # crashed (MarkupError, exit 70).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "[").mkdir()
    Path(name).write_text(
        '[[problem]]\nexpr = "x*y"\nat = {x = 2, y = 3}\nexpect.value = 7\n', encoding="utf-8"
    )
    r = cli("check", name)
    assert r.code == 1, r.err
    assert f"cgdiff check {name}" in r.out


def test_a_huge_integer_answer_fails_its_check(cli, tmp_path: Path) -> None:
    # NB: TOML integers have no size limit; float() of 1 and 400 zeros is an OverflowError.
    big = "1" + "0" * 400
    key = write(
        tmp_path, "k.toml", f'[[problem]]\nexpr = "x"\nat = {{x = 2}}\nexpect.value = {big}\n'
    )
    r = cli("check", key, "--format", "json")
    assert r.code == 1, r.err
    (c,) = json.loads(r.out)["problems"][0]["checks"]
    assert c["passed"] is False and c["given"] == big
    assert (
        c["message"]
        == "the answer 10000000000000000000… (401 digits) is too large: it overflows to inf"
    )
    assert cli("check", key).code == 1


@pytest.mark.parametrize("where", ["at = {x = BIG}", "rtol = BIG"])
def test_a_huge_integer_setting_is_a_key_error(cli, tmp_path: Path, where: str) -> None:
    big = "-1" + "0" * 400 if where.startswith("at") else "1" + "0" * 400
    key = write(
        tmp_path,
        "k.toml",
        f'[[problem]]\nexpr = "x"\n{where.replace("BIG", big)}\nexpect.value = 2\n',
    )
    r = cli("check", key)
    path = "problem[1].at.x" if where.startswith("at") else "problem[1].rtol"
    assert r.code == 2 and f"{key}: {path}: must be a finite number" in r.err, r.err

"""A whole class at once (issue 9): identical answers are judged once, and what is shared
between students never leaks from one to another; the reports built a student at a time are
the documents built all at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cgdiff import check_junit, check_report, parse
from cgdiff.check import Problem, check_answers
from cgdiff.check.problem import MAX_VERDICTS
from conftest import EXAMPLES

KEY = EXAMPLES / "homework" / "key.toml"


def _class(tmp_path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path = tmp_path / "a.csv"
    lines = ["student,problem,item,answer"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_identical_answers_are_judged_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judged: list[tuple[str, Any]] = []
    real = Problem._judge

    def spy(self: Problem, item: str, answer: Any) -> Any:
        judged.append((item, answer))
        return real(self, item, answer)

    monkeypatch.setattr(Problem, "_judge", spy)
    rows = []
    for s in range(50):
        rows.append((f"s{s}", "product rule", "derivative.x", '"x (2 sin(x) + x cos(x))"'))
        rows.append((f"s{s}", "1a", "value", "-12" if s % 2 else "12"))
    report = check_answers(KEY, _class(tmp_path, rows))
    ours = {"x (2 sin(x) + x cos(x))", "-12", "12"}
    mine = [j for j in judged if isinstance(j[1], str) and j[1] in ours]
    assert sorted(mine) == [
        ("derivative.x", "x (2 sin(x) + x cos(x))"),
        ("value", "-12"),
        ("value", "12"),
    ]
    assert report.students is not None and len(report.students) == 50
    product = [a for s in report.students for a in s.items if a.problem == "product rule"]
    assert all(a.passed for a in product)
    one_a = {
        s.student: next(a for a in s.items if a.problem == "1a" and a.item == "value")
        for s in report.students
    }
    assert all(a.passed == (int(k[1:]) % 2 == 1) for k, a in one_a.items())


def test_a_shared_verdict_is_never_edited_through_a_copy() -> None:
    p = Problem("u", parse("a=5; b=3; c=2; u=b*c; v=a+u; J=3v"))
    first = p.check("node.v", "12")
    first.message = "edited"
    first.first_wrong = True
    again = p.check("node.v", "12")
    assert again.message != "edited" and not again.first_wrong
    assert p.verdict("node.v", "12") is p.verdict("node.v", "12")
    # the cache is bounded
    for k in range(MAX_VERDICTS + 10):
        p.verdict("node.v", str(k))
    assert len(p._verdicts) == MAX_VERDICTS


def test_node_feedback_is_each_students_own(tmp_path: Path) -> None:
    # ann's wrong c makes a a carried error; bob's right c does not, whatever ann wrote
    rows = [
        ("ann", "linear", "node.c", "4"),
        ("ann", "linear", "node.a", "12"),
        ("bob", "linear", "node.c", "-4"),
        ("bob", "linear", "node.a", "12"),
        ("cid", "linear", "node.c", "4"),
        ("cid", "linear", "node.a", "12"),
    ]
    report = check_answers(KEY, _class(tmp_path, rows))
    assert report.students is not None
    by = {s.student: {a.item: a for a in s.items if a.problem == "linear"} for s in report.students}
    assert "carried" in by["ann"]["node.a"].message and by["ann"]["node.c"].message.startswith(
        "the first wrong"
    )
    assert "carried" not in by["bob"]["node.a"].message
    assert by["bob"]["node.a"].message.startswith("the first wrong")
    assert by["cid"]["node.a"].message == by["ann"]["node.a"].message
    assert by["cid"]["node.a"] is not by["ann"]["node.a"]


def test_reports_built_a_student_at_a_time_are_the_whole_documents() -> None:
    report = check_answers(KEY, EXAMPLES / "homework" / "submissions.csv")
    text = check_report.render_json(report)
    assert text == json.dumps(check_report.check_data(report), ensure_ascii=False, allow_nan=False)
    xml = check_junit.render_junit(report)
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml.split("\n", 1)[1])
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 + len(report.students or [])
    assert int(root.get("tests", "0")) == sum(int(s.get("tests", "0")) for s in suites)
    assert int(root.get("failures", "0")) == sum(len(s.findall("testcase/failure")) for s in suites)
    # indented as ET.indent would indent the whole tree
    again = ET.fromstring(xml.split("\n", 1)[1])
    ET.indent(again)
    assert ET.tostring(again, encoding="unicode") == xml.split("\n", 1)[1].rstrip("\n")

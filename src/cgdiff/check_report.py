"""The results of ``cgdiff check`` as text: a Rich table for people, JSON (SPEC section 5),
JUnit XML for CI systems, and a Gradescope autograder ``results.json``.

Nothing here prints or exits; every function returns a string or a Rich renderable and the
CLI writes it.  Rich is imported only by :func:`render_check`, and the number formatting of
:mod:`cgdiff.report` only where numbers are shown, so ``--format json`` starts fast.  Answers
come from students: in tables they are Rich ``Text`` (never read as markup), in XML the
characters XML 1.0 cannot hold are escaped, and long answers are cut short.

JUnit XML follows the Ant/Jenkins convention: ``<testsuites>`` holding one ``<testsuite>``
(the answer key) or one per student, each check a ``<testcase classname=PROBLEM
name=ITEM>`` (``STUDENT.PROBLEM`` for a student's answers, so tools that merge test cases by
class and name keep students apart) with a ``<failure message=...>`` when it failed.  The
Gradescope format is the autograder's ``results.json``: ``{"score", "output", "tests":
[{"name", "number", "score", "max_score", "status", "output", "visibility"}]}``, one
submission per file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from .check import (
    MAX_ANSWER,
    AnswerResult,
    CheckReport,
    CheckResult,
    ProblemResult,
    StudentResult,
    as_given,
    pair_text,
)
from .errors import InputError
from .graph import format_number

__all__ = ["check_data", "render_check", "render_gradescope", "render_junit", "shown"]

SHOWN = 200  # characters of an answer shown in tables and reports; JSON keeps all but huge
MAX_ROWS = 200  # rows of the wrong-answers table before it is cut, with a note


def shown(value: Any, limit: int = SHOWN) -> str:
    """A value for a person: numbers in 6 significant figures, text cut at ``limit``.

    >>> shown(0.1 + 0.2), shown("x" * 300, 10), shown(None)
    ('0.3', 'xxxxxxxxx… (300 characters)', '')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        one = " ".join(value.split()) if len(value) < 10 * limit else value[: 2 * limit]
        if len(value) > limit:
            return f"{one[: limit - 1]}… ({len(value)} characters)"
        return one
    return _fmt(value)


def _fmt(value: Any, digits: int = 6) -> str:
    # NB: imported here, so --format json loads neither report nor printing.
    from .report import fmt_number

    return fmt_number(value, digits)


# -- JSON -------------------------------------------------------------------------------------


# NB: check_data builds JSON values as it goes (non-finite numbers as the strings of SPEC
# section 5) rather than walking the document again afterwards: a class's report is large.


def _num(v: Any) -> Any:
    """A value for JSON: a non-finite float as ``"nan"``, ``"inf"``, ``"-inf"``."""
    return format_number(v) if isinstance(v, float) and not math.isfinite(v) else v


def _counterexample(ce: dict[str, Any]) -> dict[str, Any]:
    point = {k: _num(v) for k, v in ce["point"].items()}
    return {"point": point, "expected": _num(ce["expected"]), "given": _num(ce["given"])}


def _check_row(c: CheckResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "item": c.item,
        "expected": _num(c.expected),
        "given": _answer(c.given),
        "passed": c.passed,
        "message": c.message,
    }
    if c.counterexample is not None:
        row["counterexample"] = _counterexample(c.counterexample)
    if c.first_wrong:
        row["first_wrong"] = True
    return row


def _answer(value: Any) -> Any:
    # NB: an answer over the length limit failed unread; echoing megabytes back helps nobody.
    if isinstance(value, str) and len(value) > MAX_ANSWER:
        return shown(value)
    return _num(as_given(value))


def _problem_data(p: ProblemResult) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": p.name,
        "passed": p.passed,
        "checks": [_check_row(c) for c in p.checks],
    }
    if p.feedback:
        d["feedback"] = p.feedback
    if p.notes:
        d["warnings"] = p.notes
    return d


def _answer_row(a: AnswerResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "problem": a.problem,
        "item": a.item,
        "answer": _answer(a.answer),
        "passed": a.passed,
        "message": a.message,
    }
    if a.line is not None:
        row["line"] = a.line
    if a.expected is not None:
        row["expected"] = _num(a.expected)
    if a.counterexample is not None:
        row["counterexample"] = _counterexample(a.counterexample)
    if a.malformed:
        row["malformed"] = True
    if a.extra:
        row["extra"] = True
    return row


def check_data(report: CheckReport) -> dict[str, Any]:
    """The JSON document of SPEC section 5: ``passed``/``failed`` count problems.

    >>> from cgdiff.check import check_expression
    >>> d = check_data(check_expression("x*y", {"x": 2, "y": 3}, [("value", "6")]))
    >>> d["passed"], d["failed"], d["problems"][0]["checks"][0]["passed"]
    (1, 0, True)
    """
    data: dict[str, Any] = {
        "source": report.source,
        "passed": report.passed,
        "failed": report.failed,
        "problems": [_problem_data(p) for p in report.problems],
    }
    if report.students is not None:
        data["students"] = [_student_data(s) for s in report.students]
        data["item_scores"] = [
            {"problem": i.problem, "item": i.item, "passed": i.passed, "total": i.total}
            for i in report.items or []
        ]
        data["malformed"] = [
            {"line": e.line, "student": e.student, "message": e.message}
            for e in report.malformed or []
        ]
    return data


def render_json(report: CheckReport) -> str:
    """:func:`check_data` as one RFC 8259 document (``allow_nan=False`` proves it).

    >>> from cgdiff.check import check_expression
    >>> render_json(check_expression("x", {"x": 1}, [("value", "1")]))[:30]
    '{"source": "x", "passed": 1, "'
    """
    import json

    if report.students is None:
        return json.dumps(check_data(report), ensure_ascii=False, allow_nan=False)
    # NB: a class's answers are encoded one student at a time, into the place a marker
    # holds, so the dicts of every answer (450,000 for a large class) never exist at once;
    # the text is the same as json.dumps(check_data(report)).
    students, report.students = report.students, []
    try:
        data = check_data(report)
    finally:
        report.students = students
    marker = "\x00students\x00"
    data["students"] = marker
    head = json.dumps(data, ensure_ascii=False, allow_nan=False)
    before, _, after = head.partition(json.dumps(marker))
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    parts = [before, "["]
    for k, s in enumerate(students):
        parts.append(", " + encode(_student_data(s)) if k else encode(_student_data(s)))
    parts += ["]", after]
    return "".join(parts)


def _student_data(s: StudentResult) -> dict[str, Any]:
    return {
        "student": s.student,
        "score": s.score,
        "max_score": s.max_score,
        "items": [_answer_row(a) for a in s.items],
    }


# -- Rich tables ------------------------------------------------------------------------------


def _table(title: str | None = None) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # NB: a title holds user text (the key's path), so it is Text, never read as markup.
    return Table(title=Text(title) if title else None, box=box.SIMPLE_HEAVY, title_justify="left")


def _mark(passed: bool) -> Any:
    from rich.text import Text

    return Text("✓", style="green") if passed else Text("✗", style="bold red")


def _text(value: str, style: str = "") -> Any:
    from rich.text import Text

    return Text(value, style=style)


def _problems_table(report: CheckReport) -> Any:
    t = _table(f"cgdiff check {shown(report.source, 80)}")
    for name in ("problem", "item", "", "expected", "given", "message"):
        t.add_column(name, overflow="fold")
    for p in report.problems:
        for k, c in enumerate(p.checks):
            e, g = pair_text(c.expected, c.given)
            t.add_row(
                _text(p.name if k == 0 else ""),
                _text(c.item),
                _mark(c.passed),
                _text(shown(e, 60)),
                _text(shown(g, 60)),
                _text(c.message, "" if c.passed else "red"),
            )
    return t


def _notes(report: CheckReport) -> list[Any]:
    # NB: warnings go to stderr (the CLI writes them), as for every command.
    return [_text(f"{p.name}: {f}", "yellow") for p in report.problems for f in p.feedback]


def _summary(report: CheckReport) -> str:
    checks = [c for p in report.problems for c in p.checks]
    ok = sum(1 for c in checks if c.passed)
    n = len(report.problems)
    problems = f"{report.passed} of {n} problem{'s' if n != 1 else ''} passed"
    return f"{problems} ({ok} of {len(checks)} checks)"


def _students_table(students: Sequence[StudentResult]) -> Any:
    t = _table("scores per student")
    for name, justify in (
        ("student", "left"),
        ("score", "right"),
        ("of", "right"),
        ("%", "right"),
        ("wrong", "right"),
        ("no answer", "right"),
        ("malformed rows", "right"),
    ):
        t.add_column(name, justify=justify)
    for s in students:
        pct = f"{100 * s.score / s.max_score:.0f}" if s.max_score else "-"
        t.add_row(
            _text(shown(s.student, 40)),
            str(s.score),
            str(s.max_score),
            pct,
            str(s.wrong),
            str(s.unanswered),
            str(s.malformed),
        )
    return t


def _items_table(report: CheckReport) -> Any:
    t = _table("scores per item")
    for name, justify in (
        ("problem", "left"),
        ("item", "left"),
        ("right", "right"),
        ("of", "right"),
        ("%", "right"),
    ):
        t.add_column(name, justify=justify)
    for i in report.items or []:
        pct = f"{100 * i.passed / i.total:.0f}" if i.total else "-"
        t.add_row(_text(i.problem), _text(i.item), str(i.passed), str(i.total), pct)
    return t


def _wrong_table(students: Sequence[StudentResult]) -> tuple[Any, int]:
    t = _table("wrong answers")
    for name in ("student", "problem", "item", "answer", "expected", "message"):
        t.add_column(name, overflow="fold")
    rows = [(s, a) for s in students for a in s.items if not a.passed and a.line is not None]
    for s, a in rows[:MAX_ROWS]:
        e, g = pair_text(a.expected, a.answer)
        t.add_row(
            _text(shown(s.student, 40)),
            _text(a.problem),
            _text(a.item),
            _text(shown(g, 60)),
            _text(shown(e, 60)),
            _text(a.message, "red"),
        )
    return t, len(rows)


def render_check(report: CheckReport) -> Any:
    """A Rich renderable: a mark per check with expected and given values and the message
    (counterexamples included), node feedback, and with ``--answers`` the class's scores.

    >>> from cgdiff.check import check_expression
    >>> type(render_check(check_expression("2x", None, [("derivative.x", "2")]))).__name__
    'Group'
    """
    from rich.console import Group

    parts: list[Any] = []
    if report.students is None or not all(p.passed for p in report.problems):
        parts.append(_problems_table(report))
        parts.extend(_notes(report))
        parts.append(_text(_summary(report), "bold"))
    else:
        parts.append(_text(f"answer key {shown(report.source, 80)}: {_summary(report)}", "bold"))
    if report.students is not None:
        parts.append(_text(""))
        parts.append(_students_table(report.students))
        parts.append(_items_table(report))
        table, n = _wrong_table(report.students)
        if n:
            parts.append(table)
            if n > MAX_ROWS:
                parts.append(
                    _text(
                        f"… and {n - MAX_ROWS} more wrong answers (--format json lists them all)",
                        "dim",
                    )
                )
        if report.malformed:
            parts.append(
                _text(f"malformed rows ({len(report.malformed)}), counted as wrong:", "bold yellow")
            )
            for e in report.malformed:
                parts.append(_text(f"  {shown(e.text(), 300)}", "yellow"))
    return Group(*parts)


# -- JUnit XML --------------------------------------------------------------------------------

# Characters XML 1.0 cannot hold at all, even escaped; a student's answer may contain them.
# NB: compiled on first use: this character class takes milliseconds to build.
_NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


def _xml_text(text: str) -> str:
    return re.sub(_NOT_XML, lambda m: f"\\x{ord(m.group()):02x}", text)


def _details(expected: Any, given: Any, message: str) -> str:
    e, g = pair_text(expected, given)
    text = f"expected: {shown(e)}\ngiven: {shown(g)}"
    return f"{text}\n{message}" if message else text


def render_junit(report: CheckReport) -> str:
    """JUnit XML: a testsuite for the key (or one per student), a testcase per check, a
    ``failure`` element with the message for each check that failed.

    >>> from cgdiff.check import check_expression
    >>> x = render_junit(check_expression("x*y", {"x": 2, "y": 3}, [("value", "7")]))
    >>> 'failures="1"' in x and "<failure" in x
    True
    """
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="cgdiff check")
    students = report.students or []
    checks = [c for p in report.problems for c in p.checks]
    total = len(checks) + sum(len(s.items) for s in students)
    failures = sum(1 for c in checks if not c.passed)
    failures += sum(1 for s in students for a in s.items if not a.passed)
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    # NB: one suite at a time, indented as ET.indent(root) would, and joined: the elements of
    # a whole class's answers never exist at once; the text is the same.
    parts = []
    for name, cases in _junit_suites(report):
        suite = ET.Element(
            "testsuite",
            name=_xml_text(name),
            tests=str(len(cases)),
            failures=str(sum(1 for c in cases if not c[2])),
            errors="0",
            skipped="0",
        )
        for classname, test, passed, message, text in cases:
            case = ET.SubElement(
                suite, "testcase", classname=_xml_text(classname), name=_xml_text(test)
            )
            if not passed:
                one_line = " ".join(message.split()) or "wrong answer"
                failure = ET.SubElement(
                    case, "failure", message=_xml_text(shown(one_line, 500)), type="WrongAnswer"
                )
                failure.text = _xml_text(text)
        ET.indent(suite, level=1)
        parts.append(ET.tostring(suite, encoding="unicode"))
    shell = ET.tostring(root, encoding="unicode")  # <testsuites ... />
    body = shell[: -len(" />")] + ">" + "".join(f"\n  {p}" for p in parts) + "\n</testsuites>"
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _junit_suites(
    report: CheckReport,
) -> Iterator[tuple[str, list[tuple[str, str, bool, str, str]]]]:
    """Each JUnit suite's name and its cases: (classname, name, passed, one-line message,
    details), the key's first, then one per student."""
    yield (
        f"cgdiff check {report.source}",
        [
            (p.name, c.item, c.passed, c.message, _details(c.expected, c.given, c.message))
            for p in report.problems
            for c in p.checks
        ],
    )
    for s in report.students or []:
        cases = []
        for a in s.items:
            name = f"line {a.line}" if a.extra else a.item
            text = _details(a.expected, a.answer, a.message)
            message = a.message
            if a.line is not None:
                text += f"\n(line {a.line} of the answers)"
                message += f" (line {a.line} of the answers)"
            problem = a.problem if a.problem and not a.extra else "malformed row"
            cases.append((f"{s.student}.{problem}", name, a.passed, message, text))
        yield f"student {s.student}", cases


# -- Gradescope -------------------------------------------------------------------------------


def render_gradescope(report: CheckReport) -> str:
    """A Gradescope autograder ``results.json``: one test per check (or, with answers, per
    item of the key for the one student), a point each, and the total ``score``.

    >>> import json
    >>> from cgdiff.check import check_expression
    >>> d = json.loads(render_gradescope(
    ...     check_expression("x*y", {"x": 2, "y": 3}, [("value", "6"), ("grad.x", "2")])))
    >>> d["score"], [(t["name"], t["score"], t["max_score"]) for t in d["tests"]]
    (1.0, [('x*y: value', 1.0, 1.0), ('x*y: grad.x', 0.0, 1.0)])
    """
    tests: list[dict[str, Any]] = []
    if report.students is None:
        for pi, p in enumerate(report.problems, start=1):
            for ci, c in enumerate(p.checks, start=1):
                tests.append(
                    _gs_test(
                        f"{p.name}: {c.item}",
                        f"{pi}.{ci}",
                        c.passed,
                        1.0,
                        _details(c.expected, c.given, c.message),
                    )
                )
        output = _summary(report)
    else:
        if len(report.students) != 1:
            names = ", ".join(shown(s.student, 40) for s in report.students[:5])
            more = ", …" if len(report.students) > 5 else ""
            raise InputError(
                f"--format gradescope writes the results.json of one submission, but the "
                f"answers hold {len(report.students)} students ({names}{more}); give one "
                "student's rows, or use --format json for the class"
            )
        (s,) = report.students
        order = {p.name: k for k, p in enumerate(report.problems, start=1)}
        numbers: dict[str, int] = {}
        for a in s.items:
            if not a.extra:
                numbers[a.problem] = numbers.get(a.problem, 0) + 1
                number = f"{order.get(a.problem, 0)}.{numbers[a.problem]}"
                text = _details(a.expected, a.answer, a.message)
                tests.append(_gs_test(f"{a.problem}: {a.item}", number, a.passed, 1.0, text))
            else:  # a malformed row that answers no item of the key: one more wrong item
                tests.append(_gs_test(f"line {a.line}: malformed row", None, False, 1.0, a.message))
        output = f"{s.student}: {s.score} of {s.max_score} answers right"
        if report.malformed:
            output += f"; {len(report.malformed)} malformed row(s), counted as wrong"
    score = float(sum(t["score"] for t in tests))
    from .report import dumps

    return dumps({"score": score, "output": output, "tests": tests})


def _gs_test(
    name: str, number: str | None, passed: bool, points: float, output: str
) -> dict[str, Any]:
    test: dict[str, Any] = {"name": name}
    if number is not None:
        test["number"] = number
    test.update(
        {
            "score": points if passed else 0.0,
            "max_score": points,
            "status": "passed" if passed else "failed",
            "output": output,
            "visibility": "visible",
        }
    )
    return test

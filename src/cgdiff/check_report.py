"""The results of ``cgdiff check`` as text: a Rich table for people, JSON (SPEC section 5,
as a whole or a student at a time), and a Gradescope autograder ``results.json``; JUnit XML
is :mod:`cgdiff.check_junit`.

Nothing here prints or exits; every function returns a string or a Rich renderable and the
CLI writes it.  Rich is imported only by :func:`render_check`, and the number formatting of
:mod:`cgdiff.report` only where numbers are shown, so ``--format json`` starts fast.  Answers
come from students: in tables they are Rich ``Text`` (never read as markup), and long
answers are cut short.

The Gradescope format is the autograder's ``results.json``: ``{"score", "output", "tests":
[{"name", "number", "score", "max_score", "status", "output", "visibility"}]}``, one
submission per file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .check import (
    MAX_ANSWER,
    AnswerResult,
    CheckReport,
    CheckResult,
    ItemScore,
    ProblemResult,
    RowError,
    StudentResult,
    as_given,
    pair_text,
)
from .errors import InputError, unshown
from .graph import format_number

if TYPE_CHECKING:
    from .check import ClassRun

__all__ = [
    "check_data",
    "json_head",
    "json_student",
    "json_tail",
    "render_check",
    "render_gradescope",
    "render_json",
    "shown",
    "write_json",
]

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


def _encode(value: Any) -> str:
    import json

    encode: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    global _ENCODE
    _ENCODE = encode
    return encode(value)


_ENCODE: Callable[[Any], str] = _encode  # json's encoder, made on first use


def _num(v: Any) -> Any:
    """A value for JSON: a non-finite float as ``"nan"``, ``"inf"``, ``"-inf"``, in nested
    lists (an array's truth) too.

    >>> _num(float("nan")), _num([[1.0, float("inf")], [2.0, 3.0]])
    ('nan', [[1.0, 'inf'], [2.0, 3.0]])
    """
    if isinstance(v, float):
        return v if math.isfinite(v) else format_number(v)
    if isinstance(v, list):
        import numpy as np

        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            return v
        bad = ~np.isfinite(a)
        if not bad.any():
            return v
        b = a.astype(object)
        b[bad] = [format_number(x) for x in a[bad]]
        return b.tolist()
    return v


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
    # NB: the text is json.dumps(check_data(report)), built as write_json builds it.
    parts = [json_head(report)]
    for k, s in enumerate(report.students):
        parts.append(", " + json_student(s) if k else json_student(s))
    parts.extend(json_tail(report.items or [], report.malformed or []))
    return "".join(parts)


def json_head(report: CheckReport) -> str:
    """The JSON document of a class up to its first student: the key's results, then
    ``"students": [`` (see :func:`write_json`).

    >>> from cgdiff.check import check_expression
    >>> json_head(check_expression("x", {"x": 1}, [("value", "1")]))[-13:]
    '"students": ['
    """
    import json

    data: dict[str, Any] = {
        "source": report.source,
        "passed": report.passed,
        "failed": report.failed,
        "problems": [_problem_data(p) for p in report.problems],
    }
    return json.dumps(data, ensure_ascii=False, allow_nan=False)[:-1] + ', "students": ['


def json_student(s: StudentResult) -> str:
    """One student's entry of ``"students"``: the text of ``json.dumps`` of its dict.

    >>> json_student(StudentResult("ann", []))
    '{"student": "ann", "score": 0, "max_score": 0, "items": []}'
    """
    # NB: a class gives the same few answers to an item, so each answer's row is put
    # together from pieces encoded once: what comes before its message, the message, what
    # comes after its line.  Rows with a counterexample (a dict) are encoded whole.
    encode = _ENCODE
    rows = []
    pieces, messages = _PIECES, _MESSAGES
    for a in s.items:
        if a.counterexample is not None:
            rows.append(encode(_answer_row(a)))
            continue
        if isinstance(a.expected, list):  # an array's truth (nested lists): not shared
            got = _pieces(a)
        else:
            key = (
                a.problem,
                a.item,
                a.answer,
                a.passed,
                a.expected,
                type(a.expected),
                a.malformed,
                a.extra,
            )
            kept = pieces.get(key)
            if kept is None:
                kept = _pieces(a)
                if len(pieces) < _MAX_PIECES and _small(a):
                    pieces[key] = kept
            got = kept
        message = messages.get(a.message)
        if message is None:
            message = encode(a.message)
            if len(messages) < _MAX_PIECES and len(a.message) <= 1000:
                messages[a.message] = message
        line = "" if a.line is None else f', "line": {a.line}'
        rows.append(f"{got[0]}{message}{line}{got[1]}")
    head = encode({"student": s.student, "score": s.score, "max_score": s.max_score})
    return f'{head[:-1]}, "items": [{", ".join(rows)}]}}'


_MAX_PIECES = 100_000  # pieces of JSON or XML kept to share, at most (of short answers only)


def _small(a: AnswerResult) -> bool:
    # NB: so that what is kept stays small: 100,000 long answers would be a gigabyte.
    return (a.answer is None or len(a.answer) <= 200) and len(a.message) <= 1000


_PIECES: dict[tuple[Any, ...], tuple[str, str]] = {}
_MESSAGES: dict[str, str] = {}


def _pieces(a: AnswerResult) -> tuple[str, str]:
    """The JSON of :func:`_answer_row` before the message and after the line."""
    row = _answer_row(a)
    head = {k: row[k] for k in ("problem", "item", "answer", "passed")}
    tail = {k: v for k, v in row.items() if k not in head and k not in ("message", "line")}
    before = _ENCODE(head)[:-1] + ', "message": '
    after = _ENCODE(tail)
    return before, "}" if after == "{}" else ", " + after[1:]


def json_tail(items: Iterable[ItemScore], malformed: Iterable[RowError]) -> Iterator[str]:
    """The end of a class's JSON document, after the last student: the scores per item and
    every malformed row.

    >>> "".join(json_tail([], []))
    '], "item_scores": [], "malformed": []}'
    """
    import json

    scores = [
        {"problem": i.problem, "item": i.item, "passed": i.passed, "total": i.total} for i in items
    ]
    yield '], "item_scores": ' + json.dumps(scores, ensure_ascii=False) + ', "malformed": ['
    for k, e in enumerate(malformed):
        row = _ENCODE({"line": e.line, "student": e.student, "message": e.message})
        yield ", " + row if k else row
    yield "]}"


def write_json(run: ClassRun, write: Callable[[str], Any], progress: Any = None) -> None:
    """A class's JSON document (the text of :func:`render_json`), written a student at a
    time as ``run`` scores them: one student's dicts exist at a time.

    >>> import io, json, os, tempfile
    >>> from cgdiff.check import ClassRun
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml"); a = os.path.join(d, "a.csv")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n")
    >>> out = io.StringIO()
    >>> write_json(ClassRun(k, a), out.write)
    >>> [s["score"] for s in json.loads(out.getvalue())["students"]]
    [1, 0]
    """
    # NB: the first student before the head: answers from a pipe are all read before its
    # first student is scored, so an error in them leaves no half-written document
    students = run.students(json_student, progress)
    first = next(students, None)
    write(json_head(run.report))
    if first is not None:
        write(first)
        for text in students:
            write(", " + text)
    for text in json_tail(run.items(), run.malformed()):
        write(text)


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

    # NB: a student's answer may hold control characters (ESC starts a terminal's escape
    # sequences): a table shows them as U+FFFD, as error lines do
    return Text(unshown(value, lines=True), style=style)


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
def _details(expected: Any, given: Any, message: str) -> str:
    e, g = pair_text(expected, given)
    text = f"expected: {shown(e)}\ngiven: {shown(g) if given is not None else '(none)'}"
    return f"{text}\n{message}" if message else text


def render_gradescope(report: CheckReport, scorer: Any = None) -> str:
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
    scaled: float | None = None
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
        if not report.students and scorer is not None:  # an empty submission: every item
            report.students = [scorer.score("(no answers)", [])[0]]  # is "no answer"
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
        # NB: a row that names no student is this submission's too (Gradescope grades one)
        for e in report.malformed or []:
            if not e.student:
                tests.append(_gs_test(f"line {e.line}: malformed row", None, False, 1.0, e.message))
        right = sum(1 for t in tests if t["status"] == "passed")
        asked = sum(1 for t in tests if "number" in t)
        output = f"{s.student}: {right} of {len(tests)} answers right"
        if report.malformed:
            output += f"; {len(report.malformed)} malformed row(s), counted as wrong"
        if len(tests) > asked:
            # Gradescope's percentage is the score over the assignment's points (the key's
            # items): each malformed row that answers no item lowers the score as one more
            # wrong item lowers cgdiff's own, so such a submission never reads 100%.
            scaled = round(asked * right / len(tests), 4)
            output += f": {scaled:g} of {asked} points ({right} × {asked}/{len(tests)})"
    score = scaled if scaled is not None else float(sum(t["score"] for t in tests))
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

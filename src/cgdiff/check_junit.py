"""``cgdiff check --format junit``: JUnit XML for CI systems, as a whole report or written a
student at a time.

It follows the Ant/Jenkins convention: ``<testsuites>`` holding one ``<testsuite>`` (the
answer key) or one per student, each check a ``<testcase classname=PROBLEM name=ITEM>``
(``STUDENT.PROBLEM`` for a student's answers, so tools that merge test cases by class and
name keep students apart) with a ``<failure message=...>`` when it failed.  Characters that
XML 1.0 cannot hold are escaped, and long answers are cut short.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .check import AnswerResult, CheckReport, StudentResult
from .check_report import _MAX_PIECES, _details, _small, shown

if TYPE_CHECKING:
    from .check import ClassRun

__all__ = ["junit_head", "junit_student", "render_junit", "write_junit"]


#: A test case: classname, name, passed (None: not checked, an error), message, details.
Case = tuple[str, str, "bool | None", str, str]

_NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


def _xml_text(text: str) -> str:
    return re.sub(_NOT_XML, lambda m: f"\\x{ord(m.group()):02x}", text)


def render_junit(report: CheckReport) -> str:
    """JUnit XML: a testsuite for the key (or one per student), a testcase per check, a
    ``failure`` element with the message for each check that failed.

    >>> from cgdiff.check import check_expression
    >>> x = render_junit(check_expression("x*y", {"x": 2, "y": 3}, [("value", "7")]))
    >>> 'failures="1"' in x and "<failure" in x
    True
    """
    suites = list(_junit_suites(report))
    total = sum(len(cases) for _, cases in suites)
    failures = sum(1 for _, cases in suites for c in cases if c[2] is False)
    errors = sum(1 for _, cases in suites for c in cases if c[2] is None)
    parts = [_suite_xml(name, cases) for name, cases in suites]
    return junit_head(total, failures, errors) + "".join(f"\n  {p}" for p in parts) + _JUNIT_END


_JUNIT_END = "\n</testsuites>\n"


def junit_head(tests: int, failures: int, errors: int = 0) -> str:
    """The start of a JUnit document, up to its first ``<testsuite>``.

    >>> junit_head(3, 1).splitlines()[1]
    '<testsuites name="cgdiff check" tests="3" failures="1" errors="0">'
    """
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="cgdiff check" tests="{tests}" failures="{failures}" '
        f'errors="{errors}">'
    )


def junit_student(s: StudentResult) -> str:
    """One student's ``<testsuite>`` (see :func:`write_junit`): the text of
    ``_suite_xml(*_student_suite(s))``.

    >>> junit_student(StudentResult("ann", []))
    '<testsuite name="student ann" tests="0" failures="0" errors="0" skipped="0" />'
    """
    # NB: as json_student does, each answer's case is put together from pieces escaped
    # once; only the student's name and the line are new.
    who = _esc(s.student)
    parts = []
    failed = 0
    pieces = _CASES
    for a in s.items:
        e = a.expected
        none = a.line is None
        if isinstance(e, list):  # an array's truth (nested lists): not shared
            got = _case_pieces(a)
        else:
            key = (a.problem, a.item, a.answer, a.passed, e, type(e), a.message, a.extra, none)
            got = pieces.get(key)
            if got is None:
                got = _case_pieces(a)
                if len(pieces) < _MAX_PIECES and _small(a):
                    pieces[key] = got
        if got is None:  # a message too long to cut here: the whole case, the slow way
            return _suite_xml(*_student_suite(s))
        problem, name, message, text = got
        if a.extra:
            name = f"line {a.line}"
        case = f'\n    <testcase classname="{who}.{problem}" name="{name}"'
        if a.passed:
            parts.append(case + " />")
            continue
        failed += 1
        where = "" if a.line is None else f"(line {a.line} of the answers)"
        more = "" if a.line is None else f"\n(line {a.line} of the answers)"
        parts.append(
            f'{case}>\n      <failure message="{message}{where}" type="WrongAnswer">'
            f"{text}{more}</failure>\n    </testcase>"
        )
    head = (
        f'<testsuite name="student {who}" tests="{len(s.items)}" failures="{failed}" '
        'errors="0" skipped="0"'
    )
    if not parts:
        return head + " />"
    return f"{head}>{''.join(parts)}\n  </testsuite>"


_CASES: dict[tuple[Any, ...], tuple[str, str, str, str] | None] = {}


def _esc(text: str) -> str:
    return _xml_text(text).translate(_ATTRIB)


def _case_pieces(a: AnswerResult) -> tuple[str, str, str, str] | None:
    """A student's case of ``a`` without the student's name and the line: the problem and
    item (escaped for an attribute), the failure message up to where the line goes, and
    the details up to the line's note.  None when the message would be cut."""
    one = " ".join(a.message.split())
    if a.line is None:
        message = one or "wrong answer"
        if len(message) > 500:
            return None
    else:
        message = one + " " if one else ""
        if len(message) + 40 > 500:
            return None
    problem = a.problem if a.problem and not a.extra else "malformed row"
    text = _xml_text(_details(a.expected, a.answer, a.message)).translate(_CDATA)
    return _esc(problem), _esc(a.item), _esc(message), text


def write_junit(run: ClassRun, write: Callable[[str], Any], progress: Any = None) -> None:
    """A class's JUnit XML (the text of :func:`render_junit`), built a student at a time as
    ``run`` scores them.  The totals come first in the document, so the students' suites
    wait in a temporary file until the last is scored.

    >>> import io, os, tempfile
    >>> from cgdiff.check import ClassRun
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml"); a = os.path.join(d, "a.csv")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n")
    >>> out = io.StringIO()
    >>> write_junit(ClassRun(k, a), out.write)
    >>> out.getvalue().splitlines()[1]
    '<testsuites name="cgdiff check" tests="3" failures="1" errors="0">'
    """
    import shutil
    import tempfile

    name, cases = next(_junit_suites(run.report, ()))
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for text in run.students(junit_student, progress):
            spool.write("\n  ")
            spool.write(text)
        loose = _loose_suite(run.malformed())
        extra = loose[1] if loose is not None else []
        tests = len(cases) + run.tests + len(extra)
        failures = sum(1 for c in cases if c[2] is False) + run.failures + len(extra)
        write(junit_head(tests, failures, sum(1 for c in cases if c[2] is None)))
        write("\n  " + _suite_xml(name, cases))
        spool.seek(0)
        shutil.copyfileobj(spool, _Writer(write), 1 << 20)
        if loose is not None:
            write("\n  " + _suite_xml(*loose))
    write(_JUNIT_END)


class _Writer:
    def __init__(self, write: Callable[[str], Any]) -> None:
        self.write = write


# NB: ElementTree's own escaping (xml.etree.ElementTree._escape_attrib, _escape_cdata), and
# the layout of ET.indent(suite, level=1), written out: building the elements of every
# answer was most of the time of a class's report.  tests/test_scoring.py compares the two.
_ATTRIB = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#09;",
    }
)
_CDATA = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _suite_xml(name: str, cases: Sequence[Case]) -> str:
    failed = sum(1 for c in cases if c[2] is False)
    errors = sum(1 for c in cases if c[2] is None)
    head = (
        f'<testsuite name="{_xml_text(name).translate(_ATTRIB)}" tests="{len(cases)}" '
        f'failures="{failed}" errors="{errors}" skipped="0"'
    )
    if not cases:
        return head + " />"
    parts = [head, ">"]
    for classname, test, passed, message, text in cases:
        case = (
            f'\n    <testcase classname="{_xml_text(classname).translate(_ATTRIB)}" '
            f'name="{_xml_text(test).translate(_ATTRIB)}"'
        )
        if passed:
            parts.append(case + " />")
            continue
        one_line = " ".join(message.split()) or "wrong answer"
        tag, kind = ("error", "Undefined") if passed is None else ("failure", "WrongAnswer")
        parts.append(
            f'{case}>\n      <{tag} message="'
            f'{_xml_text(shown(one_line, 500)).translate(_ATTRIB)}" type="{kind}">'
            f"{_xml_text(text).translate(_CDATA)}</{tag}>\n    </testcase>"
        )
    parts.append("\n  </testsuite>")
    return "".join(parts)


def _junit_suites(
    report: CheckReport, students: Iterable[StudentResult] | None = None
) -> Iterator[tuple[str, list[Case]]]:
    """Each JUnit suite's name and its cases: (classname, name, passed, one-line message,
    details), the key's first, then one per student."""
    yield (
        f"cgdiff check {report.source}",
        [
            (
                p.name,
                c.item,
                None if p.undefined is not None else c.passed,  # the key's error, exit 3
                c.message,
                _details(c.expected, c.given, c.message),
            )
            for p in report.problems
            for c in p.checks
        ],
    )
    for s in report.students or [] if students is None else students:
        yield _student_suite(s)
    loose = _loose_suite(report.malformed or [])
    if loose is not None and students is None:
        yield loose


def _loose_suite(rows: Iterable[Any]) -> tuple[str, list[Case]] | None:
    """The malformed rows that name no student, each a failed case: they are counted in
    the exit code (1), so CI sees them (a suite of their own, as no student owns them)."""
    cases: list[Case] = [
        (
            "malformed row",
            f"line {e.line}",
            False,
            f"{e.message} (line {e.line} of the answers)",
            f"{e.message}\n(line {e.line} of the answers)",
        )
        for e in rows
        if not e.student
    ]
    return ("malformed rows without a student", cases) if cases else None


def _student_suite(s: StudentResult) -> tuple[str, list[Case]]:
    cases: list[Case] = []
    for a in s.items:
        name = f"line {a.line}" if a.extra else a.item
        text = _details(a.expected, a.answer, a.message)
        message = a.message
        if a.line is not None:
            text += f"\n(line {a.line} of the answers)"
            message += f" (line {a.line} of the answers)"
        problem = a.problem if a.problem and not a.extra else "malformed row"
        cases.append((f"{s.student}.{problem}", name, a.passed, message, text))
    return f"student {s.student}", cases


# -- Gradescope -------------------------------------------------------------------------------

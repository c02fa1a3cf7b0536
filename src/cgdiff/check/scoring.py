"""Scoring a class: every student's answers (a CSV of ``student,problem,item,answer``)
against a key, per student and per item.

A malformed row is reported by its line and counted as a wrong item for its student; it
never stops the run.  An answers file that cannot be read at all is an
:class:`~cgdiff.errors.InputError` (exit 2).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MAX_LINE, InputError, bounded_lines, not_utf8
from ..ops import suggest
from .feedback import node_feedback
from .key import Key
from .problem import Problem, canonical_item
from .results import AnswerResult, CheckReport, CheckResult, RowError, StudentResult

__all__ = ["Scorer", "check_answers", "last_rows"]

MAX_TEXTS = 100_000  # distinct answer texts (and feedback cases) kept to share, at most

_COLUMNS = ("student", "problem", "item", "answer")


def check_answers(key: Key | str | Path, answers: str | Path) -> CheckReport:
    """Check a class's answers (CSV: ``student,problem,item,answer``) against a key.

    Every student is scored on every item the key lists (one point each; no answer is a
    wrong answer).  A malformed row (unknown problem or item, empty or unreadable answer,
    a repeated answer, a row with fewer or more fields than the header) is reported by line
    and counted as one wrong answer for that student: the answer to its item when it is the
    first row for one of the key's items, else an extra wrong item that adds one to
    ``max_score``.  It never stops the run.  The whole class is kept in the report:
    :class:`~cgdiff.check.classrun.ClassRun` gives one student at a time instead.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml"); a = os.path.join(d, "a.csv")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n")
    >>> [(s.student, s.score, s.max_score) for s in check_answers(k, a).students]
    [('ann', 1, 1), ('bob', 0, 1)]
    """
    from .classrun import ClassRun

    run = ClassRun(key, answers)
    students = list(run.students())
    report = run.report
    report.students, report.items = students, run.items()
    report.malformed = list(run.malformed())
    return report


class Scorer:
    """Scores one student at a time against a key: the rows of one student in file order
    (``(line, problem, item, answer)``, or a :class:`RowError` that names the student) give
    a :class:`StudentResult` and the student's malformed rows.  What it learns (each
    distinct answer text, the feedback for each set of answers) is shared between students.

    >>> from .key import load_key
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> s, errors = Scorer(load_key(k)).score("ann", [(2, "1", "value", "6")])
    >>> s.score, s.max_score, errors
    (1, 1, [])
    """

    def __init__(self, key: Key) -> None:
        self.key = key
        self.key_items = [(p, item) for p in key.problems for item, _ in p.expect]
        # NB: the key's own strings, so that 450,000 rows share a few dozen of them
        self.asked = {(p.name, item): (p.name, item) for p, item in self.key_items}
        self.route: dict[tuple[str, str], tuple[Problem, tuple[str, str]]] = {}
        for p, item in self.key_items:
            ask = self.asked[(p.name, item)]
            self.route.setdefault(ask, (p, ask))
        self.nodal = [
            p for p in key.problems if any(i.startswith(("node.", "adjoint.")) for i, _ in p.expect)
        ]
        self.texts: dict[str, str] = {}  # each distinct answer text once
        self.feedback: dict[tuple[str, tuple[Any, ...]], list[str] | None] = {}

    def score(
        self, student: str, rows: Sequence[tuple[int, str, str, str] | RowError]
    ) -> tuple[StudentResult, list[RowError]]:
        key, asked, texts = self.key, self.asked, self.texts
        mine: dict[tuple[str, str], AnswerResult] = {}
        extra: list[AnswerResult] = []
        errors: list[RowError] = []
        route = self.route
        for row in rows:
            if type(row) is tuple:  # the common case first: an item of the key, once
                line, pname, item, answer = row
                hit = route.get((pname, item))
                if hit is None and "[" in item:  # grad.W[0,1] is the key's grad.W[0, 1]
                    item = canonical_item(item)
                    row = (line, pname, item, answer)
                    hit = route.get((pname, item))
                if hit is not None and hit[1] not in mine:
                    known, ask = hit
                    shared = texts.get(answer)
                    if shared is None and len(texts) < MAX_TEXTS:
                        texts[answer] = shared = answer
                    result = known.verdict(ask[1], answer)  # NB: shared: read only
                    if result.malformed:
                        errors.append(RowError(line, student, result.message))
                    mine[ask] = _scored(ask[0], ask[1], shared or answer, result, line)
                    continue
            if isinstance(row, RowError):
                errors.append(row)
                extra.append(
                    AnswerResult(
                        "", "", None, False, row.message, row.line, malformed=True, extra=True
                    )
                )
                continue
            line, pname, item, answer = row
            problem = key.problem(pname)
            why: str | None = None
            if problem is None:
                close = suggest(pname, [p.name for p in key.problems], cutoff=0.6)
                why = f"unknown problem '{pname}'" + (f"; did you mean '{close}'?" if close else "")
            elif (pname, item) not in asked:
                listed = ", ".join(i for p, i in self.key_items if p is problem)
                try:
                    problem.target(item)
                    why = f"item '{item}' is not asked in problem '{pname}'"
                except InputError as exc:
                    why = exc.message
                why += f" (the key asks: {listed})"
            elif (pname, item) in mine:
                why = (
                    f"a second answer to {pname} {item} (the first, on line "
                    f"{mine[(pname, item)].line}, is the one scored)"
                )
            if why is not None or problem is None:
                message = why or "unknown problem"
                errors.append(RowError(line, student, message))
                extra.append(
                    AnswerResult(
                        pname, item, answer, False, message, line, malformed=True, extra=True
                    )
                )
                continue
            ask = asked[(pname, item)]
            pname, item = ask
            shared = texts.get(answer)
            if shared is None and len(texts) < MAX_TEXTS:
                texts[answer] = shared = answer
            result = problem.verdict(item, answer)  # NB: shared with every same answer: read only
            if result.malformed:
                errors.append(RowError(line, student, result.message))
            mine[ask] = _scored(pname, item, shared or answer, result, line)
        items = _score_items(key, mine, self.nodal, self.feedback) + extra
        return StudentResult(student, items), errors


def _scored(problem: str, item: str, answer: str, result: Any, line: int) -> AnswerResult:
    """A student's answer to one item of the key, with the verdict it got."""
    return AnswerResult(
        problem,
        item,
        answer,
        result.passed,
        result.message,
        line,
        result.expected,
        result.counterexample,
        value=result.value,
        malformed=result.malformed,
    )


def _score_items(
    key: Key,
    mine: Mapping[tuple[str, str], AnswerResult],
    nodal: Sequence[Problem],
    done: dict[tuple[str, tuple[Any, ...]], list[str] | None],
) -> list[AnswerResult]:
    """One result per item of the key, in key order (no answer is a wrong answer), with
    node-level feedback added to the first wrong node and adjoint of each problem.  ``done``
    keeps the feedback for each problem (of ``nodal``: those that ask for node values or
    adjoints) and set of answers already seen: students who give
    the same answers get the same feedback, worked out once."""
    out: list[AnswerResult] = []
    for p in key.problems:
        answered: list[AnswerResult] = []
        for item, _ in p.expect:
            a = mine.get((p.name, item))
            if a is None:
                a = AnswerResult(p.name, item, None, False, "no answer", expected=p.truth(item))
            else:
                answered.append(a)
            out.append(a)
        if p not in nodal or not any(a.item.startswith(("node.", "adjoint.")) for a in answered):
            continue  # no node-level feedback to give
        seen = (p.name, tuple((a.item, a.answer) for a in answered))
        if seen in done:
            messages = done[seen]
        else:
            checks = [
                CheckResult(a.item, a.expected, a.answer, a.passed, a.message, value=a.value)
                for a in answered
            ]
            messages = [c.message for c in checks] if node_feedback(p, checks) else None
            if len(done) < MAX_TEXTS:
                done[seen] = messages
        for a, m in zip(answered, messages or (), strict=False):
            a.message = m
    return out


def _regular_size(fh: Any) -> float:
    """The size of an open regular file; infinite for a pipe, FIFO or device."""
    import stat

    try:
        st = os.fstat(fh.fileno())
    except (OSError, ValueError):
        return math.inf
    return st.st_size if stat.S_ISREG(st.st_mode) else math.inf


class _SpansError(Exception):
    """The CSV reader asked for a second line for one row: a quote is not closed."""


class _OneLine:
    """The lines of a file for ``csv.reader``, each row on one line: a quote left open at
    the end of a line (``ann,1a,value,"-12``) is that row's error, not a field that takes the
    rest of the file in, with every later student's rows.  An answer holds no line break,
    so a row never needs two lines; and ``shard.sh`` (awk) splits the file by lines too."""

    __slots__ = ("first", "held", "lines", "text")

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.held: str | None = None
        self.first, self.text = True, ""

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        if not self.first:  # the row goes on past its line: keep that line for the next
            self.held = next(self.lines, None)
            raise _SpansError
        self.first = False
        if self.held is not None:
            self.text, self.held = self.held, None
        else:
            self.text = next(self.lines)
        return self.text


@dataclass(slots=True)
class _Unclosed:
    """A row whose quote is not closed on its line, read alone (for its student)."""

    line: int
    row: list[str]

    def error(self, student: str) -> RowError:
        return RowError(
            self.line,
            student,
            "a quote opened on this line is not closed on it (an answer is one line)",
        )


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]] | RowError | _Unclosed]:
    """Every row of an answers CSV with its line, read as it is needed (a
    :class:`RowError` for a row that cannot be read); the first is the header.  A file that
    cannot be read at all, or is empty, is an InputError (exit 2)."""
    limit = csv.field_size_limit()
    # NB: the default field limit (128 KiB) would lose a row whose answer is huge; such an
    # answer should fail its one check ("too long") and still name its student.
    csv.field_size_limit(1 << 27)
    empty = True
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            # NB: a regular file smaller than the bound cannot hold a longer line: read as it is
            small = _regular_size(fh) <= MAX_LINE
            lines = _OneLine(iter(fh) if small else bounded_lines(fh, str(path)))
            reader = csv.reader(lines)
            while True:
                lines.first = True
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    yield RowError(reader.line_num, "", f"unreadable row: {exc}")
                    continue
                except _SpansError:
                    empty = False
                    alone = next(csv.reader([lines.text.rstrip("\r\n") + '"']), [])
                    yield _Unclosed(reader.line_num, alone)
                    continue
                empty = False
                yield reader.line_num, row
    except OSError as exc:
        raise InputError(f"cannot read the answers '{path}': {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: {not_utf8(exc)}") from None
    finally:
        csv.field_size_limit(limit)
    if empty:
        raise InputError(
            f"{path}: the answers file is empty; its first line must be the "
            f"header {','.join(_COLUMNS)}"
        )


def _columns(path: Path, line: int, row: list[str]) -> list[int]:
    header = [h.strip().lower() for h in row]
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{path}: line {line} must be the header {','.join(_COLUMNS)} "
            f"(missing: {', '.join(missing)})"
        )
    twice = [c for c in _COLUMNS if header.count(c) > 1]
    if twice:
        raise InputError(f"{path}: the header names the column '{twice[0]}' twice")
    return [header.index(c) for c in _COLUMNS]


def _student_of(row: Sequence[str], c0: int) -> str:
    """The student a row names; none for a lone field (a line broken off another row)."""
    return row[c0].strip() if max(c0, 1) < len(row) else ""


def _unclosed_header(path: Path) -> InputError:
    return InputError(f"{path}: line 1, the header, has a quote it does not close")


def _is_header(row: list[str], cols: Sequence[int]) -> bool:
    """Whether a row is the header again (two exports joined with cat): its four columns
    are the names of the columns, a BOM or capitals aside."""
    return all(
        c < len(row) and row[c].strip().lstrip("\ufeff").lower() == name
        for c, name in zip(cols, _COLUMNS, strict=True)
    )


def last_rows(path: Path) -> dict[str, int] | None:
    """The line of each student's last row, in a quick first pass over the answers: a
    student is scored (and let go) as soon as that row is read.  None when the answers are
    not a regular file (a pipe cannot be read twice).

    >>> import tempfile, os
    >>> a = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n"
    ...                        "ann,1,grad.x,3\\n")
    >>> last_rows(Path(a))
    {'ann': 4, 'bob': 3}
    """
    import stat

    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        regular = True  # the pass below says why it cannot be read
    if not regular:
        return None
    last: dict[str, int] = {}
    c0 = -1
    for got in _csv_rows(path):
        if isinstance(got, RowError):
            continue
        line, row = (got.line, got.row) if isinstance(got, _Unclosed) else got
        if c0 < 0 and isinstance(got, _Unclosed):
            raise _unclosed_header(path)
        if c0 < 0:
            c0 = _columns(path, line, row)[0]
        else:
            s = _student_of(row, c0)
            if s:
                last[s] = line
    return last


def _read_rows(path: Path) -> Iterator[tuple[int, str, str, str, str] | RowError]:
    """The rows of an answers CSV in file order, read as they are needed: (line, student,
    problem, item, answer), or a :class:`RowError` for a row that cannot be read.  A file
    that cannot be read at all, or whose first line is not a header naming the four
    columns, is an InputError (exit 2).
    """
    cols: list[int] = []
    c0 = c1 = c2 = c3 = width = 0
    for got in _csv_rows(path):
        if isinstance(got, RowError):
            yield got
            continue
        if isinstance(got, _Unclosed):
            if not cols:
                raise _unclosed_header(path)
            yield got.error(_student_of(got.row, c0))
            continue
        line, row = got
        if not cols:
            cols = _columns(path, line, row)
            c0, c1, c2, c3 = cols
            width = len(row)
            continue
        if len(row) == width:  # the common case, first
            s, p, i, a = row[c0], row[c1], row[c2], row[c3]
            s, p, i = s.strip(), p.strip(), i.strip()
            if i == "item" and _is_header(row, cols):
                yield RowError(line, "", "the header again (two files joined?)")
            elif s or p or i or any(c.strip() for c in row):
                yield (line, s, p, i, a)
            continue
        if not any(c.strip() for c in row):
            continue
        # NB: a row longer than the header is as broken as a short one: "ann,1a,
        # value,5,9" is a decimal comma, and taking its "5" would mark a wrong number.
        if len(row) <= max(cols) or len(row) > width:
            student = _student_of(row, c0)
            why = f"{len(row)} fields, but the header has {width}"
            if len(row) > width:
                why += '; an answer with a comma in it is quoted: "5,9"'
            yield RowError(line, student, why)
            continue
        s, p, i, a = (row[c] for c in cols)
        yield (line, s.strip(), p.strip(), i.strip(), a)

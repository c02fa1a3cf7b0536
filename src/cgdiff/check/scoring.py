"""Scoring a class: every student's answers (a CSV of ``student,problem,item,answer``)
against a key, per student and per item.

A malformed row is reported by its line and counted as a wrong item for its student; it
never stops the run.  An answers file that cannot be read at all is an
:class:`~cgdiff.errors.InputError` (exit 2).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from ..errors import InputError
from ..ops import suggest
from .feedback import node_feedback
from .key import Key, check_key, load_key
from .results import AnswerResult, CheckReport, CheckResult, ItemScore, RowError, StudentResult

__all__ = ["check_answers"]

_COLUMNS = ("student", "problem", "item", "answer")


def check_answers(key: Key | str | Path, answers: str | Path) -> CheckReport:
    """Check a class's answers (CSV: ``student,problem,item,answer``) against a key.

    Every student is scored on every item the key lists (one point each; no answer is a
    wrong answer).  A malformed row (unknown problem or item, empty or unreadable answer,
    a repeated answer, a row with fewer or more fields than the header) is reported by line
    and counted as one wrong answer for that student: the answer to its item when it is the
    first row for one of the key's items, else an extra wrong item that adds one to
    ``max_score``.  It never stops the run.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml"); a = os.path.join(d, "a.csv")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n")
    >>> [(s.student, s.score, s.max_score) for s in check_answers(k, a).students]
    [('ann', 1, 1), ('bob', 0, 1)]
    """
    if not isinstance(key, Key):
        key = load_key(key)
    report = check_key(key)
    key_items = [(p, item) for p in key.problems for item, _ in p.expect]
    asked = {(p.name, item) for p, item in key_items}
    # student -> (problem, item) -> their scored answer; and rows that name no key item
    given: dict[str, dict[tuple[str, str], AnswerResult]] = {}
    extra: dict[str, list[AnswerResult]] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    errors: list[RowError] = []
    for row in _read_rows(Path(answers)):
        if isinstance(row, RowError):
            errors.append(row)
            if row.student:
                given.setdefault(row.student, {})
                extra.setdefault(row.student, []).append(
                    AnswerResult(
                        "", "", None, False, row.message, row.line, malformed=True, extra=True
                    )
                )
            continue
        line, student, pname, item, answer = row
        if not student:
            errors.append(RowError(line, "", "no student name"))
            continue
        mine = given.setdefault(student, {})
        own_extra = extra.setdefault(student, [])
        problem = key.problem(pname)
        why: str | None = None
        if problem is None:
            close = suggest(pname, [p.name for p in key.problems], cutoff=0.6)
            why = f"unknown problem '{pname}'" + (f"; did you mean '{close}'?" if close else "")
        elif (pname, item) not in asked:
            listed = ", ".join(i for p, i in key_items if p is problem)
            try:
                problem.target(item)
                why = f"item '{item}' is not asked in problem '{pname}'"
            except InputError as exc:
                why = exc.message
            why += f" (the key asks: {listed})"
        elif (student, pname, item) in first_line:
            why = (
                f"a second answer to {pname} {item} (the first, on line "
                f"{first_line[(student, pname, item)]}, is the one scored)"
            )
        if why is not None or problem is None:
            message = why or "unknown problem"
            errors.append(RowError(line, student, message))
            own_extra.append(
                AnswerResult(pname, item, answer, False, message, line, malformed=True, extra=True)
            )
            continue
        first_line[(student, pname, item)] = line
        result = problem.check(item, answer)
        if result.malformed:
            errors.append(RowError(line, student, result.message))
        mine[(pname, item)] = AnswerResult(
            pname,
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
    students = [
        StudentResult(student, _score_items(key, mine) + extra.get(student, []))
        for student, mine in given.items()
    ]
    right: dict[tuple[str, str], int] = {}
    for s in students:
        for a in s.items:
            if a.passed and not a.extra:
                right[(a.problem, a.item)] = right.get((a.problem, a.item), 0) + 1
    scores = [
        ItemScore(p.name, item, right.get((p.name, item), 0), len(students))
        for p, item in key_items
    ]
    errors.sort(key=lambda e: e.line)
    report.students, report.items, report.malformed = students, scores, errors
    return report


def _score_items(key: Key, mine: Mapping[tuple[str, str], AnswerResult]) -> list[AnswerResult]:
    """One result per item of the key, in key order (no answer is a wrong answer), with
    node-level feedback added to the first wrong node and adjoint of each problem."""
    out: list[AnswerResult] = []
    for p in key.problems:
        answered: list[tuple[AnswerResult, CheckResult]] = []
        for item, _ in p.expect:
            a = mine.get((p.name, item))
            if a is None:
                a = AnswerResult(p.name, item, None, False, "no answer")
            else:
                answered.append(
                    (a, CheckResult(item, a.expected, a.answer, a.passed, a.message, value=a.value))
                )
            out.append(a)
        if node_feedback(p, [c for _, c in answered]):
            for a, c in answered:
                a.message = c.message
    return out


def _read_rows(path: Path) -> list[tuple[int, str, str, str, str] | RowError]:
    """The rows of an answers CSV in file order: (line, student, problem, item, answer), or
    a :class:`RowError` for a row that cannot be read.  A file that cannot be read at all,
    or whose first line is not a header naming the four columns, is an InputError (exit 2).
    """
    out: list[tuple[int, str, str, str, str] | RowError] = []
    header: list[str] | None = None
    cols: list[int] = []
    limit = csv.field_size_limit()
    # NB: the default field limit (128 KiB) would lose a row whose answer is huge; such an
    # answer should fail its one check ("too long") and still name its student.
    csv.field_size_limit(1 << 27)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    out.append(RowError(reader.line_num, "", f"unreadable row: {exc}"))
                    continue
                line = reader.line_num
                if header is None:
                    header = [h.strip().lower() for h in row]
                    missing = [c for c in _COLUMNS if c not in header]
                    if missing:
                        raise InputError(
                            f"{path}: line {line} must be the header {','.join(_COLUMNS)} "
                            f"(missing: {', '.join(missing)})"
                        )
                    cols = [header.index(c) for c in _COLUMNS]
                    continue
                if not any(c.strip() for c in row):
                    continue
                # NB: a row longer than the header is as broken as a short one: "ann,1a,
                # value,5,9" is a decimal comma, and taking its "5" would mark a wrong number.
                if len(row) <= max(cols) or len(row) > len(header):
                    student = row[cols[0]].strip() if cols[0] < len(row) else ""
                    why = f"{len(row)} fields, but the header has {len(header)}"
                    if len(row) > len(header):
                        why += '; an answer with a comma in it is quoted: "5,9"'
                    out.append(RowError(line, student, why))
                    continue
                s, p, i, a = (row[c] for c in cols)
                out.append((line, s.strip(), p.strip(), i.strip(), a))
    except OSError as exc:
        raise InputError(f"cannot read the answers '{path}': {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    finally:
        csv.field_size_limit(limit)
    if header is None:
        raise InputError(
            f"{path}: the answers file is empty; its first line must be the "
            f"header {','.join(_COLUMNS)}"
        )
    return out

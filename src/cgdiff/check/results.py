"""The result records of a check: one answer's verdict, a problem's, a student's, a class's.

Plain dataclasses with the counts reports need; nothing here judges or renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CheckResult:
    """The verdict on one answer: ``expected`` is the truth (a number, or a formula's text)
    and ``given`` the answer as written.

    >>> CheckResult("value", 5.0, 5.0, True, "").passed
    True
    """

    item: str
    expected: Any
    given: Any
    passed: bool
    message: str
    counterexample: dict[str, Any] | None = None
    first_wrong: bool = False
    malformed: bool = False
    value: float | None = None  # the answer's number at the point, for node feedback


@dataclass(slots=True)
class ProblemResult:
    """Every check of one problem, node-level feedback, warnings from the passes, and why
    the problem is undefined at its point if it is (exit code 3).

    >>> ProblemResult("1a", [CheckResult("value", 1.0, 2.0, False, "")]).passed
    False
    """

    name: str
    checks: list[CheckResult]
    feedback: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undefined: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(slots=True)
class AnswerResult:
    """One student's answer to one item (or one malformed row): where it came from and
    the verdict.

    >>> AnswerResult("1a", "value", "5", True, "", line=2).passed
    True
    """

    problem: str
    item: str
    answer: str | None
    passed: bool
    message: str
    line: int | None = None  # None: no row answered this item of the key
    expected: Any = None
    counterexample: dict[str, Any] | None = None
    value: float | None = None  # the answer's number at the point, for node feedback
    malformed: bool = False  # the row is malformed (reported by line), so it is wrong
    extra: bool = False  # not the answer to one of the key's items: an extra wrong item


@dataclass(slots=True)
class StudentResult:
    """A student's answers: one per item of the key, then each malformed row that is not
    the answer to one of them (each such row is one more wrong item).

    >>> StudentResult("ann", [AnswerResult("1a", "value", "5", True, "")]).score
    1
    """

    student: str
    items: list[AnswerResult]

    @property
    def score(self) -> int:
        return sum(1 for a in self.items if a.passed)

    @property
    def max_score(self) -> int:
        return len(self.items)

    @property
    def wrong(self) -> int:
        """Answers given and wrong (malformed rows included)."""
        return sum(1 for a in self.items if not a.passed and a.line is not None)

    @property
    def unanswered(self) -> int:
        """Items of the key that no row answers."""
        return sum(1 for a in self.items if a.line is None)

    @property
    def malformed(self) -> int:
        """The student's malformed rows: every one is reported by line."""
        return sum(1 for a in self.items if a.malformed)


@dataclass(slots=True)
class ItemScore:
    """How many students got one item of the key right.

    >>> ItemScore("1a", "value", 3, 4).total
    4
    """

    problem: str
    item: str
    passed: int
    total: int


@dataclass(slots=True)
class RowError:
    """A malformed row of the answers CSV.

    >>> RowError(7, "ann", "unknown problem '9'").text()
    "line 7 (ann): unknown problem '9'"
    """

    line: int
    student: str
    message: str

    def text(self) -> str:
        who = f" ({self.student})" if self.student else ""
        return f"line {self.line}{who}: {self.message}"


@dataclass(slots=True)
class CheckReport:
    """Everything one ``cgdiff check`` found.  ``passed``/``failed`` count problems.

    >>> from cgdiff.check import check_expression
    >>> r = check_expression("x*y+z", {"x": 1, "y": 2, "z": 3}, [("value", "5")])
    >>> r.passed, r.failed, r.ok
    (1, 0, True)
    """

    source: str
    problems: list[ProblemResult]
    students: list[StudentResult] | None = None
    items: list[ItemScore] | None = None
    malformed: list[RowError] | None = None

    @property
    def passed(self) -> int:
        return sum(1 for p in self.problems if p.passed)

    @property
    def failed(self) -> int:
        return len(self.problems) - self.passed

    @property
    def ok(self) -> bool:
        """True when every check passed (the key's and every student's): exit code 0."""
        if self.failed:
            return False
        if self.students is not None:
            if any(not a.passed for s in self.students for a in s.items):
                return False
        return not self.malformed

    @property
    def undefined(self) -> list[ProblemResult]:
        """The problems that are undefined at their point."""
        return [p for p in self.problems if p.undefined is not None]

    @property
    def exit_code(self) -> int:
        """SPEC section 7: 3 when a problem is undefined at its point, else 1 when an answer
        is wrong, else 0 (a key or answers file that cannot be read raised, for exit 2)."""
        if self.undefined:
            return 3
        return 0 if self.ok else 1

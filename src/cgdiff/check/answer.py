"""One answer as a student wrote it: read through the grammar, and shown back in messages.

:func:`read_answer` turns an answer (a TOML number, or text: a number or a formula) into an
:class:`Answer` (its number, its formula graph, or why it is neither) without ``eval``;
:func:`as_given` and :func:`pair_text` are how reports show an answer beside the truth.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CgdiffError, clip
from ..graph import Graph, format_number
from ..ops import suggest
from ..parse import parse
from .settings import _g

MAX_ANSWER = 10_000  # characters; a longer answer fails without being parsed
MAX_ANSWER_ENTRIES = 1_000_000  # entries of an array an answer may make (ones(1000, 1000))
# An answer that is a plain number, in the grammar's own spelling (no inf, nan or 1_000):
# read with float() and no parser run, which keeps a class's worth of answers fast.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def pair_text(
    expected: Any, given: Any, exact: bool = True, digits: Sequence[int] = (6, 9, 12, 17)
) -> tuple[str, str]:
    """Two values as text with enough ``digits`` that different numbers never look the same.
    ``exact``: the given value is the student's own, shown as written (text as it is, a
    number with every digit); else both numbers get the same digits.  Text (a formula) and
    ``None`` are shown as they are.

    >>> pair_text(1000.0, "1001.001"), pair_text(0.1 + 0.2, 0.3), pair_text(-12.0, "-12.0")
    (('1000', '1001.001'), ('0.30000000000000004', '0.3'), ('-12', '-12.0'))
    >>> pair_text(1.0, 1.0000001, exact=False)
    ('1', '1.0000001')
    """
    number = as_given(given)
    fixed = _text_of(given) if exact or not isinstance(given, float) else None
    if not isinstance(expected, float):
        return _text_of(expected), fixed if fixed is not None else _text_of(given)
    e = g = ""
    for n in digits:
        e = _g(expected, n)
        g = fixed if fixed is not None else _g(given, n)
        if e != g or (isinstance(number, float) and number == expected):
            break
    return e, g


def _text_of(value: Any) -> str:
    """A value as written: text as it is, a number in the shortest form that reads back."""
    if value is None:
        return ""
    return value if isinstance(value, str) else format_number(value)


def _excess(off: float, tol: float) -> str:
    """``off by A, more than the tolerance B`` with enough digits that A and B differ."""
    a, b = pair_text(off, tol, exact=False, digits=range(3, 18))
    return f"off by {a}, more than the tolerance {b}"


@dataclass
class Answer:
    """An answer read through the grammar: a number, a formula graph, or why it is neither."""

    text: str | None  # as written (None for a TOML number)
    number: float | None = None
    graph: Graph | None = None
    error: str | None = None
    malformed: bool = False  # could not be read at all (syntax, empty, too long)
    array: np.ndarray | None = None  # a constant array, [[1, 1], [1, 1]] (float64)

    @property
    def plain(self) -> bool:
        """A number as written (a TOML number, or text such as ``-1.5e3``), not a formula."""
        return self.number is not None and (
            self.text is None or _NUMBER.fullmatch(self.text) is not None
        )

    def given(self) -> Any:
        """The answer as reports show it: a plain number as a number, else its text."""
        if self.plain and self.number is not None and math.isfinite(self.number):
            return self.number
        return self.text if self.text is not None else self.number


def _shorten(digits: str, limit: int = 20) -> str:
    """A long run of digits for a message: its start, and how many there are.

    >>> _shorten("1" + "0" * 400)
    '10000000000000000000… (401 digits)'
    """
    if len(digits) <= limit:
        return digits
    return f"{digits[:limit]}… ({len(digits.lstrip('+-'))} digits)"


def read_answer(
    answer: Any, names: Sequence[str] | None = None, known: Collection[str] | None = None
) -> Answer:
    """Read an answer through the grammar: a number, a formula, or the reason it is neither.
    ``names``: the names a formula may use (any, when None); ``known``: the same names in a
    set, for a fast lookup.

    >>> read_answer("sqrt(4)").number, read_answer("2x +").error
    (2.0, 'not a number or formula: unexpected end of input at column 5')
    """
    if isinstance(answer, bool) or not isinstance(answer, (int, float, str)):
        return Answer(str(answer), error="the answer must be a number or a formula", malformed=True)
    if not isinstance(answer, str):
        try:
            x = float(answer)
        except OverflowError:  # a TOML integer past float's range (1 and 400 zeros)
            digits = str(answer)
            return Answer(
                digits,
                math.inf if answer > 0 else -math.inf,
                error=f"the answer {_shorten(digits)} is too large: it overflows to "
                f"{'' if answer > 0 else '-'}inf",
            )
        if not math.isfinite(x):
            return Answer(None, x, error=f"the answer {_g(x)} is not a finite number")
        return Answer(None, x)
    text = answer.strip()
    if not text:
        return Answer(answer, error="empty answer", malformed=True)
    if len(text) > MAX_ANSWER:
        shown = text[:40] + "…"
        return Answer(
            shown,
            error=f"the answer is too long ({len(text)} characters; at most {MAX_ANSWER})",
            malformed=True,
        )
    if "\u2212" in text and _NUMBER.fullmatch(text.replace("\u2212", "-")):
        text = text.replace("\u2212", "-")  # pasted: −0.5, 1e−3 are numbers
    if _NUMBER.fullmatch(text):
        x = float(text)
        if not math.isfinite(x):
            return Answer(text, x, error=f"the answer {clip(text)} overflows to {_g(x)}")
        return Answer(text, x)
    if any(c in text for c in "=;\n"):
        return Answer(
            text,
            error="an answer is one expression, without '=', ';' or line breaks",
            malformed=True,
        )
    try:
        # NB: a student's answer never reads the grader's files, nor makes a huge array
        g = parse(text, files=False, entries=MAX_ANSWER_ENTRIES)
    except CgdiffError as exc:
        msg = exc.message.replace(" at line 1, column ", " at column ")
        msg = re.sub(r" \(line 1, column (\d+)\)$", r" (column \1)", msg)
        if exc.hint:
            msg += f"; {exc.hint}"
        return Answer(text, error=f"not a number or formula: {msg}", malformed=True)
    except (RecursionError, MemoryError):
        return Answer(text, error="the answer is too deeply nested or too large", malformed=True)
    out = g.nodes[g.output]
    if out.kind == "const" and np.ndim(out.value):
        a = np.asarray(out.value, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            return Answer(text, error=f"the answer {clip(text)} has entries that are not finite")
        return Answer(text, array=a)
    if out.kind == "const":
        x = float(out.value)
        if not math.isfinite(x):
            return Answer(text, x, error=f"the answer {clip(text)} overflows to {_g(x)}")
        return Answer(text, x)
    if names is not None:
        known = names if known is None else known
        unknown = [n for n in g.input_names if n not in known]
        if unknown:
            name = unknown[0]
            close = suggest(name, list(names), cutoff=0.6)
            hint = f"did you mean '{close}'?" if close else f"its names are {', '.join(names)}"
            return Answer(
                text, error=f"the answer uses '{name}', which is not a name of this problem; {hint}"
            )
    return Answer(text, graph=g)


def as_given(answer: Any) -> Any:
    """An answer as reports show it (``given``, ``answer``): a plain number as a number,
    anything else (a formula, a constant expression, unreadable text) as written.

    >>> as_given(" 6 "), as_given(6), as_given("sqrt(2)/2"), as_given("3,0"), as_given(None)
    (6.0, 6.0, 'sqrt(2)/2', '3,0', None)
    """
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        try:
            return float(answer)
        except OverflowError:
            return str(answer)
    if isinstance(answer, str) and len(answer) <= MAX_ANSWER:
        text = answer.strip()
        if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
            return float(text)
    return answer

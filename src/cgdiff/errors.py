"""The one exception family of cgdiff, and the warnings the core hands back.

The core raises these and never prints; the CLI turns them into one ``error:`` line and
the exit code of SPEC section 7.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

__all__ = [
    "CgdiffError",
    "Diagnostic",
    "InputError",
    "InternalError",
    "UndefinedError",
    "caret",
    "clip",
    "not_utf8",
]

CLIP = 60  # characters of user text (a name, a path, a value) echoed in a message


def clip(text: str, width: int = CLIP) -> str:
    """User text cut to a readable length for a message: its start, ``…`` and its end.

    >>> clip("x" * 100, 11)
    'xxxxx…xxxxx'
    """
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def _within(parts: Sequence[str], sep: str, room: int) -> int:
    """How many of ``parts``, joined by ``sep``, fit in ``room`` characters (at least 1)."""
    used, k = 0, 0
    for k, part in enumerate(parts):
        used += len(part) + (len(sep) if k else 0)
        if used > room and k:
            return k
    return len(parts)


def quoted_names(names: Sequence[str], room: int = 90) -> str:
    """Names for a message, quoted: as many as fit in about ``room`` characters, then how
    many more (a message stays one readable line, cut at a name, never inside one).

    >>> quoted_names(["x", "y"]), quoted_names([f"x{i}" for i in range(12)], 20)
    ("'x', 'y'", "'x0', 'x1', 'x2' and 9 more")
    """
    parts = [f"'{clip(m)}'" for m in names]
    k = _within(parts, ", ", room)
    return ", ".join(parts[:k]) + (f" and {len(parts) - k} more" if k < len(parts) else "")


def filled(names: Sequence[str], room: int = 70) -> str:
    """``x=VALUE,y=VALUE`` for as many names as fit in about ``room`` characters (then ``,…``).

    >>> filled(["x", "y"]), filled(["a", "b", "c"], 16)
    ('x=VALUE,y=VALUE', 'a=VALUE,b=VALUE,…')
    """
    parts = [f"{clip(m)}=VALUE" for m in names]
    k = _within(parts, ",", room)
    return ",".join(parts[:k]) + (",…" if k < len(parts) else "")


#: What a pow of a negative base to a power that is not whole gets: (-8)^(1/3) is not -2.
NEGATIVE_POWER = (
    "a negative number to a power that is not a whole number has no real value; for a cube "
    "root write cbrt(x)"
)

MAX_LINE = 1 << 24  # characters in one line of a CSV file (16 Mi): /dev/zero has no line end


def bounded_lines(fh: TextIO, what: str, limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of ``fh`` (for ``csv.reader``), refusing one longer than ``limit``
    characters: a file with no line end (``/dev/zero``, a binary) would otherwise be read
    whole into memory as one line.  ``what`` names the file in the error.

    >>> import io
    >>> list(bounded_lines(io.StringIO("a\\nb"), "f"))
    ['a\\n', 'b']
    >>> list(bounded_lines(io.StringIO("abcd\\r\\nx", newline=""), "f", limit=4))
    ['abcd\\r\\n', 'x']
    >>> try:
    ...     list(bounded_lines(io.StringIO("abcdef"), "f", limit=4))
    ... except InputError as exc:
    ...     print(exc.message)
    f: line 1 is longer than 4 characters (is this a CSV file?)
    """
    number = 0
    while True:
        line = fh.readline(limit + 2)  # NB: room for the line's own end, \r\n
        if not line:
            return
        number += 1
        if len(line) > limit and len(line.rstrip("\r\n")) > limit:
            raise InputError(
                f"{what}: line {number} is longer than {limit:,} characters (is this a CSV file?)"
            )
        yield line


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Why a file or standard input could not be read as text, in a person's words.

    >>> try:
    ...     b"x+\\xff".decode("utf-8")
    ... except UnicodeDecodeError as exc:
    ...     print(not_utf8(exc))
    not UTF-8 text (the byte 0xFF cannot be read); save it as UTF-8
    """
    bad = bytes(exc.object[exc.start : exc.start + 1]).hex().upper()
    return f"not UTF-8 text (the byte 0x{bad} cannot be read); save it as UTF-8"


# A quoted piece of a message longer than CLIP: a name or value the user typed.
_QUOTED = re.compile("'([^'\\n]{" + str(CLIP + 1) + ",})'")


def _readable(text: str) -> str:
    """A message with every long quoted piece (user text) clipped, so that a 5 MB name
    does not make a 5 MB error line."""
    if len(text) <= CLIP:
        return text
    return _QUOTED.sub(lambda m: "'" + clip(m.group(1)) + "'", text)


# Control characters (C0, DEL, C1) and the lone surrogates that stand for bytes that are not
# UTF-8 (Python's surrogateescape): nothing a terminal shows as one character.
_UNSHOWN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSHOWN_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def unshown(text: str, lines: bool = False) -> str:
    """``text`` with what a terminal cannot show as one character (control characters, an
    ESC that would start an escape sequence, lone surrogates) as U+FFFD; with ``lines``, line
    breaks are kept.

    >>> unshown("a\\x1b[31mb") == "a\\ufffd[31mb", unshown("a\\nb", lines=True) == "a\\nb"
    (True, True)
    """
    if text.isprintable():
        return text
    return (_UNSHOWN_IN_LINES if lines else _UNSHOWN).sub("\ufffd", text)


def caret(source_line: str, column: int) -> str:
    """Two indented lines: the source line and a caret under ``column`` (1-based).

    >>> print(caret("x*(y+)z", 6))
      x*(y+)z
           ^
    """
    # NB: tabs would shift the caret; show them as single spaces, and any other control
    # character (a NUL of a binary file) or undecodable byte as the replacement character
    # (one column each). A long line is cut to a window around the column, so a
    # 100,000-character line gives a short message.
    line = source_line.replace("\t", " ")
    line = unshown(line)
    col = max(column - 1, 0)
    if len(line) > 100:
        start = max(0, col - 50)
        piece = line[start : start + 100]
        left = "…" if start > 0 else ""
        right = "…" if start + 100 < len(line) else ""
        line, col = left + piece + right, col - start + len(left)
    return f"  {line}\n  {' ' * col}^"


class CgdiffError(Exception):
    """Base of every error cgdiff reports; ``exit_code`` follows SPEC section 7.

    >>> str(InputError("unknown name 'q'"))
    "unknown name 'q'"
    """

    exit_code = 70

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source_line: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.hint = hint

    def __str__(self) -> str:
        return _readable(f"{self.message}; {self.hint}" if self.hint else self.message)

    def render(self) -> str:
        """The full text shown to a user, without the ``error:`` prefix.

        >>> InputError("bad", line=1, column=2, source_line="ab").render()
        'bad\\n  ab\\n   ^'
        """
        text = _readable(f"{self.message}; {self.hint}" if self.hint else self.message)
        if self.source_line is not None and self.column is not None:
            text += "\n" + caret(self.source_line, self.column)
        return text


class InputError(CgdiffError):
    """The input is wrong: syntax, unknown name, missing value, bad option (exit 2)."""

    exit_code = 2


class UndefinedError(CgdiffError):
    """The result is undefined at the point asked, e.g. ``log(-1)`` (exit 3)."""

    exit_code = 3


class InternalError(CgdiffError):
    """A bug in cgdiff (exit 70)."""

    exit_code = 70


@dataclass(frozen=True)
class Diagnostic:
    """A warning the core hands back with a result instead of printing it.

    >>> Diagnostic("t1", "abs'(0) is taken as 0").text()
    "node t1: abs'(0) is taken as 0"
    """

    node: str | None
    message: str

    def text(self) -> str:
        return f"node {self.node}: {self.message}" if self.node else self.message

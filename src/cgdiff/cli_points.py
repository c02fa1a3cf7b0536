"""The points of a command line: ``--at`` (a point each) and ``--points CSV`` (a point per
row, sharing the values of ``--at``), with messages in the words of those options.

The core's messages are neutral (the Python API has no ``--at``); here a missing value
says which option gives it, and ``--at x=1 --at y=2`` (two points, each short of an input)
says what repeated ``--at`` means and shows the one-point spelling.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import (
    CgdiffError,
    InputError,
    bounded_lines,
    clip,
    filled,
    not_utf8,
    quoted_names,
)

__all__ = ["one_point", "points_of"]


def points_of(
    graph: Any, at: list[str] | None, points: Path | None, complete: bool = True
) -> dict[str, Any]:
    """One point as name -> number, or several as name -> list (vectorised).

    Each ``--at`` is a point; with ``--points CSV`` the CSV rows are the points and the
    ``--at`` values are shared by every one of them (SPEC section 3).  With ``complete``,
    every input without a default must have a value at every point.

    >>> from cgdiff import parse
    >>> points_of(parse("w*x"), ["w=2,x=1"], None)
    {'w': 2.0, 'x': 1.0}
    """
    from .evaluate import stack_columns, stack_points

    texts = at or []
    rows = [_at_point(a) for a in texts]
    where: list[str] = [f"--at {clip(a)}" for a in texts]
    if points is not None:
        shared: dict[str, float] = {}
        for row in rows:
            for name, value in row.items():
                if name in shared:
                    raise InputError(f"'{clip(name)}' is given in two --at options")
                shared[name] = value
        got = _csv_points(points, shared)
        if isinstance(got, dict):  # a CSV of plain numbers, read a column at a time
            n = next(len(v) for v in got.values() if not isinstance(v, float))
            first = {name: v if isinstance(v, float) else float(v[0]) for name, v in got.items()}
            if complete:
                _check_given(graph, [first], [f"line 2 of {clip(str(points))}"], texts, points)
            return first if n == 1 else stack_columns(graph, got, n)
        rows, where = got
    if complete:
        _check_given(graph, rows, where, texts, points)
    if not rows:
        return {}
    if len(rows) == 1:
        return rows[0]
    return stack_points(graph, rows)


def _cell(text: str) -> Any:
    """One cell of a ``--points`` CSV: a plain number (read with float, not the grammar), a
    constant expression or an array.

    >>> _cell(" 2.5 "), _cell("-0"), _cell("pi/2")
    (2.5, 0.0, 1.5707963267948966)
    """
    from .values import parse_value

    return parse_value(text)


def _plain_column(cells: Sequence[str]) -> Any:
    """The cells of one column as a float array, when every one is a plain finite number;
    else None.  NB: ``float`` reads what the grammar's NUMBER reads, signed and with white
    space around it, and more: ``nan``, ``inf`` (not finite), ``1_0`` and other scripts'
    digits (not ASCII), which are left to the grammar."""
    import numpy as np

    text = "".join(cells)
    if "_" in text or not text.isascii():
        return None
    try:
        a = np.fromiter(map(float, cells), dtype=float, count=len(cells))
    except ValueError:
        return None
    if not np.isfinite(a).all():
        return None
    return a + 0.0  # NB: -0 is 0, as the grammar reads it


def _at_point(text: str) -> dict[str, float]:
    from .values import parse_point

    return parse_point(text)


def max_points_cells() -> int:
    """The most cells a ``--points`` CSV may hold: ``max_entries() // 50`` (5,000,000)."""
    from .parse import max_entries

    return max_entries() // 50


def _csv_points(
    points: Path, shared: dict[str, float]
) -> dict[str, Any] | tuple[list[dict[str, Any]], list[str]]:
    """The points of a ``--points`` CSV with the shared ``--at`` values: by column (name ->
    array, or a shared number) when every cell is a plain number, else the rows, each a
    point, and where each row is, for messages."""
    rows: list[dict[str, Any]] = []
    where: list[str] = []
    try:
        # NB: utf-8-sig drops the BOM that spreadsheet programs write.
        with open(points, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(bounded_lines(fh, clip(str(points))))
            header = [h.strip() for h in next(reader, [])]
            if not header:
                raise InputError(f"{clip(str(points))}: the CSV has no header row of names")
            twice = sorted({h for h in header if header.count(h) > 1})
            if twice:
                raise InputError(
                    f"{clip(str(points))}: the column {clip(twice[0])!r} appears twice"
                )
            both = [h for h in header if h in shared]
            if both:
                raise InputError(
                    f"'{clip(both[0])}' is given both by --at and by a column of "
                    f"{clip(str(points))}; give it in one place"
                )
            # NB: at most a bound of rows (`yes 1 |` has no end): cells held as text take
            # about 60 bytes each, so 5,000,000 of them (CGDIFF_MAX_ENTRIES / 50) ~ 300 MB
            most = max(1, max_points_cells() // max(len(header), 1))
            cells = list(itertools.islice(reader, most + 1))
            if len(cells) > most:
                raise InputError(
                    f"{clip(str(points))}: more than {most:,} points (rows), the most one "
                    "run takes",
                    hint="split the file, or raise CGDIFF_MAX_ENTRIES (50 per cell of a row)",
                )
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read '{clip(str(points))}': {not_utf8(exc)}") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot read '{clip(str(points))}': {reason}") from None
    width = len(header)
    if cells and all(type(v) is float for v in shared.values()):
        columns: dict[str, Any] = dict(shared)
        try:
            by_column = list(zip(*cells, strict=True))
        except ValueError:  # rows of other lengths: said below, with the line
            by_column = []
        if len(by_column) == width:
            for name, column in zip(header, by_column, strict=True):
                a = _plain_column(column)
                if a is None:
                    break
                columns[name] = a
            else:
                return columns
    for k, row in enumerate(cells, start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != width:
            raise InputError(f"{clip(str(points))}, line {k}: {len(row)} values for {width} names")
        try:
            rows.append({**shared, **{h: _cell(c) for h, c in zip(header, row)}})
        except CgdiffError as exc:
            # NB: the cell's own "(line 1, column 1)" is not the file's: the line is said
            reason = re.sub(r" \(line 1, column \d+\)$", "", exc.message)
            raise InputError(f"{clip(str(points))}, line {k}: {reason}") from None
        where.append(f"line {k} of {clip(str(points))}")
    if not rows:
        raise InputError(f"{clip(str(points))}: no points, only a header row")
    return rows, where


def _check_given(
    graph: Any,
    rows: list[dict[str, float]],
    where: list[str],
    at: list[str],
    points: Path | None,
) -> None:
    """Every point gives every input that has no default, or an error that says how to.

    The core's message is neutral (the API has no --at); this one names the options.
    """
    from .ops import suggest

    defaults = graph.defaults()
    needed = [n for n in graph.input_names if n not in defaults]
    given = list(dict.fromkeys(name for row in rows for name in row))
    if any(name not in graph.input_names for name in given):
        return  # the core says which name is not an input, with a did-you-mean
    for k, row in enumerate(rows or [{}]):
        missing = [n for n in needed if n not in row]
        if not missing:
            continue
        names = quoted_names(missing)
        what = f"no value for input{'s' if len(missing) > 1 else ''} {names}"
        fill = filled(missing)
        if len(rows) > 1 and points is None:
            # --at x=1 --at y=2 is two points, each short of an input: say so, show the fix.
            first = f"{what} in point {k + 1} ({where[k]})"
            disjoint = sum(len(r) for r in rows) == len(given)
            if disjoint and not [n for n in needed if n not in given]:
                both = ", ".join(clip(n) for n in given[:-1]) + f" and {clip(given[-1])}"
                raise InputError(
                    f"{first}: each --at is a point of its own, so {len(rows)} --at options "
                    f"make {len(rows)} points",
                    hint=f"to give {both} at one point, write --at {clip(','.join(at))}",
                )
            raise InputError(
                f"{first}: each --at is one point and needs every input",
                hint=f"add {fill} to it",
            )
        if points is not None:
            raise InputError(
                f"{what} at {where[k]}",
                hint=f"add a column to the CSV, or give every point the value with --at {fill}",
            )
        close = [(m, suggest(m, graph.assigned, cutoff=0.75)) for m in missing[:3]]
        misspelt = "; ".join(f"is '{m}' a misspelling of '{c}'?" for m, c in close if c)
        them = "them" if len(missing) > 1 else "it"
        hint = misspelt or f"give {them} with --at {fill}"
        if "π" in missing:  # pasted: the constant is spelt pi (SPEC section 1)
            hint += "; for the constant π, write pi"
        raise InputError(what, hint=hint)


def one_point(what: str, at: list[str] | None) -> None:
    """A command that takes one point, given several --at: say how to write one.

    >>> one_point("cgdiff graph shows one point", ["x=1", "y=2"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cgdiff.errors.InputError: cgdiff graph shows one point; ... write --at x=1,y=2
    """
    if at is not None and len(at) > 1:
        names = [p.split("=")[0].strip() for a in at for p in a.split(",") if "=" in p]
        twice = next((n for k, n in enumerate(names) if n in names[:k]), None)
        if twice is not None:  # several points, each its own: joined they would clash
            hint = (
                f"'{clip(twice)}' is given in more than one --at: run the command once per "
                "point (cgdiff grad takes several points, with --at repeated or --points)"
            )
        else:
            hint = f"to give all the values at one point, write --at {clip(','.join(at))}"
        raise InputError(
            f"{what}; --at is given {len(at)} times (each --at is a point of its own)",
            hint=hint,
        )

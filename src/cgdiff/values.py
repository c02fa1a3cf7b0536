"""Values given on the command line and in files: points (``x=1,y=pi/4``), constant
expressions (read by :func:`cgdiff.parse.parse`, plain numbers without it) and arrays from
``.csv``, ``.txt`` and ``.npy`` files."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from .errors import Diagnostic, InputError, not_utf8
from .graph import shape_reason, shape_text
from .ops import CONSTANTS, apply_checked
from .parse import _short, max_entries, max_tokens, parse

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["as_point", "parse_point", "parse_value", "read_array", "read_source", "split_top"]


# A plain number (the grammar's NUMBER, signed, white space around it) is read with float,
# not the grammar: --at and --points cells are mostly such.  Non-finite results (1e999) are
# left to the grammar, which says why.
_PLAIN = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)


def parse_value(text: str) -> Any:
    """A number or constant expression (``pi/4``, ``-2``, ``sqrt(2)``) as a float; an array
    literal (``[1, 2]``) or ``@file`` as an array.

    >>> parse_value("sqrt(4) + 1"), parse_value("[1, 2] * 2")
    (3.0, array([2., 4.]))
    """
    if _PLAIN.fullmatch(text):
        v = float(text)
        if math.isfinite(v):
            return v + 0.0  # NB: -0 is 0, as the grammar reads it
    if text.strip().startswith("@"):
        if not text.strip()[1:]:
            raise InputError("'@' names no file; write @path, as in @data/x.csv")
        return read_array(text.strip()[1:])[0]
    g = parse(text)
    node = g.nodes[g.output]
    if node.kind != "const" and not g.input_names:  # left unfolded: [1, 2] + [1, 2, 3]
        raise _unfolded(g, text)
    if node.kind != "const":
        names = ", ".join(g.input_names) or text
        raise InputError(
            f"'{text.strip()}' is not a number or constant expression (it uses {names})"
        )
    return float(node.value) if np.ndim(node.value) == 0 else node.value


def _unfolded(g: Graph, text: str) -> InputError:
    """The error of a constant expression that was left unfolded: the first op whose
    constant inputs' shapes do not fit it (an overflow, exp(1000), is not finite)."""
    for i in g.op_ids:
        n = g.nodes[i]
        assert n.op is not None
        if all(g.nodes[a].kind == "const" for a in n.args):
            values = [g.nodes[a].value for a in n.args]
            try:
                apply_checked(n.op, values, n.params)
            except (ValueError, IndexError) as exc:
                shapes = " and ".join(dict.fromkeys(shape_text(np.shape(v)) for v in values))
                if n.op.name == "stack":  # ragged, or nested past numpy's 64 dimensions
                    return InputError(f"'{_short(text.strip())}' is {exc}")
                return InputError(f"'{_short(text.strip())}': {shape_reason(exc, shapes)}")
    return InputError(f"the value '{_short(text.strip())}' is not finite")


def read_array(name: str, base: Path | None = None) -> tuple[Any, list[Diagnostic]]:
    """Numbers from a file: ``.npy`` (numpy's own), ``.csv`` (commas) or ``.txt``
    (white space), relative to ``base``; and warnings for entries that are NaN or infinite.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> _ = open(path, "w").write("1,2\\n3,4\\n")
    >>> read_array(path)[0]
    array([[1., 2.],
           [3., 4.]])
    """
    import warnings

    path = Path(name)
    if base is not None and not path.is_absolute():
        path = base / path
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv", ".txt"):
        raise InputError(f"cannot read '{_short(name)}': numbers are read from .csv, .txt or .npy")
    if not path.is_file():
        why = "not a regular file" if path.exists() else "no such file"
        raise InputError(f"cannot read '{_short(str(path), 80)}': {why}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file: said below, not as a warning
            if suffix == ".npy":
                value = np.load(path, allow_pickle=False)
                if np.asarray(value).dtype.kind not in "iuf":  # complex, bool, text
                    kind = "complex numbers" if np.iscomplexobj(value) else "values"
                    raise InputError(
                        f"cannot read '{_short(str(path), 80)}': it holds {kind} of type "
                        f"{np.asarray(value).dtype}; cgdiff works with real numbers"
                    )
            else:
                value = np.loadtxt(path, delimiter="," if suffix == ".csv" else None, ndmin=0)
        value = np.asarray(value, dtype=float)
    except (ValueError, TypeError, OSError, EOFError, UnicodeDecodeError) as exc:
        # NB: numpy's own quotes become double ones: a message clips long '...' pieces
        reason = str(exc).split("\n")[0].replace("'", '"')
        # numpy's advice names its own keyword, which a cgdiff user cannot pass
        reason = re.sub(r"; use `usecols`.*?error(?=\)|$)", "", reason)
        if suffix == ".npy":  # numpy's own words speak of pickles and allow_pickle
            raise InputError(
                f"cannot read '{_short(str(path), 80)}': not an array saved by numpy (.npy)"
            ) from None
        if isinstance(exc, UnicodeDecodeError):
            raise InputError(f"cannot read '{_short(str(path), 80)}': {not_utf8(exc)}") from None
        raise InputError(
            f"cannot read '{_short(str(path), 80)}': not a rectangular table of numbers "
            f"({_short(reason, 120)})"
        ) from None
    if value.size == 0:
        raise InputError(f"cannot read '{_short(str(path), 80)}': it holds no numbers")
    if value.size > max_entries():
        raise InputError(f"'{_short(str(path), 80)}' has {value.size:,} entries, over the limit")
    notes = []
    bad = int(np.sum(~np.isfinite(value)))
    if bad:
        notes.append(
            Diagnostic(
                None, f"'{_short(str(path), 80)}' has {bad} entries that are NaN or infinite"
            )
        )
    return value, notes


def split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and brackets, dropping empty parts.

    >>> split_top("x=atan2(1,2), y=3,")
    ['x=atan2(1,2)', ' y=3']
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse_point(text: str) -> dict[str, float]:
    """``name=value,name=value`` into a mapping; values may be constant expressions.

    >>> parse_point("x=1, y=-2, t=pi/2")
    {'x': 1.0, 'y': -2.0, 't': 1.5707963267948966}
    """
    point: dict[str, float] = {}
    for part in split_top(text):
        if "=" not in part:
            where = f" in '{_short(text)}'" if part.strip() != text.strip() else ""
            raise InputError(f"'{_short(part.strip())}'{where} is not name=value")
        name, _, value = part.partition("=")
        name = unicodedata.normalize("NFC", name.strip())
        if name in CONSTANTS:
            raise InputError(f"'{name}' is a constant and cannot be given a value")
        if name in point:
            raise InputError(f"'{name}' is given twice in '{text}'")
        if not name:
            raise InputError(f"'{_short(part.strip())}' names no input; write name=value")
        if not value.strip():
            raise InputError(f"'{_short(part.strip())}' gives {name} no value; write {name}=NUMBER")
        if ";" in value or "\n" in value:
            raise InputError(
                f"'{_short(part.strip())}' is not name=value: a value holds no ';'",
                hint="separate the values of a point with commas, as in x=1,y=2",
            )
        point[name] = parse_value(value)
    return point


def read_source(text: str, base: Path | None = None) -> str:
    """The spec text an argument stands for: ``@path`` reads a file (relative to ``base``).

    >>> read_source("x + 1")
    'x + 1'
    """
    if not text.startswith("@"):
        return text
    if not text[1:].strip():
        raise InputError("'@' names no file; write @path, as in @examples/xyz.cg")
    path = Path(text[1:])
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        with path.open("rb") as f:
            return read_text(f, f"'{path}'")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot read '{path}': {reason}") from None


def max_bytes() -> int:
    """The most bytes a spec's text may have: 64 per token of ``max_tokens`` (32 MB unless
    CGDIFF_MAX_TOKENS says more), so that /dev/zero or a stray binary is refused, not read
    until memory runs out."""
    return 64 * max(max_tokens(), 1)


def read_bounded(stream: BinaryIO, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``stream``, read in pieces of 1 MiB (so that a large
    limit is not allocated at once); more than ``limit`` means the source is too large.

    >>> import io
    >>> len(read_bounded(io.BytesIO(b"x" * 10), 4)), read_bounded(io.BytesIO(b"ab"), 4)
    (5, b'ab')
    """
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(1 << 20, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def read_text(stream: BinaryIO, what: str) -> str:
    """A spec's text from ``stream`` (a file, standard input): at most :func:`max_bytes`
    bytes, decoded strictly as UTF-8 (a BOM dropped), with a text file's line ends (``\r\n``
    and ``\r`` read as ``\n``).  ``what`` names the source in errors (``'a.cg'``)."""
    limit = max_bytes()
    data = read_bounded(stream, limit)
    if len(data) > limit:
        raise InputError(
            f"cannot read {what}: it is larger than {limit:,} bytes, the most a spec may be",
            hint="set the environment variable CGDIFF_MAX_TOKENS to a larger number to "
            "raise the limit (64 bytes per token)",
        )
    try:
        text = data.decode("utf-8-sig")  # NB: -sig drops a BOM (Windows editors)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {what}: {not_utf8(exc)}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def as_point(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as given to the API: strings are read as constant expressions."""
    return {k: parse_value(v) if isinstance(v, str) else v for k, v in values.items()}

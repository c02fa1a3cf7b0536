"""Text to graph: the Lark LALR parser of ``grammars/cgdiff.lark``, building graph nodes as
it reduces each rule (no parse tree in between, no recursion), plus points (``x=1,y=pi/4``).

Model-spec rules of SPEC section 2 are enforced here: a name is assigned once and before it
is used; a name assigned a constant expression is an input with a default value; the output
is the last assigned name (or ``f`` for a lone expression).
"""

from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .array_ops import size_of
from .errors import CgdiffError, InputError, InternalError
from .graph import Graph, GraphBuilder
from .lalr import Tables, Tok
from .ops import CONSTANTS, FUNCTIONS, resolve_function, suggest

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

__all__ = ["max_entries", "max_tokens", "parse"]

DEFAULT_OUTPUT = "f"


def _limit(name: str, default: int) -> int:
    """A limit from the environment variable ``name``: a whole number from 1 up (``1_000``
    too), or ``default`` when it is not set; any other text is an error, not ignored."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or value > 10**15:
        raise InputError(
            f"the environment variable {name} is {_short(text)!r}; it takes a whole number "
            f"from 1 to 10^15 (unset, it is {default:,})"
        )
    return value


def max_entries() -> int:
    """The most entries one array may have: 250,000,000 (2 GB of float64), or the
    environment variable CGDIFF_MAX_ENTRIES."""
    return _limit("CGDIFF_MAX_ENTRIES", 250_000_000)


def max_tokens() -> int:
    """The most tokens (names, numbers, operators) one text may have: 500,000 (a few seconds
    of parsing), or the environment variable CGDIFF_MAX_TOKENS.

    >>> max_tokens() > 0
    True
    """
    return _limit("CGDIFF_MAX_TOKENS", 500_000)


def _check_length(text: str) -> None:
    """Refuse at once a text the parser would take more than a few seconds on (a sum of a
    million terms takes about 25 s and 1 GB), naming the limit and how to raise it."""
    limit = max_tokens()
    if len(text) <= limit:  # NB: a token is a character or more: a shorter text passes unread
        return
    count = re.subn(_TOKEN, "", text)[1]  # NB: counts without a Python loop or a list
    if count > limit:
        raise InputError(
            f"the input is too long: about {count:,} tokens (names, numbers, operators), "
            f"more than the limit of {limit:,}",
            hint="set the environment variable CGDIFF_MAX_TOKENS to a larger number to "
            "raise the limit (parsing takes about 6 s per million tokens)",
        )


_TOKEN = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+\-\u2212]?\d+)?|\w+|[^\w\s]"


class _Spec:
    """What one parse knows: the builder, the names assigned so far and where."""

    def __init__(
        self,
        source: str,
        seed: int = 0,
        base: Path | None = None,
        files: bool = True,
        entries: int | None = None,
    ) -> None:
        self.b = GraphBuilder()
        self.files_allowed = files
        self.entries = entries  # the most entries zeros(...) may make (None: max_entries())
        self.seed = seed
        self.draws = 0  # randn calls so far: each draws from its own stream of the seed
        self.base = base
        self.files: dict[int, str] = {}  # const node -> the file it was read from
        self.lines = source.split("\n")
        self.assigned: dict[str, tuple[int, int, int]] = {}  # name -> (node, line, column)
        self.free: dict[str, tuple[int, int, int]] = {}  # name -> (node, line, column)
        self.output: int | None = None
        self.output_named = False
        self.statements = 0
        self.bare: int | None = None  # the statement number of an unassigned expression
        # The line of the last name, number or call read: the line of the op nodes that the
        # parser makes next (an operator's own token is not kept), so that an error found
        # when the graph runs (shapes that do not fit) points at its line.
        self.line: int | None = None

    def check_bare(self) -> None:
        """Only the last statement may be an expression without a name."""
        if self.bare is not None:
            raise InputError(
                f"statement {self.bare + 1} is an expression without a name; "
                "only the last statement may be one (write name = expression)"
            )

    def fail_at(self, message: str, tok: Token, offset: int) -> InputError:
        """An error at the character ``offset`` places into the token ``tok``."""
        line = self.lines[tok.line - 1] if tok.line and tok.line <= len(self.lines) else ""
        column = (tok.column or 1) + offset
        return InputError(
            f"{message} (line {tok.line}, column {column})",
            line=tok.line,
            column=column,
            source_line=line,
        )

    def fail(self, message: str, tok: Token | None, hint: str | None = None) -> InputError:
        if tok is None or tok.line is None:
            return InputError(message, hint=hint)
        line = self.lines[tok.line - 1] if tok.line <= len(self.lines) else ""
        text = f"{message}; {hint}" if hint else message
        return InputError(
            f"{text} (line {tok.line}, column {tok.column})",
            line=tok.line,
            column=tok.column,
            source_line=line,
        )


# Superscript digits and signs as ASCII, for the exponent of x² (SPEC section 1).
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"  # x₁ is a name, as x_1 is

# What to type instead of a character that pastes from a PDF or a web page but is not part
# of the language (the ones that are, x² · × − √, are in the grammar).
_INSTEAD = {
    **dict.fromkeys("÷∕⁄", "type / to divide"),
    **dict.fromkeys("–—‐‑‒", "type - (the ASCII minus) to subtract or negate"),
    **dict.fromkeys("∗⋆", "type * to multiply"),
    **dict.fromkeys("‘’‚‛“”„‟′″«»", "remove the quotes (a word processor may have added them)"),
    **dict.fromkeys("≤≥≠≈≡<>", "cgdiff has no comparisons: write the expression alone"),
    "∑": "write the terms out with +",
    "∏": "write the factors out with *",
    "∞": "infinity is not a value; use a large number such as 1e300",
    "±": "write each sign as an expression of its own",
    "∜": "type x^(1/4) for a fourth root",
    "∂": "write the expression; cgdiff diff and cgdiff grad take its derivatives",
    "…": "write every term out",
    "ⁿ": "type ^n for a power",
    "⁽": "type ^( ... ) for a power of an expression",
    "⁾": "type ^( ... ) for a power of an expression",
    "|": "type abs(x) for |x|",
}


def _pasted(ch: str) -> str:
    """The message for a character that is not part of the language: its Unicode name and
    what to type instead.

    >>> _pasted("÷")
    "'÷' (U+00F7 DIVISION SIGN) is not part of cgdiff's language; type / to divide"
    """
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as Python's surrogateescape reads it
        return f"the byte 0x{code - 0xDC00:02X} is not UTF-8 text; cgdiff reads text as UTF-8"
    if unicodedata.category(ch) == "Cc":  # NUL, ESC, ...: unnamed by unicodedata
        return (
            f"the control character U+{code:04X} is not part of cgdiff's language "
            "(is this a binary file?)"
        )
    name = unicodedata.name(ch, "")
    what = f"'{ch}' (U+{code:04X}{' ' + name if name else ''})"
    hint = _INSTEAD.get(ch)
    if hint is None:
        plain = unicodedata.normalize("NFKC", ch).replace("⁄", "/")
        if ch in "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻":
            hint = f"a superscript power goes right after what it raises, as in x{ch}"
        elif plain != ch and plain.isascii() and plain.isprintable():
            hint = f"type {plain}"
        else:
            hint = "type the expression with + - * / ^ ( ) and names"
    return f"{what} is not part of cgdiff's language; {hint}"


def _places(line0: int, col0: int, line: int, col: int) -> tuple[str, str]:
    """Two places in the text: by line, or by line and column when they share a line."""
    if line0 != line:
        return f"line {line0}", f"line {line}"
    return f"line {line0}, column {col0}", f"column {col}"


def _binary(name: str) -> Any:
    """The rule callback of a binary operator: one node of op ``name``."""

    def rule(self: _Build, c: list[int]) -> int:
        s = self.spec
        assert s is not None
        return s.b.op(name, c[0], c[1], line=s.line)

    return rule


class _Build:
    """Rule callbacks run by the LALR parser as it reduces; each returns a node id.  (Lark's
    parser and :class:`cgdiff.lalr.Tables` both call them, by each rule's alias or name.)"""

    __visit_tokens__ = False

    def __init__(self) -> None:
        self.spec: _Spec | None = None

    @property
    def s(self) -> _Spec:
        assert self.spec is not None
        return self.spec

    def number(self, c: list[Token]) -> int:
        self.s.line = c[0].line
        value = float(c[0].replace("−", "-"))  # NB: 1e−3, pasted (U+2212)
        if not math.isfinite(value):
            raise self.s.fail(f"the number {_short(str(c[0]))} is too large", c[0])
        return self.s.b.const(value)

    def name(self, c: list[Token]) -> int:
        tok = c[0]
        name = str(tok)
        s = self.spec
        assert s is not None
        s.line = tok.line
        if not name.isascii():
            for k, ch in enumerate(name):
                if unicodedata.category(ch) == "No" and ch not in _SUBSCRIPTS:
                    raise s.fail_at(_pasted(ch), tok, k)  # ½, or a superscript with no base
        if name in s.assigned:
            return s.assigned[name][0]
        if name in CONSTANTS:
            return s.b.const(CONSTANTS[name], symbol=name)
        if name in s.free:
            return s.free[name][0]
        if name in FUNCTIONS:
            if tok.type == "NAME_BEFORE_SUPERSCRIPT":  # sin²(x), as printed in books
                raise s.fail(f"write {name}(x)^2 for {name}²(x): a power goes after the call", tok)
            raise s.fail(f"function '{name}' needs parentheses, as in {name}(x)", tok)
        i = s.b.input(name, line=tok.line)
        s.free[name] = (i, tok.line or 0, tok.column or 0)
        return i

    def call(self, c: list[Any]) -> int:
        tok, args = c[0], c[1:]
        self.s.line = tok.line
        op = resolve_function(str(tok), len(args))
        assert op is not None  # the lexer callback lets only known functions through
        lo, hi = op.arity
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}" if hi > lo + 1 else f"{lo} or {hi}"
            raise self.s.fail(
                f"{tok} takes {want} argument{'s' if hi > 1 else ''}, not {len(args)}", tok
            )
        if op.static is None:
            return self.s.b.op(op.name, *args, line=tok.line)
        # Trailing arguments that are constant whole numbers: sum(x, 1), randn(3, 4).
        first = 0 if op.static == "shape" else 1
        ints = [self._whole(a, tok, op.static) for a in args[first:]]
        if op.static == "shape":
            return self._construct(op.name, tuple(ints), tok)
        params = {"axis": ints[0]} if ints else {}
        return self.s.b.op(op.name, *args[:first], line=tok.line, **params)

    def _whole(self, node: int, tok: Token, what: str) -> int:
        n = self.s.b.nodes[node]
        v = n.value
        if n.kind != "const" or np.ndim(v) or not float(v).is_integer():
            shown = "a whole number" if what == "axis" else "whole numbers"
            raise self.s.fail(f"{tok}: the {what} must be {shown} written as constants", tok)
        return int(v)

    def _construct(self, name: str, shape: tuple[int, ...], tok: Token) -> int:
        if any(d < 0 for d in shape):
            raise self.s.fail(f"{tok}: a shape cannot be negative", tok)
        size, limit = size_of(shape), self.s.entries or max_entries()
        if size > limit:
            gb = size * 8 / 1e9
            raise self.s.fail(
                f"{tok}({', '.join(map(str, shape))}) would have {size:,} entries "
                f"({gb:,.1f} GB); the limit is {limit:,}",
                tok,
                hint="set CGDIFF_MAX_ENTRIES to raise it"
                if self.s.entries is None
                else "an answer may make arrays of at most that size",
            )
        params: dict[str, Any] = {"shape": shape}
        if name == "randn":
            params["seed"] = (self.s.seed, self.s.draws)
            self.s.draws += 1
        return self.s.b.op(name, line=tok.line, **params)

    def index(self, c: list[Any]) -> int:
        node, toks = c[0], c[1:]
        self.s.line = toks[0].line
        return self.s.b.op("index", node, line=toks[0].line, index=tuple(int(t) for t in toks))

    def stack(self, c: list[int]) -> int:
        # NB: a ragged literal ([[1, 2], [3]]) is not folded; the forward pass names it,
        # its shapes and its line, as it does for any shapes that do not fit.
        return self.s.b.op("stack", *c, line=self.s.line)

    def file(self, c: list[Token]) -> int:
        tok = c[0]
        s = self.s
        s.line = tok.line
        if not s.files_allowed:
            raise s.fail("an answer cannot read a file (@path)", tok)
        from .values import read_array

        try:
            value, notes = read_array(str(tok)[1:], s.base)
        except InputError as exc:
            raise s.fail(exc.message, tok) from None
        s.b.diagnostics.extend(notes)
        i = s.b.const(value)
        s.files[i] = str(tok)[1:]
        return i

    def matmul(self, c: list[int]) -> int:
        return self.s.b.op("matmul", c[0], c[1], line=self.s.line)

    def pow(self, c: list[int]) -> int:
        b = self.s.b
        if b.is_const(c[1], 0.0):  # x^0 is 1, with derivative 0, wherever x is
            return b.one
        return b.op("pow", c[0], c[1], line=self.s.line)

    add = _binary("add")
    sub = _binary("sub")
    mul = _binary("mul")
    div = _binary("div")

    def superscript(self, c: list[Any]) -> int:
        """``x²``: a power whose exponent is written in superscript digits."""
        exponent = float(str(c[1]).translate(_SUPERSCRIPTS))
        return self.pow([c[0], self.s.b.const(exponent)])

    def sqrt(self, c: list[int]) -> int:
        return self.s.b.op("sqrt", c[0], line=self.s.line)  # √x, pasted

    def cbrt(self, c: list[int]) -> int:
        return self.s.b.op("cbrt", c[0], line=self.s.line)  # ∛x, pasted

    def neg(self, c: list[int]) -> int:
        return self.s.b.op("neg", c[0], line=self.s.line)

    def pos(self, c: list[int]) -> int:
        return c[0]  # +x is x; a copy node is made only where a name needs one

    def assign(self, c: list[Any]) -> None:
        tok, node = c
        name, s = str(tok), self.spec
        assert s is not None
        s.check_bare()
        line = tok.line or 0
        if name in CONSTANTS:
            raise s.fail(f"'{name}' is a constant and cannot be assigned", tok)
        if name in FUNCTIONS:
            raise s.fail(f"'{name}' is a function and cannot be assigned", tok)
        column = tok.column or 0
        if name in s.assigned:
            _, line0, col0 = s.assigned[name]
            first, second = _places(line0, col0, line, column)
            raise s.fail(f"'{name}' is assigned twice, on {first} and {second}", tok)
        if name in s.free:
            _, line0, col0 = s.free[name]
            first, second = _places(line0, col0, line, column)
            raise s.fail(f"'{name}' is used on {first} before {second} assigns it", tok)
        b = s.b
        n = b.nodes[node]
        if n.kind == "const":
            # NB: a name given a constant expression is an input with a default value; one
            # read from a file is data (derivatives are taken for it only when asked).
            path = s.files.get(node)
            node = b.input(name, n.value, line=line, params={"file": path} if path else None)
        elif n.kind == "input" or n.name is not None:
            node = b.named_copy(node, name, line)
        else:
            n.name = name
            n.line = line
        s.assigned[name] = (node, line, column)
        s.output, s.output_named = node, True
        s.statements += 1

    def expr_stmt(self, c: list[int]) -> None:
        s = self.s
        s.check_bare()
        s.output, s.output_named = c[0], False
        s.bare = s.statements
        s.statements += 1

    def start(self, c: list[Any]) -> None:
        return None


_BUILD = _Build()
_LOCK = threading.Lock()
_PARSER: Lark | None = None


def _callee(tok: Token) -> Token:
    """A name followed by "(": a call if the ops table knows it, else implicit ``*``."""
    name = str(tok)
    if name in FUNCTIONS:
        return tok
    spec = _BUILD.spec
    known = spec is not None and (name in spec.assigned or name in spec.free)
    if not known and name not in CONSTANTS:
        # Short names (x, ab) are variables; longer ones that look like a function are
        # almost certainly a misspelt call.
        close = suggest(name, list(FUNCTIONS), cutoff=0.75 if len(name) >= 3 else 1.0)
        if close is not None and spec is not None:
            raise spec.fail(f"unknown function '{name}'", tok, hint=f"did you mean '{close}'?")
    if isinstance(tok, Tok):
        return tok.renamed("NAME")
    from lark import Token

    return Token.new_borrow_pos("NAME", name, tok)


_TOKEN_CALLBACKS = {"CALLEE": _callee}
_TABLES: Tables | bool | None = None  # None: not loaded yet; False: none to be had


def _tables() -> Tables | None:
    """The grammar's LALR tables for :mod:`cgdiff.lalr`, from the user's cache folder (made
    from Lark's parser once per grammar and Lark version); None if they cannot be had."""
    global _TABLES
    if _TABLES is None:
        _TABLES = _load_tables() or False
    return _TABLES if isinstance(_TABLES, Tables) else None


def _load_tables() -> Tables | None:
    from .lalr import extract
    from .tables_cache import read_tables, tables_file, write_tables

    path = tables_file(_grammar_text())
    if path is not None:
        data = read_tables(path)
        if data is not None:
            try:
                return Tables(data)
            except (ValueError, TypeError, KeyError, AttributeError, IndexError):
                pass  # damaged in a way the checksum missed: made again below
    try:
        data = extract(_parser())
        tables = Tables(data)
    except Exception:  # a Lark whose insides moved: Lark parses alone
        return None
    if path is not None:
        write_tables(path, data)
    return tables


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        from lark import Lark

        from .tables_cache import lark_cache_file

        grammar = _grammar_text()
        _PARSER = Lark(
            grammar,
            parser="lalr",
            transformer=_BUILD,
            lexer_callbacks={"CALLEE": _callee},
            maybe_placeholders=False,
            cache=lark_cache_file(grammar),
        )
    return _PARSER


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _grammar_text() -> str:
    # The wheel carries the grammar inside the package (cgdiff/grammars/); a source checkout
    # keeps the one copy in grammars/ at the top of the repository.  NB: a path beside this
    # file, not importlib.resources, which alone would add ~10 ms to every start.
    here = Path(__file__).resolve().parent
    for path in (here / "grammars" / "cgdiff.lark", here.parents[1] / "grammars" / "cgdiff.lark"):
        if path.is_file():
            return path.read_text("utf-8")
    raise InternalError("the grammar file cgdiff.lark is missing from the installation")


def _describe(tok: Any) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_SEP":
        return "end of line" if str(tok) == "\n" else "';'"
    return f"'{tok}'"


def parse(
    text: str,
    output: str | None = None,
    *,
    seed: int = 0,
    base: str | Path | None = None,
    keep_assigned: bool = False,
    files: bool = True,
    entries: int | None = None,
) -> Graph:
    """Parse an expression or model spec into a :class:`Graph`.  ``seed`` seeds ``randn``;
    ``base`` is the folder that ``@file`` names are relative to (default: the current one);
    with ``files=False`` an ``@file`` is refused, not read (a student's answer), and
    ``entries`` caps the arrays ``zeros``/``ones``/``randn`` make (default: max_entries()).
    ``keep_assigned`` keeps every node the spec names, even those the output does not need
    (an answer key may ask for any of them).

    >>> g = parse("J = 3*v; ", output=None) if False else parse("a=5; b=3; u=a*b")
    >>> g.output_name, [n.label for n in g.nodes]
    ('u', ['a', 'b', 'u'])
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the expression as a str, not {type(text).__name__}")
    # NB: the same letter typed two ways (é as one code point or as e + accent) is one name.
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise InputError("the expression is empty")
    _check_length(text)
    folder = Path(base) if base is not None else None
    spec = _Spec(text, seed, folder, files, entries)
    tables = _tables()
    syntax: InputError | None = None
    with _LOCK:
        _BUILD.spec = spec
        try:
            with np.errstate(all="ignore"):
                done = False
                if tables is not None:
                    try:
                        tables.parse(text, _BUILD, _TOKEN_CALLBACKS)
                        done = True
                    except Exception:
                        spec = _BUILD.spec = _Spec(text, seed, folder, files, entries)
                if not done:
                    syntax = _lark_parse(text, spec)
        except RecursionError:  # pragma: no cover - the parser is iterative
            raise InputError("the expression is nested too deeply") from None
        except CgdiffError as exc:
            if exc.line is not None and exc.source_line is None:
                exc.source_line = spec.lines[exc.line - 1] if exc.line <= len(spec.lines) else None
                several = len(spec.lines) > 1 or ";" in text.split("#", 1)[0]
                exc.message += f" (line {exc.line})" if several else ""
            raise
        finally:
            _BUILD.spec = None
    if syntax is not None:
        raise syntax
    if spec.output is None:
        raise InputError("the spec has no statement")

    # NB: the output is chosen before the graph is pruned to what the output needs, so
    # --output may name any node the spec assigns (or an input), used by the last line or not.
    chosen = output is not None and (output in spec.assigned or output in spec.free)
    if chosen:
        assert output is not None
        node, named = (spec.assigned.get(output) or spec.free[output])[0], True
    else:
        node, named = spec.output, spec.output_named
    graph = spec.b.finish(
        node,
        source=text,
        output_name=None if named else DEFAULT_OUTPUT,
        copy_named=True,
        also=[i for i, *_ in spec.assigned.values()] if keep_assigned else (),
    )
    graph.assigned = list(spec.assigned)
    if output is not None and not chosen and output != graph.output_name:
        if output not in graph.by_name:
            names = [*spec.assigned, *spec.free, *graph.by_name]
            close = suggest(output, names, cutoff=0.6)
            raise InputError(
                f"no node named '{output}'", hint=f"did you mean '{close}'?" if close else None
            )
        graph = graph.with_output(output)  # a generated name: t1, t2, ...
    return graph


def _lark_parse(text: str, spec: _Spec) -> InputError | None:
    """Parse with Lark itself (the judge of every error): None, or the syntax error."""
    from lark.exceptions import UnexpectedInput

    try:
        _parser().parse(text)
    except UnexpectedInput as exc:
        return _syntax_error(exc, text, spec)
    return None


def _syntax_error(exc: UnexpectedInput, text: str, spec: _Spec) -> InputError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line, column = exc.line, exc.column
    if isinstance(exc, UnexpectedToken):
        what = _describe(exc.token)
    elif isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream is not None else ""
        if ch and (not ch.isascii() or ch in _INSTEAD or not ch.isprintable()):
            source_line = spec.lines[line - 1] if 0 < line <= len(spec.lines) else ""
            return InputError(
                f"{_pasted(ch)} (line {line}, column {column})",
                line=line,
                column=column,
                source_line=source_line,
            )
        what = f"'{ch}'" if ch else "input"
    elif isinstance(exc, UnexpectedEOF):
        what = "end of input"
    else:  # pragma: no cover
        what = "input"
    expected = set(getattr(exc, "expected", None) or ())
    if isinstance(exc, UnexpectedToken) and (
        expected == {"INDEX"} or expected == {"COMMA", "RSQB"}
    ):  # inside x[...]: x[1.5], x[i], x[]
        what = f"an index must be a whole number, as in x[0] or W[1, -1]; unexpected {what}"
        return InputError(
            f"{what} at line {line}, column {column}",
            line=line,
            column=column,
            source_line=spec.lines[line - 1] if 0 < line <= len(spec.lines) else "",
        )
    if what == "end of input" or line is None or line < 1:  # point past the last character
        lines = text.rstrip("\n").split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    source_line = spec.lines[line - 1] if line <= len(spec.lines) else ""
    return InputError(
        f"unexpected {what} at line {line}, column {column}",
        line=line,
        column=column,
        source_line=source_line,
    )

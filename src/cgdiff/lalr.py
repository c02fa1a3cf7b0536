"""A lean driver for the LALR(1) tables that Lark builds from ``grammars/cgdiff.lark``.

Lark stays the parser generator and the judge of every error: it builds the parse table,
the terminals and how each rule's children are filtered; :func:`extract` copies them into
plain data, kept in the user's cache folder.  :class:`Tables` then runs them with one
compiled regular expression for the lexer and a tight shift/reduce loop, without importing
Lark at all: a start of ``cgdiff`` saves Lark's import and set-up (~25 ms), and a big spec
parses in about half of Lark's time.

It reproduces Lark's contextual lexer exactly.  In a parser state, Lark matches the
terminals that state accepts, in Lark's order (priority, then longest pattern), and the
first that matches wins.  The first terminal of *all* that matches, when the state accepts
it, is therefore also the first the state's own lexer would match; only when it does not
(``@x`` after an operand, a number inside ``x[...]``) is the state's own list tried.

Anything it cannot parse raises :class:`Reject`, and the caller parses the text again with
Lark, whose errors (and their columns) are the ones users see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FORMAT", "Reject", "Tables", "Tok", "extract"]

#: The version of the data :func:`extract` writes; a cache of another version is rebuilt.
FORMAT = 3


class Reject(Exception):  # noqa: N818 - not an error users see
    """The text is not in the language (or a rule callback refused it): ask Lark why."""


class Tok(str):
    """A token: its text, terminal type and place (1-based line and column), as the rule
    callbacks read Lark's ``Token``."""

    __slots__ = ("column", "line", "start_pos", "type")

    type: str
    line: int
    column: int
    start_pos: int

    def renamed(self, type_: str) -> Tok:
        """The same text at the same place as another terminal (CALLEE -> NAME)."""
        t = Tok(self)
        t.type, t.line, t.column, t.start_pos = type_, self.line, self.column, self.start_pos
        return t


class _Group:
    """The value of a rule with no callback (``_indices``, Lark's ``__start_star_0``): its
    children, which the rule that contains it splices into its own."""

    __slots__ = ("children",)

    def __init__(self, children: list[Any]) -> None:
        self.children = children


def extract(lark: Any) -> dict[str, Any]:
    """The tables of a Lark LALR parser with a contextual lexer, as plain data (``marshal``
    can write it).  Raises ValueError for a set-up this driver does not reproduce."""
    from lark.parse_tree_builder import ParseTreeBuilder, _should_expand
    from lark.parsers.lalr_analysis import Shift

    frontend = lark.parser
    table = frontend.parser.parser.parse_table
    root = frontend.lexer.root_lexer
    scanner = root.scanner
    if set(root.callback) - set(lark.options.lexer_callbacks):
        # Lark's own lexer callbacks (a keyword that a name pattern also matches) retype
        # tokens after matching: not reproduced here.
        raise ValueError(f"unsupported lexer callbacks: {sorted(root.callback)}")
    if len(scanner._mres) != 1 or lark.options.maybe_placeholders or lark.options.postlex:
        raise ValueError("unsupported Lark options")
    # NB: str() and int() throughout: Lark's names may be Tokens, which marshal refuses
    terminals = [(str(t.name), str(t.pattern.to_regexp())) for t in scanner.terminals]
    rules = list(lark.rules)
    index = {r: k for k, r in enumerate(rules)}
    states: dict[int, dict[str, int]] = {}
    for state, row in table.states.items():
        states[int(state)] = {
            str(sym): (int(arg) if action is Shift else ~index[arg])
            for sym, (action, arg) in row.items()
        }
    builders = dict(ParseTreeBuilder(rules, None).rule_builders)  # type: ignore[no-untyped-call]
    out_rules = []
    for r in rules:
        include = None
        kept = [
            (i, bool(_should_expand(s)))  # type: ignore[no-untyped-call]
            for i, s in enumerate(r.expansion)
            if r.options.keep_all_tokens or not (s.is_term and s.filter_out)
        ]
        if len(kept) < len(r.expansion) or any(x for _, x in kept):
            include = tuple(kept)
        expand1 = bool(r.options.expand1 and not r.alias)
        # NB: the same wrappers Lark puts around the callback, checked, not assumed
        names = [w.__name__ if isinstance(w, type) else w.func.__name__ for w in builders[r]]
        want = (["ExpandSingleChild"] if expand1 else []) + (
            ["ChildFilterLALR_NoPlaceholders"] if include is not None else []
        )
        if names != want:
            raise ValueError(f"unexpected rule wrappers {names} for {r}")
        out_rules.append(
            (str(r.origin.name), len(r.expansion), include, expand1, str(r.alias or r.origin.name))
        )
    # Terminals that no rule keeps among its children: the driver pushes their text alone.
    kept_terms = {
        str(s.name)
        for r in rules
        for s in r.expansion
        if s.is_term and (r.options.keep_all_tokens or not s.filter_out)
    }
    silent = sorted({str(s.name) for r in rules for s in r.expansion if s.is_term} - kept_terms)
    return {
        "format": FORMAT,
        "silent": silent,
        "terminals": terminals,
        "ignore": sorted(map(str, root.ignore_types)),
        "newline": sorted(map(str, root.newline_types)),
        "states": states,
        "rules": out_rules,
        "start": int(table.start_states["start"]),
        "end": int(table.end_states["start"]),
    }


class Tables:
    """The extracted tables, ready to run: :meth:`parse` a text with rule callbacks."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError("tables of another format")
        self.terminals: list[tuple[str, str]] = [tuple(t) for t in data["terminals"]]
        self.ignore = frozenset(data["ignore"])
        self.newline = frozenset(data["newline"])
        self.silent = frozenset(data["silent"])
        self.states: dict[int, dict[str, int]] = data["states"]
        self.rules = data["rules"]
        self.start: int = data["start"]
        self.end: int = data["end"]
        # NB: runs of spaces and tabs, ignored, are skipped in front of each token by the
        # master pattern itself (no other terminal starts with one, so in any state they
        # are what the state's own lexer would match), which saves a loop per blank.
        self.master = re.compile(
            "[ \\t\\f\\r]*(?:" + "|".join(f"(?P<{name}>{rx})" for name, rx in self.terminals) + ")"
        )
        self._blank = re.compile("[ \\t\\f\\r]*")
        self._by_state: dict[int, re.Pattern[str]] = {}
        self._bound: tuple[Any, list[Any]] | None = None
        # Rules whose value is their one child, untouched: ?sum: product, and the like.
        self._units = frozenset(
            k
            for k, (_, size, include, expand1, _) in enumerate(self.rules)
            if size == 1 and include is None and expand1
        )
        self._chains: dict[tuple[int, int, str], int] = {}

    def _scanner(self, names: list[str]) -> re.Pattern[str]:
        keep = set(names)
        return re.compile(
            "|".join(f"(?P<{name}>{rx})" for name, rx in self.terminals if name in keep)
        )

    def _state_scanner(self, state: int) -> re.Pattern[str]:
        """The lexer of one parser state: the terminals it accepts, and those ignored."""
        found = self._by_state.get(state)
        if found is None:
            accepts = set(self.states[state]) | self.ignore
            found = self._by_state[state] = self._scanner(
                [n for n, _ in self.terminals if n in accepts]
            )
        return found

    def _reducers(self, build: Any) -> list[tuple[str, int, Any, bool, Any]]:
        """Each rule with its callback on ``build`` (None: the rule's value is a group)."""
        if self._bound is None or self._bound[0] is not build:
            self._bound = (
                build,
                [
                    (origin, size, include, expand1, getattr(build, name, None))
                    for origin, size, include, expand1, name in self.rules
                ],
            )
        return self._bound[1]

    def parse(
        self, text: str, build: Any, token_callbacks: Mapping[str, Callable[[Any], Any]]
    ) -> Any:
        """Run the parser over ``text``, calling ``build``'s method of each rule (by its
        alias, else its name) with the rule's kept children as it reduces; the value of
        the start rule.  Raises :class:`Reject` where Lark would raise an error, and lets
        a callback's own exception through."""
        states = self.states
        rules = self._reducers(build)
        ignore, newline, silent = self.ignore, self.newline, self.silent
        master = self.master.match
        stack = [self.start]
        values: list[Any] = []
        pos, line, line_start, n = 0, 1, 0, len(text)
        end = self.end
        units, chains = self._units, self._chains
        while True:
            row = states[stack[-1]]
            if pos < n:
                m = master(text, pos)
                if m is None:
                    pos = self._blank.match(text, pos).end()  # type: ignore[union-attr]
                    if pos < n:
                        raise Reject(pos)
                    continue  # blanks at the end
                typ = m.lastgroup
                assert typ is not None
                start = m.start(typ)
                if typ not in row and typ not in ignore:
                    found = m
                    m = self._state_scanner(stack[-1]).match(text, start)
                    if m is None:
                        # As Lark's contextual lexer does: the root lexer's token, its
                        # callback run (which may raise an error of its own), is unexpected.
                        callback = token_callbacks.get(typ)
                        if callback is not None and typ not in silent:
                            bad = Tok(found.group(typ))
                            bad.type, bad.line = typ, line
                            bad.column, bad.start_pos = start - line_start + 1, start
                            callback(bad)
                        raise Reject(start)
                    typ = m.lastgroup
                    assert typ is not None
                value = m.group(typ)
                pos = m.end()
                column = start - line_start + 1
                here = line
                if typ in newline and "\n" in value:
                    line += value.count("\n")
                    line_start = start + value.rindex("\n") + 1
                if typ in ignore:
                    continue
                if typ in silent:  # "+", "(", ";": filtered out of every rule's children
                    tok = value
                else:
                    tok = Tok(value)
                    tok.type, tok.line, tok.column, tok.start_pos = typ, here, column, start
                    callback = token_callbacks.get(typ)
                    if callback is not None:
                        tok = callback(tok)
                        typ = tok.type
            else:
                tok, typ = None, "$END"
            while True:
                action = row.get(typ)
                if action is None:
                    raise Reject(pos)
                if action >= 0:  # shift
                    if tok is None:
                        raise Reject(pos)
                    stack.append(action)
                    values.append(tok)
                    break
                if ~action in units:
                    # A chain of rules of one child kept as it is (sum: product, product:
                    # unary, ...): each only replaces the state on top, by a goto from the
                    # state below, so the chain's end depends on those two and the token.
                    key = (stack[-2], stack[-1], typ)
                    top = chains.get(key)
                    if top is None:
                        top = stack[-1]
                        while action is not None and action < 0 and ~action in units:
                            top = states[stack[-2]][rules[~action][0]]
                            action = states[top].get(typ)
                        chains[key] = top
                    stack[-1] = top
                    row = states[top]
                    continue
                origin, size, include, expand1, fn = rules[~action]
                if size == 1 and include is None:  # one child, kept: replace the top
                    child = values[-1]
                    values[-1] = child if expand1 else fn([child]) if fn else _Group([child])
                    stack[-1] = top = states[stack[-2]][origin]
                    if tok is None and top == end:
                        return values[-1]
                    row = states[top]
                    continue
                if size:
                    children = values[-size:]
                    del stack[-size:]
                    del values[-size:]
                else:
                    children = []
                if include is not None:
                    kept: list[Any] = []
                    for i, spliced in include:
                        if not spliced:
                            kept.append(children[i])
                        elif kept:
                            kept += children[i].children
                        else:  # NB: taken over, not copied: (stmt _SEP+)* grows one list
                            kept = children[i].children
                    children = kept
                if expand1 and len(children) == 1:
                    result = children[0]
                elif fn is not None:
                    result = fn(children)
                else:
                    result = _Group(children)
                stack.append(states[stack[-1]][origin])
                values.append(result)
                if tok is None and stack[-1] == end:
                    return values[-1]
                row = states[stack[-1]]

"""Loading an answer key: TOML into :class:`Key` and its :class:`Problem` records.

Every way a key can be wrong (not TOML, an unknown or misspelt key, a value of the wrong
type, an input the expression does not have, nothing to check) is an
:class:`~cgdiff.errors.InputError` (exit 2) that names the file, the TOML key path
(``problem[2].expect.grad.q``) and what is wrong.  :func:`check_key` runs a whole key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CgdiffError, InputError, not_utf8
from ..graph import Graph
from ..ops import CONSTANTS, suggest
from ..parse import parse
from ..values import max_bytes, parse_value, read_array, read_bounded, read_source
from .problem import Problem, _is_input, _not_a, canonical_item
from .results import CheckReport
from .settings import DRAW, MAX_DRAWS, Settings, _g

__all__ = ["Key", "check_key", "load_key"]

# expect.<key> in a TOML key -> item kind (the SPEC's plural spellings, and the CSV's).
_EXPECT_KEYS = {
    "value": "value",
    "grad": "grad",
    "nodes": "node",
    "node": "node",
    "adjoints": "adjoint",
    "adjoint": "adjoint",
    "derivative": "derivative",
}
_SETTINGS_KEYS = ("rtol", "atol", "samples", "sample_range", "seed")
_PROBLEM_KEYS = ("name", "expr", "at", "expect", "output", *_SETTINGS_KEYS)


@dataclass
class Key:
    """An answer key read from TOML: its file and its problems.

    >>> Key(Path("key.toml"), []).problems
    []
    """

    path: Path
    problems: list[Problem]
    _by_name: dict[str, Problem] | None = field(default=None, init=False, repr=False)

    def problem(self, name: str) -> Problem | None:
        """The problem called ``name`` (a dict lookup: one per row of a class's answers)."""
        if self._by_name is None:
            self._by_name = {p.name: p for p in self.problems}
        return self._by_name.get(name)


class _Where:
    """Builds the key errors: file, TOML key path, and what is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, where: str, what: str) -> InputError:
        return InputError(f"{self.path}: {where}: {what}" if where else f"{self.path}: {what}")


def _unknown_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str, w: _Where) -> None:
    for k in table:
        if k not in allowed:
            close = suggest(k, list(allowed), cutoff=0.6)
            hint = f"did you mean '{close}'?" if close else f"known keys: {', '.join(allowed)}"
            raise w.error(f"{where}.{k}" if where else k, f"unknown key '{k}'; {hint}")


def _number(v: Any, where: str, w: _Where, *, minimum: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise w.error(where, f"must be a number, not {_toml_type(v)}")
    try:
        x = float(v)
    except OverflowError:  # a TOML integer past float's range: as infinite as inf
        x = math.inf
    if not math.isfinite(x) or (minimum is not None and x < minimum):
        raise w.error(
            where,
            f"must be a finite number of at least {minimum:g}"
            if minimum is not None
            else "must be a finite number",
        )
    return x


def _toml_type(v: Any) -> str:
    names = {
        bool: "a boolean",
        str: "a string",
        list: "an array",
        dict: "a table",
        int: "an integer",
        float: "a float",
    }
    return names.get(type(v), f"a {type(v).__name__}")


def _span_of(v: Any, where: str, w: _Where) -> tuple[float, float]:
    if not isinstance(v, list) or len(v) != 2:
        raise w.error(where, "must be [low, high], two numbers")
    lo, hi = (_number(x, where, w) for x in v)
    if not lo < hi:
        raise w.error(where, f"must be [low, high] with low < high, not [{_g(lo)}, {_g(hi)}]")
    if not math.isfinite(hi - lo):  # points are drawn as low + (high - low) * u
        raise w.error(where, f"is too wide: high - low ({_g(hi)} - {_g(lo)}) overflows to inf")
    return lo, hi


def _settings(table: Mapping[str, Any], base: Settings, where: str, w: _Where) -> Settings:
    """Apply the settings keys of ``table`` (a problem, or [defaults]) over ``base``."""
    s = base
    pre = f"{where}." if where else ""
    if "rtol" in table:
        s = replace(s, rtol=_number(table["rtol"], pre + "rtol", w, minimum=0.0))
    if "atol" in table:
        s = replace(s, atol=_number(table["atol"], pre + "atol", w, minimum=0.0))
    if "samples" in table:
        v = table["samples"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= DRAW * MAX_DRAWS // 2:
            raise w.error(
                pre + "samples", f"must be a whole number from 1 to {DRAW * MAX_DRAWS // 2}"
            )
        s = replace(s, samples=v)
    if "seed" in table:
        v = table["seed"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise w.error(pre + "seed", "must be a whole number, 0 or more")
        s = replace(s, seed=v)
    if "sample_range" in table:
        v = table["sample_range"]
        if isinstance(v, dict):
            ranges = dict(s.ranges)
            for name, span in v.items():
                ranges[name] = _span_of(span, f"{pre}sample_range.{name}", w)
            s = replace(s, ranges=ranges)
        else:
            span = _span_of(v, pre + "sample_range", w)
            s = replace(s, sample_range=span, ranges={}, search=False)
    return s


def load_key(path: str | Path) -> Key:
    """Read an answer key; an :class:`InputError` (exit 2) names the file, the TOML key path
    and what is wrong.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "k.toml")
    >>> _ = open(f, "w").write('[[problem]]\\nexpr = "x^2"\\nexpect.derivative = {x = "2x"}\\n')
    >>> [p.name for p in load_key(f).problems]
    ['1']
    """
    path = Path(path)
    w = _Where(path)
    try:
        with path.open("rb") as f:  # NB: at most a bound: /dev/zero is refused, not read
            raw = read_bounded(f, max_bytes())
        if len(raw) > max_bytes():
            raise w.error(
                "",
                f"larger than {max_bytes():,} bytes, the most a key may be; set the "
                "environment variable CGDIFF_MAX_TOKENS to a larger number to raise it",
            )
    except OSError as exc:
        raise InputError(f"cannot read the answer key '{path}': {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise w.error("", not_utf8(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise w.error("", f"not valid TOML: {exc}") from None
    _unknown_keys(data, ("defaults", "problem"), "", w)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise w.error("defaults", f"must be a table ([defaults]), not {_toml_type(defaults)}")
    _unknown_keys(defaults, _SETTINGS_KEYS, "defaults", w)
    base = _settings(defaults, Settings(), "defaults", w)
    tables = data.get("problem")
    if tables is None:
        raise w.error("", "no [[problem]] tables: a key lists its problems as [[problem]]")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise w.error("problem", "must be an array of tables, written [[problem]]")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    # NB: keys repeat expressions (one per point); each distinct one is parsed once and its
    # graph shared, which is safe because a graph holds no state of any one pass.
    graphs: dict[tuple[str, str | None], Graph] = {}
    for k, table in enumerate(tables, start=1):
        p = _problem(table, k, base, path.parent, w, graphs)
        if p.name in seen:
            raise w.error(
                f"problem[{k}].name", f"'{p.name}' is also the name of problem[{seen[p.name]}]"
            )
        seen[p.name] = k
        problems.append(p)
    # A per-input range in [defaults] applies to the problems that have that input; one that
    # no problem has is a typo.
    inputs = {n for p in problems for n in p.graph.input_names}
    for name in base.ranges:
        if name not in inputs:
            raise w.error(
                f"defaults.sample_range.{name}",
                f"'{name}' is not an input of any problem; "
                + _not_a(name, sorted(inputs), "an input").partition("; ")[2],
            )
    return Key(path, problems)


def _problem(
    table: dict[str, Any],
    k: int,
    base: Settings,
    folder: Path,
    w: _Where,
    graphs: dict[tuple[str, str | None], Graph],
) -> Problem:
    where = f"problem[{k}]"
    _unknown_keys(table, _PROBLEM_KEYS, where, w)
    name = table.get("name", str(k))
    if not isinstance(name, str) or not name.strip():
        raise w.error(f"{where}.name", "must be a non-empty string")
    name = name.strip()
    if "expr" not in table:
        raise w.error(where, f"problem '{name}' has no expr (an expression, or \"@file.cg\")")
    expr = table["expr"]
    if not isinstance(expr, str):
        raise w.error(f"{where}.expr", f"must be a string, not {_toml_type(expr)}")
    output = table.get("output")
    if output is not None and not isinstance(output, str):
        raise w.error(f"{where}.output", "must be a node name (a string)")
    try:
        source = read_source(expr, folder)
        # a spec file's @data names are relative to the spec's own folder
        spec_dir = (folder / expr[1:]).parent if expr.startswith("@") else folder
        graph = graphs.get((source, output))
        if graph is None:
            graph = graphs[(source, output)] = parse(
                source, output=output, base=spec_dir, keep_assigned=True
            )
    except CgdiffError as exc:
        raise w.error(f"{where}.expr", exc.render()) from None
    at: dict[str, Any] | None = None
    if "at" in table:
        at = _point(table["at"], graph, f"{where}.at", w, folder)
    settings = _settings(table, base, where, w)
    own = table.get("sample_range")
    for name_ in own if isinstance(own, dict) else ():
        if not _is_input(graph, name_):
            raise w.error(
                f"{where}.sample_range.{name_}", _not_a(name_, graph.input_names, "an input")
            )
    expect = table.get("expect")
    if not isinstance(expect, dict) or not expect:
        raise w.error(
            where,
            f"problem '{name}' has nothing to check: add expect.value, "
            "expect.grad, expect.nodes, expect.adjoints or expect.derivative",
        )
    items: list[tuple[str, Any]] = []
    paths: list[str] = []  # the TOML key of each item, for messages
    _unknown_keys(expect, list(_EXPECT_KEYS), f"{where}.expect", w)
    for key, answers in expect.items():
        kind = _EXPECT_KEYS[key]
        if kind == "value":
            paths.append(f"{where}.expect.value")
            items.append(("value", _answer_value(answers, paths[-1], w, folder)))
            continue
        if not isinstance(answers, dict):
            raise w.error(
                f"{where}.expect.{key}",
                f"must be a table of name = answer, as in {key} = {{ x = 1 }}",
            )
        for n, a in answers.items():
            paths.append(f"{where}.expect.{key}.{n}")
            item = canonical_item(f"{kind}.{n}") if "[" in n else f"{kind}.{n}"
            items.append((item, _answer_value(a, paths[-1], w, folder)))
    if not items:  # only empty tables, e.g. expect.grad = {}
        empty = " and ".join(f"expect.{key}" for key in expect)
        raise w.error(
            f"{where}.expect",
            f"problem '{name}' has nothing to check: {empty} "
            f"{'is' if len(expect) == 1 else 'are'} empty; give answers, as in "
            "expect.grad = { x = 1 }",
        )
    problem = Problem(name, graph, at, settings, items, where)
    for (item, _), key_path in zip(items, paths, strict=True):
        try:
            problem.target(item)
        except InputError as exc:
            raise w.error(key_path, exc.message) from None
    return problem


def _answer_value(
    v: Any, where: str, w: _Where, folder: Path | None = None, what: str = "an array answer"
) -> Any:
    # An array answer (SPEC section 9): a TOML array of numbers, or "@file.npy" (or .csv,
    # .txt) relative to the key; compared entry by entry.
    if isinstance(v, list):
        stack: list[Any] = [v]  # NB: every entry a TOML number (true and "1e3" are not)
        while stack:
            for x in stack.pop():
                if isinstance(x, list):
                    stack.append(x)
                elif isinstance(x, bool) or not isinstance(x, (int, float)):
                    raise w.error(where, f"{what} holds {_toml_type(x)}; it must hold numbers")
        try:
            return np.asarray(v, dtype=float)
        except OverflowError:  # a TOML integer past float's range
            raise w.error(where, f"{what} holds a number too large for a float") from None
        except (TypeError, ValueError):
            raise w.error(where, f"{what} must be a rectangular array of numbers") from None
    if isinstance(v, str) and v.strip().startswith("@"):
        try:
            return read_array(v.strip()[1:], folder)[0]
        except CgdiffError as exc:
            raise w.error(where, exc.message) from None
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise w.error(where, f"an answer is a number or a formula string, not {_toml_type(v)}")
    return v


def _point(
    table: Any, graph: Graph, where: str, w: _Where, folder: Path | None = None
) -> dict[str, Any]:
    # NB: not bind_point: a key error names the TOML key (problem[2].at.q), and a value may
    # be a string read by the grammar ("pi/4"); bind_point's messages name --at instead.
    if not isinstance(table, dict):
        raise w.error(where, "must be a table of input = value, as in at = { x = 1, y = 2 }")
    point: dict[str, Any] = {}  # a float, or an array
    for name, v in table.items():
        if name in CONSTANTS:
            raise w.error(f"{where}.{name}", f"'{name}' is a constant and cannot be given a value")
        if not _is_input(graph, name):
            raise w.error(f"{where}.{name}", _not_a(name, graph.input_names, "an input"))
        if isinstance(v, list) or (isinstance(v, str) and v.strip().startswith("@")):
            # an array input (SPEC section 9): a TOML array, or "@w.npy" relative to the key
            point[name] = _answer_value(v, f"{where}.{name}", w, folder, what="an array value")
        elif isinstance(v, str):
            try:
                point[name] = parse_value(v)
            except CgdiffError as exc:
                raise w.error(f"{where}.{name}", exc.message) from None
        else:
            point[name] = _number(v, f"{where}.{name}", w)
        got = point[name]  # NB: math for a number: a key may hold thousands of them
        if not (math.isfinite(got) if isinstance(got, float) else np.all(np.isfinite(got))):
            raise w.error(f"{where}.{name}", "must be finite")
    defaults = graph.defaults()  # NB: once; it is a new dict on every call
    missing = [n for n in graph.input_names if n not in point and n not in defaults]
    if missing:
        raise w.error(where, f"no value for input {', '.join(repr(m) for m in missing)}")
    return point


def check_key(key: Key | str | Path) -> CheckReport:
    """Check every answer a key lists against what cgdiff computes.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "k.toml")
    >>> _ = open(f, "w").write('[[problem]]\\nexpr = "x*y"\\nat = {x = 2, y = 3}\\n'
    ...                        'expect.value = 6\\nexpect.grad = {x = 3, y = 3}\\n')
    >>> r = check_key(f); r.passed, r.failed
    (0, 1)
    """
    if not isinstance(key, Key):
        key = load_key(key)
    return CheckReport(str(key.path), [p.run() for p in key.problems])

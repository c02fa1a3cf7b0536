"""Many points (issue 9): a ``--points`` CSV of plain numbers is read a column at a time
with ``float``, never the grammar, and gives what the grammar gives; JSON of big arrays is
written whole, with the same text."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgdiff import cli_points, report
from cgdiff.errors import CgdiffError
from cgdiff.values import parse_value

_number = st.from_regex(
    r"\A[ ]?[+-]?([0-9]{1,5}\.?[0-9]{0,5}|\.[0-9]{1,5})([eE][+-]?[0-9]{1,3})?[ ]?\Z"
)
_other = st.sampled_from(
    [
        "nan",
        "inf",
        "-inf",
        "1_0",
        "1e400",
        "-1e400",
        "١",
        "",
        " ",
        "pi/2",
        "2x",
        "1,5",
        "--1",
        "0x10",
    ]
)


def _grammar(text: str) -> object:
    try:
        v = parse_value(text)
    except CgdiffError as exc:
        return ("error", exc.message)
    return ("value", math.copysign(1.0, v) if v == 0 else v)


def _fast(text: str) -> object:
    try:
        v = cli_points._cell(text)
    except CgdiffError as exc:
        return ("error", exc.message)
    return ("value", math.copysign(1.0, v) if v == 0 else v)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_number, _other))
def test_a_cell_reads_as_the_grammar_reads_it(text: str) -> None:
    assert _fast(text) == _grammar(text)
    column = cli_points._plain_column([text, "1"])
    if column is not None:  # read without the grammar: the grammar agrees, sign of 0 too
        assert _grammar(text) == (
            "value",
            math.copysign(1.0, column[0]) if column[0] == 0 else column[0],
        )


def test_plain_numbers_never_go_through_the_grammar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from cgdiff import parse

    values_module = importlib.import_module("cgdiff.values")
    calls: list[str] = []
    real = values_module.parse  # the grammar's door, as the value readers reach it
    monkeypatch.setattr(
        values_module, "parse", lambda t, *a, **k: calls.append(t) or real(t, *a, **k)
    )
    path = tmp_path / "p.csv"
    path.write_text("x,y\n1,2\n-0,+.5\n 3e2 ,4.\n")
    got = cli_points.points_of(parse("x*y"), None, path)
    assert calls == []
    assert got["x"].tolist() == [1.0, 0.0, 300.0] and got["y"].tolist() == [2.0, 0.5, 4.0]
    assert math.copysign(1.0, got["x"][1]) == 1.0  # -0 reads as 0, as the grammar reads it
    # a cell that is not a plain number goes through the grammar, the others do not
    path.write_text("x,y\n1,2\npi,4\n")
    got = cli_points.points_of(parse("x*y"), None, path)
    assert calls == ["pi"] and got["x"].tolist() == [1.0, math.pi]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\n1,2\nnan,3\n", "line 3: 'nan' is not a number"),
        ("x,y\n1,2\n1e400,3\n", "line 3: the number 1e400 is too large"),
        ("x,y\n1,2\n3\n", "line 3: 1 values for 2 names"),
        ("x,y\n1,2,3\n4,5,6\n", "line 2: 3 values for 2 names"),
        ("x,y\n", "no points, only a header row"),
    ],
)
def test_bad_cells_are_still_errors_with_their_line(
    tmp_path: Path, text: str, message: str
) -> None:
    from cgdiff import parse

    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(CgdiffError) as exc:
        cli_points.points_of(parse("x*y"), None, path)
    assert message in exc.value.message


def test_points_with_shared_at_and_defaults(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("x\n1\n2\n\n3\n")  # an empty line is skipped, as before
    r = cli("grad", "w = 2; f = w*x*y", "--points", str(path), "--at", "y=10", "--format", "json")
    data = json.loads(r.out)
    assert r.code == 0
    assert data["points"] == {"w": [2.0, 2.0, 2.0], "x": [1.0, 2.0, 3.0], "y": [10.0] * 3}
    assert data["value"] == [20.0, 40.0, 60.0] and data["gradient"]["x"] == [20.0] * 3
    path.write_text("x\n1\n2\n")
    r = cli("grad", "x*y", "--points", str(path), "--format", "json")
    assert r.code == 2 and "no value for input 'y' at line 2" in r.err
    path.write_text("x\n5\n")  # one row is one point
    r = cli("grad", "x*y", "--points", str(path), "--at", "y=2", "--format", "json")
    assert json.loads(r.out)["point"] == {"y": 2.0, "x": 5.0}


def _old_jsonable(v: object) -> object:
    """to_jsonable as it was: element by element."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return report._scalar(float(v))
        return [_old_jsonable(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return report._scalar(float(v))
    return v


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=12),
    st.sampled_from([np.float64, np.float32]),
    st.booleans(),
)
def test_arrays_in_json_are_written_as_before(
    values: list[float], dtype: type, square: bool
) -> None:
    a = np.array(values, dtype=dtype)
    if square and a.size % 2 == 0:
        a = a.reshape(2, -1)
    assert report.dumps({"a": a}) == json.dumps(
        {"a": _old_jsonable(a)}, ensure_ascii=False, allow_nan=False
    )

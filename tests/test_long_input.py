"""Big inputs (issue 9, SPEC section 8): a sum of a million terms is refused at once with
an error that names the limit and how to raise it; under the limit it works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cgdiff import parse
from cgdiff.errors import InputError


def test_a_million_term_sum_is_refused_with_the_limit_and_how_to_raise_it(
    cli, tmp_path: Path
) -> None:
    path = tmp_path / "sum.txt"
    path.write_text("+".join(["x"] * 1_000_000))
    r = cli("grad", f"@{path}", "--at", "x=1", "--format", "json")
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("error: the input is too long: about 1,999,999 tokens")
    assert "limit of 500,000" in r.err and "CGDIFF_MAX_TOKENS" in r.err
    assert r.err.count("\n") == 1


def test_the_limit_is_raised_and_lowered_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    text = "+".join(["x"] * 50)  # 99 tokens
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "98")
    with pytest.raises(InputError, match=r"about 99 tokens.*limit of 98"):
        parse(text)
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "99")
    assert parse(text).grad(x=2.0).gradient["x"] == 50.0
    # numbers count once each, whatever their form
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "5")
    assert parse("1.5e-3 + 2.25").eval().value == pytest.approx(2.2515)
    # a value that is not a whole number from 1 to 10^15 is an error naming the variable (it
    # was ignored, and -1 taken as the limit)
    for bad in ("lots", "-1", "0", "1e6", "9" * 30):  # 9...9 was exit 70 in islice
        monkeypatch.setenv("CGDIFF_MAX_TOKENS", bad)
        r = cli("eval", "+".join(["1"] * 1000), "--format", "json")
        assert r.code == 2 and r.out == "", bad
        assert r.err.startswith(f"error: the environment variable CGDIFF_MAX_TOKENS is '{bad[:20]}")
    monkeypatch.delenv("CGDIFF_MAX_TOKENS")
    monkeypatch.setenv("CGDIFF_MAX_ENTRIES", "many")
    assert "CGDIFF_MAX_ENTRIES is 'many'" in cli("eval", "sum(ones(3))").err
    monkeypatch.delenv("CGDIFF_MAX_ENTRIES")
    monkeypatch.setenv("CGDIFF_MAX_TOKENS", "2_000")
    r = cli("eval", "+".join(["1"] * 1000), "--format", "json")
    assert r.code == 0 and json.loads(r.out)["value"] == 1000.0


def test_a_long_sum_under_the_limit_works(cli) -> None:
    r = cli("grad", "+".join(["x"] * 20_000), "--at", "x=1.5", "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)
    assert data["value"] == 30_000.0 and data["gradient"]["x"] == 20_000.0

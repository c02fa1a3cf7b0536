"""What a new user runs into at the command line (issue 8): output names, options, points,
pasted text, long user text in messages, and the Python API's surface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# -- which node is the output -----------------------------------------------------------------


def test_output_may_name_a_node_the_last_line_does_not_use(cli) -> None:
    r = cli("eval", "a = x+1; b = x*2", "--at", "x=3", "--output", "a", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["output"] == "a" and data["value"] == 4.0
    g = cli("grad", "a = x+1; b = x*y", "--at", "x=3,y=1", "--output", "a", "--format", "json")
    assert json.loads(g.out)["gradient"] == {"x": 1.0, "y": 0.0}


def test_output_of_a_spec_written_by_diff_keep_nodes(cli, tmp_path: Path) -> None:
    spec = cli("diff", "u = x*y; f = u + sin(y)", "--wrt", "x,y", "--keep-nodes")
    assert spec.code == 0 and "df_dx" in spec.out and "df_dy" in spec.out
    path = tmp_path / "d.cg"
    path.write_text(spec.out)
    for name, expected in (("df_dx", 2.0), ("df_dy", 3 + __import__("math").cos(2))):
        r = cli("eval", f"@{path}", "--output", name, "--at", "x=3,y=2", "--format", "json")
        assert r.code == 0, r.err
        assert json.loads(r.out)["output"] == name
        assert json.loads(r.out)["value"] == pytest.approx(expected)


def test_output_unknown_gets_a_suggestion_from_every_assigned_name(cli) -> None:
    r = cli("eval", "alpha = x+1; b = x*2", "--at", "x=3", "--output", "alpa")
    assert r.code == 2 and r.out == ""
    assert r.err == "error: no node named 'alpa'; did you mean 'alpha'?\n"


def test_a_last_unnamed_expression_never_takes_the_users_name(cli) -> None:
    r = cli("eval", "f = x + 5; x*2", "--at", "x=1", "--format", "json")
    assert json.loads(r.out) == {"output": "f1", "point": {"x": 1.0}, "value": 2.0}
    mine = cli("eval", "f = x + 5; x*2", "--at", "x=1", "--output", "f", "--format", "json")
    assert json.loads(mine.out)["value"] == 6.0  # the user's f is x + 5
    c = cli("check", "f = x + 5; x*2", "--at", "x=1", "--expect", "value=2,node.f1=2")
    assert c.code == 0, c.out + c.err


# -- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grad", "x", "--wtr", "x", "--at", "x=1"), "no such option --wtr; did you mean --wrt?"),
        (("grad", "--wtr", "x", "x*y", "--at", "x=1,y=2"), "no such option --wtr; did you mean"),
        (("eval", "x", "--formt", "json"), "no such option --formt; did you mean --format?"),
        (("ops", "--formt", "json"), "no such option --formt; did you mean --format?"),
        (("--verison",), "no such option --verison; did you mean --version?"),
        (("gard", "x"), "no such command 'gard'; did you mean 'grad'?"),
        (("eval", "--x", "--at", "x=1"), "an expression that starts with '--' goes after '--'"),
    ],
)
def test_a_misspelt_option_is_named_with_a_suggestion(cli, args, message) -> None:
    r = cli(*args)
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("error: ") and message in r.err and "\n" == r.err[-1]
    assert r.err.count("\n") == 1


def test_expressions_starting_with_a_sign_and_option_values_are_not_options(cli) -> None:
    assert json.loads(cli("eval", "-x^2", "--at", "x=3", "--format", "json").out)["value"] == -9
    r = cli("eval", "--at", "x=2", "--format", "json", "--", "--x")
    assert r.code == 0, r.err
    assert json.loads(r.out)["value"] == 2.0
    assert json.loads(cli("eval", "x", "--at=x=5", "--format=json").out)["value"] == 5.0


# -- points -------------------------------------------------------------------------------------


def test_repeated_at_says_it_means_several_points_and_shows_the_fix(cli) -> None:
    r = cli("grad", "x*y", "--at", "x=1", "--at", "y=2")
    assert r.code == 2 and r.out == ""
    assert r.err == (
        "error: no value for input 'y' in point 1 (--at x=1): each --at is a point of its "
        "own, so 2 --at options make 2 points; to give x and y at one point, write "
        "--at x=1,y=2\n"
    )
    # The fix it shows works.
    fixed = cli("grad", "x*y", "--at", "x=1,y=2", "--format", "json")
    assert json.loads(fixed.out)["gradient"] == {"x": 2.0, "y": 1.0}
    # Points that share a name but miss another: say what to add.
    r = cli("eval", "x*y*z", "--at", "x=1,z=1", "--at", "y=2,z=1")
    assert r.code == 2 and "point 1 (--at x=1,z=1)" in r.err and "add y=VALUE to it" in r.err


@pytest.mark.parametrize("command", ["graph", "hessian"])
def test_one_point_commands_with_repeated_at_show_how_to_join_them(cli, command) -> None:
    r = cli(command, "x*y", "--at", "x=1", "--at", "y=2")
    assert r.code == 2 and "each --at is a point of its own" in r.err
    assert "write --at x=1,y=2" in r.err


def test_check_with_repeated_at_shows_how_to_join_them(cli) -> None:
    r = cli("check", "x*y", "--at", "x=1", "--at", "y=2", "--expect", "value=2")
    assert r.code == 2 and "write --at x=1,y=2" in r.err


def test_a_missing_value_names_the_option_on_the_command_line(cli) -> None:
    r = cli("eval", "x*y*z", "--at", "x=1")
    assert r.err == "error: no value for inputs 'y', 'z'; give them with --at y=VALUE,z=VALUE\n"


def test_a_pasted_pi_is_a_name_and_the_message_says_how_to_write_the_constant(cli) -> None:
    r = cli("eval", "2π·r", "--at", "r=1")
    assert r.code == 2
    assert r.err == (
        "error: no value for input 'π'; give it with --at π=VALUE; for the constant π, write pi\n"
    )


def test_at_with_points_gives_values_every_point_shares(cli, tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("x\n1\n2\n3\n")
    r = cli("grad", "w*x + b", "--points", str(csv), "--at", "w=10", "--at", "b=1",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["points"] == {"w": [10.0] * 3, "x": [1.0, 2.0, 3.0], "b": [1.0] * 3}
    assert data["value"] == [11.0, 21.0, 31.0]
    assert data["gradient"]["w"] == [1.0, 2.0, 3.0]
    both = cli("eval", "x", "--points", str(csv), "--at", "x=3")
    assert both.code == 2 and "'x' is given both by --at and by a column" in both.err
    short = cli("eval", "x*y", "--points", str(csv))
    assert short.code == 2
    assert "no value for input 'y' at line 2 of" in short.err and "--at y=VALUE" in short.err


# -- long user text -----------------------------------------------------------------------------


def test_a_huge_name_gives_a_short_error_line(cli, tmp_path: Path) -> None:
    name = "a" * 5_000_000
    path = tmp_path / "big.cg"
    path.write_text(name)
    for args in (("eval", f"@{path}"), ("eval", "x", "--at", f"{name}=1")):
        r = cli(*args)
        assert r.code == 2 and r.err.startswith("error: ")
        assert len(r.err) < 400, len(r.err)
        assert "aaaa…aaaa" in r.err
    r = cli("eval", "x", "--format", "j" * 100_000)
    assert r.code == 2 and len(r.err) < 400


# -- the Python API ------------------------------------------------------------------------------


def test_dir_shows_only_the_api() -> None:
    import cgdiff
    import cgdiff.check  # a loaded submodule must not show either

    assert dir(cgdiff) == sorted(cgdiff.__all__)
    assert not {"errors", "graph", "parse_", "ops", "check", "evaluate"} & set(dir(cgdiff))
    assert cgdiff.parse("x").output_name == "f"


def test_api_errors_do_not_speak_of_command_line_options() -> None:
    import cgdiff

    g = cgdiff.parse("x*y")
    with pytest.raises(cgdiff.InputError) as info:
        g.grad(x=1)
    assert "--" not in str(info.value) and "no value for input 'y'" in str(info.value)
    with pytest.raises(cgdiff.InputError) as info:
        cgdiff.parse_point("x")
    assert "--" not in str(info.value) and "not name=value" in str(info.value)
    with pytest.raises(cgdiff.InputError) as info:
        cgdiff.hessian("x*y", {"x": [1, 2], "y": [1, 2]})
    assert "--" not in str(info.value)


# -- text pasted from a PDF or a web page ----------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "typed"),
    [
        ("x²", "x^2"),
        ("x³ + 2x² − 4x", "x^3 + 2*x^2 - 4*x"),
        ("x⁻¹", "x^-1"),
        ("(x+1)²³", "(x+1)^23"),
        ("x₁² + x₁", "x_1^2 + x_1"),
        ("3·x × x", "3*x*x"),
        ("−x + 2 − x", "-x + 2 - x"),
        ("√x", "sqrt(x)"),
        ("√(x+1)", "sqrt(x+1)"),
        ("2√x y", "2*sqrt(x)*y"),
        ("√x²", "sqrt(x^2)"),
        ("∛x", "cbrt(x)"),
        ("x\u00a0+\u2009y", "x + y"),
        ("2.5E−4x + 1e−3", "2.5E-4*x + 1e-3"),
        ("x^1e−2 − 2e−x", "x^1e-2 - 2*e - x"),
    ],
)
def test_pasted_forms_mean_what_they_show(cli, pasted, typed) -> None:
    names = ("x_1=1.5" if "x₁" in pasted else "x=1.5") + (",y=0.5" if "y" in typed else "")
    got = cli("grad", pasted, "--at", names.replace("x_1", "x₁"), "--format", "json")
    want = cli("grad", typed, "--at", names, "--format", "json")
    assert got.code == 0 and want.code == 0, got.err + want.err
    g, w = json.loads(got.out), json.loads(want.out)
    assert g["value"] == pytest.approx(w["value"])
    assert list(g["gradient"].values()) == pytest.approx(list(w["gradient"].values()))


def test_a_pasted_minus_in_an_exponent_is_the_exponent_s_sign_wherever_a_number_is_read(
    cli, tmp_path
) -> None:
    # 1e−3 as a PDF writes it is 0.001: it read as 1·e − 3 = -0.28 (U+2212 MINUS SIGN)
    got = cli("eval", "1e−3", "--format", "json")
    assert got.code == 0 and json.loads(got.out)["value"] == pytest.approx(1e-3)
    got = cli("grad", "x*y", "--at", "x=1e−3,y=2", "--format", "json")
    assert got.code == 0 and json.loads(got.out)["point"]["x"] == pytest.approx(1e-3)
    points = tmp_path / "p.csv"
    points.write_text("x,y\n1e−3,2E−1\n", encoding="utf-8")
    got = cli("grad", "x*y", "--points", str(points), "--format", "csv")
    assert got.code == 0, got.err
    assert [float(v) for v in got.out.splitlines()[1].split(",")[:3]] == pytest.approx(
        [1e-3, 0.2, 2e-4]
    )


@pytest.mark.parametrize(
    ("text", "column", "named", "instead"),
    [
        ("x ÷ 2", 3, "'÷' (U+00F7 DIVISION SIGN)", "type / to divide"),
        ("x² + y ≤ 2", 8, "'≤' (U+2264 LESS-THAN OR EQUAL TO)", "no comparisons"),
        ("∑x", 1, "'∑' (U+2211 N-ARY SUMMATION)", "write the terms out with +"),
        ("“x” + 1", 1, "'“' (U+201C LEFT DOUBLE QUOTATION MARK)", "remove the quotes"),
        ("√x – 1", 4, "'–' (U+2013 EN DASH)", "type - (the ASCII minus)"),
        ("y + ½x", 5, "'½' (U+00BD VULGAR FRACTION ONE HALF)", "type 1/2"),
        ("y + ²x", 5, "'²' (U+00B2 SUPERSCRIPT TWO)", "goes right after what it raises"),
        ("a\u00a0= 1\nb = a ∗ 2", 7, "'∗' (U+2217 ASTERISK OPERATOR)", "type * to multiply"),
    ],
)
def test_other_pasted_characters_are_named_with_what_to_type(
    cli, text, column, named, instead
) -> None:
    r = cli("eval", text)
    assert r.code == 2 and r.out == ""
    first, source, caret = r.err.rstrip("\n").split("\n")
    assert first.startswith(f"error: {named} is not part of cgdiff's language; ")
    assert instead in first and f"column {column})" in first
    # The caret is under that character of the user's own line.
    line = text.split("\n")[-1] if "\n" in text else text
    assert source == "  " + line
    assert caret.index("^") - 2 == column - 1 and line[column - 1] in named


# -- output for people ---------------------------------------------------------------------------


def test_folded_constants_in_titles_use_the_number_format(cli) -> None:
    r = cli("eval", "0.1+0.2")
    assert r.out.splitlines() == ["f = 0.3", "value: 0.3"]
    r = cli("grad", "x + 0.1 + 0.2*x", "--at", "x=1")
    assert r.out.splitlines()[0] == "f = x + 0.1 + 0.2*x  at x=1"
    # Output for programs keeps every digit.
    j = json.loads(cli("graph", "x + (0.1+0.2)", "--format", "json").out)
    assert j["nodes"][-1]["inputs"] == ["x", repr(0.1 + 0.2)]


@pytest.mark.parametrize("fmt", ["table", "tree", "dot", "mermaid"])
def test_one_number_format_across_table_tree_and_dot(cli, fmt) -> None:
    r = cli("graph", "x/3 + 1/3", "--at", "x=1", "--format", fmt)
    assert r.code == 0, r.err
    assert "0.333333" in r.out and "0.3333333" not in r.out
    assert "t1 + 0.333333" in r.out or "t1, 0.333333" in r.out


def test_piped_output_honours_columns_and_has_no_trailing_spaces(cli, monkeypatch) -> None:
    spec = "; ".join(f"long_name_{k} = x_with_a_long_name * {k + 2}" for k in range(3))
    spec += "; out = long_name_0 + long_name_1 + long_name_2"
    widths = {}
    for columns in ("60", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        r = cli("grad", spec, "--at", "x_with_a_long_name=1")
        assert r.code == 0, r.err
        lines = r.out.split("\n")
        assert all(line == line.rstrip() for line in lines), [x for x in lines if x != x.rstrip()]
        widths[columns] = max(len(line) for line in lines)
    assert widths["60"] <= 60 < widths["200"] <= 200
    monkeypatch.delenv("COLUMNS")
    assert max(map(len, cli("grad", spec, "--at", "x_with_a_long_name=1").out.split("\n"))) > 60


def test_unicode_greek_prints_as_latex(cli) -> None:
    r = cli("diff", "θ^2 + sin(ω) + λ·Δ", "--format", "latex")
    assert r.code == 0, r.err
    for command in ("\\partial \\theta} &= 2 \\theta", "\\cos\\left(\\omega\\right)",
                    "\\partial \\lambda} &= \\Delta"):  # fmt: skip
        assert command in r.out
    assert not set("θωλΔ") & set(r.out)


def test_no_ratio_of_zero_steps_to_zero(cli) -> None:
    r = cli("grad", "2")
    assert r.code == 0 and "reverse mode:        0 + 0 = 0 steps" in r.out
    assert "reverse vs forward" not in r.out and "1.00×" not in r.out
    assert "forward mode takes 0.33× the steps" in cli("grad", "x + 1", "--at", "x=1").out


# -- shell completion --------------------------------------------------------------------------


def test_help_offers_shell_completion(cli) -> None:
    r = cli("--help")
    assert "--install-completion" in r.out and "--show-completion" in r.out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script_for_the_shell(cli, monkeypatch, shell) -> None:
    # NB: Typer's own switch: the options then take the shell's name instead of detecting it.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    r = cli("--show-completion", shell)
    assert r.code == 0, r.err
    assert "_CGDIFF_COMPLETE=complete_" + shell in r.out and "cgdiff" in r.out


def test_install_completion_writes_the_script_where_the_shell_reads_it(
    cli, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    r = cli("--install-completion", "bash")
    assert r.code == 0, r.err
    script = tmp_path / ".bash_completions" / "cgdiff.sh"
    assert "_CGDIFF_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def _complete(cli, monkeypatch, shell: str, line: str) -> list[str]:
    """What the shell's completion function would get for ``line`` (the cursor at its end),
    asked through the environment variables the installed script sets."""
    monkeypatch.setenv("_CGDIFF_COMPLETE", f"complete_{shell}")
    if shell == "bash":
        words = line.split(" ")
        monkeypatch.setenv("COMP_WORDS", line)
        monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    else:
        monkeypatch.setenv("_TYPER_COMPLETE_ARGS", line)
        if shell == "fish":
            monkeypatch.setenv("_TYPER_COMPLETE_FISH_ACTION", "get-args")
    r = cli()
    monkeypatch.delenv("_CGDIFF_COMPLETE")
    assert r.code == 0, r.err
    return r.out.split()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_of_commands_options_and_values(cli, monkeypatch, shell) -> None:
    def words(line: str) -> str:
        return " ".join(_complete(cli, monkeypatch, shell, line))

    assert "grad" in words("cgdiff gr") and "graph" in words("cgdiff gr")
    assert "eval" not in words("cgdiff gr")
    assert "--wrt" in words("cgdiff grad x --w") and "--mode" in words("cgdiff grad x --")
    fmt = words("cgdiff graph x --format ")
    assert all(f in fmt for f in ("table", "tree", "json", "dot", "mermaid"))
    mode = words("cgdiff grad x --mode ")
    assert all(m in mode for m in ("reverse", "forward", "numeric"))
    # A misspelt option earlier on the line does not break completion.
    assert "--format" in words("cgdiff grad x --wtr y --fo")

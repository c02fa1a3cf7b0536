"""The command line's commands: a thin layer over the Python API.

The commands, their options and formats, and what each writes.  :mod:`cgdiff.cli_run` is the
process around them (the entry point ``main``, exit codes of SPEC section 7, streams and
signals) and :mod:`cgdiff.cli_output` the writing; nothing in the core writes to the terminal.
Heavy modules (rich, the evaluators) are imported inside the commands that use them, so
start-up stays fast.
"""

from __future__ import annotations

import os
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from . import __version__
from .cli_output import (
    _out,
    _Progress,
    _progress,
    _show,
    _state,
    _streamed,
    _usable,
    _warn,
)
from .cli_points import one_point, points_of
from .errors import InputError
from .errors import clip as _clip

# NB: --install-completion and --show-completion (bash, zsh, fish) cost ~0.1 ms a start:
# Typer imports its completion code whatever this says (bench/bench_core.py measures it).
_SETTINGS: dict[str, Any] = {
    "add_completion": True,
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
    "help": "Differentiate expressions and small model specs through their computation graph.",
}
app = typer.Typer(**_SETTINGS)


# An expression may start with '-' ("-x^2", "-1"): an unknown option is then read as the
# EXPR argument.  That is why no option has a one-letter form that an expression could
# start with.  A word after "--" (--wtr) is always an option, so a misspelt one is an error
# with a did-you-mean (see _Command), never read as the expression.
_EXPR = {"ignore_unknown_options": True}
_LONG = re.compile(r"--[^\W\d][\w-]*")


class _Command(TyperCommand):
    """A command whose unknown ``--options`` are errors with a did-you-mean, while an EXPR
    that starts with a single ``-`` is still read as the expression."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:  # NB: shell completion parses half-typed lines
            _reject_unknown_options(self.get_params(ctx), args)
        result: list[str] = super().parse_args(ctx, args)
        return result


def _reject_unknown_options(params: list[Any], args: list[str]) -> None:
    takes_value: dict[str, bool] = {}
    once: dict[str, str] = {}  # an option that keeps one value: its first spelling
    for p in params:
        if p.param_type_name == "option":
            for o in (*p.opts, *p.secondary_opts):
                takes_value[o] = not p.is_flag and not p.count
                if not p.multiple and not p.is_flag and not p.count:
                    once[o] = p.opts[0]
    skip = False
    seen: set[str] = set()
    for a in args:
        if skip:  # the value of the option before it, e.g. --output --x is allowed
            skip = False
            continue
        if a == "--":
            return
        name = a.partition("=")[0]
        if name in takes_value:
            skip = takes_value[name] and "=" not in a
            if name in once:  # click keeps the last silently: --answers a.csv --answers b.csv
                if once[name] in seen:
                    raise InputError(
                        f"{once[name]} is given twice; it takes one value",
                        hint="name several inputs with commas, as in --wrt x,y"
                        if once[name] == "--wrt"
                        else None,
                    )
                seen.add(once[name])
        elif _LONG.fullmatch(name):
            from difflib import get_close_matches

            close = get_close_matches(name, list(takes_value), n=1, cutoff=0.6)
            raise InputError(
                f"no such option {_clip(name)}",
                hint=f"did you mean {close[0]}?"
                if close
                else "see --help; an expression that starts with '--' goes after '--'",
            )


class EvalFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


class GraphFormat(StrEnum):
    table = "table"
    tree = "tree"
    json = "json"
    dot = "dot"
    mermaid = "mermaid"
    svg = "svg"
    html = "html"


class Mode(StrEnum):
    reverse = "reverse"
    forward = "forward"
    numeric = "numeric"


class OpsFormat(StrEnum):
    table = "table"
    json = "json"


class DiffFormat(StrEnum):
    text = "text"
    latex = "latex"
    json = "json"


class HessianFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"
    gradescope = "gradescope"


ExprArg = Annotated[
    str,
    typer.Argument(
        metavar="EXPR", help="Expression or spec text; '-' reads stdin, '@path' reads a file."
    ),
]
AtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        metavar="POINT",
        help="name=value,name=value; give it several times for several points.",
    ),
]


def _stdin_file(ctx: Any, param: Any, value: Path | None) -> Path | None:
    """``--points -`` and ``--answers -``: standard input, as ``/dev/stdin`` names it."""
    option = param.opts[0] if param is not None and getattr(param, "opts", None) else "-"
    if value is not None and str(value) != "-" and _is_stdin(str(value)):
        _state["stdin_file"] = option  # --points /dev/stdin: standard input by another name
    if value is None or str(value) != "-":
        return value
    if sys.stdin is None or sys.stdin.closed or not _usable(sys.stdin):
        raise InputError(f"standard input is closed; nothing to read for {option} -")
    if not os.path.exists("/dev/stdin"):
        raise InputError(f"{option} -: this system has no /dev/stdin; give a file")
    _state["stdin_file"] = option
    return Path("/dev/stdin")


PointsOpt = Annotated[
    Path | None,
    typer.Option(
        "--points",
        metavar="CSV",
        callback=_stdin_file,
        help="A CSV file ('-' is standard input): a header row of names, a row per point.",
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", metavar="NAME", help="The spec's node to use as output."),
]


def _to_file(value: Path | None) -> Path | None:
    if value is not None and str(value) != "-":
        _state["out_file"] = value
    return value


# NB: -o is this option's one-letter form, handled by main() rather than click, so that an
# EXPR such as "-omega" is still an expression.
OutFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--output-file",
        metavar="FILE",
        callback=_to_file,
        help="Write the result to FILE (-o FILE for short; '-' is standard output); FILE is "
        "replaced only once the whole result is ready.",
    ),
]
WrtOpt = Annotated[
    str | None,
    typer.Option("--wrt", metavar="NAMES", help="Comma-separated inputs to differentiate for."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cgdiff {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Never use colour.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    seed: Annotated[
        int,
        typer.Option("--seed", metavar="N", help="Seed of randn(...) (default 0: runs repeat)."),
    ] = 0,
) -> None:
    """Differentiate expressions and small model specs through their computation graph."""
    # NB: main() takes --no-color and --debug off the command line wherever they stand, so
    # these two options document them here; NO_COLOR is honoured too.


# -- helpers --------------------------------------------------------------------------------


def _is_stdin(path: str) -> bool:
    """Whether ``path`` is standard input by another name (``/dev/stdin``, ``/dev/fd/0``)."""
    try:
        return os.path.samefile(path, "/dev/stdin")
    except (OSError, ValueError):
        return False


def _source(expr: str) -> str:
    """The text an EXPR argument stands for: itself, standard input (``-``) or a file."""
    if _state.get("stdin_file") and expr.startswith("@") and _is_stdin(expr[1:]):
        raise InputError(
            f"standard input is read twice: EXPR is {_clip(expr)} and so is "
            f"{_state['stdin_file']}; give one of them as a file"
        )
    if expr == "-":
        if _state.get("stdin_file"):
            raise InputError(
                f"standard input is read twice: EXPR is '-' and so is {_state['stdin_file']}; "
                "give one of them as a file"
            )
        if sys.stdin is None or sys.stdin.closed:
            raise InputError("standard input is closed; nothing to read for '-'")
        from .values import read_text

        try:
            # NB: the bytes, decoded strictly: the text layer may be set to replace or
            # escape what is not UTF-8 (the C locale); at most a bound, so that
            # `- </dev/zero` is refused, not read until memory runs out
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:
                return sys.stdin.read()
            return read_text(stream, "standard input")
        except OSError as exc:
            raise InputError(f"cannot read standard input: {exc}") from None
    if expr.startswith("@"):
        from .values import read_source

        return read_source(expr)
    return expr


def _graph(expr: str, output: str | None) -> Any:
    from .parse import parse

    text = _source(expr)
    # A spec file's @data names are relative to the spec's folder; elsewhere, to this one.
    base = Path(expr[1:]).parent if expr.startswith("@") else None
    return parse(text, output=output, seed=_state["seed"], base=base)


def _wrt(wrt: str | None) -> list[str] | None:
    if wrt is None:
        return None
    names = [w.strip() for w in wrt.split(",") if w.strip()]
    if not names:
        raise InputError("--wrt needs at least one input name")
    return names


@app.command("eval", context_settings=_EXPR, cls=_Command)
def eval_(
    expr: ExprArg,
    at: AtOpt = None,
    points: PointsOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[EvalFormat, typer.Option("--format")] = EvalFormat.table,
    output_file: OutFileOpt = None,
) -> None:
    """Evaluate the expression (the forward pass) at one or more points."""
    from . import report

    graph = _graph(expr, output)
    from .evaluate import evaluate

    ev = evaluate(graph, points_of(graph, at, points))
    _warn(ev.diagnostics)
    if fmt is EvalFormat.json:
        _out(report.dumps(report.eval_data(ev)))
    elif fmt in (EvalFormat.csv, EvalFormat.tsv):
        _out(report.delimited(ev, None, "," if fmt is EvalFormat.csv else "\t"))
    else:
        _show(report.render_eval(ev))


@app.command(context_settings=_EXPR, cls=_Command)
def grad(
    expr: ExprArg,
    at: AtOpt = None,
    points: PointsOpt = None,
    wrt: WrtOpt = None,
    mode: Annotated[Mode, typer.Option("--mode", help="How to differentiate.")] = Mode.reverse,
    explain: Annotated[
        bool, typer.Option("--explain", help="Narrate the forward pass and each chain-rule step.")
    ] = False,
    output: OutputOpt = None,
    fmt: Annotated[EvalFormat, typer.Option("--format")] = EvalFormat.table,
    output_file: OutFileOpt = None,
) -> None:
    """Value and gradient, with the per-node table and the step counts of each mode."""
    from . import report

    if explain and fmt is not EvalFormat.table:
        raise InputError("--explain prints a narrative; it cannot be combined with --format")
    graph = _graph(expr, output)
    from .ad import grad as gradient

    with _Progress(f"{mode.value} mode") as progress:
        r = gradient(
            graph,
            points_of(graph, at, points),
            wrt=_wrt(wrt),
            mode=mode.value,
            record=fmt is EvalFormat.table or explain,
            progress=progress,
        )
    _warn(r.diagnostics)
    if explain:
        if r.evaluation.batch is not None:
            raise InputError("--explain walks through one point; give a single --at")
        from .explain import explain as narrate

        _out(narrate(r))
    elif fmt is EvalFormat.json:
        _out(report.dumps(report.grad_data(r)))
    elif fmt in (EvalFormat.csv, EvalFormat.tsv):
        _out(report.delimited(r.evaluation, r, "," if fmt is EvalFormat.csv else "\t"))
    else:
        _show(report.render_grad(r))


@app.command(context_settings=_EXPR, cls=_Command)
def graph(
    expr: ExprArg,
    at: AtOpt = None,
    wrt: WrtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[GraphFormat, typer.Option("--format")] = GraphFormat.table,
    output_file: OutFileOpt = None,
) -> None:
    """The computation graph node by node: operation, inputs, value, local derivatives and
    adjoint.  Without --at (and inputs without defaults) it shows the structure alone."""
    from . import report

    one_point("cgdiff graph shows one point", at)
    g = _graph(expr, output)
    point = points_of(g, at, None, complete=at is not None)
    defaults = g.defaults()
    free = [n for n in g.input_names if n not in point and n not in defaults]
    # With no --at, a graph of free inputs is shown as structure; with --at, every input
    # needs its value (a missing one is an error, as for eval and grad).
    from .ad import grad as gradient

    r = None if free and not at else gradient(g, point, wrt=_wrt(wrt), record=True)
    if r is not None:
        _warn(r.diagnostics)
    values = r.values if r else None
    adjoints = r.adjoints if r else None
    if fmt is GraphFormat.json:
        data: dict[str, Any] = {"output": g.output_name, "inputs": g.input_names}
        if r is not None:
            data = report.grad_data(r, nodes=True)
        else:
            data["nodes"] = report.node_rows(g, None, None, None)
        _out(report.dumps(data))
    elif fmt is GraphFormat.dot:
        _out(report.render_dot(g, values, adjoints))
    elif fmt is GraphFormat.mermaid:
        _out(report.render_mermaid(g, values, adjoints))
    elif fmt is GraphFormat.tree:
        _out(report.render_tree(g, values, adjoints))
    elif fmt is GraphFormat.svg:
        from .picture import render_svg

        _out(render_svg(g, r))
    elif fmt is GraphFormat.html:
        from .page import render_html

        _out(render_html(g, r))
    elif r is None:
        _show(report.render_graph_structure(g))
    else:
        _show(report.render_graph_table(r))


@app.command(cls=_Command)
def ops(
    fmt: Annotated[OpsFormat, typer.Option("--format")] = OpsFormat.table,
    output_file: OutFileOpt = None,
) -> None:
    """Every operator and function, with a summary and its derivative rule."""
    from . import report

    if fmt is OpsFormat.json:
        _out(report.dumps(report.ops_data()))
    else:
        _show(report.render_ops())


@app.command(context_settings=_EXPR, cls=_Command)
def diff(
    expr: ExprArg,
    wrt: WrtOpt = None,
    order: Annotated[int, typer.Option("--order", min=1, help="Differentiate K times.")] = 1,
    keep_nodes: Annotated[
        bool, typer.Option("--keep-nodes", help="Print a spec that reuses the named nodes.")
    ] = False,
    output: OutputOpt = None,
    fmt: Annotated[DiffFormat, typer.Option("--format")] = DiffFormat.text,
    output_file: OutFileOpt = None,
) -> None:
    """The derivative as an expression (simplified) that cgdiff can read back."""
    from . import symbolic, symbolic_report

    graph = _graph(expr, output)
    _warn(graph.diagnostics)  # e.g. a constant part that overflows
    r = symbolic.differentiate(graph, _wrt(wrt), order, keep_nodes=keep_nodes)
    if fmt is DiffFormat.json:
        from .report import dumps

        _out(dumps(symbolic_report.diff_data(r)))
    elif fmt is DiffFormat.latex:
        _out(symbolic_report.diff_latex(r))
    else:
        _out(symbolic_report.diff_text(r))


@app.command(context_settings=_EXPR, cls=_Command)
def hessian(
    expr: ExprArg,
    at: AtOpt = None,
    wrt: WrtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[HessianFormat, typer.Option("--format")] = HessianFormat.table,
    output_file: OutFileOpt = None,
) -> None:
    """The matrix of second derivatives at a point (reverse-over-reverse)."""
    from . import symbolic, symbolic_report

    one_point("cgdiff hessian works at one point", at)
    graph = _graph(expr, output)
    h = symbolic.hessian(graph, points_of(graph, at, None), wrt=_wrt(wrt))
    _warn(h.diagnostics)
    if fmt is HessianFormat.json:
        from .report import dumps

        _out(dumps(symbolic_report.hessian_data(h)))
    elif fmt is HessianFormat.csv:
        _out(symbolic_report.hessian_csv(h))
    else:
        _show(symbolic_report.render_hessian(h))


@app.command(context_settings=_EXPR, cls=_Command)
def check(
    target: Annotated[
        str, typer.Argument(metavar="FILE|EXPR", help="A TOML answer key, or an expression.")
    ],
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            metavar="CSV",
            callback=_stdin_file,
            help="A class's submissions to check against the key ('-' is standard input).",
        ),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="POINT",
            help="name=value,name=value: the one point where EXPR's answers are checked "
            "(without it, formula answers are compared as functions).",
        ),
    ] = None,
    expect: Annotated[
        list[str] | None,
        typer.Option(
            "--expect", metavar="ITEMS", help="The answers for EXPR, e.g. value=5,grad.x=2."
        ),
    ] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format")] = CheckFormat.table,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            metavar="N",
            min=1,
            help="Processes that score a class's answers (default: the machine's cores).",
        ),
    ] = None,
    output_file: OutFileOpt = None,
) -> None:
    """Check answers: an answer key (TOML), or one expression against --expect.  Exit 1
    when an answer is wrong, 3 when a problem is undefined at its point."""
    from . import check_junit, check_report
    from .check import check_expression, check_key, parse_items
    from .values import parse_point

    if expect is not None:
        if answers is not None:
            raise InputError("--answers goes with an answer key file, not with --expect")
        one_point("cgdiff check takes one point", at)
        items = [pair for text in expect for pair in parse_items(text)]
        text = _source(target)
        point = parse_point(at[0]) if at else None
        name = target if target.startswith("@") else "(stdin)" if target == "-" else None
        # a spec file's @data names are relative to the spec's folder, as for grad and eval
        base = Path(target[1:]).parent if target.startswith("@") else None
        report = check_expression(text, point, items, name=name, base=base)
    else:
        path = Path(target)
        is_key = path.exists() or target.endswith(".toml")
        if at is not None and not is_key:
            raise InputError(
                "nothing to check: --expect is missing; give the answers with "
                "--expect ITEMS (e.g. --expect value=5,grad.x=2)"
            )
        if at is not None:
            raise InputError(
                "--at goes with an expression and --expect; in an answer key "
                "each problem gives its point with at = { ... }"
            )
        if not is_key:
            raise InputError(
                f"'{target}' is not a file; to check an expression give "
                "--expect ITEMS (e.g. --expect value=5,grad.x=2)"
            )
        if answers is not None:
            _check_class(path, answers, fmt, jobs)
            return
        report = check_key(path)
    if fmt is CheckFormat.json:
        out = check_report.render_json(report)
    elif fmt is CheckFormat.junit:
        out = check_junit.render_junit(report)
    elif fmt is CheckFormat.gradescope:
        out = check_report.render_gradescope(report)
    else:
        out = None
    _check_warnings(report, expect is not None)
    if out is None:
        _show(check_report.render_check(report))
    else:
        _out(out)
    _check_exit(report, report.exit_code, expect is not None)


def _check_class(path: Path, answers: Path, fmt: CheckFormat, jobs: int | None) -> None:
    """``check KEY --answers CSV``: JSON and JUnit are written a student at a time."""
    from . import check_junit, check_report
    from .check import ClassRun, default_jobs

    run = ClassRun(path, answers, jobs=jobs or default_jobs())
    _check_warnings(run.report, False)
    if fmt in (CheckFormat.json, CheckFormat.junit):
        writer = check_report.write_json if fmt is CheckFormat.json else check_junit.write_junit
        with _streamed() as write, _progress("scoring students") as progress:
            writer(run, write, progress)
            if fmt is CheckFormat.json:
                write("\n")
    else:
        with _progress("scoring students") as progress:
            students = list(run.students(progress=progress))
        report = run.report
        report.students, report.items = students, run.items()
        report.malformed = list(run.malformed())
        if fmt is CheckFormat.gradescope:
            _out(check_report.render_gradescope(report, run.scorer))
        else:
            _show(check_report.render_check(report))
    if run.total == 0:  # NB: after the rows are read: a header only is most likely the wrong file
        said = (
            "has no row that can be scored: every row is malformed (listed in the result)"
            if run.n_malformed
            else "has a header but no answers"
        )
        sys.stderr.write(f"warning: {_clip(str(answers))} {said}\n")
    _check_exit(run.report, run.exit_code, False)


def _check_warnings(report: Any, one: bool) -> None:
    # Warnings first, as every command writes them; with a key they name their problem.
    seen = set()
    for p in report.problems:
        for note in p.notes:
            line = f"warning: {note}" if one else f"warning: problem '{p.name}': {note}"
            if line not in seen:
                seen.add(line)
                sys.stderr.write(line + "\n")


def _check_exit(report: Any, code: int, one: bool) -> None:
    undefined = report.undefined
    if undefined:  # exit 3; the report above shows every problem, this names the first
        first = undefined[0]
        where = "" if one else f"problem '{first.name}': "
        more = len(undefined) - 1
        also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        sys.stderr.write(f"error: {where}{first.undefined}{also}\n")
    if code:
        raise typer.Exit(code)


# NB: the entry point (pyproject, __main__, tests) is cgdiff.cli:main; it lives in cli_run,
# which imports this module when it runs a command.
from .cli_run import main as main  # noqa: E402

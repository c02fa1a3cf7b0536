"""The process around the commands of :mod:`cgdiff.cli`: the command line read before
Typer sees it (``--no-color``, ``--debug`` and ``--seed`` anywhere, ``-o FILE``), every
outcome turned into SPEC section 7's exit code and one ``error:`` line (anything unexpected
is a bug, exit 70, without a traceback unless ``--debug``), and the process's streams and
signals: stderr or stdout closed, a reader that goes away, SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

from . import __version__
from .cli_output import (
    _clip_lines,
    _state,
    _usable,
    reader_gone,
    remove_temporary_files,
    write_atomic,
)
from .errors import CgdiffError
from .errors import clip as _clip

if TYPE_CHECKING:
    import typer

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and, as a script, exit with) the exit code."""
    from typer.exceptions import Abort, Exit, TyperException

    args = list(sys.argv[1:] if argv is None else argv)
    # --no-color and --debug work anywhere on the line, before or after the command.
    end = args.index("--") if "--" in args else len(args)
    flags = {a for a in args[:end] if a in ("--no-color", "--debug")}
    args = [a for k, a in enumerate(args) if k >= end or a not in flags]
    debug = "--debug" in flags
    # --seed N too (randn's seed), so that it goes with every command that evaluates.
    _state["seed"] = 0
    for k, a in enumerate(args[:end]):
        if a == "--seed" or a.startswith("--seed="):
            text = a.partition("=")[2] if "=" in a else (args[k + 1] if k + 1 < end else "")
            if not text.isdigit():
                sys.stderr.write(
                    f"error: --seed takes a whole number from 0 up, not {text[:40]!r}\n"
                )
                return _exit(2, argv)
            _state["seed"] = int(text)
            del args[k : k + (1 if "=" in a else 2)]
            end -= 1 if "=" in a else 2
            break
    # -o FILE is --output-file FILE: a lone "-o" followed by a file name, so that "-omega"
    # and "-o" followed by an option stay expressions.
    args = [
        "--output-file"
        if a == "-o" and k + 1 < end and (args[k + 1] == "-" or not args[k + 1].startswith("-"))
        else a
        for k, a in enumerate(args)
    ]
    for k, a in enumerate(args[:end]):
        if a == "--output-file=" or (a == "--output-file" and k + 1 < end and not args[k + 1]):
            sys.stderr.write("error: -o (--output-file) needs a file name ('-' is stdout)\n")
            return _exit(2, argv)
    _state["out_file"], _state["pending"], _state["stdin_file"] = None, [], None
    finished = False
    _state["color"] = "--no-color" not in flags and "NO_COLOR" not in os.environ
    if not _usable(sys.stderr):  # started with standard error closed: cgdiff ... 2>&-
        # Messages go nowhere, the result and the exit code are as they would be.
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    if sys.stdout is None:  # started with standard output closed: cgdiff ... >&-
        sys.stderr.write("error: standard output is closed; nowhere to write the result\n")
        return _exit(2, argv)
    before = _on_sigterm()
    try:
        # NB: outside standalone mode click returns the code of a typer.Exit, not raises it
        # (``check`` exits 1 that way when an answer is wrong).
        result = _app_for(args)(args=args, prog_name="cgdiff", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        finished = True
    except CgdiffError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"error: {_clip_lines(exc.render())}\n")
        code = exc.exit_code
    except Exit as exc:
        code = int(getattr(exc, "exit_code", 0) or 0)
        finished = True
    except Abort:
        sys.stderr.write("error: aborted\n")
        code = 130
    except TyperException as exc:
        message = exc.format_message()
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `cgdiff`: the help, no error
            sys.stdout.write(message + "\n")
            code = 0
        else:
            sys.stderr.write(f"error: {_clip_lines(_usage_message(exc, message))}\n")
            code = int(getattr(exc, "exit_code", 2) or 2)
            code = 2 if code == 1 else code
    except SystemExit as exc:  # shell completion: a request, --show-completion, --install-...
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        if isinstance(exc.__context__, BrokenPipeError):  # Typer's exit 1 on a closed pipe
            reader_gone()
            code = 0
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        code = 130
    except BrokenPipeError:  # NB: _out sends the rest to /dev/null; a write elsewhere
        reader_gone()
        code = 0
    except OSError as exc:  # the output could not be written: a full disk, a closed pipe
        sys.stderr.write(f"error: cannot write the output: {exc.strerror or exc}\n")
        code = 2
    except RecursionError:
        sys.stderr.write("error: the input is nested too deeply for cgdiff to process\n")
        code = 2
    except MemoryError:
        sys.stderr.write("error: the input is too large for the memory available\n")
        code = 2
    except Exception as exc:  # a bug: say so, no traceback unless asked
        if debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(
            f"error: internal error (a bug in cgdiff {__version__}): "
            f"{type(exc).__name__}: {exc}; please report it with the command you ran "
            "(--debug shows the traceback)\n"
        )
        code = 70
    finally:
        _on_sigterm(before)
    target = _state["out_file"]
    if target is not None and finished:  # nothing is written when the command failed
        try:
            write_atomic(target, "".join(_state["pending"]))
        except OSError as exc:
            sys.stderr.write(f"error: cannot write '{target}': {exc.strerror or exc}\n")
            code = 2
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()
        with contextlib.suppress(OSError):
            sys.stdout.flush()
    except OSError as exc:
        sys.stderr.write(f"error: cannot write the output: {exc.strerror or exc}\n")
        code = 2
    return _exit(code, argv)


def _on_sigterm(before: Any = None) -> Any:
    """On SIGTERM (``kill``, ``timeout``): remove the temporary file of a half-written
    ``-o`` file, end the worker processes, say so and exit 143, at once (an exception raised
    from the handler could land inside a lock of multiprocessing and hang).  With
    ``before``, put that handler back.  Only in the main thread, where handlers run."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    if before is not None:
        signal.signal(signal.SIGTERM, before)
        return None

    def stop(signum: int, frame: Any) -> None:
        remove_temporary_files()
        import multiprocessing

        for child in multiprocessing.active_children():
            with contextlib.suppress(Exception):
                child.kill()
        with contextlib.suppress(Exception):
            sys.stderr.write("error: terminated\n")
            sys.stderr.flush()
        os._exit(143)

    return signal.signal(signal.SIGTERM, stop)


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command that the line runs, when it names one first.

    Typer builds the click command of every registered command (their signatures, types
    and help) before it runs any; with the one command alone, ``cgdiff grad ...`` starts
    ~10 ms sooner.  Help of the whole program, a misspelt command and shell completion get
    the whole app.
    """
    import typer

    from .cli import _SETTINGS, app

    if not args or "_CGDIFF_COMPLETE" in os.environ:
        return app
    for info in app.registered_commands:
        assert info.callback is not None
        if (info.name or info.callback.__name__.replace("_", "-")) == args[0]:
            one = typer.Typer(**_SETTINGS)
            one.registered_callback = app.registered_callback
            one.registered_commands = [info]
            return one
    return app


def _usage_message(exc: Exception, message: str) -> str:
    """Click's words for a misspelt option or command, in the form cgdiff's own errors take:
    ``no such option --verison; did you mean --version?``."""
    if type(exc).__name__ == "NoSuchOption":
        name = str(getattr(exc, "option_name", ""))
        possible = sorted(getattr(exc, "possibilities", None) or [])
        hint = f"; did you mean {possible[0]}?" if len(possible) == 1 else ""
        return f"no such option {_clip(name)}{hint}"
    if message.startswith("No such command"):
        return "no such command" + message[len("No such command") :].replace(
            ". Did you mean", "; did you mean"
        ).rstrip(".")
    return message


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        raise SystemExit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    main()

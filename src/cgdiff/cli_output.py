"""What the command line writes: the Rich console, tables without trailing spaces, ``-o FILE``
written atomically, results streamed as they come, progress bars on a terminal, warnings.

Part of the CLI layer, with :mod:`cgdiff.cli` (the commands) and :mod:`cgdiff.cli_run` (the
process and its exit codes): nothing in the core writes to the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import InputError
from .errors import clip as _clip

_state: dict[str, Any] = {"color": True, "out_file": None, "pending": [], "seed": 0}


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    tty = (sys.stderr if stderr else sys.stdout).isatty()
    plain = not _state["color"]
    return Console(
        stderr=stderr,
        no_color=plain,
        color_system=None if plain else "auto",  # --no-color: no bold or italics either
        highlight=False,
        width=None if tty else _columns(),
        emoji=False,
    )


def _columns() -> int:
    """The width of output that goes to a pipe or a file: ``COLUMNS`` if set (as in
    ``COLUMNS=200 cgdiff graph ... | less``), else 120."""
    text = os.environ.get("COLUMNS", "").strip()
    return max(int(text), 20) if text.isdigit() else 120


def _show(renderable: Any) -> None:
    if _state["out_file"] is None and sys.stdout.isatty():
        _console().print(renderable)
        return
    # NB: Rich pads every line of a table to its width; a file or a pipe gets no trailing
    # spaces (diff, grep and editors see them).  A file (-o) gets no colour.
    console = _console() if _state["out_file"] is None else None
    if console is None:
        from rich.console import Console

        console = Console(no_color=True, color_system=None, width=_columns(), emoji=False)
    with console.capture() as captured:
        console.print(renderable)
    _out("\n".join(line.rstrip() for line in captured.get().split("\n")).rstrip("\n"))


def _stdout(text: str) -> None:
    """Write to standard output.  A reader that has gone (``| head -1`` has read its line)
    is not an error: the rest goes to /dev/null and the command runs to its end, so that
    its exit code is still its verdict (``check``'s 1 for a wrong answer, SPEC section 7)."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        reader_gone()


def reader_gone() -> None:
    """Standard output's reader has closed the pipe: point its file descriptor at
    /dev/null, so that nothing more, the buffer's last flush at exit included, fails."""
    _state["reader_gone"] = True
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _out(text: str) -> None:
    text = text if text.endswith("\n") else text + "\n"
    if _state["out_file"] is None:
        _stdout(text)
    else:  # written by main() once the command has finished without an error
        _state["pending"].append(text)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it and a rename, so that
    ``path`` holds either what it held before or the whole new text, never a part."""
    with _atomic(path) as write:
        write(text)


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Callable[[str], Any]]:
    """A ``write`` function into a temporary file beside ``path``, renamed to ``path`` once
    the block has finished; on an error the temporary file is removed, ``path`` untouched.
    A FIFO or a device cannot be replaced: it is written to directly."""
    import stat
    import tempfile

    # NB: a symlink is written through (the file it names is replaced, the link kept), and
    # what is not a regular file (a FIFO, /dev/stdout, a device) is written to as it is,
    # as a shell's > does: renaming over it would replace the device with a file
    path = Path(os.path.realpath(path))
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False
    if special:
        with open(path, "w", encoding="utf-8", newline="") as out:
            yield out.write
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    _TEMPORARY.add(tmp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh.write
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        _TEMPORARY.discard(tmp)


_TEMPORARY: set[str] = set()  # the temporary files being written, for a SIGTERM to remove


def remove_temporary_files() -> None:
    """Remove the temporary files of ``-o`` being written (the command was stopped)."""
    for tmp in list(_TEMPORARY):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _streamed() -> Iterator[Callable[[str], Any]]:
    """A ``write`` function for output written as it is made: standard output, or with
    ``-o FILE`` a temporary file renamed to FILE once the command has finished."""
    target = _state["out_file"]
    if target is None:
        yield _stdout
        return
    try:
        with _atomic(target) as write:
            yield write
    except OSError as exc:
        if exc.filename is None:
            raise
        raise InputError(f"cannot write '{target}': {exc.strerror or exc}") from None
    _state["out_file"] = None  # written: main() has nothing left to write


class _Progress:
    """A Rich progress bar on stderr for forward mode and central differences: shown only
    when stderr is a terminal and the work has taken over a second (never in a pipe)."""

    def __init__(self, what: str) -> None:

        self.what, self.clock, self.start = what, time.monotonic, time.monotonic()
        self.bar: Any = None
        self.task: Any = None
        self.tty = sys.stderr is not None and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.tty:
            return
        if self.bar is None:
            if self.clock() - self.start < 1.0:
                return
            from rich.progress import Progress

            self.bar = Progress(console=_console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(f"{self.what}: sweeps", total=total)
        self.bar.update(self.task, completed=done)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


class _ClassProgress:
    """A Rich progress bar on standard error, shown once a run has taken a second, and only
    when standard error is a terminal (never in a pipe or a CI log)."""

    def __init__(self, what: str) -> None:

        self.what = what
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int | None) -> None:

        if self.bar is None:
            if time.monotonic() - self.start < 1.0:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            # NB: refreshed by hand (no thread: worker processes are forked while it runs)
            self.bar = Progress(
                "{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=_console(stderr=True),
                transient=True,
                auto_refresh=False,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.what, total=total)
        self.bar.update(self.task, completed=done)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@contextlib.contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int | None], None] | None]:
    if sys.stderr is None or not sys.stderr.isatty():
        yield None
        return
    bar = _ClassProgress(what)
    try:
        yield bar
    finally:
        bar.close()


def _warn(diagnostics: Any) -> None:
    seen = set()
    for d in diagnostics:
        text = d.text()
        if text not in seen:
            seen.add(text)
            sys.stderr.write(f"warning: {_clip_lines(text)}\n")


# -- commands -------------------------------------------------------------------------------


def _clip_lines(text: str, width: int = 300) -> str:
    """Every line of a message cut to ``width`` characters: user text echoed by click (an
    option's value) or in a warning may be any length."""
    return "\n".join(_clip(line, width) for line in text.split("\n"))


def _usable(stream: Any) -> bool:
    """Whether a standard stream can be written: not None, and its file descriptor open.
    A stream with no descriptor (a test's capture) is taken as usable."""
    if stream is None:
        return False
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return True
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True

"""A class scored one student at a time, so that memory does not grow with the class.

:class:`ClassRun` reads the answers CSV twice: a quick first pass finds each student's last
row, then the second scores every student as soon as that row has been read and hands the
result on (in the order of each student's first row, as :func:`check_answers` reports them).
A file whose rows are grouped by student (what every export writes) holds one student in
memory at a time; rows of students spread over the file are held until each student's last
row.  With ``jobs`` > 1, batches of students are scored (and rendered) in worker processes,
at most a few batches ahead of the one being written; the results are the same, in the same
order.  Malformed rows are kept in temporary files until the end, where reports list them.
"""

from __future__ import annotations

import heapq
import json
import os
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..parse import max_entries
from .key import Key, check_key, load_key
from .results import ItemScore, RowError, StudentResult
from .scoring import Scorer, _read_rows, last_rows

__all__ = ["ClassRun", "default_jobs"]

BATCH = 64  # students scored (and rendered) together: one task of a worker process
AHEAD = 3  # batches per worker sent ahead of the one being written

Rows = list[tuple[int, str, str, str] | RowError]
# One student's part: what render made of it, items, wrong items, indices of the key's
# items answered right, malformed rows.
Part = tuple[Any, int, int, tuple[int, ...], list[RowError]]

_WORKER: dict[str, Scorer] = {}  # the scorer of this process, inherited by forked workers


def default_jobs() -> int:
    """The processes ``--jobs`` uses by default: the machine's cores (those this process may
    run on).

    >>> default_jobs() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _same(s: StudentResult) -> StudentResult:
    return s


def _score_batch(job: tuple[Callable[[StudentResult], Any], list[tuple[str, Rows]]]) -> list[Part]:
    render, batch = job
    scorer = _WORKER["scorer"]
    n_key = len(scorer.key_items)
    parts: list[Part] = []
    for student, rows in batch:
        s, errors = scorer.score(student, rows)
        items = s.items
        wrong = sum(1 for a in items if not a.passed)
        right = tuple(k for k, a in enumerate(items[:n_key]) if a.passed)
        parts.append((render(s), len(items), wrong, right, errors))
    return parts


class _Spool:
    """Malformed rows kept in a temporary file (as JSON lines) until the report lists them."""

    def __init__(self) -> None:
        self.file: IO[str] | None = None
        self.count = 0
        self.last = 0
        self.ordered = True  # written in the order of their lines

    def add(self, e: RowError) -> None:
        if self.file is None:
            import tempfile

            self.file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.file.write(json.dumps([e.line, e.student, e.message], ensure_ascii=False) + "\n")
        self.ordered = self.ordered and e.line >= self.last
        self.last = e.line
        self.count += 1

    def rows(self) -> Iterator[RowError]:
        if self.file is None:
            return
        self.file.flush()
        self.file.seek(0)
        for text in self.file:
            line, student, message = json.loads(text)
            yield RowError(line, student, message)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class ClassRun:
    """A class's answers against a key, one student at a time.

    ``report`` holds the key's own results from the start; iterate :meth:`students` (once)
    for each student's result; then :meth:`items`, :meth:`malformed` and
    :attr:`exit_code` give the rest of the report.  ``total`` is the number of students
    (None when the answers are a pipe, which cannot be read twice).

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); k = os.path.join(d, "k.toml"); a = os.path.join(d, "a.csv")
    >>> _ = open(k, "w").write('[[problem]]\\nname = "1"\\nexpr = "x*y"\\nat = {x = 2, y = 3}'
    ...                        '\\nexpect.value = 6\\n')
    >>> _ = open(a, "w").write("student,problem,item,answer\\nann,1,value,6\\nbob,1,value,5\\n")
    >>> run = ClassRun(k, a)
    >>> [(s.student, s.score) for s in run.students()], run.total, run.exit_code
    ([('ann', 1), ('bob', 0)], 2, 1)
    """

    def __init__(self, key: Key | str | Path, answers: str | Path, jobs: int = 1) -> None:
        if not isinstance(key, Key):
            key = load_key(key)
        self.report = check_key(key)
        self.scorer = Scorer(key)
        self.path = Path(answers)
        self.last = last_rows(self.path)
        self.total = len(self.last) if self.last is not None else None
        self.jobs = max(1, jobs)
        self.count = 0  # students scored so far
        self.tests = 0  # items of every student scored so far (extra rows included)
        self.failures = 0  # of those, the ones not passed
        self._right = [0] * len(self.scorer.key_items)
        self._loose = _Spool()  # malformed rows that name no student, in file order
        self._own = _Spool()  # students' malformed rows, in the order of the students
        # NB: the first row is read now, so that a file that cannot be read (a pipe has
        # no first pass) is an error before any output is written.
        self._rows = _read_rows(self.path)
        self._first = next(self._rows, None)

    # -- the students ----------------------------------------------------------------------
    def students(
        self,
        render: Callable[[StudentResult], Any] = _same,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> Iterator[Any]:
        """Each student's result passed through ``render`` (a module-level function when
        ``jobs`` > 1: it runs in the worker), in the order of their first rows.
        ``progress(done, total)`` is called after each batch."""
        _WORKER["scorer"] = self.scorer
        for parts in self._batches(render):
            for rendered, n, wrong, right, errors in parts:
                self.count += 1
                self.tests += n
                self.failures += wrong
                for k in right:
                    self._right[k] += 1
                for e in errors:
                    self._own.add(e)
                yield rendered
            if progress is not None:
                progress(self.count, self.total)

    def _batches(self, render: Callable[[StudentResult], Any]) -> Iterator[list[Part]]:
        groups = self._groups()
        if self.jobs == 1 or (self.total is not None and self.total <= BATCH):
            for batch in _chunks(groups):
                yield _score_batch((render, batch))
            return
        import multiprocessing

        if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
            for batch in _chunks(groups):
                yield _score_batch((render, batch))
            return
        # NB: forked workers inherit the loaded key (its graphs are not pickled); each
        # batch goes out as plain tuples and comes back rendered, in the order sent.
        with multiprocessing.get_context("fork").Pool(self.jobs, initializer=_quiet) as pool:
            pending: deque[Any] = deque()
            for batch in _chunks(groups):
                pending.append(pool.apply_async(_score_batch, ((render, batch),)))
                if len(pending) >= AHEAD * self.jobs:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

    def _groups(self) -> Iterator[tuple[str, Rows]]:
        """Each student's rows, once the last of them has been read, in first-row order."""
        last = self.last
        open_: OrderedDict[str, Rows] = OrderedDict()
        complete: set[str] = set()
        rows_read = self._rows if self._first is None else chain([self._first], self._rows)
        held, most = 0, max(1, max_entries() // 50)  # 5,000,000 rows, about 1 GB
        for row in rows_read:
            if isinstance(row, RowError):
                if not row.student:
                    self._loose.add(row)
                    continue
                student, line, entry = row.student, row.line, row
            else:
                line, student, pname, item, answer = row
                if not student:
                    self._loose.add(RowError(line, "", "no student name"))
                    continue
                entry = (line, pname, item, answer)  # type: ignore[assignment]
            rows = open_.get(student)
            if rows is None:
                rows = open_[student] = []
            rows.append(entry)
            if last is None:  # a pipe: every row is held until its end
                held += 1
                if held > most:
                    raise InputError(
                        f"{self.path}: more than {most:,} rows from a pipe, held until its "
                        "end to group them by student",
                        hint="give a regular file (scored a student at a time), or raise "
                        "CGDIFF_MAX_ENTRIES (50 per row)",
                    )
            if last is not None and last.get(student) == line:
                complete.add(student)
                while open_:
                    first = next(iter(open_))
                    if first not in complete:
                        break
                    complete.discard(first)
                    yield open_.popitem(last=False)
        while open_:
            yield open_.popitem(last=False)

    # -- the rest of the report ------------------------------------------------------------
    def items(self) -> list[ItemScore]:
        """How many students got each item of the key right (once :meth:`students` is done)."""
        return [
            ItemScore(p.name, item, self._right[k], self.count)
            for k, (p, item) in enumerate(self.scorer.key_items)
        ]

    def malformed(self) -> Iterator[RowError]:
        """Every malformed row, in the order of their lines (once :meth:`students` is done)."""
        if self._loose.ordered and self._own.ordered:
            yield from heapq.merge(self._loose.rows(), self._own.rows(), key=lambda e: e.line)
        else:  # rows of students spread over the file: sorted here
            yield from sorted([*self._loose.rows(), *self._own.rows()], key=lambda e: e.line)
        self._loose.close()
        self._own.close()

    @property
    def n_malformed(self) -> int:
        return self._loose.count + self._own.count

    @property
    def ok(self) -> bool:
        """True when the key and every student's answer passed: exit code 0."""
        return not self.report.failed and not self.failures and not self.n_malformed

    @property
    def exit_code(self) -> int:
        """SPEC section 7: 3 when a problem of the key is undefined at its point, else 1
        when an answer is wrong (or a row malformed), else 0."""
        if self.report.undefined:
            return 3
        return 0 if self.ok else 1


def _chunks(groups: Iterator[tuple[str, Rows]]) -> Iterator[list[tuple[str, Rows]]]:
    batch: list[tuple[str, Rows]] = []
    for g in groups:
        batch.append(g)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _quiet() -> None:
    """A worker's signals: Ctrl-C is the parent's to handle (it ends the pool), a SIGTERM
    ends the worker at once, so a worker prints no traceback of its own; and on Linux a
    worker dies with its parent (``timeout`` stops the whole group, and the pool may fork
    a new worker while the parent exits: one was left waiting on a lock forever)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import contextlib
        import ctypes

        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            if os.getppid() == 1:  # the parent was already gone
                os._exit(1)

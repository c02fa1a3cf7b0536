"""Homework checking (SPEC section 6): answer keys, answers, and the verdict on each one.

One module per concern, each importing only those above it in this list:

- :mod:`~cgdiff.check.settings`: the documented numbers (tolerances, how many random points)
  and the :class:`Settings` of one problem;
- :mod:`~cgdiff.check.answer`: reading one answer through the grammar, and showing it;
- :mod:`~cgdiff.check.results`: the result records (:class:`CheckResult`, :class:`CheckReport`, …);
- :mod:`~cgdiff.check.sampling`: the random points, and the regions searched for them;
- :mod:`~cgdiff.check.formula`: formula answers, compared with the truth at those points;
- :mod:`~cgdiff.check.feedback`: node-level feedback (the first wrong node, carried errors);
- :mod:`~cgdiff.check.problem`: judging one problem (:class:`Problem`, :func:`check_expression`);
- :mod:`~cgdiff.check.key`: loading a TOML answer key (:func:`load_key`, :func:`check_key`);
- :mod:`~cgdiff.check.scoring`: scoring a class's answers CSV (:func:`check_answers`);
- :mod:`~cgdiff.check.classrun`: a class scored one student at a time (:class:`ClassRun`).

The truth always comes from the core passes; nothing here prints or exits:
:mod:`cgdiff.check_report` renders the results and the CLI picks the exit code.

>>> check_expression("x*y", {"x": 2, "y": 3}, [("value", 6)]).ok
True
"""

from __future__ import annotations

from .answer import MAX_ANSWER, Answer, as_given, pair_text, read_answer
from .classrun import ClassRun, default_jobs
from .feedback import node_feedback
from .key import Key, check_key, load_key
from .problem import KINDS, Problem, check_expression, parse_items
from .results import (
    AnswerResult,
    CheckReport,
    CheckResult,
    ItemScore,
    ProblemResult,
    RowError,
    StudentResult,
)
from .scoring import check_answers
from .settings import (
    ATOL_FLOOR,
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    DRAW,
    MAX_DRAWS,
    SAMPLE_RANGE,
    SAMPLES,
    SEED,
    Settings,
)

__all__ = [
    "ATOL_FLOOR",
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "DRAW",
    "KINDS",
    "MAX_ANSWER",
    "MAX_DRAWS",
    "SAMPLES",
    "SAMPLE_RANGE",
    "SEED",
    "Answer",
    "AnswerResult",
    "CheckReport",
    "CheckResult",
    "ClassRun",
    "ItemScore",
    "Key",
    "Problem",
    "ProblemResult",
    "RowError",
    "Settings",
    "StudentResult",
    "as_given",
    "check_answers",
    "check_expression",
    "check_key",
    "default_jobs",
    "load_key",
    "node_feedback",
    "pair_text",
    "parse_items",
    "read_answer",
]

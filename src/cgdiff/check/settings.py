"""The numbers a teacher can rely on, and the settings of one problem.

Tolerances for numeric answers and how formula answers are sampled (SPEC section 6): the
defaults, and :class:`Settings`, which a key's ``[defaults]`` and each ``[[problem]]`` can
change.  Everything else in :mod:`cgdiff.check` reads its numbers from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import short_number

# -- the documented numbers --------------------------------------------------------------------

DEFAULT_RTOL = 1e-6  # relative tolerance when neither the problem nor [defaults] sets one
DEFAULT_ATOL = 1e-9  # absolute tolerance, likewise
# NB: values are float64, so a true 0 may come out as 1e-17; no atol goes below this floor.
ATOL_FLOOR = 1e-12
SAMPLES = 100  # random points a formula answer must agree at (where the truth is defined)
SAMPLE_RANGE = (-2.0, 2.0)  # each input drawn uniformly from here (WeBWorK's default limits)
SEED = 0  # the random points are the same on every run
DRAW = 200  # points drawn in one vectorised pass
MAX_DRAWS = 10  # draws in one region before the verdict is "too few points where defined"


@dataclass(frozen=True)
class Settings:
    """Tolerances and the random-point settings of one problem.

    >>> float(Settings(rtol=1e-3).tolerance(100.0))
    0.100000001
    """

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    samples: int = SAMPLES
    sample_range: tuple[float, float] = SAMPLE_RANGE
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    seed: int = SEED
    # NB: False when a key gives sample_range for every input: the key's range wins, and no
    # other region is searched (an input named in ``ranges`` is never searched either).
    search: bool = True

    def tolerance(self, expected: Any) -> Any:
        """How far an answer may be from ``expected``: ``max(atol, floor) + rtol·|expected|``
        (a float for a float, an array for an array)."""
        size = abs(expected) if isinstance(expected, float) else np.abs(expected)
        return max(self.atol, ATOL_FLOOR) + self.rtol * size

    def range_of(self, name: str) -> tuple[float, float]:
        return self.ranges.get(name, self.sample_range)

    def searchable(self, name: str) -> bool:
        """Whether other regions may be searched for ``name`` when too few points of its
        range are defined: only for an input whose range no key or caller chose.

        >>> Settings().searchable("x"), Settings(ranges={"x": (0.0, 1.0)}).searchable("x")
        (True, False)
        """
        return self.search and name not in self.ranges and self.sample_range == SAMPLE_RANGE

    def describe_ranges(self, names: Sequence[str]) -> str:
        """``[-2, 2]``, or ``x in [0.1, 5], y in [-2, 2]`` when the inputs differ."""
        spans = [self.range_of(n) for n in names]
        if len(set(spans)) <= 1:
            return _span(spans[0] if spans else self.sample_range)
        return ", ".join(f"{n} in {_span(s)}" for n, s in zip(names, spans, strict=True))


def _span(s: tuple[float, float]) -> str:
    return f"[{_g(s[0])}, {_g(s[1])}]"


_g = short_number  # a number for a message


def describe_point(point: Mapping[str, float]) -> str:
    """A point for a message.

    >>> describe_point({"x": 0.5, "y": -2.0})
    'x=0.5, y=-2'
    """
    return ", ".join(f"{k}={_g(v)}" for k, v in point.items()) or "the point"

"""cgdiff: differentiate expressions through their computation graph.

The public API (SPEC section 10).  Importing it has no side effects.

>>> import cgdiff
>>> r = cgdiff.parse("x*y + z").grad(x=1, y=2, z=3)
>>> float(r.value), float(r.gradient["x"])
(5.0, 2.0)
"""

from __future__ import annotations

from .errors import CgdiffError, InputError, InternalError, UndefinedError
from .graph import Graph, Node
from .parse import parse, parse_point

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "CgdiffError",
    "InputError",
    "UndefinedError",
    "InternalError",
    "Graph",
    "Node",
    "parse",
    "parse_point",
]

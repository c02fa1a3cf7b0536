"""cgdiff: differentiate expressions through their computation graph.

The public API (SPEC section 10).  Importing it has no side effects.

>>> import cgdiff
>>> r = cgdiff.parse("x*y + z").grad(x=1, y=2, z=3)
>>> float(r.value), float(r.gradient["x"])
(5.0, 2.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api import Graph, parse
from .errors import CgdiffError, InputError, InternalError, UndefinedError
from .evaluate import Batch
from .graph import Node
from .values import parse_point

if TYPE_CHECKING:
    from .symbolic import diff, hessian

__version__ = "0.1.0"

__all__ = [
    "Batch",
    "CgdiffError",
    "Graph",
    "InputError",
    "InternalError",
    "Node",
    "UndefinedError",
    "__version__",
    "diff",
    "hessian",
    "parse",
    "parse_point",
]


def __getattr__(name: str) -> Any:
    # diff and hessian load the simplifier and printers on first use, not on import.
    if name in ("diff", "hessian"):
        from . import symbolic

        return getattr(symbolic, name)
    raise AttributeError(f"module 'cgdiff' has no attribute {name!r}")


def __dir__() -> list[str]:
    # NB: only the API; the submodules (errors, graph, parse, ...) are importable by name but
    # are not part of it, so tab completion and dir() do not offer them.
    return sorted(__all__)

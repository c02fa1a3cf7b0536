"""Where the parser's tables are kept between runs: the user's cache folder.

Two files, each named by a checksum of the grammar and by Lark's version, so that two
installed versions of cgdiff (two virtual environments) each keep their own instead of
rebuilding and rewriting one file in turn:

- ``tables-f<FORMAT>-lark<version>-<checksum>.marshal``: the LALR tables that
  :mod:`cgdiff.lalr` parses with (no Lark import at all on a start that finds them), one
  header line ``cgdiff-lalr <crc32 of the body>`` and the marshal body;
- ``grammar-lark<version>-<hash>.cache``: Lark's own cache of its parser, for the inputs
  that Lark parses (syntax errors, and any start whose tables cannot be had).

No writable folder, no cache: everything still works, only slower to start.
"""

from __future__ import annotations

import os
import re
from typing import Any


def cache_folder() -> str | None:
    """``~/.cache/cgdiff`` (or under ``XDG_CACHE_HOME``), made if need be; None if it
    cannot be written."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "cgdiff")
    try:
        os.makedirs(folder, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    return folder


def tables_file(grammar: str) -> str | None:
    """The cache file of the tables: named by the grammar's checksum, Lark's version (read
    from its source, not imported) and :data:`cgdiff.lalr.FORMAT`."""
    import importlib.util
    import zlib

    from .lalr import FORMAT

    folder = cache_folder()
    spec = importlib.util.find_spec("lark")
    if folder is None or spec is None or spec.origin is None:
        return None
    try:
        with open(spec.origin, encoding="utf-8") as f:
            found = re.search(r"__version__[^=]*=\s*['\"]([^'\"]+)", f.read())
    except OSError:
        return None
    version = found.group(1) if found else "unknown"
    digest = f"{zlib.crc32(grammar.encode()):08x}{len(grammar):x}"
    return os.path.join(folder, f"tables-f{FORMAT}-lark{version}-{digest}.marshal")


def read_tables(path: str) -> Any:
    """The data kept in ``path``, or None if there is none or it is damaged."""
    import marshal
    import zlib

    try:
        with open(path, "rb") as f:
            head, _, body = f.read().partition(b"\n")
        if head == b"cgdiff-lalr %08x" % zlib.crc32(body):  # whole and unchanged
            return marshal.loads(body)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    return None


def write_tables(path: str, data: Any) -> None:
    """Keep ``data`` in ``path``: whole or not at all, for a start running beside; a folder
    that cannot be written is left alone."""
    import marshal
    import zlib

    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        body = marshal.dumps(data)
        with open(tmp, "wb") as f:
            f.write(b"cgdiff-lalr %08x\n" % zlib.crc32(body) + body)
        os.replace(tmp, path)
    except (OSError, ValueError):  # ValueError: marshal refused the data
        try:
            os.unlink(tmp)
        except OSError:
            pass


def lark_cache_file(grammar: str) -> str | bool:
    """Where Lark keeps the parser it builds (building it costs ~20 ms per start).

    The file is the user's own (not a shared temp folder); Lark checks it against a hash of
    the grammar and options, so a changed grammar is rebuilt.  No writable cache, no cache.
    """
    import hashlib

    import lark

    folder = cache_folder()
    if folder is None:
        return False
    digest = hashlib.sha256(grammar.encode()).hexdigest()[:12]
    return os.path.join(folder, f"grammar-lark{lark.__version__}-{digest}.cache")

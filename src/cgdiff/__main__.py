"""``python -m cgdiff``: the same as the ``cgdiff`` command."""

from .cli import main

main()

"""Ctrl-C, remembered for the warehouse's commit.

DuckDB checks for a pending signal while it runs a query and may take one for its own
— stop the query, or let it finish and drop the signal — so a Ctrl-C can reach the
process without any exception reaching memberlens. The CLI records every Ctrl-C here
(:func:`request`), and the warehouse asks before it commits (:func:`check`): a
transaction during which the user pressed Ctrl-C rolls back instead of committing.
"""

from __future__ import annotations

import threading

_requested = threading.Event()


def request() -> None:
    """Record a Ctrl-C (the CLI's signal handler calls this)."""
    _requested.set()


def requested() -> bool:
    return _requested.is_set()


def check() -> None:
    """Raise :class:`KeyboardInterrupt` if a Ctrl-C was recorded."""
    if _requested.is_set():
        raise KeyboardInterrupt


def clear() -> None:
    """Forget a recorded Ctrl-C (tests, and a process that goes on after one)."""
    _requested.clear()

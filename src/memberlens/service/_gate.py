"""The warehouse gate: one writer at a time inside the server.

Embedded DuckDB serves one process, and inside the server one job at a time writes
to it. Jobs (flushes, imports, refreshes) and writing requests queue for the gate
with :meth:`WarehouseGate.hold`. Reading needs no gate: each thread reads on its own
connection (``store.Warehouse``) and sees the last committed data — a refresh commits
once, at its end — so console pages and API reads answer at once, whatever job runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from memberlens.core.clock import utc_now


class WarehouseBusy(Exception):
    """A writer gave up waiting for the gate (``hold(..., wait=seconds)``)."""

    def __init__(self, holder: str, since: datetime | None, waited: float) -> None:
        super().__init__(holder)
        self.holder, self.since, self.waited = holder, since, waited


class WarehouseGate:
    def __init__(self, *, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self.holder = ""
        self.since: datetime | None = None

    @contextmanager
    def hold(self, job: str, *, wait: float | None = None) -> Iterator[None]:
        """Hold the warehouse for writing ``job``: wait as long as it takes, or at most
        ``wait`` seconds and then raise :class:`WarehouseBusy` naming the holder."""
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            raise WarehouseBusy(self.holder or "another job", self.since, wait or 0.0)
        self.holder, self.since = job, utc_now()
        try:
            yield
        finally:
            self.holder, self.since = "", None
            self._lock.release()

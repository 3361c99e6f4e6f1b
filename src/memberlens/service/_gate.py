"""The warehouse gate: one holder at a time inside the server.

Embedded DuckDB serves one process, and inside the server one job at a time writes
to it. Jobs (flushes, imports, refreshes) queue for the gate with :meth:`hold`;
console pages enter it with ``with gate:`` and give up after a short wait with
:class:`WarehouseBusy`, which says what holds it, so a page never hangs behind a
long refresh.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from memberlens.core.clock import utc_now


class WarehouseBusy(Exception):
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
    def hold(self, job: str) -> Iterator[None]:
        """Wait as long as it takes, then hold the warehouse for ``job``."""
        with self._lock:
            self.holder, self.since = job, utc_now()
            try:
                yield
            finally:
                self.holder, self.since = "", None

    def __enter__(self) -> WarehouseGate:
        if not self._lock.acquire(timeout=self.wait_seconds):
            raise WarehouseBusy(self.holder or "another job", self.since, self.wait_seconds)
        self.holder, self.since = "a console page", utc_now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.holder, self.since = "", None
        self._lock.release()

"""The job runner: background work of a running server (flushing the event buffer now;
refreshes and scheduled imports join it later).

One thread, one job at a time, holding the warehouse lock while it works. Stopping
lets the running job finish and flushes once more, so accepted events reach the
warehouse before the server exits; a job killed half way is retried on the next
start (the buffer marks rows flushed only after the import committed).
"""

from __future__ import annotations

import logging
import threading

from memberlens import collect
from memberlens.workspace import Workspace

log = logging.getLogger("memberlens.runner")


class JobRunner:
    def __init__(self, ws: Workspace, lock: threading.Lock, *, interval: float = 2.0) -> None:
        self._ws, self._lock, self._interval = ws, lock, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memberlens-jobs", daemon=True)
        self.flushes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush_now()

    def flush_now(self) -> collect.FlushResult:
        with self._lock:
            result = collect.flush(self._ws.state, self._ws.warehouse, self._ws.keyring)
        if result.flushed or result.quarantined:
            self.flushes += 1
            log.info("flushed %d events (%d quarantined)", result.flushed, result.quarantined)
        return result

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush_now()
            except Exception as exc:
                log.error(
                    "flush failed (%s); retrying in %.0f s", type(exc).__name__, self._interval
                )

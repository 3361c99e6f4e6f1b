"""The job runner: the background work of a running server.

One thread, one job at a time, each holding the warehouse gate while it works:
flushing the ingest buffer (every ``[server] flush_interval_seconds``), importing
settled files from the watched folder (every ``[jobs] watch_interval_seconds``) and
the daily refresh (``[jobs] refresh_at``). Stopping lets the running job finish and
flushes once more, so accepted events reach the warehouse before the server exits.
Work cut short by a crash is retried: the buffer marks rows flushed only after the
import committed, a watched file moves to done/ only after its import committed, and
a refresh recorded as still running when the server starts is run again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from memberlens import collect, jobs, pipeline
from memberlens.core import progress
from memberlens.core.clock import utc_now
from memberlens.service._gate import WarehouseGate
from memberlens.store import interrupt_stale_runs
from memberlens.workspace import Workspace

log = logging.getLogger("memberlens.runner")
TICK_SECONDS = 0.5


@dataclass
class RunningJob:
    """A long job in progress, as the console's banner shows it."""

    job: str
    since: datetime
    last: progress.Update | None = None

    def update(self, u: progress.Update) -> None:
        self.last = u

    def to_json(self) -> dict[str, Any]:
        last = self.last
        stages = last.stages[1:] if last and last.stages[:1] == (self.job,) else ()
        return {
            "job": self.job,
            "since": self.since.isoformat(),
            "step": " › ".join(stages) or None,
            "share": last.share if last and len(last.stages) > 1 and last.done else None,
        }


class JobRunner:
    def __init__(self, ws: Workspace, gate: WarehouseGate, *, flush_every: float) -> None:
        self._ws, self._gate = ws, gate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memberlens-jobs", daemon=True)
        self._every: dict[str, float] = {
            "flush": flush_every,
            "watch": ws.settings.jobs.watch_interval_seconds,
            "schedule": 30.0,
        }
        self._last: dict[str, float] = dict.fromkeys(self._every, 0.0)
        self._refresh_pending = False
        self.flushes = 0
        self.running: RunningJob | None = None

    @contextmanager
    def _tracking(self, job: str) -> Iterator[None]:
        running = RunningJob(job, utc_now())
        self.running = running
        try:
            with progress.listen(running.update):
                yield
        finally:
            self.running = None

    def start(self) -> None:
        interrupted = interrupt_stale_runs(self._ws.state)
        if pipeline.JOB in interrupted:
            log.warning("the last refresh was interrupted; running it again")
            self._refresh_pending = True
        jobs.prepare_watch_folder(self._ws)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush_now()

    def flush_now(self) -> collect.FlushResult:
        with self._gate.hold("flush"):
            result = collect.flush(
                self._ws.state,
                self._ws.warehouse,
                self._ws.keyring,
                points=self._ws.settings.points,
            )
        if result.flushed or result.quarantined:
            self.flushes += 1
            log.info("flushed %d events (%d quarantined)", result.flushed, result.quarantined)
        return result

    def import_watched_now(self) -> list[jobs.WatchedImport]:
        with self._gate.hold("import"):
            done = jobs.import_watched(self._ws)
        for item in done:
            # File names only: they are the operator's, never a member's data.
            log.info("%s %s -> %s", "imported" if item.ok else "refused", item.file, item.kind)
        return done

    def refresh_now(
        self, *, as_of: date | None = None, only: list[str] | None = None
    ) -> pipeline.RefreshResult:
        """Run a refresh (the schedule's, or one asked for through the API), with its
        progress in :attr:`running` for the console's banner."""
        with self._gate.hold("refresh"), self._tracking("refresh"):
            result = pipeline.refresh(self._ws, as_of=as_of, only=only)
        log.info("refresh %s finished in %.1f s", result.run_id, result.seconds)
        return result

    def _scheduled_refresh(self) -> None:
        if self._refresh_pending or jobs.refresh_due(self._ws):
            self._refresh_pending = False
            self.refresh_now()

    def _due(self, name: str, now: float) -> bool:
        if now - self._last[name] < self._every[name]:
            return False
        self._last[name] = now
        return True

    def _loop(self) -> None:
        work: tuple[tuple[str, Callable[[], object]], ...] = (
            ("flush", self.flush_now),
            ("watch", self.import_watched_now),
            ("schedule", self._scheduled_refresh),
        )
        while not self._stop.wait(TICK_SECONDS):
            for name, job in work:
                if self._stop.is_set() or not self._due(name, time.monotonic()):
                    continue
                try:
                    job()
                except Exception as exc:
                    log.error(
                        "%s failed (%s); retrying in %.0f s",
                        name,
                        type(exc).__name__,
                        self._every[name],
                    )

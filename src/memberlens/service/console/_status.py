"""What every console page shows at its top: the as-of of the data it reads, a job in
progress, and the last refresh's warnings.

Every page reads the last completed refresh (a refresh commits once, at its end), so
they all show one as-of: that refresh's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request

from memberlens.store import last_run

REFRESH = "refresh"


@dataclass(frozen=True)
class PageStatus:
    as_of: date | None = None
    cutoff: datetime | None = None  # the as-of instant, naive UTC
    warnings: list[dict[str, str]] = field(default_factory=list)
    running: dict[str, Any] | None = None


def page_status(request: Request) -> PageStatus:
    """The status of the workspace the app holds (empty outside a running server)."""
    ws = getattr(request.app.state, "workspace", None)
    if ws is None:
        return PageStatus()
    runner = getattr(request.app.state, "runner", None)
    running = runner.running.to_json() if runner is not None and runner.running else None
    last = last_run(ws.state, REFRESH)
    if last is None or not last.detail.get("as_of"):
        return PageStatus(running=running)
    moment = datetime.fromisoformat(str(last.detail["as_of"]))
    cutoff = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return PageStatus(
        as_of=cutoff.date(),
        cutoff=cutoff,
        warnings=list(last.detail.get("warnings") or []),
        running=running,
    )

"""What crosses the collect boundary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ItemResult:
    """One submitted event: ``accepted``, ``duplicate`` (same event_id seen) or ``rejected``."""

    index: int
    event_id: str | None
    status: str
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AcceptResult:
    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResult]


@dataclass(frozen=True)
class FlushResult:
    """What one flush moved from the buffer into the warehouse."""

    flushed: int
    quarantined: int
    run_id: str | None

"""What crosses the signals boundary: the fixed signal names, a signal, a detector."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from memberlens.core.errors import MemberlensError
from memberlens.store import Warehouse


class SignalName(StrEnum):
    """DESIGN's fixed names: what journeys trigger on."""

    TIER_CHANGED = "tier_changed"
    SEGMENT_ENTERED = "segment_entered"
    SEGMENT_EXITED = "segment_exited"
    CHURN_RISK_CROSSED = "churn_risk_crossed"
    COMPLAINT_RECEIVED = "complaint_received"
    IDENTIFIED = "identified"
    POINTS_EXPIRING = "points_expiring"


class SignalError(MemberlensError, ValueError):
    """A detector produced something that is not its signal."""

    code = "BAD_SIGNAL"


@dataclass(frozen=True)
class Signal:
    """One thing that happened to a member, as a detector saw it.

    ``key`` makes it this occurrence and no other: the same (signal, member, key) is
    recorded once, however many refreshes see it again.
    """

    member_id: str
    signal: SignalName
    occurred_at: datetime  # naive UTC
    key: str
    payload: Mapping[str, Any] = field(default_factory=dict)


# A detector reads the warehouse as of a cut-off (only data before it) and yields the
# signals it sees; it may yield signals recorded before: the step keeps them once.
Detect = Callable[[Warehouse, datetime], Iterable[Signal]]


@dataclass(frozen=True)
class Detector:
    """A registered source of one signal."""

    signal: SignalName
    detect: Detect
    description: str


@dataclass(frozen=True)
class EmitResult:
    snapshot_date: date
    emitted: dict[str, int]  # new rows per signal name
    seen_again: int  # detected, but recorded by an earlier run

    def to_json(self) -> dict[str, Any]:
        return {"emitted": self.emitted, "seen_again": self.seen_again}


@dataclass(frozen=True)
class RecordedSignal:
    """A row of ``member_signals``."""

    signal_id: str
    member_id: str
    signal: str
    occurred_at: datetime
    snapshot_date: date
    payload: dict[str, Any]

"""What crosses the audit boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditEntry:
    """One audit record. Members appear only as their random audit token."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    member_token: str | None
    address: str | None
    detail: str | None
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """Result of ``memberlens audit verify``: ``code`` is ``OK``, ``EDITED`` or ``MISSING``."""

    ok: bool
    entries: int
    code: str
    broken_at: int | None = None
    message: str = "the audit chain is intact"

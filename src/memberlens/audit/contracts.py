"""What crosses the audit boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


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


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit log, newest first, with the chain's current state.

    ``total`` counts every entry the filters match; ``actors`` and ``actions`` list
    the values present in the whole log, for filter choices.
    """

    entries: tuple[AuditEntry, ...]
    total: int
    page: int
    per_page: int
    chain: ChainReport
    actors: tuple[str, ...]
    actions: tuple[str, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "per_page": self.per_page,
            "chain": asdict(self.chain),
            "entries": [{**asdict(e), "at": e.at.isoformat()} for e in self.entries],
        }

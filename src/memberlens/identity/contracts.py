"""What crosses the identity boundary: results of a run, changes, a member's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from memberlens.core.errors import MemberlensError

ChangeKind = Literal["merge", "unmerge"]


@dataclass(frozen=True)
class FlaggedIdentifier:
    """An identifier shared by too many records: flagged, never used for matching."""

    id_type: str
    masked: str
    records: int

    def to_json(self) -> dict[str, Any]:
        return {"id_type": self.id_type, "masked": self.masked, "records": self.records}


@dataclass(frozen=True)
class IdentityChange:
    """One member absorbed into another (merge) or split off again (unmerge)."""

    seq: int
    kind: ChangeKind
    survivor: str
    absorbed: str
    at: datetime
    run_id: str


@dataclass(frozen=True)
class ResolveResult:
    """What one identity run did."""

    run_id: str
    clusters_merged: int
    records_affected: int
    members_before: int
    members_after: int
    flagged: tuple[FlaggedIdentifier, ...] = ()
    anonymous_linked: int = 0
    changes: tuple[IdentityChange, ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "clusters_merged": self.clusters_merged,
            "records_affected": self.records_affected,
            "members_before": self.members_before,
            "members_after": self.members_after,
            "flagged": [f.to_json() for f in self.flagged],
            "anonymous_linked": self.anonymous_linked,
        }


@dataclass(frozen=True)
class UnmergeResult:
    """What an unmerge restored."""

    run_id: str
    records_restored: int
    members: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "records_restored": self.records_restored,
            "members": list(self.members),
        }


@dataclass(frozen=True)
class SourceRecord:
    """One source record of a member, with its identifiers masked."""

    source: str
    source_member_key: str
    since: datetime
    reason: str
    identifiers: tuple[tuple[str, str], ...]  # (id_type, masked value)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_member_key": self.source_member_key,
            "since": self.since.isoformat(),
            "reason": self.reason,
            "identifiers": [{"id_type": t, "masked": v} for t, v in self.identifiers],
        }


class UnknownMember(MemberlensError, LookupError):
    """No source record maps to the member id given."""

    code = "MEMBER_NOT_FOUND"


class NothingToUnmerge(MemberlensError, LookupError):
    """The member (or run) has no merge that could be undone."""

    code = "NOTHING_TO_UNMERGE"

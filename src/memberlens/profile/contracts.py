"""What crosses the profile boundary: search hits and the member card."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from memberlens.core.errors import MemberlensError

EVENTS_SHOWN = 200  # the timeline's cap: the newest events only
ORDERS_SHOWN = 200
HITS_SHOWN = 50


class MemberNotFound(MemberlensError, LookupError):
    """No source record maps to the member id asked for."""

    code = "MEMBER_NOT_FOUND"


class MatchedBy(StrEnum):
    """How a search text was read: which look-up found the members."""

    EMAIL = "email"  # blind index of the normalised address
    PHONE = "phone"  # blind index of the E.164 number
    KEY = "key"  # member id or a source's own member key
    NOTHING = "nothing"  # empty search text


@dataclass(frozen=True)
class Reveal:
    """Who asks for clear personal data; every such view is written to the audit log."""

    actor: str
    address: str | None = None


@dataclass(frozen=True)
class MemberSummary:
    """One search hit; personal values are always masked here."""

    member_id: str
    sources: tuple[str, ...]
    name: str | None
    phone: str | None
    email: str | None
    city: str | None
    signup_at: date | None


@dataclass(frozen=True)
class SearchResult:
    query: str
    matched_by: MatchedBy
    members: tuple[MemberSummary, ...]
    truncated: bool  # more members matched than HITS_SHOWN

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["matched_by"] = self.matched_by.value
        data["members"] = [
            {**asdict(m), "sources": list(m.sources), "signup_at": _iso(m.signup_at)}
            for m in self.members
        ]
        return data


@dataclass(frozen=True)
class SourceRecord:
    """One source's record of the member; personal values masked unless revealed."""

    source: str
    source_member_key: str
    name: str | None
    gender: str | None
    birth_date: str | None
    phone: str | None
    email: str | None
    address: str | None
    city: str | None
    region: str | None
    occupation: str | None
    education: str | None
    signup_at: datetime | None
    signup_channel: str | None
    locale: str | None


@dataclass(frozen=True)
class OrderLine:
    source: str
    order_id: str
    ordered_at: datetime | None
    channel: str | None
    status: str | None
    total_amount: Decimal | None
    lines: int  # order lines loaded for the order
    units: int  # sum of the lines' quantities


@dataclass(frozen=True)
class EventLine:
    event_id: str
    occurred_at: datetime | None
    event_type: str
    source: str
    channel: str | None
    product_id: str | None
    category: str | None


@dataclass(frozen=True)
class MemberCard:
    """A member read through member_map: every source record, orders and events.

    ``orders`` and ``events`` are newest first and capped (``ORDERS_SHOWN``,
    ``EVENTS_SHOWN``); ``order_count`` and ``event_count`` are the full totals.
    """

    member_id: str
    revealed: bool
    records: tuple[SourceRecord, ...]
    orders: tuple[OrderLine, ...]
    order_count: int
    revenue: Decimal  # sum of total_amount over all the member's orders
    events: tuple[EventLine, ...]
    event_count: int
    audit_seq: int | None = None  # the audit entry that recorded a revealed view

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["revenue"] = str(self.revenue)
        data["records"] = [{**asdict(r), "signup_at": _iso(r.signup_at)} for r in self.records]
        data["orders"] = [
            {
                **asdict(o),
                "ordered_at": _iso(o.ordered_at),
                "total_amount": None if o.total_amount is None else str(o.total_amount),
            }
            for o in self.orders
        ]
        data["events"] = [{**asdict(e), "occurred_at": _iso(e.occurred_at)} for e in self.events]
        return data


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


class FeatureType(StrEnum):
    """The type of a feature's column: what the rule language may compare it with."""

    INTEGER = "integer"
    DECIMAL = "decimal"  # money, exact (DECIMAL(18,2))
    FLOAT = "float"  # rates, shares, averages
    STRING = "string"


@dataclass(frozen=True)
class FeatureDef:
    """One member feature, defined once: its column, its meaning and how it is computed.

    The registry of these is the data dictionary (``memberlens dictionary``, the
    console's Dictionary page) and the catalogue the rule language reads names from.
    """

    name: str
    type: FeatureType
    unit: str
    description: str
    formula: str
    source: str  # the warehouse tables it reads, comma-separated
    group: str  # purchases, categories, behaviour, feedback, messages, loyalty, member
    description_zh: str

    def to_json(self) -> dict[str, str]:
        return {**asdict(self), "type": self.type.value}


@dataclass(frozen=True)
class FeatureCoverage:
    """How filled each feature is in the latest stored snapshot: the share of members
    with a value (None for a feature the snapshot has no column for)."""

    snapshot_date: date | None
    members: int
    filled: dict[str, float | None]


@dataclass(frozen=True)
class FeatureSnapshot:
    """What one run of the features step wrote."""

    snapshot_date: date
    cutoff: datetime  # only data strictly before this instant was read
    feature_version: str
    members: int  # rows written to member_features for the snapshot
    category_rows: int  # rows written to member_category_shares
    tiers_from: date | None  # the member_tiers snapshot read, None when there is none


@dataclass(frozen=True)
class PointsMovement:
    """One row of the points ledger (docs/tiers-and-points.md)."""

    movement_id: str
    member_id: str
    points: int  # positive = a lot earned or granted, negative = a debit
    reason: str  # earn_order, earn_<action>, reverse_order, expire, adjust_manual, redeem
    occurred_at: datetime  # naive UTC
    expires_at: datetime | None  # lots only
    lot_id: str | None = None  # expire and reverse_order: the lot they debit
    source: str = ""
    source_member_key: str = ""
    source_ref: str = ""  # the row it came from: order_id, feedback_id, event_id, ...
    note: str | None = None


@dataclass(frozen=True)
class PointsAdjustment:
    """A manual adjustment accepted by the API, on its way into the ledger."""

    adjustment_id: str
    source: str
    source_member_key: str
    points: int
    reason: str  # adjust_manual or redeem
    occurred_at: datetime  # naive UTC, the time of receipt
    expires_at: datetime | None = None  # None = the configured expiry rule
    note: str | None = None


@dataclass(frozen=True)
class LoyaltyRun:
    """What one run of the tiers & points step did."""

    snapshot_date: date
    cutoff: datetime
    credited: dict[str, int]  # new movements by reason
    members: int  # rows written to member_tiers
    tiers: dict[str, int]  # members per tier (None = below the ladder, as "")
    changed: int  # members whose tier differs from their previous snapshot

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot_date": self.snapshot_date.isoformat(),
            "movements": self.credited,
            "members": self.members,
            "tiers": self.tiers,
            "changed": self.changed,
        }


@dataclass(frozen=True)
class TagRun:
    """What one run of the tags step wrote."""

    snapshot_date: date
    members_per_tag: dict[str, int]  # declared tag -> members tagged
    interest_rows: int  # (member, interest:<category>) rows

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot_date": self.snapshot_date.isoformat(),
            "members_per_tag": self.members_per_tag,
            "interest_rows": self.interest_rows,
        }


@dataclass(frozen=True)
class TagStat:
    """One tag's coverage over recent snapshots and when a definition last read it."""

    name: str
    kind: str  # rule | interest
    category: str
    owner: str
    description: str
    members: int  # tagged in the latest snapshot
    share: float  # of the members in that snapshot
    trend: tuple[tuple[date, int], ...]  # (snapshot, members), oldest first
    last_used_at: datetime | None
    used_by: tuple[str, ...]  # "kind:name" of the definitions that read it

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "category": self.category,
            "owner": self.owner,
            "description": self.description,
            "members": self.members,
            "share": round(self.share, 6),
            "trend": [{"snapshot_date": d.isoformat(), "members": n} for d, n in self.trend],
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "used_by": list(self.used_by),
        }


@dataclass(frozen=True)
class FeatureValue:
    """One feature of one member, with its dictionary text."""

    name: str
    value: Any
    unit: str
    description: str
    description_zh: str


@dataclass(frozen=True)
class TagValue:
    tag: str
    kind: str  # rule | interest
    weight: float


@dataclass(frozen=True)
class MemberProfile:
    """What the refresh derived about a member: the 360's second half (the card is the first).

    Lists are newest first; row dicts hold plain values (dates, numbers, strings).
    """

    member_id: str
    features_snapshot: date | None
    features: tuple[FeatureValue, ...]
    tags_snapshot: date | None
    tags: tuple[TagValue, ...]
    tiers: tuple[dict[str, Any], ...]
    points: tuple[dict[str, Any], ...]
    ledger: tuple[dict[str, Any], ...]
    feedback: tuple[dict[str, Any], ...]
    messages: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "features_snapshot": _iso(self.features_snapshot),
            "features": [{**asdict(f), "value": _plain(f.value)} for f in self.features],
            "tags_snapshot": _iso(self.tags_snapshot),
            "tags": [asdict(t) for t in self.tags],
            "tiers": [_plain_row(r) for r in self.tiers],
            "points": [_plain_row(r) for r in self.points],
            "ledger": [_plain_row(r) for r in self.ledger],
            "feedback": [_plain_row(r) for r in self.feedback],
            "messages": [_plain_row(r) for r in self.messages],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row.items()}

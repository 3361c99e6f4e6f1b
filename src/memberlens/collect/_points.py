"""Manual points adjustments from applications: committed before the API answers.

An adjustment is validated and written to the state database's ingest buffer (kind
``points_adjustments``, deduplicated by its ``adjustment_id``) in one transaction
before the 202; the flush appends it to the warehouse's ``points_ledger`` through
the profile's front door, once (its movement id is a hash of reason and
``adjustment_id``), so a client may retry safely.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from memberlens import profile
from memberlens.core.clock import utc_now
from memberlens.core.errors import InputError
from memberlens.core.settings import PointsSettings
from memberlens.store import BufferRow, StateStore, Warehouse

KIND = "points_adjustments"
REASONS = ("adjust_manual", "redeem")
MAX_POINTS = 10_000_000
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def _bad(message: str) -> InputError:
    return InputError(message, code="BAD_POINTS_ADJUSTMENT")


def _checked(
    raw: dict[str, Any], *, source: str, source_member_key: str, now: datetime
) -> profile.PointsAdjustment:
    unknown = sorted(set(raw) - {"points", "reason", "note", "adjustment_id", "expires_at"})
    if unknown:
        raise _bad(
            f"unknown field {', '.join(unknown)}; an adjustment has points, reason, note, "
            "adjustment_id and expires_at"
        )
    points, reason = raw.get("points"), raw.get("reason") or "adjust_manual"
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise _bad("points must be a non-zero whole number (negative takes points away)")
    if abs(points) > MAX_POINTS:
        raise _bad(f"points must lie within ±{MAX_POINTS:,}; split larger corrections")
    if reason not in REASONS:
        raise _bad(f"reason {reason!r} is not one of {', '.join(REASONS)}")
    if reason == "redeem" and points > 0:
        raise _bad("a redemption takes points away: send negative points")
    ident = str(raw.get("adjustment_id") or f"api-{uuid.uuid4().hex}")
    if not _ID.match(ident):
        raise _bad("adjustment_id: 1-100 letters, digits or . _ : -")
    note = raw.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 200):
        raise _bad("note must be text of at most 200 characters (no personal data)")
    return profile.PointsAdjustment(
        adjustment_id=ident,
        source=source,
        source_member_key=source_member_key,
        points=points,
        reason=reason,
        occurred_at=now,
        expires_at=_expiry(raw.get("expires_at"), points, now),
        note=note,
    )


def _expiry(value: Any, points: int, now: datetime) -> datetime | None:
    if value is None:
        return None
    if points < 0:
        raise _bad("expires_at applies to points granted, not to points taken away")
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"expires_at {value!r} is not an ISO 8601 time (UTC)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment <= now:
        raise _bad("expires_at must lie in the future")
    return moment


def accept_points_adjustment(
    state: StateStore,
    raw: dict[str, Any],
    *,
    source: str,
    source_member_key: str,
    token_id: str,
) -> tuple[str, str]:
    """Validate and commit one adjustment; return (adjustment_id, accepted | duplicate)."""
    now = utc_now().replace(tzinfo=None)
    adj = _checked(raw, source=source, source_member_key=source_member_key, now=now)
    payload = {
        **{k: getattr(adj, k) for k in ("adjustment_id", "source", "source_member_key")},
        "points": adj.points,
        "reason": adj.reason,
        "note": adj.note,
        "occurred_at": adj.occurred_at.isoformat(),
        "expires_at": adj.expires_at.isoformat() if adj.expires_at else None,
    }
    row = BufferRow(
        kind=KIND,
        dedupe_key=f"points:{source}:{adj.adjustment_id}"[:160],
        received_at=now,
        token_id=token_id,
        payload=json.dumps(payload, ensure_ascii=False),
        encrypted=False,
        status="pending",
    )
    try:
        with state.session() as s, s.begin():
            s.add(row)
    except IntegrityError:  # the same adjustment_id again: the client retried
        return adj.adjustment_id, "duplicate"
    return adj.adjustment_id, "accepted"


def _adjustment(payload: str) -> profile.PointsAdjustment:
    data = json.loads(payload)
    expires = data.get("expires_at")
    return profile.PointsAdjustment(
        adjustment_id=data["adjustment_id"],
        source=data["source"],
        source_member_key=data["source_member_key"],
        points=int(data["points"]),
        reason=data["reason"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        expires_at=datetime.fromisoformat(expires) if expires else None,
        note=data.get("note"),
    )


def flush_points_adjustments(
    state: StateStore, warehouse: Warehouse, settings: PointsSettings
) -> int:
    """Append pending adjustments to ``points_ledger``; safe to retry after a crash."""
    with state.session() as s:
        rows = s.scalars(
            select(BufferRow)
            .where(BufferRow.kind == KIND, BufferRow.status == "pending")
            .order_by(BufferRow.buffer_id)
        ).all()
    if not rows:
        return 0
    profile.record_points_adjustments(warehouse, [_adjustment(r.payload) for r in rows], settings)
    with state.session() as s, s.begin():
        s.execute(
            update(BufferRow)
            .where(BufferRow.buffer_id.in_([r.buffer_id for r in rows]))
            .values(status="flushed", flushed_at=utc_now().replace(tzinfo=None))
        )
    return len(rows)

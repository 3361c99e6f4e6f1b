"""Points earned and taken back: the ledger movements derived from raw rows.

Each movement's id is a stable hash of its reason and the row it came from
(:func:`memberlens.profile._fifo.movement_id`, computed here in the engine), and new
movements are anti-joined against the ledger before they are appended, so a refresh
run twice credits each order, review or action once. Sources (docs/tiers-and-points.md):

- ``earn_order``: an order with status ``completed`` (or no status, as in sources
  that only export completed sales) earns ``floor(total_amount × per_currency_unit)``
  points at ``ordered_at``. Pending orders wait; cancelled, refunded and returned
  orders earn nothing.
- ``reverse_order``: an order credited earlier and now cancelled, refunded or
  returned gives its points back, at the time its new status was loaded (never
  before the order) — unless its lot had already expired then: those points are gone.
- ``earn_<action>``: ``[points.actions]``; ``review`` counts feedback rows of kind
  review, any other name counts events of that ``event_type``.
- ``adjust_manual`` / ``redeem``: manual adjustments from the API
  (:func:`record_adjustments`, called when the buffer is flushed).

Every row names the source record it belongs to; balances follow ``member_map``
(:func:`ledger_members`), so merges and unmerges move points with the records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from memberlens.core.errors import ConfigError
from memberlens.core.ids import stable_id
from memberlens.core.settings import PointsSettings
from memberlens.profile._fifo import SEP, expiry, movement_id
from memberlens.profile.contracts import PointsAdjustment
from memberlens.schema import EVENT_TYPES
from memberlens.store import Warehouse

REVERSING = ("cancelled", "refunded", "returned")
LEDGER_SCHEMA = pa.schema(
    [
        ("movement_id", pa.string()),
        ("member_id", pa.string()),
        ("points", pa.int64()),
        ("reason", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("expires_at", pa.timestamp("us")),
        ("source", pa.string()),
        ("source_member_key", pa.string()),
        ("source_ref", pa.string()),
        ("lot_id", pa.string()),
        ("note", pa.string()),
        ("recorded_at", pa.timestamp("us")),
    ]
)
_COLUMNS = tuple(LEDGER_SCHEMA.names[:-1])  # recorded_at is stamped at append time


def hashed_id(reason: str, source: ir.StringValue, ref: ir.StringValue) -> ir.StringValue:
    """:func:`movement_id` as an engine expression (same text, same hash)."""
    text = ibis.literal(reason + SEP) + source + ibis.literal(SEP) + ref
    return ibis.literal("pm_") + text.hexdigest("sha256").substr(0, 32)


def expires(at: ir.TimestampValue, settings: PointsSettings) -> ir.TimestampValue:
    """:func:`memberlens.profile._fifo.expiry` as an engine expression."""
    if settings.expire_after_months == 0:
        return ibis.null("timestamp")
    later = at + ibis.interval(months=settings.expire_after_months)
    if settings.expire_at == "year_end":
        return later.truncate("Y") + ibis.interval(years=1)
    if settings.expire_at == "month_end":
        return later.truncate("M") + ibis.interval(months=1)
    return later.truncate("D") + ibis.interval(days=1)


def ledger_members(warehouse: Warehouse) -> ir.Table:
    """The ledger with each movement's *current* member, through ``member_map``."""
    ledger = warehouse.table("points_ledger")
    mm = warehouse.table("member_map")
    mm = mm.select(m_source=mm.source, m_key=mm.source_member_key, current=mm.member_id)
    joined = ledger.left_join(
        mm, [ledger.source == mm.m_source, ledger.source_member_key == mm.m_key]
    )
    return joined.select(
        *[c for c in ledger.columns if c != "member_id"],
        member_id=ibis.coalesce(joined.current, joined.member_id),
    )


def append(warehouse: Warehouse, rows: pa.Table, now: datetime) -> int:
    """Append movements, stamped with ``now``; the caller has anti-joined them."""
    if rows.num_rows == 0:
        return 0
    stamp = pa.array([now] * rows.num_rows, pa.timestamp("us"))
    rows = rows.append_column("recorded_at", stamp).select(LEDGER_SCHEMA.names)
    warehouse.native.register("_new_movements", rows.cast(LEDGER_SCHEMA))
    try:
        warehouse.execute("INSERT INTO points_ledger BY NAME SELECT * FROM _new_movements")
    finally:
        warehouse.native.unregister("_new_movements")
    return int(rows.num_rows)


def _new(warehouse: Warehouse, moves: ir.Table) -> pa.Table:
    """Movements not in the ledger yet, with the member their record maps to now."""
    mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
    moves = moves.join(mm, ["source", "source_member_key"])
    fresh = moves.anti_join(warehouse.table("points_ledger"), "movement_id")
    return warehouse.to_pyarrow(fresh.select(*_COLUMNS).distinct(on="movement_id"))


def _moves(
    rows: ir.Table,
    *,
    reason: str,
    ref: ir.StringValue,
    at: ir.TimestampValue,
    points: ir.IntegerValue,
    settings: PointsSettings,
) -> ir.Table:
    return rows.select(
        movement_id=hashed_id(reason, rows.source, ref),
        points=points.cast("int64"),
        reason=ibis.literal(reason),
        occurred_at=at,
        expires_at=expires(at, settings),
        source=rows.source,
        source_member_key=rows.source_member_key,
        source_ref=ref,
        lot_id=ibis.null("string"),
        note=ibis.null("string"),
    )


def order_earnings(warehouse: Warehouse, cutoff: datetime, settings: PointsSettings) -> pa.Table:
    """``earn_order`` movements of completed orders before ``cutoff`` not credited yet."""
    o = warehouse.table("orders")
    o = o.filter(
        o.ordered_at < cutoff,
        o.source_member_key.notnull(),
        o.total_amount.notnull(),
        o.status.isnull() | (o.status == "completed"),
    )
    rate = ibis.literal(Decimal(settings.per_currency_unit), type=dt.Decimal(18, 4))
    earned = (o.total_amount * rate).floor().cast("int64")
    moves = _moves(
        o, reason="earn_order", ref=o.order_id, at=o.ordered_at, points=earned, settings=settings
    )
    return _new(warehouse, moves.filter(moves.points > 0))


def order_reversals(warehouse: Warehouse, cutoff: datetime) -> pa.Table:
    """``reverse_order`` movements of credited orders that are now reversed."""
    ledger = warehouse.table("points_ledger")
    lots = ledger.filter(ledger.reason == "earn_order")
    o = warehouse.table("orders")
    o = o.filter(o.status.isin(REVERSING)).select(
        o_source=o.source,
        o_id=o.order_id,
        at=ibis.greatest(o.ordered_at, o._loaded_at),
    )
    j = lots.join(o, [lots.source == o.o_source, lots.source_ref == o.o_id])
    j = j.filter(j.at < cutoff, j.expires_at.isnull() | (j.expires_at > j.at))
    moves = j.select(
        movement_id=hashed_id("reverse_order", j.source, j.source_ref),
        points=-j.points,
        reason=ibis.literal("reverse_order"),
        occurred_at=j.at,
        expires_at=ibis.null("timestamp"),
        source=j.source,
        source_member_key=j.source_member_key,
        source_ref=j.source_ref,
        lot_id=j.movement_id,
        note=ibis.null("string"),
    )
    return _new(warehouse, moves)


def check_actions(settings: PointsSettings) -> None:
    """Refuse action names that no row could ever match."""
    unknown = sorted(a for a in settings.actions if a != "review" and a not in EVENT_TYPES)
    if unknown:
        raise ConfigError(
            f"[points.actions] {', '.join(unknown)}: not an action; use review (feedback of "
            f"kind review) or an event type: {', '.join(EVENT_TYPES)}"
        )


def action_earnings(
    warehouse: Warehouse, cutoff: datetime, settings: PointsSettings
) -> dict[str, pa.Table]:
    """``earn_<action>`` movements per configured action, not credited yet."""
    check_actions(settings)
    found: dict[str, pa.Table] = {}
    for action, points in sorted(settings.actions.items()):
        if points <= 0:
            continue
        if action == "review":
            f = warehouse.table("feedback")
            rows, ref = f.filter(f.kind == "review"), "feedback_id"
        else:
            e = warehouse.table("events")
            rows, ref = e.filter(e.event_type == action), "event_id"
        rows = rows.filter(
            rows.occurred_at.notnull(), rows.occurred_at < cutoff, rows.source_member_key.notnull()
        )
        reason = f"earn_{action}"
        found[reason] = _new(
            warehouse,
            _moves(
                rows,
                reason=reason,
                ref=rows[ref],
                at=rows.occurred_at,
                points=ibis.literal(points),
                settings=settings,
            ),
        )
    return found


def record_adjustments(
    warehouse: Warehouse,
    adjustments: Sequence[PointsAdjustment],
    settings: PointsSettings,
    *,
    now: datetime,
) -> int:
    """Append manual adjustments to the ledger once each (by ``adjustment_id``).

    The movement belongs to the named source record; a record not loaded yet gets the
    member id ingest will give it, and its balance counts once member_map knows it.
    """
    rows: list[dict[str, Any]] = []
    for a in adjustments:
        lot_expiry = None
        if a.points > 0:
            lot_expiry = a.expires_at or expiry(
                a.occurred_at, months=settings.expire_after_months, at=settings.expire_at
            )
        rows.append(
            {
                "movement_id": movement_id(a.reason, a.source, a.adjustment_id),
                "member_id": stable_id("m", a.source, a.source_member_key),
                "points": a.points,
                "reason": a.reason,
                "occurred_at": a.occurred_at,
                "expires_at": lot_expiry,
                "source": a.source,
                "source_member_key": a.source_member_key,
                "source_ref": a.adjustment_id,
                "lot_id": None,
                "note": a.note,
            }
        )
    if not rows:
        return 0
    table = pa.Table.from_pylist(rows, schema=pa.schema(list(LEDGER_SCHEMA)[:-1]))
    mm = warehouse.table("member_map")
    memo = ibis.memtable(table)
    joined = memo.left_join(mm, ["source", "source_member_key"])
    joined = joined.select(
        *[c for c in _COLUMNS if c != "member_id"],
        member_id=ibis.coalesce(joined.member_id_right, joined.member_id),
    )
    fresh = joined.anti_join(warehouse.table("points_ledger"), "movement_id")
    return append(warehouse, warehouse.to_pyarrow(fresh.select(*_COLUMNS)), now)

"""Points expiry and balances: the FIFO replay (``_fifo``) applied to the ledger.

Only members who need it are replayed: those with a lot whose expiry has passed and
is not recorded yet, and those with points expiring within the signal window. The
engine picks them and hands over their movements; Python replays each member (pure,
:func:`memberlens.profile._fifo.replay`). An expiry is recorded for every lot that
reaches its instant, with 0 points when the lot was spent already, so a lot is
replayed for expiry once. After that, a member's balance at a cut-off is the plain
sum of their movements before it — the ledger's invariant — which the engine
computes for ``member_points``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from memberlens.profile._fifo import EXPIRE, movement_id, replay
from memberlens.profile._points import LEDGER_SCHEMA, append, ledger_members
from memberlens.profile.contracts import PointsMovement
from memberlens.store import Warehouse

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Expiring:
    """Points of one member that expire at one instant within the window."""

    member_id: str
    expires_at: datetime
    points: int


def _to_movements(rows: pa.Table) -> dict[str, list[PointsMovement]]:
    by_member: dict[str, list[PointsMovement]] = defaultdict(list)
    for r in rows.to_pylist():
        by_member[r["member_id"]].append(
            PointsMovement(
                movement_id=r["movement_id"],
                member_id=r["member_id"],
                points=int(r["points"]),
                reason=r["reason"],
                occurred_at=r["occurred_at"],
                expires_at=r["expires_at"],
                lot_id=r["lot_id"],
                source=r["source"] or "",
                source_member_key=r["source_member_key"] or "",
                source_ref=r["source_ref"] or "",
            )
        )
    return by_member


def _replayed(
    warehouse: Warehouse, cutoff: datetime, window_end: datetime
) -> dict[str, list[PointsMovement]]:
    """Movements before ``cutoff`` of the members with lots due or expiring soon."""
    ml = ledger_members(warehouse)
    ml = ml.filter(ml.occurred_at < cutoff)
    closed = ml.filter(ml.reason == EXPIRE).select(closed_lot=ml.lot_id)
    lots = ml.filter(ml.points > 0, ml.expires_at.notnull(), ml.expires_at < window_end)
    due = lots.filter(lots.expires_at < cutoff).anti_join(
        closed, lots.movement_id == closed.closed_lot
    )
    soon = lots.filter(lots.expires_at >= cutoff)
    who = due.select("member_id").union(soon.select("member_id")).distinct()
    mine = ml.join(who, "member_id")
    return _to_movements(warehouse.to_pyarrow(mine))


def expire_and_find_expiring(
    warehouse: Warehouse, cutoff: datetime, *, window_days: int, now: datetime
) -> tuple[int, list[Expiring]]:
    """Record the expiries due before ``cutoff``; return them and what expires soon."""
    window_end = cutoff + timedelta(days=window_days)
    rows: list[dict[str, object]] = []
    soon: list[Expiring] = []
    for member, movements in sorted(_replayed(warehouse, cutoff, window_end).items()):
        result = replay(movements, until=cutoff)
        for lot, amount in result.due:
            rows.append(_expiry_row(lot, amount))
        soon += _expiring(member, movements, result.lots, window_end)
    table = pa.Table.from_pylist(rows, schema=pa.schema(list(LEDGER_SCHEMA)[:-1]))
    return append(warehouse, table, now), soon


def _expiry_row(lot: PointsMovement, amount: int) -> dict[str, object]:
    return {
        "movement_id": movement_id(EXPIRE, lot.source, lot.movement_id),
        "member_id": lot.member_id,
        "points": -amount,
        "reason": EXPIRE,
        "occurred_at": lot.expires_at,
        "expires_at": None,
        "source": lot.source,
        "source_member_key": lot.source_member_key,
        "source_ref": lot.movement_id,
        "lot_id": lot.movement_id,
        "note": None,
    }


def _expiring(
    member: str, movements: list[PointsMovement], live: dict[str, int], window_end: datetime
) -> list[Expiring]:
    totals: dict[datetime, int] = defaultdict(int)
    for m in movements:
        left = live.get(m.movement_id, 0)
        if left > 0 and m.expires_at is not None and m.expires_at < window_end:
            totals[m.expires_at] += left
    return [Expiring(member, at, n) for at, n in sorted(totals.items())]


def expiring_points(warehouse: Warehouse, cutoff: datetime, *, window_days: int) -> list[Expiring]:
    """What expires within ``window_days`` after ``cutoff``, per member and instant."""
    window_end = cutoff + timedelta(days=window_days)
    soon: list[Expiring] = []
    for member, movements in sorted(_replayed(warehouse, cutoff, window_end).items()):
        result = replay(movements, until=cutoff)
        soon += _expiring(member, movements, result.lots, window_end)
    return soon


def is_earning(ledger: ir.Table) -> ir.BooleanValue:
    """Movements that count as points earned (for ``points_365d``): earnings and their
    reversals, not manual adjustments, redemptions or expiry."""
    return ledger.reason.startswith("earn_") | (ledger.reason == "reverse_order")


def points_snapshot(
    warehouse: Warehouse, cutoff: datetime, snapshot: date, soon: list[Expiring]
) -> int:
    """Write ``member_points`` for ``snapshot``: balance, points earned in 365 days,
    points expiring within the window and the next expiry, per member with movements."""
    ml = ledger_members(warehouse)
    ml = ml.filter(ml.occurred_at < cutoff)
    recent = is_earning(ml) & (ml.occurred_at >= cutoff - YEAR)
    per = ml.group_by("member_id").aggregate(
        balance=ml.points.sum().cast("int64"),
        earned_365d=ibis.ifelse(recent, ml.points, 0).sum().cast("int64"),
    )
    rows = warehouse.to_pyarrow(per.order_by("member_id"))
    first: dict[str, Expiring] = {}
    total: dict[str, int] = defaultdict(int)
    for e in soon:
        first.setdefault(e.member_id, e)
        total[e.member_id] += e.points
    ids = rows.column("member_id").to_pylist()
    table = pa.table(
        {
            "snapshot_date": pa.array([snapshot] * len(ids), pa.date32()),
            "member_id": rows.column("member_id"),
            "balance": rows.column("balance"),
            "earned_365d": rows.column("earned_365d"),
            "expiring_points": pa.array([total.get(i, 0) for i in ids], pa.int64()),
            "next_expiry_at": pa.array(
                [first[i].expires_at if i in first else None for i in ids], pa.timestamp("us")
            ),
        }
    )
    warehouse.execute("DELETE FROM member_points WHERE snapshot_date = ?", [snapshot])
    warehouse.native.register("_new_points", table)
    try:
        warehouse.execute("INSERT INTO member_points BY NAME SELECT * FROM _new_points")
    finally:
        warehouse.native.unregister("_new_points")
    return int(table.num_rows)

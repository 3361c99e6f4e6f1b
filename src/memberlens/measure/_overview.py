"""The overview figures, aggregated in the engine (Ibis) over orders and events."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from memberlens import identity
from memberlens.measure.contracts import Overview
from memberlens.schema import REFUND_STATUSES
from memberlens.store import Warehouse

_NOT_SALES = (*REFUND_STATUSES, "cancelled")


def _resolved(warehouse: Warehouse, table: str) -> ir.Table:
    """Rows of ``table`` with their member id, read through member_map (DESIGN)."""
    t = warehouse.table(table)
    m = warehouse.table("member_map")
    return t.left_join(m, ["source", "source_member_key"])


def overview(
    warehouse: Warehouse, *, period_days: int = 30, cutoff: datetime | None = None
) -> Overview:
    """The member base and its buying over the ``period_days`` before ``cutoff`` (the
    last refresh's as-of, naive UTC: every console page reads the same day), or before
    the newest order or event when there is no refresh yet."""
    orders = _resolved(warehouse, "orders")
    orders = orders.filter(orders.status.isnull() | ~orders.status.isin(_NOT_SALES))
    # Anonymous events stitched to a member by a login count as that member's activity.
    events = identity.events_with_members(warehouse)
    if cutoff is not None:
        orders = orders.filter(orders.ordered_at < cutoff)
        events = events.filter(events.occurred_at < cutoff)
    latest = (
        orders.ordered_at.max().execute(),
        warehouse.table("events").occurred_at.max().execute(),
    )
    stamps = [
        v.to_pydatetime() if hasattr(v, "to_pydatetime") else v
        for v in latest
        if v is not None and str(v) != "NaT"
    ]
    members = int(warehouse.table("member_map").member_id.nunique().execute())
    if not stamps:
        return Overview(None, period_days, members, 0, 0, Decimal("0"), 0, 0.0, [], [])
    as_of: datetime = cutoff if cutoff is not None else max(stamps)
    start = as_of - timedelta(days=period_days)
    recent = orders.filter(orders.ordered_at > start)
    per_buyer = recent.group_by("member_id").aggregate(n=recent.count())
    figures = (
        recent.aggregate(
            orders=recent.count(),
            revenue=recent.total_amount.sum(),
            buyers=recent.member_id.nunique(),
        )
        .execute()
        .iloc[0]
    )
    repeat = int(per_buyer.filter(per_buyer.n >= 2).count().execute())
    buyers = int(figures["buyers"])
    active_ids = recent.select("member_id").union(
        events.filter(events.occurred_at > start).select("member_id")
    )
    active = int(active_ids.filter(active_ids.member_id.notnull()).member_id.nunique().execute())
    return Overview(
        as_of=as_of.date(),
        period_days=period_days,
        members=members,
        active_members=active,
        orders=int(figures["orders"]),
        revenue=_money(figures["revenue"]),
        buyers=buyers,
        repurchase_rate=round(repeat / buyers, 4) if buyers else 0.0,
        trend=_trend(warehouse, orders, as_of),
        channels=_channels(warehouse, recent),
    )


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal("0")


def _trend(
    warehouse: Warehouse, orders: ir.Table, as_of: datetime
) -> list[tuple[str, int, Decimal]]:
    year = orders.filter(orders.ordered_at > as_of - timedelta(days=365))
    month = year.ordered_at.strftime("%Y-%m").name("month")
    rows = (
        year.group_by(month)
        .aggregate(n=year.count(), revenue=year.total_amount.sum())
        .order_by("month")
    )
    return [
        (r["month"], int(r["n"]), _money(r["revenue"]))
        for r in warehouse.to_pyarrow(rows).to_pylist()
    ]


def _channels(warehouse: Warehouse, recent: ir.Table) -> list[tuple[str, int]]:
    channel = recent.channel.fill_null("unknown").name("channel")
    rows = recent.group_by(channel).aggregate(n=recent.count()).order_by(ibis.desc("n"), "channel")
    return [(r["channel"], int(r["n"])) for r in warehouse.to_pyarrow(rows).to_pylist()]

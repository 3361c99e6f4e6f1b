"""Member summaries: aggregated in the engine, published to the state DB in one swap."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
from sqlalchemy import delete, insert

from memberlens import identity
from memberlens.online.contracts import MemberSummary
from memberlens.schema import REFUND_STATUSES
from memberlens.store import MemberSummaryRow, StateStore, Warehouse

_NOT_SALES = (*REFUND_STATUSES, "cancelled")
_CHUNK = 10_000


def _members_of(warehouse: Warehouse, table: str) -> ir.Table:
    """Rows of ``table`` with the member they belong to, read through member_map (DESIGN)."""
    rows = warehouse.table(table)
    return rows.inner_join(warehouse.table("member_map"), ["source", "source_member_key"])


def _summaries(warehouse: Warehouse, as_of: datetime) -> ir.Table:
    cutoff = ibis.literal(as_of.replace(tzinfo=None))
    orders = _members_of(warehouse, "orders")
    orders = orders.filter(
        orders.ordered_at < cutoff, orders.status.isnull() | ~orders.status.isin(_NOT_SALES)
    )
    bought = orders.group_by("member_id").aggregate(
        orders=orders.count(),
        revenue=orders.total_amount.sum(),
        first_order_at=orders.ordered_at.min(),
        last_order_at=orders.ordered_at.max(),
    )
    # Anonymous events stitched by identify/login count for their member too.
    events = identity.events_with_members(warehouse)
    events = events.filter(events.occurred_at < cutoff)
    seen = events.group_by("member_id").aggregate(last_event_at=events.occurred_at.max())
    members = warehouse.table("member_map").select("member_id").distinct()
    joined = members.left_join(bought, "member_id").left_join(seen, "member_id")
    return joined.select(
        "member_id",
        orders=joined.orders.fill_null(0),
        revenue=joined.revenue.fill_null(0),
        first_order_at=joined.first_order_at,
        last_order_at=joined.last_order_at,
        last_event_at=joined.last_event_at,
    ).order_by("member_id")


def _stamp(value: Any) -> datetime | None:
    import pandas as pd  # here, not at import: the CLI starts without it

    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def publish_member_summaries(state: StateStore, warehouse: Warehouse, *, as_of: datetime) -> int:
    """Replace the online member summaries with those as of ``as_of``; return how many.

    Orders count when placed before ``as_of`` and not cancelled or refunded; every
    member in member_map gets a row, buyers or not. Readers see the old table or the
    new one, never a mix: the swap is one state transaction.
    """
    frame = warehouse.to_pyarrow(_summaries(warehouse, as_of)).to_pandas()
    stamp = as_of.replace(tzinfo=None)
    rows = [
        {
            "member_id": r.member_id,
            "orders": int(r.orders),
            "revenue": str(Decimal(str(r.revenue)).quantize(Decimal("0.01"))),
            "first_order_at": _stamp(r.first_order_at),
            "last_order_at": _stamp(r.last_order_at),
            "last_event_at": _stamp(r.last_event_at),
            "as_of": stamp,
        }
        for r in frame.itertuples(index=False)
    ]
    with state.session() as s, s.begin():
        s.execute(delete(MemberSummaryRow))
        for start in range(0, len(rows), _CHUNK):
            s.execute(insert(MemberSummaryRow), rows[start : start + _CHUNK])
    return len(rows)


def member_summary(state: StateStore, member_id: str) -> MemberSummary | None:
    """The published summary of ``member_id`` (state DB only: safe on the request path)."""
    with state.session() as s:
        row = s.get(MemberSummaryRow, member_id)
    if row is None:
        return None
    return MemberSummary(
        member_id=row.member_id,
        orders=row.orders,
        revenue=Decimal(row.revenue),
        first_order_at=row.first_order_at,
        last_order_at=row.last_order_at,
        last_event_at=row.last_event_at,
        as_of=row.as_of,
    )

"""The member card: every source record of one member, their orders and events.

Everything is read through ``member_map``: the member's (source, key) pairs select
their ``members`` rows, orders and events, so records from several sources show
together. Clear personal values leave this module only after the view has been
written to the audit log.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from memberlens import audit, identity
from memberlens.privacy import KeyRing
from memberlens.profile._lookup import PERSONAL, member_records, shown
from memberlens.profile.contracts import (
    EVENTS_SHOWN,
    ORDERS_SHOWN,
    EventLine,
    MemberCard,
    MemberNotFound,
    OrderLine,
    Reveal,
    SourceRecord,
)
from memberlens.store import StateStore, Warehouse

_KEY = ["source", "source_member_key"]
VIEW_ACTION = "member.view_personal"


def member_card(
    warehouse: Warehouse,
    keyring: KeyRing,
    state: StateStore,
    *,
    member_id: str,
    reveal: Reveal | None = None,
) -> MemberCard:
    """One member's records, orders (newest first) and event timeline (newest first).

    Personal values are masked unless ``reveal`` names who is looking; a revealed view
    is audited first (action ``member.view_personal``, the member named only by their
    audit token), so no clear value is returned without its audit entry.

    Raises
    ------
    MemberNotFound
        When no source record maps to ``member_id``.
    """
    records = member_records(warehouse, [member_id]).get(member_id, [])
    if not records:
        raise MemberNotFound(
            f"no member '{member_id}': member ids look like m_0123456789abcdef; "
            "search by phone, e-mail or id on the Members page"
        )
    keys = _keys(warehouse, member_id)
    orders, order_count, revenue = _orders(warehouse, keys)
    events, event_count = _events(warehouse, member_id)
    seq = None
    if reveal is not None:
        entry = audit.record(
            state,
            actor=reveal.actor,
            action=VIEW_ACTION,
            member_id=member_id,
            address=reveal.address,
            detail="fields=" + ",".join(PERSONAL),
        )
        seq = entry.seq
    shown_records = tuple(
        _record(keyring, r, reveal=reveal is not None) for r in _by_source(records)
    )
    return MemberCard(
        member_id=member_id,
        revealed=reveal is not None,
        records=shown_records,
        orders=orders,
        order_count=order_count,
        revenue=revenue,
        events=events,
        event_count=event_count,
        audit_seq=seq,
    )


def _by_source(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (r["source"], r["source_member_key"]))


def _record(keyring: KeyRing, row: dict[str, Any], *, reveal: bool) -> SourceRecord:
    personal = {c: shown(keyring, c, row[c], reveal=reveal) for c in PERSONAL}
    return SourceRecord(
        source=row["source"],
        source_member_key=row["source_member_key"],
        gender=row["gender"],
        city=row["city"],
        region=row["region"],
        occupation=row["occupation"],
        education=row["education"],
        signup_at=row["signup_at"],
        signup_channel=row["signup_channel"],
        locale=row["locale"],
        **personal,
    )


def _keys(warehouse: Warehouse, member_id: str) -> ir.Table:
    mm = warehouse.table("member_map")
    return mm.filter(mm.member_id == member_id).select(*_KEY)


def _orders(warehouse: Warehouse, keys: ir.Table) -> tuple[tuple[OrderLine, ...], int, Decimal]:
    orders = warehouse.table("orders").semi_join(keys, _KEY)
    items = warehouse.table("order_items")
    per_order = items.group_by(["source", "order_id"]).aggregate(
        lines=items.count(), units=items.quantity.sum()
    )
    joined = orders.left_join(per_order, ["source", "order_id"]).select(
        orders.source,
        orders.order_id,
        orders.ordered_at,
        orders.channel,
        orders.status,
        orders.total_amount,
        lines=per_order.lines.fill_null(0),
        units=per_order.units.fill_null(0),
    )
    newest = joined.order_by([ibis.desc("ordered_at"), "source", "order_id"]).limit(ORDERS_SHOWN)
    lines = tuple(
        OrderLine(
            source=r["source"],
            order_id=r["order_id"],
            ordered_at=r["ordered_at"],
            channel=r["channel"],
            status=r["status"],
            total_amount=r["total_amount"],
            lines=int(r["lines"]),
            units=int(r["units"]),
        )
        for r in warehouse.to_pyarrow(newest).to_pylist()
    )
    totals = warehouse.to_pyarrow(
        orders.aggregate(n=orders.count(), revenue=orders.total_amount.sum())
    ).to_pylist()[0]
    revenue = Decimal(totals["revenue"] or 0).quantize(Decimal("0.01"))
    return lines, int(totals["n"]), revenue


def _events(warehouse: Warehouse, member_id: str) -> tuple[tuple[EventLine, ...], int]:
    # Through identity: anonymous events stitched to the member by a login count too.
    events = identity.events_with_members(warehouse)
    events = events.filter(events.member_id == member_id)
    newest = events.order_by([ibis.desc("occurred_at"), ibis.desc("event_id")]).limit(EVENTS_SHOWN)
    lines = tuple(
        EventLine(
            event_id=r["event_id"],
            occurred_at=r["occurred_at"],
            event_type=r["event_type"],
            source=r["source"],
            channel=r["channel"],
            product_id=r["product_id"],
            category=r["category"],
        )
        for r in warehouse.to_pyarrow(newest).to_pylist()
    )
    return lines, int(events.count().execute())

"""Order-based member features as Ibis expressions (formulas: ``_feature_defs``).

Everything aggregates in the engine: one grouped pass over the member's orders for the
counts, sums and windows, one over distinct purchase days for the intervals, one per
mode (channel, weekday, hour) and one over order lines for categories. Orders reach
members through ``member_map`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from memberlens.profile._feature_defs import WINDOWS
from memberlens.schema import REFUND_STATUSES
from memberlens.store import Warehouse

DAY_SECONDS = 86_400
MONEY = dt.Decimal(18, 2)
_UTC_TS = dt.Timestamp(timezone="UTC")


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _as_utc(zone: str, ts: dt.timestamp) -> _UTC_TS:  # type: ignore[valid-type]
    """DuckDB ``timezone(zone, timestamp)``: read a naive time as wall time in ``zone``."""


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _wall_time(zone: str, ts: _UTC_TS) -> dt.timestamp:  # type: ignore[valid-type]
    """DuckDB ``timezone(zone, timestamptz)``: the wall time of an instant in ``zone``."""


def local_time(ts: ir.TimestampValue, zone: ir.StringValue) -> ir.TimestampValue:
    """A naive UTC timestamp as wall time in a per-row IANA time zone."""
    result: ir.TimestampValue = _wall_time(zone, _as_utc("UTC", ts))
    return result


def days_before(cutoff: datetime, ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole days from ``ts`` to the cut-off (floor), engine-neutral through epochs."""
    seconds = int(cutoff.timestamp()) - ts.epoch_seconds()
    return (seconds // DAY_SECONDS).cast("int64")


@dataclass(frozen=True)
class OrderFrames:
    """The member's orders and order lines before the cut-off, with ``member_id``."""

    orders: ir.Table  # member_id, source, order_id, ordered_at, channel, amounts, refunded
    kept: ir.Table  # orders that count as purchases
    lines: ir.Table  # member_id, source, order_id, ordered_at, product_id, category, amount


def order_frames(warehouse: Warehouse, cutoff: datetime) -> OrderFrames:
    """Orders not cancelled and placed before the cut-off, resolved through member_map."""
    o = warehouse.table("orders")
    mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
    o = o.filter(o.ordered_at < cutoff, o.status.isnull() | (o.status != "cancelled"))
    o = o.inner_join(mm, ["source", "source_member_key"]).select(
        "member_id",
        "source",
        "order_id",
        "ordered_at",
        "channel",
        "total_amount",
        discounted=(o.coupon_code.fill_null("").strip() != "")
        | (o.discount_amount.fill_null(0) > 0),
        refunded=o.status.isin(REFUND_STATUSES).fill_null(False),
    )
    kept = o.filter(~o.refunded)
    items = warehouse.table("order_items")
    products = warehouse.table("products").select("product_id", "category")
    lines = items.inner_join(kept, ["source", "order_id"])
    lines = lines.left_join(products, "product_id").select(
        "member_id",
        "source",
        "order_id",
        "ordered_at",
        items.product_id,
        "category",
        amount=items.amount.fill_null(items.quantity * items.unit_price),
    )
    return OrderFrames(orders=o, kept=kept, lines=lines)


def order_totals(frames: OrderFrames, cutoff: datetime) -> ir.Table:
    """One grouped pass: RFM, windows, coupon use, refunds, purchase-day span."""
    o = frames.orders
    kept = ~o.refunded
    day = o.ordered_at.date()
    metrics: dict[str, ir.Value] = {
        "frequency": o.count(where=kept),
        "monetary_raw": o.total_amount.sum(where=kept),
        "priced": o.count(where=kept & o.total_amount.notnull()),
        "first_order_at": o.ordered_at.min(where=kept),
        "last_order_at": o.ordered_at.max(where=kept),
        "coupon_orders": o.count(where=kept & o.discounted),
        "refunds": o.count(where=o.refunded),
        "not_cancelled": o.count(),
        "purchase_days": day.nunique(where=kept),
        "first_day": day.min(where=kept),
        "last_day": day.max(where=kept),
    }
    for days in WINDOWS:
        inside = kept & (o.ordered_at >= cutoff - timedelta(days=days))
        metrics[f"orders_{days}d"] = o.count(where=inside)
        metrics[f"spend_{days}d_raw"] = o.total_amount.sum(where=inside)
    return o.group_by("member_id").aggregate(**metrics)


def interval_spread(frames: OrderFrames) -> ir.Table:
    """Sample standard deviation of gaps between consecutive distinct purchase days."""
    days = frames.kept.select("member_id", day=frames.kept.ordered_at.date()).distinct()
    previous = days.day.lag().over(group_by="member_id", order_by="day")
    gaps = days.mutate(gap=days.day.delta(previous, unit="day"))
    gaps = gaps.filter(gaps.gap.notnull())
    return gaps.group_by("member_id").aggregate(
        interval_std_days=gaps.gap.cast("float64").std(how="sample")
    )


def mode(table: ir.Table, value: ir.Value, name: str) -> ir.Table:
    """The most frequent non-null ``value`` per member; ties go to the smallest value."""
    counted = (
        table.mutate(_v=value)
        .filter(lambda t: t._v.notnull())
        .group_by(["member_id", "_v"])
        .aggregate(_n=lambda t: t.count())
    )
    rank = ibis.row_number().over(group_by="member_id", order_by=[ibis.desc("_n"), ibis.asc("_v")])
    best = counted.mutate(_rank=rank)
    return best.filter(best._rank == 0).select("member_id", **{name: best._v})


def local_modes(kept_with_zone: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Preferred ISO weekday (1 = Monday) and hour, in each order's member time zone."""
    local = kept_with_zone.mutate(_local=local_time(kept_with_zone.ordered_at, kept_with_zone.zone))
    weekday = mode(local, local._local.day_of_week.index() + 1, "preferred_weekday")
    hour = mode(local, local._local.hour(), "preferred_hour")
    return weekday, hour


def category_shares(frames: OrderFrames, totals: ir.Table) -> ir.Table:
    """Per member and category: spend share, share of orders, and the favourite's rank.

    ``totals`` brings ``frequency`` (kept orders). Spend shares are over the member's
    categorised line amounts (they sum to 1); order shares over all kept orders.
    """
    lines = frames.lines.filter(frames.lines.category.notnull())
    per = lines.group_by(["member_id", "category"]).aggregate(
        spend=lines.amount.sum(),
        orders=(lines.source + "\x1f" + lines.order_id).nunique(),
    )
    spend_total = per.spend.sum().over(group_by="member_id")
    rank = ibis.row_number().over(
        group_by="member_id",
        order_by=[ibis.desc("orders"), ibis.desc("spend"), ibis.asc("category")],
    )
    per = per.mutate(_spend_total=spend_total, rank=rank)
    per = per.inner_join(totals.select("member_id", "frequency"), "member_id")
    return per.select(
        "member_id",
        "category",
        "rank",
        spend_share=(per.spend / per._spend_total.nullif(0)).cast("float64"),
        order_share=(per.orders / per.frequency.nullif(0)).cast("float64"),
    )


def buys(frames: OrderFrames, events: ir.Table) -> ir.Table:
    """Every purchase of a product: purchase events and kept order lines (member, product, at)."""
    by_event = events.filter(
        (events.event_type == "purchase") & events.product_id.notnull()
    ).select("member_id", "product_id", at=events.occurred_at)
    by_order = frames.lines.filter(frames.lines.product_id.notnull()).select(
        "member_id", "product_id", at=frames.lines.ordered_at
    )
    return by_event.union(by_order, distinct=False)

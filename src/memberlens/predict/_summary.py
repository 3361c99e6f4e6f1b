"""Per-member (frequency, recency, T, monetary value) from the orders, in the engine.

The customer-base analysis convention (Fader, Hardie & Lee 2005, section 3; the
CDNOW protocol): a member's purchases on one UTC day are one transaction (their
values summed); the first transaction starts the clock and is not counted;
``frequency`` is the number of repeat transactions up to and including the
calibration end, ``recency`` the age at the last of them, ``T`` the age at the
calibration end, and ``monetary_value`` the mean value of the repeat transactions
(0 without any). Ages are whole days between dates, divided by the time unit.
Orders are read through ``member_map`` and count when completed (or without a
status); pending, cancelled and refunded orders do not.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from memberlens.core.errors import InputError
from memberlens.predict.contracts import UNIT_DAYS, TimeUnit
from memberlens.store import Warehouse


def transactions(warehouse: Warehouse, before: date) -> ir.Table:
    """One row per member and UTC purchase day before ``before``: the day's total."""
    orders = warehouse.table("orders").inner_join(
        warehouse.table("member_map"), ["source", "source_member_key"]
    )
    limit = ibis.literal(before.isoformat()).cast("date")
    orders = orders.filter(
        orders.status.isnull() | (orders.status == "completed"),
        orders.ordered_at.date() < limit,
    )
    orders = orders.mutate(day=orders.ordered_at.date())
    return orders.group_by(["member_id", "day"]).aggregate(
        value=orders.total_amount.cast("float64").sum()
    )


def _days(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    return later.delta(earlier, unit="day")


def summary_expr(
    warehouse: Warehouse,
    *,
    calibration_end: date,
    unit: TimeUnit = "week",
    holdout_end: date | None = None,
) -> ir.Table:
    """The calibration summary (and the holdout's repeat count) as one Ibis expression.

    Columns: ``member_id, frequency, recency, T, monetary_value, first_purchase`` and,
    with ``holdout_end``, ``holdout_frequency`` (transactions after the calibration
    end up to and including ``holdout_end``) and ``holdout_value``.
    """
    per_unit = UNIT_DAYS[unit]
    end = ibis.literal(calibration_end.isoformat()).cast("date")
    stop = (holdout_end or calibration_end) + timedelta(days=1)
    days = transactions(warehouse, stop)
    cal = days.filter(days.day <= end)
    grouped = cal.group_by("member_id").aggregate(
        n=cal.count(),
        first=cal.day.min(),
        last=cal.day.max(),
        total=cal.value.sum(),
        first_value=cal.value.argmin(cal.day),
    )
    repeats = grouped.n - 1
    summary = grouped.select(
        "member_id",
        frequency=repeats,
        recency=_days(grouped["last"], grouped["first"]).cast("float64") / per_unit,
        T=_days(end, grouped["first"]).cast("float64") / per_unit,
        monetary_value=ibis.ifelse(
            repeats > 0, (grouped.total - grouped.first_value) / repeats, 0.0
        ).fill_null(0.0),
        first_purchase=grouped["first"],
    )
    if holdout_end is None:
        return summary
    later = days.filter(days.day > end)
    held = later.group_by("member_id").aggregate(
        holdout_frequency=later.count(), holdout_value=later.value.sum()
    )
    joined = summary.left_join(held, "member_id")
    return joined.select(
        *summary.columns,
        holdout_frequency=joined.holdout_frequency.fill_null(0),
        holdout_value=joined.holdout_value.fill_null(0.0),
    )


def summarise(
    warehouse: Warehouse,
    *,
    calibration_end: date,
    unit: TimeUnit = "week",
    holdout_end: date | None = None,
) -> pa.Table:
    """Run :func:`summary_expr` and return the rows ordered by member id (Arrow)."""
    if holdout_end is not None and holdout_end <= calibration_end:
        raise InputError(
            f"the holdout end {holdout_end} is not after the calibration end "
            f"{calibration_end}; pick a later --holdout-end"
        )
    expr = summary_expr(
        warehouse, calibration_end=calibration_end, unit=unit, holdout_end=holdout_end
    ).order_by("member_id")
    table = warehouse.to_pyarrow(expr)
    if table.num_rows == 0:
        raise InputError(
            f"no completed orders on or before {calibration_end}; load orders "
            "(memberlens ingest orders FILE) or choose a later calibration end"
        )
    return table


def fingerprint(summary: pa.Table) -> str:
    """sha256 of the summary's model inputs: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    digest.update("\n".join(summary.column("member_id").to_pylist()).encode())
    for name in ("frequency", "recency", "T", "monetary_value"):
        digest.update(summary.column(name).to_numpy().astype("float64").tobytes())
    return digest.hexdigest()

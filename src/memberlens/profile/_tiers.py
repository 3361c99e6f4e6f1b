"""The tier ladder: each member's tier per snapshot (``member_tiers``).

The rule (docs/tiers-and-points.md), for a member whose qualifying value — spend or
points earned in the 365 days before the cut-off (``[tiers] metric``) — reaches the
``reached`` rung of the ladder, and whose previous snapshot says ``previous``:

- a member seen for the first time starts at ``reached``;
- ``reached`` above ``previous``: up at once (at every evaluation, i.e. every refresh);
- ``reached`` below ``previous``: nothing happens until an evaluation date has passed
  since the previous snapshot — the fixed ``evaluation_dates`` each year, or each
  anniversary of the day the member reached the current tier — and then at most
  ``max_steps_down`` rungs per evaluation date passed (a grace: one bad year costs one
  step). Below the lowest rung a member has no tier (``None``).

``since`` is the snapshot date on which the member reached the tier they hold. The
decision is a pure function (:func:`next_tier`); the engine only sums the metric.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from memberlens.core.settings import TiersSettings
from memberlens.profile._expiry import YEAR, is_earning
from memberlens.profile._points import ledger_members
from memberlens.store import Warehouse

TIERS_SCHEMA = pa.schema(
    [
        ("snapshot_date", pa.date32()),
        ("member_id", pa.string()),
        ("tier", pa.string()),
        ("qualifying_value", pa.decimal128(18, 2)),
        ("since", pa.date32()),
        ("previous_tier", pa.string()),
    ]
)


def _on(year: int, month: int, day: int) -> date:
    # A member who reached a tier on 29 February is evaluated on 28 February, every year.
    return date(year, month, min(day, 28) if (month, day) == (2, 29) else day)


def evaluations_between(
    settings: TiersSettings, *, since: date | None, after: date, upto: date
) -> int:
    """How many evaluation dates fall in ``(after, upto]``.

    Examples
    --------
    >>> s = TiersSettings(evaluation_dates=["01-01", "07-01"])
    >>> evaluations_between(s, since=None, after=date(2024, 6, 30), upto=date(2025, 1, 1))
    2
    >>> a = TiersSettings(evaluation="anniversary")
    >>> evaluations_between(a, since=date(2023, 3, 10), after=date(2024, 3, 9),
    ...                     upto=date(2024, 3, 10))
    1
    """
    found = 0
    for year in range(after.year, upto.year + 1):
        if settings.evaluation == "anniversary":
            days = [_on(year, since.month, since.day)] if since and year > since.year else []
        else:
            days = [_on(year, int(md[:2]), int(md[3:])) for md in settings.evaluation_dates]
        found += sum(after < d <= upto for d in days)
    return found


def next_tier(
    settings: TiersSettings,
    *,
    value: Decimal,
    previous: str | None,
    since: date | None,
    previous_date: date | None,
    today: date,
) -> tuple[str | None, date | None]:
    """The member's tier and its ``since`` on ``today`` (see the module docstring).

    ``previous_date`` is the date of the member's previous snapshot, ``None`` for a
    member not seen before.

    Examples
    --------
    >>> s = TiersSettings()  # Silver 0, Gold 2000, Platinum 8000; down on 01-01
    >>> next_tier(s, value=Decimal(9000), previous="Silver", since=date(2024, 1, 1),
    ...           previous_date=date(2024, 5, 1), today=date(2024, 5, 2))
    ('Platinum', datetime.date(2024, 5, 2))
    >>> next_tier(s, value=Decimal(0), previous="Platinum", since=date(2024, 5, 2),
    ...           previous_date=date(2024, 12, 31), today=date(2025, 1, 1))
    ('Gold', datetime.date(2025, 1, 1))
    """
    names = [level.name for level in settings.levels]
    reached = sum(value >= level.threshold for level in settings.levels) - 1
    if previous_date is None or (previous is not None and previous not in names):
        return (names[reached], today) if reached >= 0 else (None, None)
    held = names.index(previous) if previous is not None else -1
    if reached > held:
        return names[reached], today
    if reached == held:
        return previous, since
    passed = evaluations_between(settings, since=since, after=previous_date, upto=today)
    lowest = max(reached, held - settings.max_steps_down * passed)
    if lowest == held:
        return previous, since
    return (names[lowest], today) if lowest >= 0 else (None, None)


def qualifying_values(warehouse: Warehouse, cutoff: datetime, settings: TiersSettings) -> ir.Table:
    """``(member_id, value)`` for every member: the metric over the 365 days before."""
    mm = warehouse.table("member_map")
    members = mm.select("member_id").distinct()
    if settings.metric == "points_365d":
        ml = ledger_members(warehouse)
        ml = ml.filter(is_earning(ml), ml.occurred_at >= cutoff - YEAR, ml.occurred_at < cutoff)
        sums = ml.group_by("member_id").aggregate(v=ml.points.sum().cast("decimal(18,2)"))
    else:
        o = warehouse.table("orders")
        o = o.filter(
            o.ordered_at >= cutoff - YEAR,
            o.ordered_at < cutoff,
            o.status.isnull() | (o.status == "completed"),
        )
        o = o.join(mm, ["source", "source_member_key"])
        sums = o.group_by("member_id").aggregate(v=o.total_amount.sum().cast("decimal(18,2)"))
    joined = members.left_join(sums, "member_id")
    return joined.select(
        member_id=joined.member_id, value=joined.v.fill_null(0).cast("decimal(18,2)")
    )


def _previous(
    warehouse: Warehouse, snapshot: date
) -> tuple[date | None, dict[str, tuple[Any, Any]]]:
    t = warehouse.table("member_tiers")
    earlier = t.filter(t.snapshot_date < snapshot)
    last = warehouse.to_pyarrow(earlier.snapshot_date.max().name("d").as_table())
    when = last.column("d")[0].as_py()
    if when is None:
        return None, {}
    rows = warehouse.to_pyarrow(
        earlier.filter(earlier.snapshot_date == when).select("member_id", "tier", "since")
    )
    return when, {r["member_id"]: (r["tier"], r["since"]) for r in rows.to_pylist()}


def write_tiers(
    warehouse: Warehouse, cutoff: datetime, snapshot: date, settings: TiersSettings
) -> tuple[dict[str, int], int]:
    """Write ``member_tiers`` for ``snapshot``; return members per tier and changes."""
    when, before = _previous(warehouse, snapshot)
    values = warehouse.to_pyarrow(
        qualifying_values(warehouse, cutoff, settings).order_by("member_id")
    )
    rows: list[dict[str, object]] = []
    counts: dict[str, int] = {}
    changed = 0
    for member, value in zip(
        values.column("member_id").to_pylist(), values.column("value").to_pylist(), strict=True
    ):
        previous, since = before.get(member, (None, None))
        tier, new_since = next_tier(
            settings,
            value=value,
            previous=previous,
            since=since,
            previous_date=when if member in before else None,
            today=snapshot,
        )
        changed += member in before and tier != previous
        counts[tier or ""] = counts.get(tier or "", 0) + 1
        rows.append(
            {
                "snapshot_date": snapshot,
                "member_id": member,
                "tier": tier,
                "qualifying_value": value,
                "since": new_since,
                "previous_tier": previous,
            }
        )
    table = pa.Table.from_pylist(rows, schema=TIERS_SCHEMA)
    warehouse.execute("DELETE FROM member_tiers WHERE snapshot_date = ?", [snapshot])
    warehouse.native.register("_new_tiers", table)
    try:
        warehouse.execute("INSERT INTO member_tiers BY NAME SELECT * FROM _new_tiers")
    finally:
        warehouse.native.unregister("_new_tiers")
    return dict(sorted(counts.items())), changed

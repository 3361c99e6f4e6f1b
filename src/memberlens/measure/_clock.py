"""How recent the data is: what the workspace clock and its staleness warning read."""

from __future__ import annotations

from datetime import UTC, datetime

import ibis.expr.types as ir

from memberlens.store import Warehouse

# (table, time column): the activity that says how far the data reaches.
ACTIVITY = (("orders", "ordered_at"), ("events", "occurred_at"))


def newest_activity(warehouse: Warehouse, *, until: datetime) -> datetime | None:
    """The newest order or event time before ``until`` (naive UTC), or None without any.

    Rows flagged ``out_of_window`` by their import are left out, and so are times from
    ``until`` on (pass now): a stray timestamp in 2037 says nothing about how far the
    data reaches.
    """
    limit = until.astimezone(UTC).replace(tzinfo=None) if until.tzinfo else until
    found: list[datetime] = []
    for name, column in ACTIVITY:
        if not warehouse.has_table(name):
            continue
        t = warehouse.table(name)
        stamp: ir.TimestampColumn = t[column]
        kept = t.filter(
            stamp < limit, t["_flags"].isnull() | ~t["_flags"].contains("out_of_window")
        )
        value = kept[column].max().execute()
        if value is not None and str(value) != "NaT":
            found.append(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
    return max(found) if found else None

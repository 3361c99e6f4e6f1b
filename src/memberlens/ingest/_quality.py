"""Data quality of the raw tables, aggregated in the engine (Ibis)."""

from __future__ import annotations

import ibis.expr.types as ir

from memberlens.ingest.contracts import QuarantineRow, TableQuality
from memberlens.schema import RAW_TABLES, Table
from memberlens.store import Warehouse

# The column that names a row rather than describes it, per table: rows equal apart
# from it are reported as possible duplicates (two identical purchases on one day,
# one person registered twice).
_IDENTITY = {
    "members": "source_member_key",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "line_no",
    "events": "event_id",
    "feedback": "feedback_id",
    "touches": "touch_id",
}


def quality_report(warehouse: Warehouse) -> dict[str, TableQuality]:
    """Per raw table: rows, null rate per column, invalid (quarantined) rows,
    possible duplicates, orphans and time range."""
    invalid = _quarantined_by_table(warehouse)
    return {
        name: _table_quality(warehouse, table, invalid.get(name, 0))
        for name, table in RAW_TABLES.items()
    }


def _quarantined_by_table(warehouse: Warehouse) -> dict[str, int]:
    q = warehouse.table("quarantine")
    counts = q.group_by("table_name").aggregate(n=q.count()).to_pyarrow().to_pylist()
    out: dict[str, int] = {}
    for row in counts:
        for name in str(row["table_name"]).split("+"):
            out[name] = out.get(name, 0) + int(row["n"])
    return out


def _table_quality(warehouse: Warehouse, table: Table, invalid: int) -> TableQuality:
    t = warehouse.table(table.name)
    cols = [c.name for c in table.columns]
    metrics = [t.count().name("rows")]
    metrics += [t[c].isnull().cast("float64").mean().name(c) for c in cols]
    if table.time_column:
        tc = t[table.time_column]
        metrics += [tc.min().name("_min"), tc.max().name("_max")]
    row = t.aggregate(metrics).to_pyarrow().to_pylist()[0]
    rows = int(row["rows"])
    null_rate = {c: round(float(row[c] or 0.0), 4) if rows else 0.0 for c in cols}
    time_range = None
    if table.time_column and row.get("_min") is not None:
        time_range = (row["_min"].isoformat(), row["_max"].isoformat())
    descriptive = [c for c in cols if c != _IDENTITY.get(table.name)]
    distinct = int(t.select(*descriptive).distinct().count().execute()) if rows else 0
    return TableQuality(
        rows=rows,
        null_rate=null_rate,
        invalid=invalid,
        duplicates=rows - distinct,
        orphans=_orphans(warehouse, table, t),
        time_range=time_range,
    )


def _orphans(warehouse: Warehouse, table: Table, t: ir.Table) -> int:
    """Rows whose member, or whose order, is unknown."""
    if table.name == "order_items":
        orders = warehouse.table("orders")
        return int(t.anti_join(orders, ["source", "order_id"]).count().execute())
    if not table.member_keyed or table.name == "members":
        return 0
    members = warehouse.table("members").select("source", "source_member_key")
    keyed = t.filter(t.source_member_key.notnull())
    return int(keyed.anti_join(members, ["source", "source_member_key"]).count().execute())


def quarantined_rows(warehouse: Warehouse, run_id: str) -> list[QuarantineRow]:
    """The rejected rows of one run, with their reasons (personal values already masked).

    The raw row text is not returned: it may hold personal data and stays encrypted.
    """
    q = warehouse.table("quarantine")
    rows = (
        q.filter(q.run_id == run_id)
        .order_by("line")
        .select("line", "column_name", "reason")
        .to_pyarrow()
        .to_pylist()
    )
    return [QuarantineRow(r["line"], r["column_name"], r["reason"]) for r in rows]

"""The refresh's recommendations step: build every scenario's lists, keep them as a
warehouse snapshot (``recommendations``, ``recommendation_fallback``) for analysis and
for the online step to publish."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from memberlens.core import progress
from memberlens.core.errors import InputError
from memberlens.core.settings import load_settings
from memberlens.recommend._lists import SCHEMA, Lists, build_lists
from memberlens.recommend._products import load_products
from memberlens.recommend._scenarios import Scenarios
from memberlens.store import StateStore, Warehouse

TABLE = "recommendations"
FALLBACK_TABLE = "recommendation_fallback"


def ensure_tables(warehouse: Warehouse) -> None:
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (snapshot_date DATE NOT NULL, "
        "scenario VARCHAR NOT NULL, list_id VARCHAR NOT NULL, rank INTEGER NOT NULL, "
        "product_id VARCHAR NOT NULL, score DOUBLE, reason VARCHAR, algorithm VARCHAR)"
    )
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {FALLBACK_TABLE} (snapshot_date DATE NOT NULL, "
        "member_id VARCHAR NOT NULL, list_id VARCHAR NOT NULL)"
    )


def _snapshot(cutoff: datetime) -> tuple[datetime, date]:
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    return moment, moment.date()


def compute_recommendations(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    cutoff: datetime,
    scenarios: Scenarios,
    memory_budget: int | None = None,
) -> dict[str, Any]:
    """Replace the cut-off day's snapshot of the lists; the step summary.

    ``memory_budget`` (bytes) defaults to the workspace's ``[recommend]
    memory_budget`` (a quarter of the machine's memory unless set). Progress: the
    stages of :func:`build_lists`, then ``snapshot``.
    """
    ensure_tables(warehouse)
    moment, snapshot = _snapshot(cutoff)
    if memory_budget is None:
        memory_budget = load_settings(root).recommend.budget_bytes()
    try:
        lists = build_lists(
            warehouse, state, root, cutoff=moment, scenarios=scenarios, memory_budget=memory_budget
        )
    except InputError as exc:  # nothing to learn from yet: an empty snapshot, not a failure
        lists = Lists(summary={"skipped": str(exc)})
    rows = lists.table()
    fallback = pa.table(
        {
            "member_id": pa.array(list(lists.fallback), pa.string()),
            "list_id": pa.array(list(lists.fallback.values()), pa.string()),
        }
    )
    with progress.stage("snapshot"), warehouse.transaction():
        for table, part in ((TABLE, rows), (FALLBACK_TABLE, fallback)):
            warehouse.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [snapshot])
            warehouse.native.register("_rec_part", part)
            try:
                warehouse.execute(
                    f"INSERT INTO {table} BY NAME SELECT ?::DATE AS snapshot_date, * "
                    "FROM _rec_part",
                    [snapshot],
                )
            finally:
                warehouse.native.unregister("_rec_part")
    return lists.summary


def read_lists(warehouse: Warehouse, *, cutoff: datetime) -> Lists:
    """The lists of the cut-off day's snapshot (empty when there is none), with the
    catalogue's facts of every product they name."""
    ensure_tables(warehouse)
    _, snapshot = _snapshot(cutoff)
    out = Lists()
    rows = warehouse.execute(
        f"SELECT scenario, list_id, rank, product_id, score, reason, algorithm FROM {TABLE} "
        "WHERE snapshot_date = ? ORDER BY scenario, list_id, rank",
        [snapshot],
    ).fetch_arrow_table()
    if rows.num_rows:
        out.parts.append(rows.cast(SCHEMA))
    out.fallback = dict(
        warehouse.fetch_all(
            f"SELECT member_id, list_id FROM {FALLBACK_TABLE} WHERE snapshot_date = ?",
            [snapshot],
        )
    )
    if rows.num_rows:
        # The facts of the products the lists name; a list's category beats none.
        named = np.asarray(sorted(rows.column("product_id").unique().to_pylist()), dtype=str)
        out.products = load_products(warehouse, named)
    return out

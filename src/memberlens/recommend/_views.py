"""Read-only views of the refresh's list snapshots for the console and reports:
aggregated in the engine, a few rows back."""

from __future__ import annotations

import math
from typing import Any

import ibis

from memberlens.recommend._step import TABLE
from memberlens.store import Warehouse

ITEM_PREFIX = "@item:"


def _latest(warehouse: Warehouse) -> tuple[Any, ibis.Table | None]:
    """The newest snapshot day of the lists and its rows (None, None: no snapshot)."""
    if not warehouse.has_table(TABLE):
        return None, None
    t = warehouse.table(TABLE)
    day = warehouse.to_pyarrow(t.aggregate(day=t.snapshot_date.max()))["day"][0].as_py()
    return (day, t.filter(t.snapshot_date == day)) if day is not None else (None, None)


def list_counts(warehouse: Warehouse) -> tuple[Any, dict[str, dict[str, Any]]]:
    """Per scenario of the newest snapshot: lists by kind (member, fallback, item) and
    the algorithms its own lists name; and the snapshot's day."""
    day, rows = _latest(warehouse)
    if rows is None:
        return None, {}
    kind = ibis.cases(
        (rows.list_id.startswith(ITEM_PREFIX), "item"),
        (rows.list_id.startswith("@"), "fallback"),
        else_="member",
    )
    grouped = (
        rows.mutate(kind=kind)
        .group_by(["scenario", "kind", "algorithm"])
        .aggregate(lists=ibis._.list_id.nunique())
    )
    counts: dict[str, dict[str, Any]] = {}
    ordered = grouped.order_by(["scenario", "kind", "algorithm"])
    for r in warehouse.to_pyarrow(ordered).to_pylist():
        slot = counts.setdefault(
            r["scenario"], {"member": 0, "fallback": 0, "item": 0, "algorithms": []}
        )
        slot[r["kind"]] += r["lists"]
        if r["kind"] != "fallback":  # fallbacks are always "trending"
            slot["algorithms"].append(r["algorithm"])
    return day, counts


def product_facts(warehouse: Warehouse, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Name, category, price (a float, None when unknown) and stock of ``ids`` as
    imported (the smallest source wins when several list a product)."""
    if not ids or not warehouse.has_table("products"):
        return {}
    p = warehouse.table("products")
    chosen = p.filter(p.product_id.isin(ids)).order_by(["product_id", "source"])
    found: dict[str, dict[str, Any]] = {}
    for r in warehouse.to_pyarrow(
        chosen.select("product_id", "name", "category", "price", "in_stock")
    ).to_pylist():
        found.setdefault(r["product_id"], r)
    return {k: {**v, "price": _money(v["price"])} for k, v in found.items()}


def _money(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def most_recommended(
    warehouse: Warehouse, scenario: str, n: int
) -> tuple[Any, list[dict[str, Any]]]:
    """The ``n`` products in the most lists of the newest snapshot, among those with a
    list of their own in item ``scenario``; with how many lists hold each, and name."""
    day, rows = _latest(warehouse)
    if rows is None:
        return None, []
    anchors = (
        rows.filter((rows.scenario == scenario) & rows.list_id.startswith(ITEM_PREFIX))
        .select(product_id=rows.list_id.substr(len(ITEM_PREFIX)))
        .distinct()
    )
    most = (
        rows.group_by("product_id")
        .aggregate(lists=ibis._.list_id.nunique())
        .semi_join(anchors, "product_id")
        .order_by([ibis.desc("lists"), "product_id"])
        .limit(n)
    )
    found = warehouse.to_pyarrow(most).to_pylist()
    facts = product_facts(warehouse, [r["product_id"] for r in found])
    return day, [{**r, "name": (facts.get(r["product_id"]) or {}).get("name") or ""} for r in found]

"""Recommendations on the request path: precomputed lists, request-time rules on top.

``publish_recommendations`` swaps in, in one state transaction, the lists a refresh
computed, each member's fallback list and the products' facts. ``recommendations_now``
answers from the state DB only (never the warehouse):

1. consent — a member who refused personalisation gets the non-personalised list
   (``@all``), asked of the same consent function every other decision uses;
2. the member's own list, else their fallback — their city's or region's trending
   list, else ``@all`` (cold start) — never a mix: a fallback knows nothing of what
   the member bought already;
3. request-time rules — out of stock now (stock updates from ``POST /products`` land
   at once) and just bought (purchases accepted by the API since the publication),
   unless the category is repurchasable — and the first ``k`` that remain.

Each item's reason is stored as a code with parameters and answered in the words of
the ``locale`` asked for (English unless told), beside its ``reason_code`` and
``reason_params``.

``note_accepted`` is what the collect routes call after committing a batch: it keeps
stock and "just bought" current between refreshes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select

from memberlens.core.clock import utc_now
from memberlens.core.settings import ConsentSettings
from memberlens.online._consent import any_key, decide, key_values, member_keys
from memberlens.privacy import consent_slot, default_decision
from memberlens.recommend import Lists, Scenario, Scenarios, reason_code, reason_text
from memberlens.store import (
    BufferRow,
    ProductRow,
    RecentPurchaseRow,
    RecommendationFallbackRow,
    RecommendationRow,
    StateStore,
)

PERSONALISATION = "personalisation"
EVERYONE = "@all"
_CHUNK = 10_000


@dataclass(frozen=True)
class Served:
    """One answer of the recommendations endpoint."""

    scenario: str
    member_id: str | None
    personalised: bool
    consent_code: str
    items: list[dict[str, Any]] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    as_of: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "member_id": self.member_id,
            "personalised": self.personalised,
            "consent_code": self.consent_code,
            "lists": self.lists,
            "as_of": self.as_of.isoformat() + "Z" if self.as_of else None,
            "items": self.items,
        }


def publish_recommendations(state: StateStore, lists: Lists, *, as_of: datetime) -> dict[str, int]:
    """Replace the online lists, fallbacks and products with ``lists``; the counts."""
    stamp = as_of.replace(tzinfo=None)
    snapshot = utc_now().replace(tzinfo=None)
    table = lists.table()
    rows = [{**r, "as_of": stamp} for r in table.to_pylist()]
    fallback = [{"member_id": m, "list_id": lid} for m, lid in sorted(lists.fallback.items())]
    products = []
    if lists.products is not None:
        p = lists.products
        for i in range(len(p)):
            price = float(p.price[i])
            products.append(
                {
                    "product_id": str(p.ids[i]),
                    "name": str(p.name[i])[:300],
                    "category": str(p.category[i])[:200],
                    "price": None if price != price else price,  # NaN: unknown
                    "in_stock": bool(p.in_stock[i]),
                    "updated_at": snapshot,
                }
            )
    with state.session() as s, s.begin():
        # Purchases flushed before this publication read the warehouse are in its lists.
        flushed = s.scalar(
            select(func.max(BufferRow.received_at)).where(
                BufferRow.status == "flushed", BufferRow.flushed_at < snapshot
            )
        )
        s.execute(delete(RecommendationRow))
        s.execute(delete(RecommendationFallbackRow))
        s.execute(delete(ProductRow))
        for start in range(0, len(rows), _CHUNK):
            s.execute(insert(RecommendationRow), rows[start : start + _CHUNK])
        for start in range(0, len(fallback), _CHUNK):
            s.execute(insert(RecommendationFallbackRow), fallback[start : start + _CHUNK])
        for start in range(0, len(products), _CHUNK):
            s.execute(insert(ProductRow), products[start : start + _CHUNK])
        if flushed is not None:
            s.execute(delete(RecentPurchaseRow).where(RecentPurchaseRow.at <= flushed))
        # Product changes the API accepted that this publication has not read yet.
        newer = s.scalars(
            select(BufferRow)
            .where(BufferRow.kind == "products", BufferRow.status != "rejected")
            .where((BufferRow.flushed_at.is_(None)) | (BufferRow.flushed_at >= snapshot))
            .order_by(BufferRow.buffer_id)
        ).all()
        for row in newer:
            if not row.encrypted:
                _apply_product(s, json.loads(row.payload), row.received_at)
    return {"recommendation_rows": len(rows), "fallbacks": len(fallback), "products": len(products)}


def _apply_product(s: Any, item: dict[str, Any], at: datetime) -> None:
    product_id = str(item.get("product_id") or "")
    if not product_id:
        return
    row = s.get(ProductRow, product_id)
    if row is None:
        row = ProductRow(product_id=product_id, name="", category="", price=None, in_stock=True)
        s.add(row)
    if item.get("name") is not None:
        row.name = str(item["name"])[:300]
    if item.get("category") is not None:
        row.category = str(item["category"])[:200]
    if item.get("price") is not None:
        row.price = float(item["price"])
    if item.get("in_stock") is not None:
        row.in_stock = bool(item["in_stock"])
    row.updated_at = at


def note_accepted(
    state: StateStore,
    kind: str,
    items: list[dict[str, Any]],
    accepted: list[bool],
    *,
    source: str = "api",
) -> None:
    """Keep stock and "just bought" current: called after the API committed a batch."""
    now = utc_now().replace(tzinfo=None)
    chosen = [item for item, ok in zip(items, accepted, strict=True) if ok]
    bought: list[dict[str, Any]] = []
    if kind == "events":
        bought = [
            {
                "source": i.get("source") or source,
                "key": i.get("source_member_key"),
                "product_id": i.get("product_id"),
            }
            for i in chosen
            if i.get("event_type") == "purchase"
        ]
    elif kind == "orders":
        for order in chosen:
            for line in order.get("items") or []:
                if isinstance(line, dict):
                    bought.append(
                        {
                            "source": order.get("source") or source,
                            "key": order.get("source_member_key"),
                            "product_id": line.get("product_id"),
                        }
                    )
    bought = [b for b in bought if b["key"] and b["product_id"]]
    if kind != "products" and not bought:
        return
    with state.session() as s, s.begin():
        if kind == "products":
            for item in chosen:
                _apply_product(s, item, now)
        for b in bought:
            s.add(
                RecentPurchaseRow(
                    source=str(b["source"]),
                    source_member_key=str(b["key"]),
                    product_id=str(b["product_id"]),
                    at=now,
                )
            )


# The request path's statements, built once: a handful of small indexed reads whose
# Python-side cost (statement building, ORM objects) outweighed SQLite's own work.
_FALLBACK = select(RecommendationFallbackRow.list_id).where(
    RecommendationFallbackRow.member_id == bindparam("member_id")
)
# A list's places with their product's facts (NULL when the product is not published).
_LIST = (
    select(
        RecommendationRow.list_id,
        RecommendationRow.product_id,
        RecommendationRow.score,
        RecommendationRow.reason,
        RecommendationRow.algorithm,
        RecommendationRow.as_of,
        ProductRow.name,
        ProductRow.category,
        ProductRow.in_stock,
    )
    .outerjoin(ProductRow, ProductRow.product_id == RecommendationRow.product_id)
    .where(
        RecommendationRow.scenario == bindparam("scenario"),
        RecommendationRow.list_id == bindparam("list_id"),
    )
    .order_by(RecommendationRow.rank)
)


def _list(s: Any, scenario: str, list_id: str) -> Sequence[Any]:
    rows: Sequence[Any] = s.execute(_LIST, {"scenario": scenario, "list_id": list_id}).all()
    return rows


def recommendations_now(
    state: StateStore,
    scenarios: Scenarios,
    *,
    scenario: str,
    k: int | None = None,
    member_id: str | None = None,
    source: str | None = None,
    source_member_key: str | None = None,
    consent: ConsentSettings,
    locale: str = "en",
) -> Served:
    """The first ``k`` items of the member's list after the request-time rules, their
    reasons in ``locale``."""
    chosen = scenarios.get(scenario)
    if chosen.anchor != "member":
        raise ValueError(f"{scenario} is an item scenario: ask for a product's list")
    k = k or chosen.k
    with state.engine.connect() as s:
        mid, keys = member_keys(
            s, member_id=member_id, source=source, source_member_key=source_member_key
        )
        if keys:
            purpose, channel = consent_slot(PERSONALISATION, "*", consent)
            decision = decide(
                s, mid, keys, purpose=purpose, channel=channel, defaults=consent, with_as_of=False
            )
        else:
            decision = default_decision(mid, PERSONALISATION, "*", consent, as_of=None)
        # A member's own list, else (cold start, or no consent) a fallback: never a mix —
        # a fallback knows nothing of what the member bought already.
        rows: Sequence[Any] = []
        tried: set[str] = set()
        if decision.allowed and mid is not None:
            rows = _list(s, scenario, mid)
            tried.add(mid)
            if not rows:
                fallback = s.execute(_FALLBACK, {"member_id": mid}).scalar()
                if fallback is not None and fallback not in tried:
                    rows = _list(s, scenario, fallback)
                    tried.add(fallback)
        if not rows and EVERYONE not in tried:
            rows = _list(s, scenario, EVERYONE)
        just_bought = _just_bought(s, keys, {r.product_id for r in rows})
    again = scenarios.repurchasable(chosen)
    items: list[dict[str, Any]] = []
    for r in rows:
        if r.in_stock is not None and not r.in_stock:  # published and out of stock now
            continue
        if r.product_id in just_bought and (r.category or "") not in again:
            continue
        items.append(_item(r, len(items) + 1, locale))
        if len(items) == k:
            break
    used = rows[0].list_id if rows else None
    return Served(
        scenario=scenario,
        member_id=mid,
        personalised=used is not None and used == mid,
        consent_code=str(decision.code),
        items=items,
        lists=[used] if used else [],
        as_of=rows[0].as_of if rows else None,
    )


def similar_now(
    state: StateStore,
    scenarios: Scenarios,
    *,
    scenario: str,
    product_id: str,
    k: int | None,
    locale: str = "en",
) -> Served:
    """An item scenario's list for ``product_id``, out-of-stock items left out; reasons
    in ``locale``."""
    chosen: Scenario = scenarios.get(scenario)
    if chosen.anchor != "item":
        raise ValueError(f"{scenario} is a member scenario: ask for a member's list")
    k = k or chosen.k
    list_id = f"@item:{product_id}"
    with state.engine.connect() as s:
        rows = _list(s, scenario, list_id)
    items: list[dict[str, Any]] = []
    for r in rows:
        if r.in_stock is not None and not r.in_stock:
            continue
        items.append(_item(r, len(items) + 1, locale))
        if len(items) == k:
            break
    return Served(
        scenario=scenario,
        member_id=None,
        personalised=False,
        consent_code="not_needed",
        items=items,
        lists=[list_id] if rows else [],
        as_of=rows[0].as_of if rows else None,
    )


@functools.cache
def _bought_by(n_keys: int) -> Any:
    """Products bought since the publication by any of ``n_keys`` (source, key) pairs."""
    who = any_key(RecentPurchaseRow.source, RecentPurchaseRow.source_member_key, n_keys)
    return select(RecentPurchaseRow.product_id).where(who)


def _just_bought(s: Any, keys: list[tuple[str, str]], products: set[str]) -> set[str]:
    """Which of ``products`` the member's keys bought since the publication."""
    if not keys or not products:
        return set()
    # A member's recent purchases are few: filter by product here, not in SQL.
    return set(s.scalars(_bought_by(len(keys)), key_values(keys))) & products


def _item(row: Any, rank: int, locale: str) -> dict[str, Any]:
    """One answer item from a row of ``_LIST`` (name and category "" when unpublished),
    its reason in ``locale``'s words beside the reason's code and parameters."""
    why = reason_code(row.reason).to_json()
    return {
        "rank": rank,
        "product_id": row.product_id,
        "name": row.name if row.name is not None else "",
        "category": row.category if row.category is not None else "",
        "score": row.score,
        "reason": reason_text(row.reason, locale),
        "reason_code": why["code"],
        "reason_params": why["params"],
        "algorithm": row.algorithm,
    }

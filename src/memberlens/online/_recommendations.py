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
import hashlib
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, bindparam, delete, func, insert, select

from memberlens.core import progress
from memberlens.core.clock import utc_now
from memberlens.core.settings import ConsentSettings
from memberlens.online._consent import any_key, decide, key_values, member_keys
from memberlens.privacy import consent_slot, default_decision
from memberlens.recommend import Lists, Scenario, Scenarios, reason_code, reason_text
from memberlens.store import (
    Base,
    BufferRow,
    ProductRow,
    RecentPurchaseRow,
    RecommendationFallbackRow,
    RecommendationRow,
    StateStore,
    WorkspaceMeta,
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
    """Replace the online lists, fallbacks and products with ``lists``; the counts.

    Rows go in by one ``executemany`` per chunk of plain tuples read from the lists'
    Arrow columns (:func:`_insert_rows`): hundreds of thousands of list places, never
    as ORM objects or dictionaries.
    """
    stamp = as_of.replace(tzinfo=None)
    snapshot = utc_now().replace(tzinfo=None)
    table = lists.table()
    fallback = sorted(lists.fallback.items())
    products = _product_rows(lists, snapshot)
    with progress.stage("publish recommendations"), state.session() as s, s.begin():
        # Purchases flushed before this publication read the warehouse are in its lists.
        flushed = s.scalar(
            select(func.max(BufferRow.received_at)).where(
                BufferRow.status == "flushed", BufferRow.flushed_at < snapshot
            )
        )
        conn = s.connection()
        # A refresh that did not change the lists (a partial rerun, the same snapshot)
        # leaves them in place: the digest of what was published last says so.
        digest = _digest(table, fallback, stamp)
        known = s.get(WorkspaceMeta, _DIGEST_KEY)
        unchanged = (
            known is not None
            and known.value == digest
            and s.scalar(select(func.count()).select_from(RecommendationRow)) == table.num_rows
        )
        if not unchanged:
            _replace_lists(conn, table, fallback, stamp)
            s.merge(WorkspaceMeta(key=_DIGEST_KEY, value=digest))
        s.execute(delete(ProductRow))
        updated = _bound(conn, ProductRow.__table__.c.updated_at, snapshot)
        _insert_rows(
            conn, ProductRow, [*_PRODUCT_COLUMNS, "updated_at"],
            ((*row, updated) for row in products),
        )  # fmt: skip
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
    return {
        "recommendation_rows": table.num_rows,
        "fallbacks": len(fallback),
        "products": len(products),
        "recommendations_unchanged": unchanged,
    }


_DIGEST_KEY = "online.recommendations.digest"


def _digest(table: pa.Table, fallback: list[tuple[str, str]], stamp: datetime) -> str:
    """A digest of a publication's lists, fallbacks and as-of moment.

    Each column is hashed chunk by chunk from its values (:func:`_value_bytes`), so
    the same rows give the same digest however the table is chunked, and nothing is
    copied whole (a serialised copy of the table was the refresh's peak of memory).
    """
    digest = hashlib.sha256(str(table.schema).encode())
    for column in table.columns:
        # a stream per kind of bytes (validity, values, characters): chunk boundaries
        # then fall nowhere in what is hashed
        streams = [hashlib.sha256() for _ in range(3)]
        for chunk in column.chunks:
            for stream, part in zip(streams, _value_bytes(chunk), strict=False):
                stream.update(part)
        for stream in streams:
            digest.update(stream.digest())
    digest.update(json.dumps([stamp.isoformat(), fallback]).encode())
    return digest.hexdigest()


def _value_bytes(array: pa.Array) -> Iterable[Any]:
    """The values of ``array`` as bytes that do not depend on how it is stored: each
    row's validity, then the numbers, or each string's length and the characters."""
    yield np.asarray(array.is_valid()).tobytes()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        width = np.int64 if pa.types.is_large_string(array.type) else np.int32
        _, offsets, data = array.buffers()
        at = np.frombuffer(offsets, dtype=width)[array.offset : array.offset + len(array) + 1]
        yield np.diff(at).astype(np.int64).tobytes()
        yield memoryview(data)[int(at[0]) : int(at[-1])] if data is not None else b""
    else:
        yield np.asarray(array.fill_null(0)).tobytes()


def _replace_lists(
    conn: Connection, table: pa.Table, fallback: list[tuple[str, str]], stamp: datetime
) -> None:
    """The online lists and fallbacks replaced by ``table`` and ``fallback``."""
    conn.execute(delete(RecommendationRow))
    conn.execute(delete(RecommendationFallbackRow))
    at = _bound(conn, RecommendationRow.__table__.c.as_of, stamp)
    for done, batch in enumerate(table.to_batches(max_chunksize=_CHUNK)):
        values = [batch.column(name).to_pylist() for name in _LIST_COLUMNS]
        _insert_rows(
            conn, RecommendationRow, [*_LIST_COLUMNS, "as_of"],
            zip(*values, itertools.repeat(at, batch.num_rows), strict=False),
        )  # fmt: skip
        progress.advance(min((done + 1) * _CHUNK, table.num_rows), table.num_rows)
    _insert_rows(conn, RecommendationFallbackRow, ["member_id", "list_id"], fallback)


_LIST_COLUMNS = ["scenario", "list_id", "rank", "product_id", "score", "reason", "algorithm"]
_PRODUCT_COLUMNS = ["product_id", "name", "category", "price", "in_stock"]


def _product_rows(lists: Lists, snapshot: datetime) -> list[tuple[Any, ...]]:
    """The catalogue's facts of the lists' products, in ``_PRODUCT_COLUMNS`` order."""
    p = lists.products
    if p is None:
        return []
    price = [None if v != v else float(v) for v in p.price.tolist()]  # NaN: unknown
    return list(
        zip(
            [str(v) for v in p.ids.tolist()],
            [str(v)[:300] for v in p.name.tolist()],
            [str(v)[:200] for v in p.category.tolist()],
            price,
            [bool(v) for v in p.in_stock.tolist()],
            strict=True,
        )
    )


def _bound(conn: Connection, column: Any, value: Any) -> Any:
    """``value`` as the dialect binds it for ``column`` (a datetime as SQLite's text)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


def _insert_rows(
    conn: Connection, table: type[Base], columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, values as the dialect binds them):
    straight to the DB-API ``executemany`` when the dialect binds by position (SQLite),
    else Core ``executemany`` with one dictionary per row."""
    statement = insert(table)
    compiled = statement.compile(dialect=conn.dialect, column_keys=columns)
    chunk: list[tuple[Any, ...]] = []
    for row in itertools.chain(rows, [None]):
        if row is not None:
            chunk.append(row)
        if chunk and (row is None or len(chunk) == _CHUNK):
            if compiled.positional and list(compiled.positiontup or ()) == columns:
                conn.exec_driver_sql(str(compiled), chunk)
            else:
                conn.execute(statement, [dict(zip(columns, r, strict=True)) for r in chunk])
            chunk = []


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

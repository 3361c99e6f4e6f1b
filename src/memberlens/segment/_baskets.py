"""Baskets from the warehouse: the engine groups, Python mines the compact list.

A basket is one order (``basket="order"``: the lines of ``(source, order_id)``) or
one member's purchases on one UTC day (``basket="member_day"``: for sources whose
orders carry no id of their own, and to join a member's same-day orders across
sources). Members come through ``member_map`` (DESIGN), so after a merge one
person's same-day purchases from two sources are one basket. An item is a
``product_id``, or the product's ``category`` from ``products``.

Lines count when their order is known, inside the time window, and neither
cancelled nor refunded: a basket is what a member kept.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from memberlens.schema import REFUND_STATUSES
from memberlens.segment._rules import mine_rules
from memberlens.segment.contracts import BasketParams, BasketRules, Baskets, NoBaskets
from memberlens.store import Warehouse

_DROPPED = ("cancelled", *REFUND_STATUSES)


def basket_lines(warehouse: Warehouse, params: BasketParams) -> ir.Table:
    """One row per order line that counts: ``basket`` (a string key) and ``item``."""
    o = warehouse.table("orders")
    o = o.filter(o.status.isnull() | ~o.status.isin(_DROPPED))
    if params.since is not None:
        o = o.filter(o.ordered_at >= params.since)
    if params.until is not None:
        o = o.filter(o.ordered_at < params.until)
    lines = warehouse.table("order_items")
    lines = lines.inner_join(o, ["source", "order_id"])
    if params.basket == "member_day":
        mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
        lines = lines.inner_join(mm, ["source", "source_member_key"])
        key = lines.member_id.concat("|", lines.ordered_at.date().cast("string"))
    else:
        key = lines.source.concat("|", lines.order_id)
    lines = lines.select(basket=key, product_id=lines.product_id)
    if params.by == "category":
        products = warehouse.table("products").select("product_id", "category")
        lines = lines.inner_join(products, "product_id").select("basket", item=products.category)
    else:
        lines = lines.select("basket", item=lines.product_id)
    return lines.filter(lines.item.notnull() & (lines.item.strip() != ""))


def build_baskets(warehouse: Warehouse, params: BasketParams) -> Baskets:
    """The baskets as compressed rows of item codes.

    The engine collects each basket's distinct items; only that list travels to
    Python, where it is coded against the sorted vocabulary of items.

    Examples
    --------
    >>> build_baskets(wh, BasketParams(basket="member_day")).n_baskets  # doctest: +SKIP
    14963
    """
    lines = basket_lines(warehouse, params)
    grouped = lines.group_by("basket").aggregate(items=lines.item.collect(distinct=True))
    table = warehouse.to_pyarrow(grouped.order_by("basket"))
    column = table.column("items").combine_chunks()
    if not isinstance(column, pa.ListArray) and not isinstance(column, pa.LargeListArray):
        column = column.cast(pa.list_(pa.string()))
    flat = column.flatten()
    vocab = pc.unique(flat).sort()
    codes = pc.index_in(flat, value_set=vocab).to_numpy(zero_copy_only=False)
    offsets = column.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    return Baskets(
        items=tuple(vocab.to_pylist()),
        indptr=offsets - offsets[0],
        indices=codes.astype(np.int64),
    )


def basket_rules(warehouse: Warehouse, params: BasketParams | None = None) -> BasketRules:
    """Frequent itemsets and association rules of the warehouse's baskets.

    Parameters
    ----------
    warehouse
        The warehouse to read ``orders``, ``order_items``, ``member_map`` and
        ``products`` from.
    params
        Basket definition and thresholds (defaults: :class:`BasketParams`).

    Raises
    ------
    NoBaskets
        When no order line counts with these options.

    Examples
    --------
    >>> basket_rules(wh, BasketParams(min_support=0.001)).rules[0].lift  # doctest: +SKIP
    2.18...
    """
    params = params or BasketParams()
    baskets = build_baskets(warehouse, params)
    if baskets.n_baskets == 0:
        raise NoBaskets(_why_empty(params))
    return mine_rules(baskets, params)


def _why_empty(params: BasketParams) -> str:
    hint = "load orders and order_items (memberlens ingest order_items FILE)"
    if params.by == "category":
        hint = (
            "load products with a category (memberlens ingest products FILE), or use --by product"
        )
    window = ""
    if params.since is not None or params.until is not None:
        window = f" between {params.since or 'the start'} and {params.until or 'now'}"
    return f"no basket to analyse{window}: {hint}"

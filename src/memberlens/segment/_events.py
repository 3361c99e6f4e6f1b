"""Event functions of the rule language: what a member did within a time window.

``purchased(within: 30d)``, ``viewed(category: "baby", within: 7d, at_least: 2)``, ...
Each counts the member's rows in ``[cutoff - within, cutoff)`` — orders for
``purchased`` (kept orders: not cancelled, refunded or returned; a category or product
filter keeps orders with such a line), events of one type for the others (stitched
anonymous events included) — and is true when the count reaches ``at_least``. Every
engine evaluates them as one aggregate per function call, joined to the member table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import ibis
import ibis.expr.types as ir

from memberlens import identity
from memberlens.rules import Duration, FunctionSpec, Param, Value
from memberlens.store import Warehouse

REFUNDED = ("refunded", "returned")
DEFAULT_WITHIN = Duration(365, "d")

# function name -> (event type or None for orders, description)
EVENT_FUNCTIONS: dict[str, tuple[str | None, str]] = {
    "purchased": (None, "Placed at least at_least kept orders within the window."),
    "viewed": ("view", "Viewed (event view) at least at_least times within the window."),
    "searched": ("search", "Searched at least at_least times within the window."),
    "carted": ("add_to_cart", "Added to cart at least at_least times within the window."),
    "favorited": ("favorite", "Favourited at least at_least times within the window."),
    "checked_out": ("checkout", "Started checkout at least at_least times within the window."),
    "logged_in": ("login", "Logged in at least at_least times within the window."),
}


def _params(with_items: bool) -> tuple[Param, ...]:
    params = [
        Param("within", "duration", default=DEFAULT_WITHIN, description="The window, e.g. 30d."),
        Param("at_least", "number", default=1, description="Smallest count."),
    ]
    if with_items:
        params += [
            Param("category", "string", description="Only products of this category."),
            Param("product", "string", description="Only this product id."),
        ]
    return tuple(params)


def event_functions(
    warehouse: Warehouse | None = None, cutoff: datetime | None = None
) -> list[FunctionSpec]:
    """The event functions; with a warehouse and a naive-UTC cut-off they compile too."""
    made = []
    for name, (event_type, description) in EVENT_FUNCTIONS.items():
        made.append(
            FunctionSpec(
                name,
                _params(with_items=event_type not in ("login", "search")),
                "boolean",
                description,
                _compiler(warehouse, cutoff, event_type),
            )
        )
    made.append(
        FunctionSpec(
            "did",
            (
                Param("event", "string", required=True, description="An event_type."),
                *_params(with_items=True),
            ),
            "boolean",
            "Has at least at_least events of this event_type within the window.",
            _compiler(warehouse, cutoff, None, generic=True),
        )
    )
    return made


def _compiler(
    warehouse: Warehouse | None,
    cutoff: datetime | None,
    event_type: str | None,
    *,
    generic: bool = False,
) -> Callable[[ir.Table, Mapping[str, Value | None]], ir.Value]:
    def compile_(members: ir.Table, args: Mapping[str, Value | None]) -> ir.Value:
        if warehouse is None or cutoff is None:
            raise RuntimeError("event functions compile only with a warehouse and a cut-off")
        at_least = float(args["at_least"] or 0)  # type: ignore[arg-type]
        if at_least <= 0:
            return ibis.literal(True)  # "at least 0 times" holds for everyone
        within = args["within"]
        assert isinstance(within, Duration)
        start = ibis.literal(cutoff) - within.to_ibis()
        if generic:
            rows = _events(warehouse, cutoff, str(args["event"]), start, args)
        elif event_type is None:
            rows = _orders(warehouse, cutoff, start, args)
        else:
            rows = _events(warehouse, cutoff, event_type, start, args)
        counted = rows.group_by("member_id").aggregate(n=rows.count())
        return members.member_id.isin(counted.filter(counted.n >= at_least).member_id)

    return compile_


def _products(warehouse: Warehouse, args: Mapping[str, Value | None]) -> ir.Table | None:
    if args.get("category") is None and args.get("product") is None:
        return None
    p = warehouse.table("products").select("product_id", "category")
    if args.get("category") is not None:
        p = p.filter(p.category == args["category"])
    if args.get("product") is not None:
        p = p.filter(p.product_id == args["product"])
    return p


def _events(
    warehouse: Warehouse,
    cutoff: datetime,
    event_type: str,
    start: ir.TimestampValue,
    args: Mapping[str, Value | None],
) -> ir.Table:
    e = identity.events_with_members(warehouse)
    e = e.filter(e.event_type == event_type, e.occurred_at >= start, e.occurred_at < cutoff)
    products = _products(warehouse, args)
    if products is not None:
        e = e.filter(e.product_id.isin(products.product_id))
    return e.select("member_id")


def _orders(
    warehouse: Warehouse,
    cutoff: datetime,
    start: ir.TimestampValue,
    args: Mapping[str, Value | None],
) -> ir.Table:
    o = warehouse.table("orders")
    o = o.filter(
        o.ordered_at >= start,
        o.ordered_at < cutoff,
        o.status.isnull() | ~o.status.isin(("cancelled", *REFUNDED)),
    )
    products = _products(warehouse, args)
    if products is not None:
        items = warehouse.table("order_items")
        chosen = items.filter(items.product_id.isin(products.product_id))
        o = o.semi_join(chosen, ["source", "order_id"])
    mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
    return o.inner_join(mm, ["source", "source_member_key"]).select("member_id")

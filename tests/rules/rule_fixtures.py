"""A six-member table, its catalogue and two test functions, shared by the rules tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from memberlens.rules import (
    Catalogue,
    Duration,
    FunctionSpec,
    NameSpec,
    Param,
    Value,
    compile_rule,
    number_literal,
)

AS_OF = datetime(2025, 2, 1)
COLUMNS = (
    "member_id", "spend_365d", "orders_365d", "tier", "city", "vip", "signup_at",
    "last_order", "prediction__churn_risk", "tag__high_value",
)  # fmt: skip
D = Decimal
ROWS: list[dict[str, Any]] = [
    dict(zip(COLUMNS, values, strict=True))
    for values in [
        ("m1", D("2500.00"), 5, "gold", "上海", True,
         datetime(2024, 1, 15, 10), date(2025, 1, 20), 0.1, True),
        ("m2", D("150.50"), 1, "silver", "Berlin", False,
         datetime(2025, 1, 31, 23, 30), date(2025, 1, 31), 0.7, False),
        ("m3", None, 0, None, "London", None, None, None, None, None),
        ("m4", D("2000.00"), 3, "platinum", "Paris", True,
         datetime(2023, 6, 1), date(2024, 12, 31), 0.61, True),
        ("m5", D("0.00"), 0, "silver", "上海", False, datetime(2025, 2, 1), None, 0.95, False),
        ("m6", D("999.99"), 2, "gold", None, None,
         datetime(2024, 2, 29, 12), date(2024, 2, 29), 0.6, None),
    ]
]  # fmt: skip
SCHEMA = pa.schema([
    ("member_id", pa.string()), ("spend_365d", pa.decimal128(18, 2)),
    ("orders_365d", pa.int64()), ("tier", pa.string()), ("city", pa.string()),
    ("vip", pa.bool_()), ("signup_at", pa.timestamp("us")), ("last_order", pa.date32()),
    ("prediction__churn_risk", pa.float64()), ("tag__high_value", pa.bool_()),
])  # fmt: skip
ORDERS = pa.table({
    "member_id": ["m1", "m1", "m2", "m4", "m4", "m6"],
    "category": ["baby", "baby", "baby", "toys", "baby", "baby"],
    "ordered_at": [datetime(2025, 1, 30), datetime(2025, 1, 10), datetime(2024, 12, 1),
                   datetime(2025, 1, 29), datetime(2025, 1, 28), datetime(2025, 1, 31)],
})  # fmt: skip

NAMES = [
    NameSpec("spend_365d", "number", "Money spent, last 365 days", "currency"),
    NameSpec("orders_365d", "number", "Orders, last 365 days", "orders"),
    NameSpec("tier", "string", "Membership tier", source="tier"),
    NameSpec("city", "string", "City", source="attribute"),
    NameSpec("vip", "boolean", "Flagged VIP by the shop", source="attribute"),
    NameSpec("signup_at", "timestamp", "Sign-up time (UTC)", source="attribute"),
    NameSpec("last_order", "date", "Day of the last order"),
    NameSpec("prediction.churn_risk", "number", "Churn probability", source="prediction"),
    NameSpec("tag.high_value", "boolean", "High-value tag", source="tag"),
]


def _bought(orders: ir.Table) -> FunctionSpec:
    """An event-style function: members with at least N orders of a category lately."""

    def compile_(members: ir.Table, args: Mapping[str, Value | None]) -> ir.Value:
        within = args["within"]
        assert isinstance(within, Duration)
        recent = orders.filter(
            orders.category == args["category"],
            orders.ordered_at >= ibis.literal(AS_OF) - within.to_ibis(),
            orders.ordered_at < AS_OF,
        )
        counts = recent.group_by("member_id").aggregate(n=recent.count())
        return members.member_id.isin(counts.filter(counts.n >= args["at_least"]).member_id)

    params = (
        Param("category", "string", required=True),
        Param("within", "duration", default=Duration(30, "d")),
        Param("at_least", "number", default=1),
    )
    return FunctionSpec("bought", params, "boolean", "Orders of a category lately", compile_)


def _scaled() -> FunctionSpec:
    def compile_(members: ir.Table, args: Mapping[str, Value | None]) -> ir.Value:
        return members.orders_365d * number_literal(cast(float, args["factor"]))

    return FunctionSpec(
        "scaled", (Param("factor", "number", required=True),), "number", "orders × factor", compile_
    )


def make_catalogue(orders: ir.Table) -> Catalogue:
    return Catalogue.of(NAMES, [_bought(orders), _scaled()])


class Members:
    """The table in an in-memory DuckDB, and a helper selecting members by rule."""

    def __init__(self) -> None:
        self.con = ibis.duckdb.connect()
        self.table = self.con.create_table("members", pa.Table.from_pylist(ROWS, schema=SCHEMA))
        self.orders = self.con.create_table("orders", ORDERS)
        self.catalogue = make_catalogue(self.orders)

    def select(self, rule: str) -> set[str]:
        expr = compile_rule(rule, self.catalogue, self.table)
        return set(self.con.execute(self.table.filter(expr).member_id).to_list())

    def value(self, rule: str) -> list[Any]:
        """The value of a non-boolean rule per member, in member order."""
        expr = compile_rule(rule, self.catalogue, self.table, expect=None)
        frame = self.con.execute(self.table.select("member_id", v=expr).order_by("member_id"))
        return [None if v != v else v for v in frame.v.to_list()]  # NaN/NaT -> None

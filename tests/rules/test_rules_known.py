"""Known answers: each operator on a hand-made six-member table (see rule_fixtures.ROWS)."""

from __future__ import annotations

import ibis
import pytest

from memberlens.rules import Catalogue, NameSpec, check, compile_rule
from tests.rules.rule_fixtures import Members

ALL = {"m1", "m2", "m3", "m4", "m5", "m6"}
CASES = [
    # comparisons (m3's spend is null: never selected by a comparison)
    ("spend_365d = 2000", {"m4"}),
    ("spend_365d != 2000", {"m1", "m2", "m5", "m6"}),
    ("spend_365d <> 2000", {"m1", "m2", "m5", "m6"}),
    ("spend_365d < 150.5", {"m5"}),
    ("spend_365d <= 150.5", {"m2", "m5"}),
    ("spend_365d > 2000", {"m1"}),
    ("spend_365d >= 2000", {"m1", "m4"}),
    ("spend_365d >= 2000 and orders_365d >= 3", {"m1", "m4"}),
    ('tier = "gold"', {"m1", "m6"}),
    ("tier = 'gold'", {"m1", "m6"}),
    ('city = "上海"', {"m1", "m5"}),
    ('city != "上海"', {"m2", "m3", "m4"}),
    ("vip", {"m1", "m4"}),
    ("vip = true", {"m1", "m4"}),
    ("vip = false", {"m2", "m5"}),
    ("not vip", {"m2", "m5"}),
    ("vip = tag.high_value", {"m1", "m2", "m4", "m5"}),
    ("tag.high_value", {"m1", "m4"}),
    ("prediction.churn_risk > 0.6", {"m2", "m4", "m5"}),
    # precedence and three-valued logic
    ("vip or tier = 'silver' and spend_365d < 100", {"m1", "m4", "m5"}),
    ("(vip or tier = 'silver') and spend_365d < 100", {"m5"}),
    ("not vip or vip", {"m1", "m2", "m4", "m5"}),
    ("not (vip or tier = 'gold')", {"m2", "m5"}),
    ("vip or tier = 'gold'", {"m1", "m4", "m6"}),
    ("vip and tier = 'gold'", {"m1"}),
    ("not (vip and tier = 'gold')", {"m2", "m4", "m5"}),
    ("vip AND NOT tier = 'gold'", {"m4"}),
    ("vip\n  and orders_365d >= 3", {"m1", "m4"}),
    # arithmetic: precedence, left associativity, unary minus, division by zero
    ("orders_365d + 2 * 3 = 11", {"m1"}),
    ("(orders_365d + 2) * 3 = 15", {"m4"}),
    ("orders_365d - 1 - 1 = 1", {"m4"}),
    ("orders_365d / 2 / 2 = 0.75", {"m4"}),
    ("-orders_365d = -5", {"m1"}),
    ("- -orders_365d = 5", {"m1"}),
    ("-2 * orders_365d = -10", {"m1"}),
    ("spend_365d / orders_365d > 100", {"m1", "m2", "m4", "m6"}),
    ("spend_365d / orders_365d is null", {"m3", "m5"}),
    ("spend_365d / 0 is null", ALL),
    ("spend_365d * 1e3 >= 2e6", {"m1", "m4"}),
    # between, in
    ("orders_365d between 1 and 3", {"m2", "m4", "m6"}),
    ("orders_365d not between 1 and 3", {"m1", "m3", "m5"}),
    ("spend_365d between 150.5 and 2000", {"m2", "m4", "m6"}),
    ("spend_365d not between 150.5 and 2000", {"m1", "m5"}),
    ("orders_365d between 1 and 3 and vip", {"m4"}),
    ("orders_365d between 0 + 1 and 2 * 1.5", {"m2", "m4", "m6"}),
    ('tier in ("gold", "platinum")', {"m1", "m4", "m6"}),
    ('tier not in ("gold", "platinum")', {"m2", "m5"}),
    ("orders_365d in (0, 5)", {"m1", "m3", "m5"}),
    ("orders_365d in (-1, 2,)", {"m6"}),
    # null checks
    ("tier is null", {"m3"}),
    ("tier is not null", ALL - {"m3"}),
    ("not tier is null", ALL - {"m3"}),
    ("vip is null", {"m3", "m6"}),
    ("city is null", {"m6"}),
    # dates and timestamps (a date meets a timestamp at midnight UTC)
    ('last_order >= date("2025-01-01")', {"m1", "m2"}),
    ('last_order < date("2025-01-01")', {"m4", "m6"}),
    ('last_order between date("2024-12-31") and date("2025-01-20")', {"m1", "m4"}),
    ('last_order + 1y = date("2025-02-28")', {"m6"}),
    ('last_order + 1d = date("2025-02-01")', {"m2"}),
    ('last_order - 1d = date("2025-01-30")', {"m2"}),
    ('last_order + 2w > date("2025-01-30")', {"m1", "m2"}),
    ('last_order - date("2025-01-01") = 19', {"m1"}),
    ('last_order in (date("2025-01-31"), date("2024-02-29"))', {"m2", "m6"}),
    ('signup_at >= date("2025-02-01")', {"m5"}),
    ('signup_at < timestamp("2024-01-15 10:00")', {"m4"}),
    ('signup_at + 1h >= date("2025-02-01")', {"m2", "m5"}),
    ('signup_at in (timestamp("2023-06-01 00:00"), date("2025-02-01"))', {"m4", "m5"}),
    ('signup_at between date("2024-01-01") and date("2024-12-31")', {"m1", "m6"}),
    # m2 signed up at 23:30 on the day of its last order, m6 at noon on its day
    ("signup_at > last_order", {"m2", "m6"}),
    # functions through the catalogue's function slot
    ('bought("baby")', {"m1", "m4", "m6"}),
    ('bought(category: "baby", within: 7d, at_least: 2)', set()),
    ('bought(category: "baby", within: 12w, at_least: 2)', {"m1"}),
    ('bought("toys", 7d)', {"m4"}),
    ('not bought("baby")', {"m2", "m3", "m5"}),
    ("scaled(2) + 1 > 6", {"m1", "m4"}),
]


@pytest.fixture(scope="module")
def members() -> Members:
    return Members()


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_selects_the_hand_computed_members(
    members: Members, rule: str, expected: set[str]
) -> None:
    assert members.select(rule) == expected


def test_values_of_number_and_date_expressions(members: Members) -> None:
    assert members.value("orders_365d * 2 - 1") == [9, 1, -1, 5, -1, 3]
    ratios = members.value("spend_365d / orders_365d")
    assert [r is None for r in ratios] == [False, False, True, False, True, False]
    assert [round(r, 3) for r in ratios if r is not None] == [500.0, 150.5, 666.667, 499.995]
    assert members.value('last_order - date("2025-01-01")') == [19, 30, None, -1, None, -307]


def test_a_decimal_constant_comes_back_as_the_same_double() -> None:
    """Found by the property tests: SQL read 0.6 as DECIMAL(2,1) and the value came back
    as 0.6000000000000001."""
    catalogue = Catalogue.of([NameSpec("x", "number", "x")])
    table = ibis.memtable({"member_id": ["a"], "x": [1.0]})
    for text, value in (("0.6", 0.6), ("(0.1)", 0.1), ("-2.675", -2.675), ("1e-7", 1e-7)):
        expr = compile_rule(check(text, catalogue, expect=None), catalogue, table)
        got = ibis.duckdb.connect().to_pyarrow(table.select(v=expr)).column("v")[0].as_py()
        assert got == value, text


def test_a_decimal_function_result_comes_back_exact(members: Members) -> None:
    """Found by the property tests in CI: scaled(1.28125) multiplied by a DECIMAL literal
    and came back as 6.406250000000001 instead of 5 × 1.28125."""
    # orders_365d is 5, 1, 0, 3, 0, 2 (see test_values_of_number_and_date_expressions).
    assert members.value("scaled(1.28125)") == [6.40625, 1.28125, 0.0, 3.84375, 0.0, 2.5625]

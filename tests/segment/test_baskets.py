"""Basket analysis: hand-counted toy baskets, brute force, the warehouse path, Groceries
against mlxtend."""

from __future__ import annotations

import math
import random
from datetime import datetime
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from memberlens.core.errors import UsageError
from memberlens.ingest import IngestRequest, ingest_file, load_preset
from memberlens.segment import (
    BasketParams,
    Baskets,
    NoBaskets,
    basket_rules,
    build_baskets,
    mine_rules,
)
from memberlens.workspace import Workspace
from tests.conftest import DATASETS, requires_datasets
from tests.ingest.helpers import run, write

# Six baskets, N = 6. Item counts: bread 4, milk 4, butter 3, eggs 2.
# Pairs: bread+milk 3 (B1 B2 B5), bread+butter 2 (B2 B3), milk+eggs 2 (B4 B5),
# milk+butter 1, bread+eggs 1, butter+eggs 0. Triples: bread+milk+butter 1 (B2),
# bread+milk+eggs 1 (B5).
TOY = [
    ["bread", "milk"],  # B1
    ["bread", "butter", "milk"],  # B2
    ["bread", "butter"],  # B3
    ["milk", "eggs"],  # B4
    ["bread", "milk", "eggs"],  # B5
    ["butter"],  # B6
]
# min_support 0.3 -> count >= 1.8, i.e. 2 baskets: four items and three pairs.
# With s(X) = count / 6:
#   eggs -> milk:    conf 2/2 = 1;    lift 1 / (4/6) = 1.5;    leverage 2/6 - (2/6)(4/6) = 1/9;
#                    conviction (1 - 4/6) / (1 - 1) = inf
#   milk -> eggs:    conf 2/4 = 0.5;  lift 0.5 / (2/6) = 1.5;  leverage 1/9;
#                    conviction (1 - 2/6) / 0.5 = 4/3
#   bread -> milk:   conf 3/4;        lift 0.75 / (4/6) = 1.125; leverage 3/6 - (4/6)^2 = 1/18;
#                    conviction (1/3) / (1/4) = 4/3   (milk -> bread: the same figures)
#   butter -> bread: conf 2/3;        lift (2/3) / (4/6) = 1;  leverage 2/6 - (3/6)(4/6) = 0;
#                    conviction 1
#   bread -> butter: conf 2/4 = 0.5;  lift 0.5 / (3/6) = 1;    leverage 0; conviction 1
# Ranked by lift, then confidence, then support, then antecedent:
EXPECTED = [
    # antecedent, consequent, count, support, confidence, lift, leverage, conviction
    ("eggs", "milk", 2, 2 / 6, 1.0, 1.5, 1 / 9, math.inf),
    ("milk", "eggs", 2, 2 / 6, 0.5, 1.5, 1 / 9, 4 / 3),
    ("bread", "milk", 3, 3 / 6, 0.75, 1.125, 1 / 18, 4 / 3),
    ("milk", "bread", 3, 3 / 6, 0.75, 1.125, 1 / 18, 4 / 3),
    ("butter", "bread", 2, 2 / 6, 2 / 3, 1.0, 0.0, 1.0),
    ("bread", "butter", 2, 2 / 6, 0.5, 1.0, 0.0, 1.0),
]


def test_toy_itemsets_and_rules_are_the_hand_counted_ones() -> None:
    result = mine_rules(Baskets.from_lists(TOY), BasketParams(min_support=0.3, min_lift=0.0))
    assert (result.n_baskets, result.n_items) == (6, 4)
    assert [(s.items, s.count) for s in result.itemsets] == [
        (("bread",), 4),  # by count, then size, then items
        (("milk",), 4),
        (("butter",), 3),
        (("bread", "milk"), 3),
        (("eggs",), 2),
        (("bread", "butter"), 2),
        (("eggs", "milk"), 2),
    ]
    got = [
        (
            r.antecedent,
            r.consequent,
            r.count,
            r.support,
            r.confidence,
            r.lift,
            r.leverage,
            r.conviction,
        )
        for r in result.rules
    ]
    assert len(got) == len(EXPECTED)
    for rule, (a, c, count, *figures) in zip(got, EXPECTED, strict=True):
        assert rule[:3] == ((a,), (c,), count)
        for value, expected in zip(rule[3:], figures, strict=True):
            assert value == pytest.approx(expected, abs=1e-12)
    eggs_milk = result.rules[0]
    assert (eggs_milk.antecedent_support, eggs_milk.consequent_support) == (2 / 6, 4 / 6)
    assert eggs_milk.to_json()["conviction"] is None  # JSON has no infinity


def test_thresholds_are_inclusive_and_max_len_bounds_itemsets() -> None:
    base = {"min_support": 0.3, "min_lift": 0.0}
    lifted = mine_rules(Baskets.from_lists(TOY), BasketParams(**{**base, "min_lift": 1.2}))
    assert [(r.antecedent, r.consequent) for r in lifted.rules] == [
        (("eggs",), ("milk",)),
        (("milk",), ("eggs",)),
    ]
    confident = mine_rules(Baskets.from_lists(TOY), BasketParams(**base, min_confidence=2 / 3))
    assert [r.confidence for r in confident.rules] == [1.0, 0.75, 0.75, 2 / 3]
    # lift exactly 1 passes the default min_lift of 1: butter/bread stay.
    assert len(mine_rules(Baskets.from_lists(TOY), BasketParams(min_support=0.3)).rules) == 6
    singles = mine_rules(Baskets.from_lists(TOY), BasketParams(min_support=0.3, max_len=1))
    assert singles.rules == () and len(singles.itemsets) == 4
    # min_support 1/6 (one basket) reaches the two triples; max_len 2 stops before them.
    every = mine_rules(Baskets.from_lists(TOY), BasketParams(min_support=0.1, max_len=None))
    triples = {s.items: s.count for s in every.itemsets if len(s.items) == 3}
    assert triples == {("bread", "butter", "milk"): 1, ("bread", "eggs", "milk"): 1}
    pairs = mine_rules(Baskets.from_lists(TOY), BasketParams(min_support=0.1, max_len=2))
    assert max(len(s.items) for s in pairs.itemsets) == 2
    # {bread, milk} -> eggs: 1 of the 3 bread+milk baskets; lift (1/3) / (2/6) = 1.
    (rule,) = [
        r for r in every.rules if r.antecedent == ("bread", "milk") and r.consequent == ("eggs",)
    ]
    assert (rule.confidence, rule.lift) == pytest.approx((1 / 3, 1.0))


def test_consequents_answer_given_items_which_items_follow() -> None:
    rules = mine_rules(Baskets.from_lists(TOY), BasketParams(min_support=0.3, min_lift=0.0))
    after_milk = rules.consequents(["milk"])
    assert [(h.item, h.rule.confidence) for h in after_milk] == [("bread", 0.75), ("eggs", 0.5)]
    assert [h.item for h in rules.consequents(["milk"], rank_by="lift")] == ["eggs", "bread"]
    # Items already held are never suggested; eggs and butter tie on confidence 0.5, and
    # eggs wins on lift (1.5 against 1).
    both = rules.consequents(["bread", "milk", "bread"])
    assert [(h.item, h.rule.antecedent) for h in both] == [
        ("eggs", ("milk",)),
        ("butter", ("bread",)),
    ]
    assert both[0].reason == "bought together with milk"
    assert rules.consequents(["bread", "milk"], limit=1)[0].item == "eggs"
    assert rules.consequents(["caviar"]) == ()
    assert [r.antecedent for r in rules.firing(["eggs", "butter"])] == [("eggs",), ("butter",)]


def test_fpgrowth_equals_brute_force_on_random_baskets() -> None:
    rng = random.Random(20240601)
    items = [f"i{k:02d}" for k in range(12)]
    weights = [1 / (k + 1) for k in range(12)]  # skewed, as real baskets are
    lists = [sorted(set(rng.choices(items, weights, k=rng.randint(1, 6)))) for _ in range(300)]
    result = mine_rules(Baskets.from_lists(lists), BasketParams(min_support=0.01, max_len=None))
    sets = [set(b) for b in lists]
    truth = {}
    for size in range(1, 7):
        for combo in combinations(items, size):
            count = sum(1 for s in sets if s.issuperset(combo))
            if count / len(sets) >= 0.01:
                truth[combo] = count
    assert {s.items: s.count for s in result.itemsets} == truth
    assert len(truth) > 100 and max(map(len, truth)) >= 4  # the test reaches deep


def test_bad_parameters_are_usage_errors() -> None:
    for bad in ({"min_support": 0.0}, {"min_confidence": 1.5}, {"max_len": 0}, {"by": "x"}):
        with pytest.raises(UsageError):
            BasketParams(**bad)  # type: ignore[arg-type]
    empty = mine_rules(Baskets.from_lists([]), BasketParams())
    assert (empty.n_baskets, empty.rules) == (0, ())


ORDERS = """order_id,source,source_member_key,ordered_at,status
o1,pos,m1,2024-05-01T09:00:00Z,completed
o2,pos,m1,2024-05-01T18:00:00Z,completed
o3,pos,m2,2024-05-01T10:00:00Z,completed
o4,pos,m2,2024-05-02T10:00:00Z,cancelled
o5,web,w9,2024-05-03T10:00:00Z,
"""
ITEMS = """source,order_id,line_no,product_id,quantity
pos,o1,1,sku-bread,1
pos,o1,2,sku-milk,2
pos,o1,3,sku-milk,1
pos,o2,1,sku-eggs,1
pos,o3,1,sku-bread,1
pos,o3,2,sku-butter,1
pos,o4,1,sku-caviar,1
web,o5,1,sku-milk,1
web,o5,2,sku-eggs,1
"""
PRODUCTS = """product_id,source,category
sku-bread,pim,bakery
sku-butter,pim,dairy
sku-milk,pim,dairy
sku-eggs,pim,dairy
"""


def _shop(ws: Workspace, tmp: Path) -> None:
    run(ws, "orders", write(tmp / "o.csv", ORDERS))
    run(ws, "order_items", write(tmp / "i.csv", ITEMS))


def test_baskets_from_the_warehouse(workspace: Workspace, tmp_path: Path) -> None:
    _shop(workspace, tmp_path)
    wh = workspace.warehouse
    # One basket per order; the cancelled o4 is not one; milk twice in o1 counts once.
    orders = build_baskets(wh, BasketParams())
    assert sorted(orders.as_lists()) == [
        ["sku-bread", "sku-butter"],
        ["sku-bread", "sku-milk"],
        ["sku-eggs"],
        ["sku-eggs", "sku-milk"],
    ]
    # m1's two orders on 1 May are one member-day basket.
    days = build_baskets(wh, BasketParams(basket="member_day"))
    assert sorted(days.as_lists()) == [
        ["sku-bread", "sku-butter"],
        ["sku-bread", "sku-eggs", "sku-milk"],
        ["sku-eggs", "sku-milk"],
    ]
    window = BasketParams(since=datetime(2024, 5, 2), until=datetime(2024, 5, 4))
    assert build_baskets(wh, window).as_lists() == [["sku-eggs", "sku-milk"]]
    with pytest.raises(NoBaskets, match="load products with a category"):
        basket_rules(wh, BasketParams(by="category"))
    run(workspace, "products", write(tmp_path / "p.csv", PRODUCTS))
    categories = build_baskets(wh, BasketParams(by="category", basket="member_day"))
    assert sorted(categories.as_lists()) == [["bakery", "dairy"], ["bakery", "dairy"], ["dairy"]]
    rules = basket_rules(wh, BasketParams(basket="member_day", min_support=0.5))
    # eggs+milk in 2 of 3 member-days, each alone in 2: confidence 1, lift 1 / (2/3) = 1.5.
    assert [(r.antecedent, r.consequent, r.lift) for r in rules.rules] == [
        (("sku-eggs",), ("sku-milk",), pytest.approx(1.5)),
        (("sku-milk",), ("sku-eggs",), pytest.approx(1.5)),
    ]


def test_no_orders_is_a_clear_error(workspace: Workspace) -> None:
    with pytest.raises(NoBaskets, match="memberlens ingest order_items"):
        basket_rules(workspace.warehouse)


@requires_datasets
@pytest.mark.slow
@pytest.mark.parametrize(("min_support", "max_len"), [(0.001, 3), (0.0005, None)])
def test_groceries_rules_equal_mlxtend(
    workspace: Workspace, min_support: float, max_len: int | None
) -> None:
    pd = pytest.importorskip("pandas")
    frequent = pytest.importorskip("mlxtend.frequent_patterns")
    encoder = pytest.importorskip("mlxtend.preprocessing").TransactionEncoder
    request = IngestRequest(
        kind="order_items",
        path=DATASETS / "groceries" / "Groceries_dataset.csv",
        mapping=load_preset("groceries"),
    )
    ingest_file(workspace.warehouse, workspace.keyring, request)
    baskets = build_baskets(workspace.warehouse, BasketParams(basket="member_day"))
    assert (baskets.n_baskets, len(baskets.items)) == (14_963, 167)
    ours = mine_rules(baskets, BasketParams(min_support=min_support, max_len=max_len))
    lists = baskets.as_lists()
    te = encoder()
    onehot = pd.DataFrame(te.fit(lists).transform(lists), columns=te.columns_)
    theirs_sets = frequent.fpgrowth(
        onehot, min_support=min_support, use_colnames=True, max_len=max_len
    )
    assert {frozenset(s.items): s.support for s in ours.itemsets} == pytest.approx(
        dict(zip(theirs_sets.itemsets, theirs_sets.support, strict=True)), abs=1e-12
    )
    theirs = frequent.association_rules(
        theirs_sets, num_itemsets=len(onehot), metric="lift", min_threshold=1.0
    )
    assert len(ours.rules) == len(theirs) > 200
    columns = ["support", "confidence", "lift", "leverage", "conviction"]
    by_rule = {
        (frozenset(row.antecedents), frozenset(row.consequents)): [getattr(row, c) for c in columns]
        for row in theirs.itertuples()
    }
    for rule in ours.rules:
        mine = [getattr(rule, c) for c in columns]
        np.testing.assert_allclose(
            mine,
            by_rule[(frozenset(rule.antecedent), frozenset(rule.consequent))],
            rtol=0,
            atol=1e-9,
        )
    # The top rules by lift, in mlxtend's order (its ties broken as ours are).
    top = theirs.sort_values(["lift", "confidence", "support"], ascending=False).head(10)
    assert [(set(a), set(c)) for a, c in zip(top.antecedents, top.consequents, strict=True)] == [
        (set(r.antecedent), set(r.consequent)) for r in ours.rules[:10]
    ]
    if min_support == 0.001:
        best = ours.rules[0]
        assert (best.antecedent, best.consequent, best.count) == (
            ("whole milk", "yogurt"),
            ("sausage",),
            22,
        )
        assert best.lift == pytest.approx(2.1829165589087607, abs=1e-12)

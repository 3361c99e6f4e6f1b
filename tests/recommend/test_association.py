"""Pair association rules on seven hand-counted baskets (one member's items each).

    u0 {bread, milk, jam}   u1 {bread, milk}   u2 {bread, jam}   u3 {milk, butter}
    u4 {bread, milk, butter}   u5 {jam, scones}   u6 {bread, butter}

N = 7; bread 5, milk 4, jam 3, butter 3, scones 1. Pairs: bread+milk 3, bread+jam 2,
bread+butter 2, milk+butter 2, milk+jam 1, jam+scones 1. Confidence c(j, i) / c(j),
lift confidence / (c(i) / N):

- bread -> milk 3/5, lift (3/5) / (4/7) = 21/20; milk -> bread 3/4, lift 21/20;
- milk -> butter 2/4, lift 7/6; butter -> milk 2/3, lift 7/6;
- bread -> jam 2/5 and bread -> butter 2/5, lift 14/15: below 1, no rule; nor back;
- scones -> jam 1, jam -> scones 1/3, lift 7/3, but a single basket: below
  ``min_count`` 2; milk -> jam 1/4 (lift 7/12), no rule either way.
"""

from __future__ import annotations

import numpy as np
import pytest

from memberlens.core.errors import UsageError
from memberlens.recommend import Association, reason_text, top_k
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._products import Products
from memberlens.segment import BasketParams, Baskets, mine_rules

ITEMS = ["bread", "butter", "jam", "milk", "scones"]  # item ids, sorted
BASKETS = [
    ["bread", "milk", "jam"],
    ["bread", "milk"],
    ["bread", "jam"],
    ["milk", "butter"],
    ["bread", "milk", "butter"],
    ["jam", "scones"],
    ["bread", "butter"],
]
BREAD, BUTTER, JAM, MILK, SCONES = range(5)


def _data() -> Interactions:
    """Each basket as one member's purchases; u3 also viewed milk twice (weights are
    ignored: a basket holds an item or not)."""
    pairs = [(u, ITEMS.index(i)) for u, basket in enumerate(BASKETS) for i in basket]
    pairs += [(3, MILK), (3, MILK)]
    user, item = (np.asarray(c, dtype=np.int64) for c in zip(*pairs, strict=True))
    return Interactions(
        users=np.asarray([f"u{i}" for i in range(len(BASKETS))]),
        items=np.asarray(ITEMS),
        user=user,
        item=item,
        kind=np.asarray(["purchase"] * (len(pairs) - 2) + ["view", "view"]),
        day=np.arange(len(pairs), dtype=np.int64),
        weight=np.asarray([5.0] * (len(pairs) - 2) + [1.0, 1.0]),
        category=np.full(len(ITEMS), -1, dtype=np.int64),
        categories=(),
    )


def _fit(**params: object) -> Association:
    data = _data()
    return Association(**params).fit(data.matrix(), data)  # type: ignore[arg-type]


def test_confidence_and_lift_match_the_hand_count() -> None:
    model = _fit()
    assert model.baskets_ == 7
    assert model.item_count_.tolist() == [5, 3, 3, 4, 1]
    rules = {
        (ITEMS[j], ITEMS[i]): (model.count_[j, i], model.confidence_[j, i], model.lift_[j, i])
        for j, i in zip(*model.confidence_.nonzero(), strict=True)
    }
    assert rules == {
        ("bread", "milk"): (3, pytest.approx(3 / 5), pytest.approx(21 / 20)),
        ("milk", "bread"): (3, pytest.approx(3 / 4), pytest.approx(21 / 20)),
        ("milk", "butter"): (2, pytest.approx(2 / 4), pytest.approx(7 / 6)),
        ("butter", "milk"): (2, pytest.approx(2 / 3), pytest.approx(7 / 6)),
    }
    # a single shared basket is enough with min_count 1: scones <-> jam join
    loose = _fit(min_count=1)
    assert loose.confidence_[SCONES, JAM] == pytest.approx(1.0)
    assert loose.confidence_[JAM, SCONES] == pytest.approx(1 / 3)
    assert loose.confidence_.nnz == 6


def test_pair_rules_equal_the_segment_packages_fp_growth() -> None:
    """The same confidences and lifts as ``memberlens.segment.mine_rules`` on the same
    baskets, pairs only (its thresholds are inclusive, ours ask lift above 1)."""
    mined = mine_rules(
        Baskets.from_lists(BASKETS), BasketParams(min_support=1 / 7, min_lift=0.0, max_len=2)
    )
    theirs = {
        (r.antecedent[0], r.consequent[0]): (r.confidence, r.lift)
        for r in mined.rules
        if r.lift > 1 + 1e-12
    }
    model = _fit(min_count=1)
    ours = {
        (ITEMS[j], ITEMS[i]): (model.confidence_[j, i], model.lift_[j, i])
        for j, i in zip(*model.confidence_.nonzero(), strict=True)
    }
    assert ours.keys() == theirs.keys()
    for rule, (confidence, lift) in theirs.items():
        assert ours[rule] == (pytest.approx(confidence), pytest.approx(lift))


def test_scores_take_the_best_rule_or_the_sum_and_reasons_name_the_antecedent() -> None:
    model = _fit()
    # u6 {bread, butter}: milk by bread -> milk 3/5 or butter -> milk 2/3: the best 2/3
    scores = model.scores(np.asarray([6]))[0]
    assert scores[MILK] == pytest.approx(2 / 3)
    assert scores[[JAM, SCONES]].tolist() == [0.0, 0.0]
    assert reason_text(model.explain(6, MILK)) == "bought together with butter"
    summed = _fit(combine="sum")
    assert summed.scores(np.asarray([6]))[0, MILK] == pytest.approx(3 / 5 + 2 / 3)
    # u1 {bread, milk}: butter (milk -> butter 1/2); jam and scones have no rule
    train = _data().matrix()
    assert top_k(model, np.asarray([1]), 5, exclude=train)[0].tolist() == [BUTTER]
    # u5 {jam, scones} has no rule at min_count 2: nothing to say
    assert top_k(model, np.asarray([5]), 5, exclude=train)[0].tolist() == []
    assert reason_text(model.explain(5, BREAD)) == "bought together with what you have"


def test_reasons_use_catalogue_names_and_fits_repeat_exactly() -> None:
    n = len(ITEMS)
    products = Products(
        ids=np.asarray(ITEMS),
        name=np.asarray(["Sourdough", "", "Jam", "Whole milk", "Scones"], dtype=object),
        category=np.full(n, "", dtype=object),
        subcategory=np.full(n, "", dtype=object),
        brand=np.full(n, "", dtype=object),
        tags=np.full(n, "", dtype=object),
        price=np.full(n, np.nan),
        in_stock=np.ones(n, dtype=bool),
        listed=np.ones(n, dtype=bool),
    )
    model = _fit(products=products)
    assert reason_text(model.explain(4, JAM)) == "bought together with what you have"
    assert reason_text(model.explain(3, BREAD)) == "bought together with Whole milk"
    assert reason_text(model.explain(6, MILK)) == "bought together with butter"  # no name: its id
    listed = _fit()
    listed.labels = np.asarray(["Bread", "Butter", "", "", ""], dtype=object)  # list building
    assert reason_text(listed.explain(6, MILK)) == "bought together with Butter"
    users = np.arange(7)
    assert np.array_equal(model.scores(users), _fit().scores(users))
    with pytest.raises(UsageError, match="combine"):
        _fit(combine="mean")
    with pytest.raises(UsageError, match="min_count"):
        _fit(min_count=0)

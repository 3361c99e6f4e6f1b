"""Rules and re-ranking on hand-worked blocks: eligibility, candidates, MMR, novelty, pins."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from memberlens.core.errors import ConfigError
from memberlens.recommend import parse_scenarios
from memberlens.recommend._rerank import (
    candidates,
    eligible,
    long_tail,
    mmr_order,
    with_pins,
)

# Items 0..5: categories a a b b c (none); prices 5 10 20 30 40 nan.
CATEGORY = np.asarray([0, 0, 1, 1, 2, -1])
NAMES = np.asarray(["a", "a", "b", "b", "c", ""], dtype=object)
PRICE = np.asarray([5.0, 10.0, 20.0, 30.0, 40.0, np.nan])


def test_eligible_applies_stock_exclusions_price_band_and_repurchasable() -> None:
    bought = sparse.csr_matrix(np.asarray([[1, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]], float))
    ok, blocked = eligible(
        bought=bought,
        users=np.asarray([0, 1]),
        category_names=NAMES,
        price=PRICE,
        in_stock=np.asarray([True, True, True, False, True, True]),
        repurchasable=frozenset({"a"}),
        excluded=frozenset({"c"}),
        price_min=6,
        price_max=30,
    )
    # 0 is too cheap, 3 out of stock, 4 excluded; 5 has no price and stays.
    assert ok.tolist() == [False, True, True, False, False, True]
    # User 0 bought 0 (category a: repurchasable, so not blocked) and 2 (blocked).
    assert blocked.toarray().tolist() == [[0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]]


def test_candidates_keep_the_best_positive_allowed_items_ties_to_the_smaller() -> None:
    scores = np.asarray([[0.5, 0.9, 0.9, 0.0, 0.7, 0.2], [0.0, 0.0, 0.1, 0.0, 0.0, 0.0]])
    allowed = np.asarray([True, True, True, True, False, True])
    blocked = sparse.csr_matrix(np.asarray([[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]], float))
    items, values = candidates(scores, 3, allowed=allowed, blocked=blocked)
    assert items.tolist() == [[1, 2, 0], [2, -1, -1]]
    assert values[0].tolist() == [0.9, 0.9, 0.5]
    assert values[1].tolist() == [0.1, 0.0, 0.0]


def test_mmr_with_lambda_one_keeps_the_order_and_lower_lambda_mixes_categories() -> None:
    items = np.asarray([[0, 1, 2, 4]])
    scores = np.asarray([[1.0, 0.9, 0.6, 0.5]])
    novel = np.zeros(6, dtype=bool)
    same = mmr_order(
        items, scores, category=CATEGORY, novel=novel, mmr_lambda=1.0, novelty_share=0.0
    )
    assert same.tolist() == [[0, 1, 2, 4]]
    # λ = 0.5, relevance = score / 1.0. Step 1: item 0 (0.5). Step 2: item 1 is
    # redundant (0.45 - 0.5 = -0.05), item 2 gives 0.3, item 4 0.25: item 2. Step 3:
    # item 1 -0.05, item 4 0.25: item 4. Then item 1.
    mixed = mmr_order(
        items, scores, category=CATEGORY, novel=novel, mmr_lambda=0.5, novelty_share=0.0
    )
    assert mixed.tolist() == [[0, 2, 4, 1]]


def test_items_without_a_category_are_never_redundant() -> None:
    items = np.asarray([[5, 0, 1]])
    scores = np.asarray([[1.0, 0.9, 0.8]])
    order = mmr_order(
        items,
        scores,
        category=CATEGORY,
        novel=np.zeros(6, dtype=bool),
        mmr_lambda=0.5,
        novelty_share=0.0,
    )
    # 5 (no category) first; 0 is then not redundant (0.45); 1 after 0 is (-0.1).
    assert order.tolist() == [[5, 0, 1]]


def test_the_novelty_share_holds_in_every_prefix_while_novel_items_last() -> None:
    items = np.asarray([[0, 1, 2, 3, 4, -1]])
    scores = np.asarray([[1.0, 0.9, 0.8, 0.7, 0.6, 0.0]])
    novel = np.asarray([False, False, False, True, True, False])
    order = mmr_order(
        items, scores, category=CATEGORY, novel=novel, mmr_lambda=1.0, novelty_share=0.5
    )
    # floor(0.5 p) novel items by position p: p=1 → 0, p=2 → 1 (item 3), p=3 → 1,
    # p=4 → 2 (item 4), then the rest in score order; padding stays last.
    assert order.tolist() == [[0, 3, 1, 4, 2, -1]]


def test_long_tail_is_everything_outside_the_most_popular_tenth() -> None:
    # 11 items touched: the head is the ceil(1.1) = 2 most popular; untouched is novel.
    counts = np.asarray([100.0, 50, 10, 9, 8, 7, 6, 5, 4, 3, 2, 0])
    assert long_tail(counts).tolist() == [False, False] + [True] * 10
    # ties with the head's last item are head too
    assert long_tail(np.asarray([5.0, 5, 5, 1])).tolist() == [False, False, False, True]


def test_pins_lead_every_list_without_duplicates() -> None:
    items = np.asarray([[2, 3, 4, -1], [4, 2, -1, -1]])
    allowed = np.asarray([True, True, True, False, True, True])
    pinned = with_pins(items, np.asarray([3, 4]), allowed)  # 3 is not allowed: dropped
    assert pinned.tolist() == [[4, 2, 3, -1], [4, 2, -1, -1]]


def test_scenarios_parse_and_bad_ones_say_what_is_wrong() -> None:
    scenarios = parse_scenarios(
        """
[defaults]
repurchasable = ["coffee"]
[scenarios.home]
algorithm = "category"
k = 5
mmr_lambda = 0.6
boosts = { "b1" = 2.0 }
[scenarios.mail]
repurchasable = []
"""
    )
    home = scenarios.get("home")
    assert (home.k, home.mmr_lambda, home.boosts) == (5, 0.6, {"b1": 2.0})
    assert scenarios.repurchasable(home) == {"coffee"}
    assert scenarios.repurchasable(scenarios.get("mail")) == frozenset()
    with pytest.raises(ConfigError, match="scenarios are: home, mail"):
        scenarios.get("nope")
    with pytest.raises(ConfigError, match="mmr_lambda"):
        parse_scenarios("[scenarios.home]\nmmr_lambda = 2\n")
    with pytest.raises(ConfigError, match=r"price_min 9\.0 is above price_max 1\.0"):
        parse_scenarios("[scenarios.home]\nprice_min = 9\nprice_max = 1\n")
    with pytest.raises(ConfigError, match="unknown table rules"):
        parse_scenarios("[rules]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_scenarios("[scenarios.home\n")

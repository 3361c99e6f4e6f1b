"""Interactions from orders and events, splits, and the algorithms on known answers.

The member base is tests/profile/feature_data.py (cut-off 2025-06-01). Before the
cut-off Zhang (pos/p1 + app/a1) bought sku1 and sku2 (o1, 01-10), sku2 (o2, 03-10),
sku3 and sku4 (o3, o4, 05-20) — o5 was refunded, o6 cancelled — viewed sku1 (05-02),
sku3 (05-10, 05-12) and sku4 (05-14, on a device stitched to him), carted sku2 (05-01),
sku4 (05-15) and sku1 (05-28), and favourited sku2 (04-01). Li viewed sku1 (05-24).
With purchase 5, cart 3, favourite 2, view 1: Zhang sku1 5 + 1 + 3 = 9, sku2
5 + 5 + 3 + 2 = 15, sku3 5 + 1 + 1 = 7, sku4 5 + 3 + 1 = 9; Li sku1 1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from memberlens.recommend._algorithms import (
    Blend,
    CategoryAffinity,
    ItemKnn,
    Popularity,
    RankFusion,
    top_k,
)
from memberlens.recommend._evaluate import compare, run
from memberlens.recommend._factors import Als, Bpr
from memberlens.recommend._interactions import Interactions, day_number, load_interactions
from memberlens.recommend._similarity import keep_top
from memberlens.recommend._split import by_time, leave_last_out, stratified
from memberlens.workspace import Workspace
from tests.profile.feature_data import CUTOFF, load_feature_base

BEFORE = datetime(CUTOFF.year, CUTOFF.month, CUTOFF.day, tzinfo=UTC)


@pytest.mark.slow
def test_orders_and_events_become_weighted_records(workspace: Workspace, tmp_path: Path) -> None:
    ids = load_feature_base(workspace, tmp_path)
    data = load_interactions(workspace.warehouse, before=BEFORE)
    zhang, li = ids["p1"], ids["p2"]
    assert sorted(data.users.tolist()) == sorted([zhang, li])
    assert data.items.tolist() == ["sku1", "sku2", "sku3", "sku4"]
    m = data.matrix().toarray()
    row = {u: i for i, u in enumerate(data.users.tolist())}
    assert m[row[zhang]].tolist() == [9.0, 15.0, 7.0, 9.0]
    assert m[row[li]].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert data.categories == ("bakery", "dairy", "snacks")
    assert data.category.tolist() == [1, 0, 1, 2]
    # Decay from the newest day (Zhang's cart on 05-28): Li's view is 4 days old.
    decayed = data.matrix(half_life_days=30).toarray()
    assert decayed[row[li], 0] == pytest.approx(0.5 ** (4 / 30))
    # Weights of one's own: views only (no purchases, so no order lines either).
    views = load_interactions(workspace.warehouse, before=BEFORE, weights={"view": 2.0})
    seen = views.matrix().toarray()
    at = {u: i for i, u in enumerate(views.users.tolist())}
    assert views.items.tolist() == ["sku1", "sku3", "sku4"]
    assert seen[at[zhang]].tolist() == [2.0, 4.0, 2.0] and seen[at[li]].tolist() == [2.0, 0, 0]
    # Without a cut-off, o7 (sku4, 06-05) and e10 (view of sku2, 06-02) count too.
    later = load_interactions(workspace.warehouse).matrix().toarray()
    assert later[row[zhang]].tolist() == [9.0, 16.0, 7.0, 14.0]


def _synthetic(
    records: list[tuple[int, int, int]], items: int, categories: list[int]
) -> Interactions:
    """(user, item, day) purchases over ``items`` items with the given category codes."""
    user, item, day = (np.asarray(c, dtype=np.int64) for c in zip(*records, strict=True))
    users = int(user.max()) + 1
    return Interactions(
        users=np.asarray([f"u{i:04d}" for i in range(users)]),
        items=np.asarray([f"i{i:04d}" for i in range(items)]),
        user=user,
        item=item,
        kind=np.full(len(user), "purchase"),
        day=day,
        weight=np.full(len(user), 5.0),
        category=np.asarray(categories, dtype=np.int64),
        categories=tuple(f"c{c}" for c in sorted(set(categories))),
    )


def test_splits_hold_out_what_they_say() -> None:
    # user 0: items 0..7 on days 0..7; user 1: items 0, 1 (day 3, 9); user 2: item 5 only
    records = [(0, i, i) for i in range(8)] + [(1, 0, 3), (1, 1, 9), (2, 5, 4)]
    data = _synthetic(records, 8, [0] * 8)
    s = stratified(data, test_ratio=0.25, seed=1)
    assert s.users.tolist() == [0, 1]  # user 2 has a single item: never tested
    assert [len(r) for r in s.relevant] == [2, 1]  # round(0.25 * 8), at least one
    kept = set(zip(s.train.user.tolist(), s.train.item.tolist(), strict=True))
    assert all((u, i) not in kept for u, r in zip(s.users, s.relevant, strict=True) for i in r)
    assert len(s.train) == len(data) - 3
    assert stratified(data, test_ratio=0.25, seed=1).relevant == s.relevant  # seeded
    last = leave_last_out(data)
    assert last.relevant == [frozenset({7}), frozenset({1})]
    timed = by_time(data, cutoff_day=5)
    # user 0 brings items 5, 6, 7 after day 5; user 1 item 1 (day 9); user 2 nothing before
    assert timed.users.tolist() == [0, 1]
    assert timed.relevant == [frozenset({5, 6, 7}), frozenset({1})]


def test_item_knn_and_popularity_on_a_hand_worked_example() -> None:
    # A and B bought {0, 1}, C {0, 2}, D {1}: D should be offered item 0 (2/3 cosine
    # with item 1) before item 2 (no shared buyer).
    records = [(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1), (2, 0, 1), (2, 2, 1), (3, 1, 1)]
    data = _synthetic(records, 3, [0, 0, 1])
    train = data.matrix()
    knn = ItemKnn(neighbours=10, shrink=0.0).fit(train, data)
    assert knn.similar[1, 0] == pytest.approx(10 / 15)  # (25 + 25) / (sqrt(75) sqrt(75))
    assert top_k(knn, np.asarray([3]), 2, exclude=train)[0].tolist() == [0]  # item 2: 0 score
    assert "i0001" in knn.explain(3, 0)
    pop = Popularity().fit(train, data)
    assert top_k(pop, np.asarray([3]), 3, exclude=None)[0].tolist() == [0, 1, 2]  # 3, 3, 1
    assert top_k(pop, np.asarray([2]), 1, exclude=train)[0].tolist() == [1]


def test_category_affinity_beats_popularity_where_members_keep_to_their_categories() -> None:
    """Truth we set: 600 members, each buying only in their own one of six categories
    (20 items each, popularity within a category falling off); the held-out items are
    in the member's category, so their categories tell, global popularity does not."""
    rng = np.random.default_rng(5)
    items, per_category = 120, 20
    categories = [i // per_category for i in range(items)]
    within = 1.0 / np.arange(1, per_category + 1)
    within /= within.sum()
    records = []
    for user in range(600):
        home = user % 6
        chosen = rng.choice(per_category, size=5, replace=False, p=within)
        records += [(user, home * per_category + int(c), 1) for c in chosen]
    data = _synthetic(records, items, categories)
    split = stratified(data, test_ratio=0.4, seed=42)
    runs = [run(split, f, k=10, rounds=300) for f in (Popularity, CategoryAffinity)]
    assert runs[1].summary["ndcg"] > runs[0].summary["ndcg"]
    gain = compare(runs, "popularity")["category"]
    assert gain["low"] > 0  # the paired interval lies above zero
    assert runs[1].summary["personalization"] > runs[0].summary["personalization"]


def test_top_k_breaks_ties_on_the_item_index_and_drops_excluded_items() -> None:
    class Flat(Popularity):
        def scores(self, users: np.ndarray) -> np.ndarray:
            return np.ones((len(users), 6))

    exclude = sparse.csr_matrix(np.asarray([[0, 1, 0, 1, 0, 0]], dtype=float))
    assert top_k(Flat(), np.asarray([0]), 3, exclude=exclude)[0].tolist() == [0, 2, 4]


def test_day_numbers_count_from_the_epoch() -> None:
    assert day_number(CUTOFF) == (CUTOFF - datetime(1970, 1, 1).date()).days


class _Fixed(Popularity):
    """A part whose scores are given: one row, the same for every user."""

    def __init__(self, row: list[float]) -> None:
        super().__init__()
        self.row = np.asarray(row, dtype=float)

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> _Fixed:
        self.train, self.data = train, data
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.row, (len(users), 1))


def test_rank_fusion_and_blending_on_hand_worked_scores() -> None:
    data = _synthetic([(0, 0, 1)], 4, [0, 0, 0, 0])
    a, b = _Fixed([4.0, 3.0, 0.0, 1.0]), _Fixed([0.0, 10.0, 20.0, 5.0])
    rrf = RankFusion((a, b)).fit(data.matrix(), data)
    # a ranks 0, 1, 3 (2 has no evidence); b ranks 2, 1, 3 (0 has none)
    want = [1 / 61, 1 / 62 + 1 / 62, 1 / 61, 1 / 63 + 1 / 63]
    assert rrf.scores(np.asarray([0]))[0].tolist() == pytest.approx(want)
    blend = Blend((a, b), weights=(0.5, 0.5)).fit(data.matrix(), data)
    # each part over its best: a [1, .75, 0, .25], b [0, .5, 1, .25]
    assert blend.scores(np.asarray([0]))[0].tolist() == pytest.approx([0.5, 0.625, 0.5, 0.25])
    assert top_k(blend, np.asarray([0]), 3)[0].tolist() == [1, 0, 2]  # tie: smaller index


def test_keep_top_matches_a_brute_force_selection() -> None:
    m = sparse.random(50, 40, density=0.3, random_state=1, format="csr")
    m.data = np.round(m.data * 4)  # many ties
    m.eliminate_zeros()
    kept, dense = keep_top(m, 3).toarray(), m.toarray()
    for r in range(50):
        want = sorted((-dense[r, c], c) for c in range(40) if dense[r, c])[:3]
        assert sorted((-kept[r, c], c) for c in range(40) if kept[r, c]) == want


@pytest.mark.parametrize("factory", [Als, Bpr])
def test_factor_models_find_taste_groups_and_refit_identically(factory: type) -> None:
    """Truth we set: four taste groups of 100 members, each buying 6 of its own 15
    items (no categories given); held-out items lie in the member's group."""
    rng = np.random.default_rng(11)
    records = []
    for user in range(400):
        group = user % 4
        chosen = rng.choice(15, size=6, replace=False)
        records += [(user, group * 15 + int(c), 1) for c in chosen]
    data = _synthetic(records, 60, [0] * 60)
    split = stratified(data, test_ratio=0.34, seed=42)
    runs = [run(split, f, k=5, rounds=200) for f in (Popularity, factory)]
    gain = compare(runs, "popularity")[factory.name]
    assert gain["low"] > 0, gain
    one = factory().fit(split.train.matrix(), split.train)
    two = factory().fit(split.train.matrix(), split.train)
    assert np.array_equal(one.item_factors, two.item_factors)  # seeded and deterministic

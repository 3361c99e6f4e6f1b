"""Top-k metrics against hand-computed answers and scikit-learn's NDCG."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from memberlens.recommend._metrics import paired_difference, score_lists, summarise

# Items 0..6; categories: item 1, 2 -> 0; 3, 4, 5 -> 1; 6 -> 2 (item 0 is never listed).
CATEGORIES = np.array([9, 0, 0, 1, 1, 1, 2])
POPULARITY = np.full(7, 0.25)  # every item seen by a quarter of the training users
LISTS = [[1, 2, 3], [4, 5, 6]]
RELEVANT = [{2, 5}, {4, 6}]


def _scored(lists=LISTS, relevant=RELEVANT):  # type: ignore[no-untyped-def]
    return score_lists(lists, relevant, k=3, catalogue=7, categories=CATEGORIES,
                       popularity=POPULARITY)  # fmt: skip


def test_per_user_metrics_match_the_hand_computed_values() -> None:
    m = _scored().per_user
    d3 = 1 / math.log2(3)  # the discount at rank 2
    # User 0: [1, 2, 3] against {2, 5}: one hit, at rank 2.
    assert m["precision"][0] == pytest.approx(1 / 3)
    assert m["recall"][0] == pytest.approx(1 / 2)
    assert m["f1"][0] == pytest.approx(0.4)
    assert m["ndcg"][0] == pytest.approx(d3 / (1 + d3))
    assert m["map"][0] == pytest.approx((1 / 2) / 2)  # precision@2, over min(3, 2)
    # User 1: [4, 5, 6] against {4, 6}: hits at ranks 1 and 3.
    assert m["precision"][1] == pytest.approx(2 / 3)
    assert m["recall"][1] == pytest.approx(1.0)
    assert m["f1"][1] == pytest.approx(0.8)
    assert m["ndcg"][1] == pytest.approx((1 + 1 / 2) / (1 + d3))
    assert m["map"][1] == pytest.approx((1 + 2 / 3) / 2)
    assert m["hit_rate"].tolist() == [1.0, 1.0]
    # Categories [0, 0, 1] and [1, 1, 2]: one same-category pair of three in each.
    assert m["diversity"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert m["novelty"].tolist() == pytest.approx([2.0, 2.0])  # -log2(0.25)


def test_a_miss_an_empty_list_and_a_short_list() -> None:
    m = score_lists([[3], [], [1, 2]], [{6}, {1}, {2}], k=3, catalogue=7).per_user
    assert m["precision"].tolist() == pytest.approx([0.0, 0.0, 1 / 3])  # divided by k
    assert m["ndcg"].tolist() == pytest.approx([0.0, 0.0, (1 / math.log2(3)) / 1.0])
    assert m["map"].tolist() == pytest.approx([0.0, 0.0, 1 / 2])
    assert np.isnan(m["diversity"]).all() and np.isnan(m["novelty"]).all()  # not given


def test_coverage_and_personalization_over_users() -> None:
    two = summarise(_scored(), rounds=50)
    assert two["coverage"] == pytest.approx(6 / 7)
    assert two["personalization"] == pytest.approx(1.0)  # nothing in common
    # A third user with user 0's list: pairs (0, 1) 0, (0, 2) 1, (1, 2) 0.
    three = summarise(_scored([*LISTS, [1, 2, 3]], [*RELEVANT, {1}]), rounds=50)
    assert three["personalization"] == pytest.approx(1 - 1 / 3)
    assert three["coverage"] == pytest.approx(6 / 7)


def test_ndcg_agrees_with_scikit_learn_on_random_rankings() -> None:
    rng = np.random.default_rng(3)
    items, k = 40, 10
    for _ in range(50):
        scores = rng.random(items)
        truth = (rng.random(items) < 0.15).astype(int)
        if truth.sum() == 0:
            continue
        ranked = np.argsort(-scores)[:k].tolist()
        mine = score_lists([ranked], [set(np.flatnonzero(truth).tolist())], k=k, catalogue=items)
        assert mine.per_user["ndcg"][0] == pytest.approx(ndcg_score([truth], [scores], k=k))


def test_bootstrap_intervals_hold_the_mean_and_shrink_to_a_point_for_a_constant() -> None:
    rng = np.random.default_rng(0)
    lists = [rng.choice(50, 5, replace=False).tolist() for _ in range(300)]
    relevant = [set(rng.choice(50, 3, replace=False).tolist()) for _ in range(300)]
    found = summarise(score_lists(lists, relevant, k=5, catalogue=50), rounds=300)
    for name in ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "personalization"):
        low, high = found["ci"][name]  # type: ignore[index]
        assert low <= found[name] <= high, name  # type: ignore[operator]
    assert found["ci"]["ndcg"][1] - found["ci"]["ndcg"][0] > 0  # type: ignore[index]
    same = summarise(score_lists([[1]] * 20, [{1}] * 20, k=1, catalogue=5), rounds=100)
    assert same["ci"]["precision"] == [1.0, 1.0]  # type: ignore[index]


def test_a_figure_few_users_have_is_bounded_by_the_draws_that_hold_one() -> None:
    # Novelty is a figure of users with a list: with 1 of 30 users listed, many bootstrap
    # draws hold no such user (0 / 0); those draws say nothing and are left out.
    lists = [[1, 2]] + [[]] * 29
    relevant = [{1}] * 30
    scored = score_lists(lists, relevant, k=2, catalogue=7, popularity=POPULARITY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in divide"
        found = summarise(scored, rounds=200)
    assert found["novelty"] is not None
    assert found["ci"]["novelty"] == [found["novelty"], found["novelty"]]  # type: ignore[index]


def test_paired_difference_bounds_a_real_gain_above_zero_and_a_null_across_it() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(500)
    gain = paired_difference(base + 0.05 + rng.normal(0, 0.05, 500), base)
    assert gain["low"] > 0 and gain["mean"] == pytest.approx(0.05, abs=0.01)
    null = paired_difference(base + rng.normal(0, 0.05, 500), base)
    assert null["low"] < 0 < null["high"]

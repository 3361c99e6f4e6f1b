"""Keywords, topics and trends: hand-built corpora whose answer is set."""

from __future__ import annotations

import csv
import itertools
from datetime import date, datetime

import numpy as np
import pytest

from memberlens.text._keywords import default_topic_count, keywords, topics, trend
from tests.conftest import DATASETS

WAIMAI = DATASETS / "waimai" / "waimai_10k.csv"
ENGLISH = [
    "The coffee was cold again",
    "cold coffee and slow delivery",
    "Slow delivery, cold coffee!",
    "Friendly barista",
    "slow delivery as usual",
    "Cold coffee. Never again",
    "I love the croissants",
    "great croissants",
]
CHINESE = [
    "送餐太慢了，等了2个小时，真的没有下次了",
    "送餐太慢，味道还可以",
    "送餐员态度很好，就是送餐太慢",
    "味道不错，送餐很快",
]


def test_english_phrases_are_kept_whole() -> None:
    found = keywords(ENGLISH, k=4)
    assert [term for term, _ in found] == [
        "cold coffee",
        "slow delivery",
        "friendly barista",
        "great croissants",
    ]
    assert found[0][1] == 1.0


def test_chinese_keywords_leave_out_stop_words_single_characters_and_numbers() -> None:
    terms = [term for term, _ in keywords(CHINESE, k=50)]
    assert terms[0] == "送餐"
    assert {"太慢", "味道"} <= set(terms)
    assert not {"没有", "真的", "就是", "2", "了"} & set(terms)
    assert all(len(t) > 1 for t in terms)


def test_traditional_script_gives_the_same_keywords() -> None:
    traditional = ["送餐太慢了，等了兩個小時", "送餐員態度很好，就是送餐太慢", "味道不錯"]
    simplified = ["送餐太慢了，等了两个小时", "送餐员态度很好，就是送餐太慢", "味道不错"]
    assert keywords(traditional) == keywords(simplified)


def test_languages_are_merged_by_their_share_of_the_texts() -> None:
    found = dict(keywords([*CHINESE[:3], "slow delivery"]))
    # each language's top term scores its share of the texts: 3 of 4, 1 of 4
    assert found["送餐"] == 0.75
    assert found["slow delivery"] == 0.25


def test_keywords_are_ordered_by_score_then_term() -> None:
    found = keywords([*CHINESE, *ENGLISH], k=100)
    assert found == sorted(found, key=lambda ts: (-ts[1], ts[0]))
    assert len(keywords([*CHINESE, *ENGLISH], k=3)) == 3


def test_textrank_reads_chinese_too() -> None:
    terms = [term for term, _ in keywords(CHINESE, method="textrank")]
    assert "送餐" in terms
    assert not {"没有", "就是", "2"} & set(terms)


@pytest.mark.parametrize("texts", [[], [""], ["   "], ["the and of", "。。。", "12 34"]])
def test_nothing_to_say_gives_no_keywords(texts: list[str]) -> None:
    assert keywords(texts) == []


# --- topics -----------------------------------------------------------------------

COFFEE = ["coffee", "latte", "espresso", "milk", "foam", "barista", "cappuccino", "mocha"]
DELIVERY = ["送餐", "骑手", "迟到", "配送", "外卖", "超时", "小时", "送达"]
SHARED = ["order", "today", "app", "store"]  # in either group: no clue to the topic


def two_vocabularies(n: int, seed: int = 7) -> tuple[list[str], list[int]]:
    """``n`` texts, each four words of one vocabulary and one shared word."""
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for _ in range(n):
        group = int(rng.integers(2))
        words = [*rng.choice([COFFEE, DELIVERY][group], 4, replace=False), rng.choice(SHARED)]
        texts.append(" ".join(words) if group == 0 else "，".join(words))
        truth.append(group)
    return texts, truth


def test_nmf_recovers_two_separate_vocabularies() -> None:
    texts, truth = two_vocabularies(60)
    model = topics([*texts, "!!!"], top_terms=6)  # the last text has no word at all
    assert default_topic_count(61) == len(model.topics) == 2
    assignment = model.assignment[:-1]
    assert model.assignment[-1] == -1
    # the same partition, up to the numbering of the topics
    assert len(set(zip(assignment.tolist(), truth, strict=True))) == 2
    assert [t.index for t in model.topics] == [0, 1]
    assert [t.size for t in model.topics] == sorted(np.bincount(truth).tolist(), reverse=True)
    for topic in model.topics:
        group = COFFEE if topic.terms[0][0] in COFFEE else DELIVERY
        assert len(topic.terms) == 6
        assert all(term in group for term, _ in topic.terms)


def test_topics_are_deterministic_for_a_seed() -> None:
    texts, _ = two_vocabularies(40)
    first, second = topics(texts, n_topics=3, seed=1), topics(texts, n_topics=3, seed=1)
    assert first.topics == second.topics
    assert np.array_equal(first.assignment, second.assignment)
    assert sum(t.size for t in first.topics) == int((first.assignment >= 0).sum())


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_inputs_have_no_topics(n: int) -> None:
    texts, _ = two_vocabularies(n)
    model = topics(texts)
    assert model.topics == []
    assert model.assignment.tolist() == [-1] * n


def test_no_shared_words_no_topics() -> None:
    model = topics(["coffee latte", "送餐 骑手", "parcel shipping"])
    assert model.topics == []
    assert model.assignment.tolist() == [-1, -1, -1]


def test_topics_are_capped_by_the_texts_with_words() -> None:
    model = topics(["coffee latte", "coffee milk", "latte milk", "?"], n_topics=8)
    assert len(model.topics) == 3


def test_topic_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n_topics must be at least 1"):
        topics(["a b"], n_topics=0)


def test_default_topic_count() -> None:
    assert [default_topic_count(n) for n in (0, 300, 800, 1800, 10_000)] == [2, 2, 4, 6, 8]


# --- trend ------------------------------------------------------------------------


def test_trend_by_month_and_week() -> None:
    days = [date(2024, 1, 31), datetime(2024, 1, 1, 23), date(2024, 2, 5), date(2024, 2, 4)]
    values = [1.0, 0.0, None, float("nan")]
    assert trend(days, values) == [(date(2024, 1, 1), 2, 0.5)]
    assert trend(days, [1.0, 0.0, 0.25, 0.75], period="week") == [
        (date(2024, 1, 1), 1, 0.0),  # a Monday
        (date(2024, 1, 29), 2, 0.875),  # 31 Jan and Sunday 4 Feb
        (date(2024, 2, 5), 1, 0.25),
    ]
    assert trend([], []) == []


def test_trend_needs_one_value_per_date() -> None:
    with pytest.raises(ValueError, match="2 dates but 1 values"):
        trend([date(2024, 1, 1)] * 2, [1.0])


# --- real reviews -----------------------------------------------------------------


@pytest.mark.skipif(not WAIMAI.is_file(), reason=f"the waimai reviews are not at {WAIMAI}")
def test_complaints_about_delivery_stand_out_in_real_negative_reviews() -> None:
    with WAIMAI.open(encoding="utf-8", newline="") as f:
        negative = [r["review"] for r in csv.DictReader(f) if r["label"] == "0"]
    terms = [term for term, _ in keywords(negative, k=10)]
    assert {"送餐", "小时"} & set(terms)
    assert not any(t.isdigit() for t in terms)
    sample = list(itertools.islice(negative, 1500))
    model = topics(sample, seed=0)
    assert len(model.topics) == default_topic_count(len(sample))
    assert any({"送餐", "小时"} & {term for term, _ in topic.terms} for topic in model.topics)

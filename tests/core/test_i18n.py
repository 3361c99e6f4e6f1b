"""The one catalogue: every message in both languages, plurals, money, locales.

Known answers written out by hand: an amount and its ¥ form, the English churn and
recommendation reasons exactly as they read before they became codes, their Chinese.
"""

from __future__ import annotations

import math
import re
import string
from decimal import Decimal

import numpy as np
import pytest

from memberlens import predict, recommend, segment
from memberlens.core import i18n
from memberlens.core.i18n import Message, render
from memberlens.predict._reasons import describe, reasons

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_and_label_has_both_languages() -> None:
    catalogue = i18n.catalogue()
    for code, entry in catalogue["message"].items():
        for locale in i18n.LOCALES:
            assert locale in entry, f"message {code} has no {locale} template"
        english = entry["en"]
        forms = english.values() if isinstance(english, dict) else [english]
        if isinstance(english, dict):
            assert set(english) == {"one", "other"} and entry.get("count"), code
        chinese = entry["zh-CN"]
        assert isinstance(chinese, str), f"{code}: Chinese has one form"
        names = {f for _, f, _, _ in string.Formatter().parse(chinese) if f}
        for form in forms:  # the same parameters in both languages
            assert {f for _, f, _, _ in string.Formatter().parse(form) if f} == names, code
        assert code == "text" or CJK.search(chinese), f"{code}: the Chinese is not Chinese"
    for kind, values in catalogue["label"].items():
        for value, words in values.items():
            assert set(words) == {"en", "zh-CN"}, f"label {kind}.{value}"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,zh-CN;q=0.5", "zh-CN"),
        ("en;q=0.4, zh;q=0.6", "zh-CN"),
        ("zh;q=0", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("*", "en"),
    ],
)
def test_accept_language_picks_chinese_for_zh_and_english_otherwise(
    header: str | None, locale: str
) -> None:
    assert i18n.negotiate(header) == locale


def test_plural_aware_templates_in_english_one_form_in_chinese() -> None:
    one, many = (
        Message("no_purchase_for_days", {"days": 1}),
        Message("no_purchase_for_days", {"days": 12}),
    )
    assert (render(one), render(many)) == ("no purchase for 1 day", "no purchase for 12 days")
    assert (render(one, "zh-CN"), render(many, "zh-CN")) == ("已 1 天未购买", "已 12 天未购买")
    assert render(Message("popular_with_count", {"count": 1})) == (
        "popular: bought or viewed by 1 member"
    )


def test_money_carries_its_currency_sign() -> None:
    assert i18n.money(Decimal("1234.5"), "CNY") == "¥1,234.50"
    assert i18n.money(1234.5, "CNY") == "¥1,234.50"
    assert i18n.money(Decimal("-0.5"), "USD") == "-$0.50"
    assert i18n.money(1234, "JPY") == "¥1,234"
    assert i18n.money(None, "CNY") == "—"
    assert render(Message("spent_in_all", {"amount": 1234.5}), "zh-CN", currency="CNY") == (
        "累计消费 ¥1,234.50"
    )
    # without a currency (the API's English) the words are what they always were
    assert render(Message("spent_in_all", {"amount": 1234.5})) == "spent 1,234.50 in all"


def test_labels_translate_values_and_leave_unknown_ones_as_written() -> None:
    assert i18n.label("gender", "female", "zh-CN") == "女"
    assert i18n.label("order_status", "completed", "zh-CN") == "已完成"
    assert i18n.label("category", "household", "zh-CN") == "家居日用"
    assert i18n.label("rfm_segment", "Champions", "zh-CN") == "重要价值客户"
    assert i18n.label("lifecycle_stage", "lapsed", "zh-CN") == "流失"
    assert i18n.label("rfm_segment", "Champions", "en") == "Champions"
    assert i18n.label("channel", "抖音", "zh-CN") == "抖音"


def test_churn_reasons_keep_their_english_words_and_read_in_chinese() -> None:
    """The same member as tests/predict/test_churn.py: 74 days since the last purchase
    against a 24-day rhythm, two complaints, no order in 90 days."""
    f = list(predict.MODEL_FEATURES)
    x = np.full((1, len(f)), np.nan)
    for name, value in {"recency_days": 74, "gap_ratio": 74 / 24, "orders_90d": 0,
                        "complaints": 2}.items():  # fmt: skip
        x[0, f.index(name)] = value
    contrib = np.zeros((1, len(f) + 1))
    contrib[0, f.index("recency_days")] = 0.7
    contrib[0, f.index("complaints")] = 0.6
    contrib[0, f.index("orders_90d")] = 0.1
    (found,) = reasons(x, contrib)
    assert [r["code"] for r in found] == ["no_purchase_for", "complaints_made", "no_order_in"]
    assert "text" not in found[0]  # stored as code and parameters, never as words
    assert [r["text"] for r in predict.with_texts(found)] == [
        "no purchase for 74 days, 3.1× the usual gap",
        "2 complaints made",
        "no order in 90 days",
    ]
    assert [r["text"] for r in predict.with_texts(found, "zh-CN")] == [
        "已 74 天未购买，是平时购买间隔的 3.1 倍",
        "投诉过 2 次",
        "近 90 天无订单",
    ]


def test_churn_reasons_stored_before_codes_show_as_written() -> None:
    stored = [{"feature": "frequency", "text": "9 orders in all"}]
    assert predict.with_texts(stored, "zh-CN")[0]["text"] == "9 orders in all"


def test_every_churn_reason_renders_in_both_languages() -> None:
    values = {name: 1.0 for name in predict.MODEL_FEATURES}
    for name in predict.MODEL_FEATURES:
        for value in (0.0, 1.0, 2.5, math.nan):
            said = describe(name, {**values, name: value})
            assert said.code in i18n.catalogue()["message"], said
            assert CJK.search(render(said, "zh-CN", currency="CNY")), said
            assert render(said) != said.code


def test_recommendation_reasons_are_stored_as_codes_and_read_in_either_language() -> None:
    stored = recommend.reason("bought_together_with", item="豆浆")
    assert stored == '{"code":"bought_together_with","params":{"item":"豆浆"}}'
    assert recommend.reason_text(stored) == "bought together with 豆浆"
    assert recommend.reason_text(stored, "zh-CN") == "常与“豆浆”一起购买"
    fresh = Message.decode(stored)
    new = Message("new_item", {"reason": fresh}).encode()
    assert recommend.reason_text(new) == "new — bought together with 豆浆"
    assert recommend.reason_text(new, "zh-CN") == "新品 — 常与“豆浆”一起购买"
    liked = recommend.reason("favourite_in_category", category="books")
    assert recommend.reason_text(liked) == "a favourite in books, a category you like"
    assert recommend.reason_text(liked, "zh-CN") == "你喜欢的品类“图书”中的热门商品"


def test_recommendation_reasons_stored_before_codes_show_as_written() -> None:
    assert recommend.reason_text("popular right now", "zh-CN") == "popular right now"


def test_cluster_names_in_both_languages() -> None:
    z = {"recency_days": -1.2, "monetary": 1.6, "frequency": 0.9}
    assert segment.name_cluster(z, "household") == "high-spend, recent, frequent, household"
    assert segment.name_cluster(z, "household", "zh-CN") == "高消费、近期购买、高频、家居日用"

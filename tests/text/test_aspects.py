"""Aspects and pain points: clauses, lexicon matching, summaries with known answers."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from memberlens.core.errors import ConfigError
from memberlens.text import builtin_model
from memberlens.text._aspects import (
    DEFAULT_ASPECTS,
    Aspect,
    Quote,
    aspect_sentiment,
    clauses,
    default_aspects_text,
    load_aspects,
    mentions,
    parse_aspects,
    per_text_aspects,
)
from memberlens.text._opinion import reads_as_praise
from memberlens.text._script import normalise
from tests.conftest import DATASETS

WAIMAI = DATASETS / "waimai" / "waimai_10k.csv"
NEGATIVE_CUES = ("慢", "洒", "贵", "破", "难吃", "slow", "late", "cold", "rude")
POSITIVE_CUES = ("好", "不错", "快", "great", "friendly", "delicious")


def lexicon_positive(texts: Sequence[str]) -> np.ndarray:
    """0 with a negative cue, else 1 with a positive cue, else 0.5: hand-computable."""

    def score(text: str) -> float:
        if any(cue in text for cue in NEGATIVE_CUES):
            return 0.0
        return 1.0 if any(cue in text for cue in POSITIVE_CUES) else 0.5

    return np.array([score(t) for t in texts])


NUMERALS = "一两三四五六七八九十"
DISHES = ("米饭", "面条", "饺子", "包子", "炒饭", "汉堡", "披萨", "寿司", "沙拉", "粥")
# 10 texts blaming delivery, 10 praising it, 5 + 3 about packaging, 2 about price.
CORPUS = (
    [f"味道不错,但是送餐太慢,等了{n}个小时" for n in NUMERALS]
    + [f"送餐很快,{dish}很好吃" for dish in DISHES]
    + ["包装很好"] * 5
    + [f"包装破了,{food}洒了" for food in ("汤", "饭", "菜")]
    + ["价格有点贵"] * 2
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("好吃但是送得太慢", ["好吃", "但是送得太慢"]),
        ("好吃,送得快!下次还点。", ["好吃", "送得快", "下次还点"]),
        ("味道不错就是太贵了", ["味道不错", "就是太贵了"]),
        ("好吃只不过太贵", ["好吃", "只不过太贵"]),
        ("不但好吃而且便宜", ["不但好吃而且便宜"]),  # 不但: "not only", no contrast
        ("这就是我要的", ["这就是我要的"]),
        ("好吃 送得快", ["好吃", "送得快"]),
        ("价格3.5元.很好", ["价格3.5元", "很好"]),
        ("great coffee but the staff were rude.", ["great coffee", "but the staff were rude"]),
        ("nice; however, late", ["nice", "however", "late"]),
        ("butter cake, thoughtful staff", ["butter cake", "thoughtful staff"]),
        ("好吃、便宜~\n还会再来", ["好吃", "便宜", "还会再来"]),
        (" ,, . ", []),
    ],
)
def test_clauses(text: str, expected: list[str]) -> None:
    assert clauses(text) == expected


def test_mentions_match_chinese_within_words_and_english_whole_words() -> None:
    found = mentions(
        ["好吃但是送得太慢", "the chocolate was lovely", "Delivery was LATE\nlovely box"],
        DEFAULT_ASPECTS,
    )
    assert found == [
        [("delivery", "但是送得太慢"), ("taste", "好吃")],
        [],  # "late" is no word of "chocolate"
        [("delivery", "delivery was late"), ("packaging", "lovely box")],
    ]


def test_clauses_naming_one_aspect_are_joined() -> None:
    assert mentions(["送餐太慢,等了两个小时,味道好"], DEFAULT_ASPECTS) == [
        [("delivery", "送餐太慢, 等了两个小时"), ("taste", "味道好")]
    ]


def test_traditional_script_gives_the_same_aspects() -> None:
    simplified = ["味道不错，但是送餐太慢，等了两个小时", "包装破了，汤洒了", "价格有点贵"]
    traditional = ["味道不錯，但是送餐太慢，等了兩個小時", "包裝破了，湯灑了", "價格有點貴"]
    assert all(s != t for s, t in zip(simplified, traditional, strict=True))
    assert mentions(traditional, DEFAULT_ASPECTS) == mentions(simplified, DEFAULT_ASPECTS)


def test_delivery_is_the_top_pain_point_with_its_quotes() -> None:
    summaries = aspect_sentiment(CORPUS, DEFAULT_ASPECTS, lexicon_positive)
    assert [s.name for s in summaries] == [
        "delivery",  # 10 negative
        "packaging",  # 3
        "taste",  # 0
        "price",  # 2 negative, but 2 mentions < min_mentions: after the others
        "hygiene",
        "portion",
        "quality",
        "service",
    ]
    delivery, packaging, taste, price = summaries[:4]
    assert (delivery.mentions, delivery.share, delivery.mean_positive) == (20, 20 / 30, 0.5)
    assert (delivery.negative, delivery.negative_share, delivery.code) == (10, 0.5, "OK")
    # "等了一个小时" reads neutral (0.5) on its own, so only the blaming clause is
    # quoted, and the ten texts blame in the same words: one quote.
    assert delivery.quotes == (Quote(0, "但是送餐太慢", 0.0),)
    assert (packaging.mentions, packaging.negative, packaging.mean_positive) == (8, 3, 5 / 8)
    assert [q.clause for q in packaging.quotes] == [
        "包装破了, 汤洒了",
        "包装破了, 饭洒了",
        "包装破了, 菜洒了",
    ]
    assert (taste.mentions, taste.negative, taste.mean_positive) == (20, 0, 1.0)
    assert (price.mentions, price.negative, price.code) == (2, 2, "FEW_MENTIONS")
    assert price.quotes == (Quote(28, "价格有点贵", 0.0),)  # identical clauses quoted once
    nobody = summaries[-1]
    assert (nobody.mentions, nobody.share, nobody.mean_positive) == (0, 0.0, None)
    assert (nobody.negative_share, nobody.quotes, nobody.code) == (None, (), "FEW_MENTIONS")


def test_summary_options() -> None:
    summaries = aspect_sentiment(
        CORPUS, DEFAULT_ASPECTS, lexicon_positive, min_mentions=1, quotes=1, negative_below=1.1
    )
    by_name = {s.name: s for s in summaries}
    assert by_name["price"].code == "OK"
    assert by_name["taste"].negative == 20  # every P(positive) is below 1.1
    assert all(len(s.quotes) <= 1 for s in summaries)
    # Every clause is "negative" below 1.1, but praise ("很好吃") is never quoted.
    assert [q.clause for q in by_name["delivery"].quotes] == ["但是送餐太慢, 等了一个小时"]
    assert by_name["taste"].quotes == ()
    assert [s.name for s in summaries][:3] == ["delivery", "taste", "packaging"]


def test_per_text_aspects() -> None:
    rows = per_text_aspects(
        ["味道不错,但是送餐太慢", "today was fine", "Great service"],
        DEFAULT_ASPECTS,
        lexicon_positive,
    )
    assert rows == [{"delivery": 0.0, "taste": 1.0}, {}, {"service": 1.0}]


def test_nothing_to_score() -> None:
    def never(texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("no clause to score")

    assert per_text_aspects([], DEFAULT_ASPECTS, never) == []
    assert per_text_aspects(["hello"], DEFAULT_ASPECTS, never) == [{}]
    assert all(s.mentions == 0 for s in aspect_sentiment(["hello"], DEFAULT_ASPECTS, never))
    assert aspect_sentiment(["送餐太慢"], (), never) == []


@pytest.mark.parametrize("terms", [(), ("送餐", "")])
def test_an_aspect_needs_terms(terms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="needs terms"):
        Aspect("delivery", "Delivery", terms)


def test_a_scorer_must_return_one_score_per_clause() -> None:
    with pytest.raises(ValueError, match="one P\\(positive\\) per text"):
        per_text_aspects(["送餐太慢", "味道好"], DEFAULT_ASPECTS, lambda texts: np.zeros(1))


# --- the lexicon and its file -----------------------------------------------------


def test_the_template_holds_the_default_aspects() -> None:
    assert parse_aspects(default_aspects_text()) == DEFAULT_ASPECTS


def test_default_terms_are_normalised_distinct_and_never_one_chinese_character() -> None:
    assert len({a.name for a in DEFAULT_ASPECTS}) == len(DEFAULT_ASPECTS) == 8
    for aspect in DEFAULT_ASPECTS:
        assert len(set(aspect.terms)) == len(aspect.terms), aspect.name
        assert all(normalise(t) == t for t in aspect.terms), aspect.name
        chinese = [t for t in aspect.terms if not t.isascii()]
        english = [t for t in aspect.terms if t.isascii()]
        assert 10 <= len(chinese) <= 30 and 8 <= len(english) <= 16, aspect.name
        assert all(len(t) >= 2 for t in chinese), aspect.name


def test_load_aspects_normalises_terms(tmp_path: Path) -> None:
    path = tmp_path / "aspects.toml"
    path.write_text(
        '[[aspect]]\nname = "wait"\nlabel = "Waiting"\nterms = ["排隊", "Queue", "排队", " "]\n'
        '[[aspect]]\nname = "wifi"\nterms = ["Wi-Fi"]\n',
        encoding="utf-8",
    )
    assert load_aspects(path) == (
        Aspect("wait", "Waiting", ("排队", "queue")),
        Aspect("wifi", "wifi", ("wi-fi",)),
    )


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_aspects(tmp_path / "aspects.toml") == DEFAULT_ASPECTS


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[aspect]\nname = "x"', "not valid TOML .*fix the line"),
        ("", "no aspects; add at least one \\[\\[aspect\\]\\]"),
        ('[aspects]\nname = "x"', "unknown key aspects; declare each aspect as an"),
        ('[[aspect]]\nterms = ["送餐"]', "aspect 1: name None is missing.*set name ="),
        ('[[aspect]]\nname = "Delivery Speed"\nterms = ["送餐"]', "not a machine name"),
        ('[[aspect]]\nname = "delivery"\nterms = []', "aspect 1 \\(delivery\\): terms is empty"),
        ('[[aspect]]\nname = "delivery"\nterms = [" "]', "terms is empty; list the words"),
        ('[[aspect]]\nname = "delivery"', "terms must be a list of texts"),
        ('[[aspect]]\nname = "delivery"\nterms = "送餐"', "terms must be a list of texts"),
        ('[[aspect]]\nname = "delivery"\nlabel = 3\nterms = ["x"]', "label must be a text"),
        ('[[aspect]]\nname = "delivery"\nterm = ["x"]', "unknown key term; use name"),
        ('aspect = ["delivery"]', "aspect 1: write each aspect as an \\[\\[aspect\\]\\] table"),
        (
            '[[aspect]]\nname = "taste"\nterms = ["味道"]\n'
            '[[aspect]]\nname = "taste"\nterms = ["口味"]',
            "name 'taste' is declared twice",
        ),
    ],
)
def test_load_aspects_says_what_to_fix(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "aspects.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: .*{problem}") as caught:
        load_aspects(path)
    assert caught.value.code == "BAD_CONFIG"


# --- real reviews -----------------------------------------------------------------


@pytest.mark.skipif(not WAIMAI.is_file(), reason=f"the waimai reviews are not at {WAIMAI}")
def test_delivery_is_a_top_pain_point_of_real_delivery_reviews() -> None:
    with WAIMAI.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    texts = [r["review"] for r in rows]
    labels = [float(r["label"]) for r in rows]
    # P(positive) of a clause = its review's label (1 positive, 0 negative); asked for
    # the mentions, then for the clauses of the mentions that join several.
    found = [(i, clause) for i, f in enumerate(mentions(texts, DEFAULT_ASPECTS)) for _, clause in f]
    per_clause = [labels[i] for i, _ in found]
    per_clause += [labels[i] for i, c in found if ", " in c for _ in c.split(", ")]

    def label_positive(clauses: Sequence[str]) -> np.ndarray:
        assert len(clauses) == len(per_clause)
        return np.array(per_clause)

    summaries = aspect_sentiment(texts, DEFAULT_ASPECTS, label_positive)
    assert "delivery" in [s.name for s in summaries[:3]]
    delivery = next(s for s in summaries if s.name == "delivery")
    assert delivery.mentions > 0.2 * len(texts)
    assert [q.positive for q in delivery.quotes] == [0.0, 0.0, 0.0]


# --- quotes are complaints, never praise ---------------------------------------------

# Each clause's P(positive), set by hand; a clause joined with others (", ") scores the
# mean of its parts, as a mention about one aspect in several clauses is scored whole.
CLAUSE_SCORES = {
    "客服态度好": 0.9,
    "但是送餐太慢": 0.1,
    "客服态度很差": 0.05,
    "一直不理人": 0.2,
    "包装完好": 0.95,
    "但是盒子漏了": 0.15,
    "tastes good": 0.9,
    "but the soup was bland": 0.2,
    "the food tasted awful": 0.05,
}
PRAISE = ("客服态度好", "包装完好", "tastes good")
REVIEWS = [
    "客服态度好，但是送餐太慢",  # 0 service praised, delivery blamed
    "客服态度很差，一直不理人",  # 1 service blamed in two clauses
    "包装完好，但是盒子漏了",  # 2 packaging praised, then blamed
    "包装完好",  # 3
    "Tastes good but the soup was bland",  # 4 taste praised, then blamed
    "tastes good",  # 5
    "The food tasted awful",  # 6
]


def hand_scored(texts: Sequence[str]) -> np.ndarray:
    return np.array([np.mean([CLAUSE_SCORES[c] for c in t.split(", ")]) for t in texts])


def test_quotes_hold_only_clauses_read_as_negative_never_praise() -> None:
    summaries = {s.name: s for s in aspect_sentiment(REVIEWS, DEFAULT_ASPECTS, hand_scored)}
    quoted = [q for s in summaries.values() for q in s.quotes]
    assert quoted, "the reviews hold complaints to quote"
    for quote in quoted:
        assert not any(p in quote.clause for p in PRAISE), quote
        assert quote.positive < 0.5, quote
    # Mentions are still scored whole (praise and blame in one text average out) ...
    assert (summaries["packaging"].mentions, summaries["packaging"].negative) == (2, 0)
    # ... but the quotes are the clauses that blame, most negative first.
    assert summaries["service"].quotes == (Quote(1, "客服态度很差, 一直不理人", 0.125),)
    assert summaries["packaging"].quotes == (Quote(2, "但是盒子漏了", 0.15),)
    assert summaries["taste"].quotes == (
        Quote(6, "the food tasted awful", 0.05),
        Quote(4, "but the soup was bland", 0.2),
    )
    assert summaries["delivery"].quotes == (Quote(0, "但是送餐太慢", 0.1),)


def test_an_aspect_only_praised_has_no_quote() -> None:
    found = aspect_sentiment(
        ["包装完好", "tastes good", "客服态度好"], DEFAULT_ASPECTS, hand_scored
    )
    assert {s.name: s.quotes for s in found if s.mentions} == {
        "packaging": (),
        "taste": (),
        "service": (),
    }


def test_praise_the_model_misreads_is_still_not_quoted() -> None:
    """The built-in model reads the demo's "客服态度好" as negative (0.23) and "包装完好"
    as 0.48; their opinion words say praise, so they are no pain point's quotes."""
    model = builtin_model()
    assert model.positive(["客服态度好", "包装完好"]).max() < 0.5
    reviews = ["客服态度好，推荐", "物流很快，包装完好", "Tastes good, worth the price"] * 3
    reviews += ["店员态度差，很失望", "包装破损，很失望", "rude staff, very disappointed"]
    found = aspect_sentiment(reviews, DEFAULT_ASPECTS, model.positive, min_mentions=1)
    quoted = {s.name: [q.clause for q in s.quotes] for s in found if s.quotes}
    assert quoted == {"packaging": ["包装破损"], "service": ["店员态度差", "rude staff"]}


@pytest.mark.parametrize(
    ("clause", "praise"),
    [
        ("客服态度好", True),
        ("包装完好", True),
        ("tastes good", True),
        ("味道不错", True),
        ("物流很快", True),
        ("挺好的", True),
        ("fast delivery", True),
        ("态度不好", False),  # negated
        ("一点都不好吃", False),
        ("好慢", False),  # 好 as a degree word
        ("好久才送到", False),
        ("包装破损", False),
        ("not good", False),
        ("isn't good", False),
        ("good but late", False),  # one blaming word is enough
        ("还可以", False),  # no opinion word: left to the model
    ],
)
def test_praise_by_opinion_words(clause: str, praise: bool) -> None:
    assert reads_as_praise(clause) is praise

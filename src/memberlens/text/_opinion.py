"""Praise read from opinion words: what a pain point never quotes.

A sentiment model reads a short clause through the words in it, and a clause about an
aspect people mostly complain about can read negative while it praises that aspect:
the built-in Chinese model gives "客服态度好" ("the service was friendly") 0.23, since
客服 and 态度 come mostly in complaints. Hu & Liu ("Mining and summarizing customer
reviews", KDD 2004) read an opinion's orientation from its opinion words, flipped by a
negation just before them; here a clause is *praise* when it says a positive opinion
word, not negated, and no negative one. It is a veto, not a second model: a clause the
model reads negative is quoted as a complaint unless it reads as praise here.

Chinese puts the opinion at the end of the clause ("包装完好", "物流很快"), and 好 is
also a degree word inside complaints ("好慢", "好贵"), so a Chinese clause must *end*
on the positive word (trailing particles aside). English opinion words may stand
anywhere ("tastes good", "great quality"); "not", "no", "never" or "-n't" within the
three words before one negates it. Texts are normalised (Simplified, lower case).
"""

from __future__ import annotations

import re

_ZH_PRAISE = (
    "好",
    "不错",
    "满意",
    "完好",
    "完整",
    "好吃",
    "好喝",
    "美味",
    "可口",
    "新鲜",
    "干净",
    "热情",
    "周到",
    "耐心",
    "礼貌",
    "及时",
    "准时",
    "快",
    "迅速",
    "实惠",
    "划算",
    "便宜",
    "值得",
    "棒",
    "赞",
    "给力",
    "喜欢",
    "推荐",
    "贴心",
    "精致",
    "结实",
)
# Words that make a clause a complaint whatever else it says; and negations, with the
# degree words that may follow them ("不太好", "没那么新鲜").
_ZH_BLAME = (
    "差",
    "慢",
    "贵",
    "破",
    "烂",
    "坏",
    "损",
    "漏",
    "洒",
    "脏",
    "错",
    "久",
    "凉了",
    "冷了",
    "难",
    "失望",
    "糟",
    "垃圾",
    "投诉",
    "退",
    "一般",
)
_ZH_NEGATED = re.compile(
    r"(不|没|没有|别|并不|不是|一点也不|一点都不|不怎么|谈不上|算不上)"
    r"(太|很|够|那么|怎么|算|是|特别|非常|十分)?$"
)
_ZH_LONGEST_FIRST = sorted(_ZH_PRAISE, key=len, reverse=True)
_ZH_TRAILING = re.compile(r"[了的啊呀哦哈啦吧呢嘛噢]+$")
_EN_PRAISE = frozenset(
    (
        "good",
        "great",
        "nice",
        "fine",
        "excellent",
        "delicious",
        "tasty",
        "yummy",
        "friendly",
        "helpful",
        "polite",
        "fast",
        "quick",
        "quickly",
        "fresh",
        "clean",
        "perfect",
        "amazing",
        "awesome",
        "lovely",
        "happy",
        "well",
        "intact",
        "recommended",
        "love",
        "loved",
    )
)
_EN_BLAME = frozenset(
    (
        "bad",
        "poor",
        "slow",
        "late",
        "cold",
        "rude",
        "awful",
        "terrible",
        "horrible",
        "bland",
        "disappointed",
        "disappointing",
        "damaged",
        "broken",
        "wrong",
        "expensive",
        "overpriced",
        "dirty",
        "stale",
        "soggy",
        "worst",
        "missing",
        "leaked",
        "spilled",
    )
)
_EN_NEGATIONS = frozenset(
    ("not", "no", "never", "hardly", "barely", "nothing", "isnt", "wasnt", "dont", "didnt")
)
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def reads_as_praise(clause: str) -> bool:
    """Whether a normalised clause praises: a positive opinion word, not negated, and no
    negative one (module doc).

    >>> [reads_as_praise(c) for c in ("客服态度好", "包装完好", "tastes good")]
    [True, True, True]
    >>> [reads_as_praise(c) for c in ("态度不好", "好慢", "not good", "good but late")]
    [False, False, False, False]
    >>> [reads_as_praise(c) for c in ("味道不错", "包装破损", "rude staff", "还可以")]
    [True, False, False, False]
    """
    return _chinese_praise(clause) or _english_praise(clause)


def _chinese_praise(clause: str) -> bool:
    text = _ZH_TRAILING.sub("", clause.strip())
    # 不错 holds 错: look for blame with the praise words taken out
    rest = text
    for word in _ZH_LONGEST_FIRST:
        rest = rest.replace(word, " ")
    if not text or any(word in rest for word in _ZH_BLAME):
        return False
    for word in _ZH_LONGEST_FIRST:
        if text.endswith(word):
            return _ZH_NEGATED.search(text[: -len(word)]) is None
    return False


def _english_praise(clause: str) -> bool:
    words = _EN_WORD.findall(clause)
    if any(w in _EN_BLAME for w in words):
        return False
    for i, word in enumerate(words):
        if word in _EN_PRAISE:
            before = words[max(0, i - 3) : i]
            if not any(w in _EN_NEGATIONS or w.endswith("n't") for w in before):
                return True
    return False

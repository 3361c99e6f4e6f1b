"""Pain points: what feedback talks about (aspects) and how it feels about each.

An *aspect* is a named lexicon — delivery, taste, packaging, service… — whose terms
are matched clause by clause: a review often praises one thing and blames another
("好吃但是送得太慢"), so each text is cut into clauses at punctuation and before a
contrast word, and an aspect is scored on the clauses that name it only. This is the
lexicon-based aspect extraction of Hu & Liu ("Mining and summarizing customer
reviews", KDD 2004), with the sentence-level model replaced by any clause scorer: the
functions take ``positive(texts) -> P(positive)`` rather than a model, so the caller
picks it (``SentimentModel.positive``) and tests pass a tiny deterministic one.

Terms are stored normalised (``_script.normalise``: Simplified Chinese, lower case), so
Traditional feedback matches the same lexicon. A term with a non-ASCII character
matches as a substring (Chinese has no spaces between words); an ASCII term matches
whole words only, so ``late`` never matches ``chocolate``.

A workspace may replace :data:`DEFAULT_ASPECTS` with its own ``aspects.toml``
(:func:`load_aspects`; template ``aspects.toml.template``).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from memberlens.core import i18n
from memberlens.core.errors import ConfigError
from memberlens.text._opinion import reads_as_praise
from memberlens.text._script import normalise

TEMPLATE = "aspects.toml.template"
Positive = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Aspect:
    """``name``: a stable machine name (``delivery``); ``label``: what people read;
    ``terms``: normalised words or phrases that name the aspect; ``label_zh``: what
    Chinese readers read (unset: the catalogue's words for a shipped aspect)."""

    name: str
    label: str
    terms: tuple[str, ...]
    label_zh: str = ""

    def __post_init__(self) -> None:
        if not self.terms or not all(self.terms):
            raise ValueError(f"aspect {self.name!r} needs terms, none of them empty")

    def label_in(self, locale: str) -> str:
        """The label in ``locale``: in Chinese ``label_zh``, else the catalogue's words
        for a shipped aspect whose label is unchanged, else the label.

        >>> DEFAULT_ASPECTS[0].label_in("zh-CN"), DEFAULT_ASPECTS[0].label_in("en")
        ('配送', 'Delivery')
        """
        if i18n.locale_of(locale) != "zh-CN":
            return self.label
        if self.label_zh:
            return self.label_zh
        if self.label == i18n.label("aspect", self.name, "en"):
            return i18n.label("aspect", self.name, locale)
        return self.label


def _terms(zh: str, en: str) -> tuple[str, ...]:
    """Chinese terms separated by spaces, English ones (phrases allowed) by commas."""
    return tuple(zh.split()) + tuple(t.strip() for t in en.split(","))


# Chinese terms are bigrams or longer: a single character (慢, 贵, 脏) also sits in
# words about something else (贵店 is "your shop").
DEFAULT_ASPECTS: tuple[Aspect, ...] = (
    Aspect(
        "delivery",
        "Delivery",
        _terms(
            "送餐 配送 外卖员 送餐员 骑手 小哥 快递 送货 发货 物流 到货 送达 送到 送来 "
            "送过来 送得慢 送的慢 送得太慢 送的太慢 送得快 送的快 迟到 晚到 超时 准时 "
            "等了 个小时 个多小时",
            "delivery, delivered, deliver, courier, driver, rider, shipping, shipped, late, "
            "arrived, on time, waited, took forever, dispatch",
        ),
        "配送",
    ),
    Aspect(
        "taste",
        "Taste",
        _terms(
            "味道 口味 口感 好吃 难吃 好喝 难喝 美味 可口 入味 没味 太咸 偏咸 太淡 偏淡 "
            "太甜 偏甜 太辣 太油 油腻 太苦 腥味 怪味",
            "taste, tasted, tastes, tasty, flavor, flavour, delicious, bland, salty, "
            "too sweet, bitter, greasy, yummy, disgusting",
        ),
        "口味",
    ),
    Aspect(
        "packaging",
        "Packaging",
        _terms(
            "包装 打包 餐盒 饭盒 盒子 袋子 盖子 密封 漏了 洒了 撒了 漏汤 洒出 餐具 筷子 "
            "勺子 压扁 压坏 破损",
            "packaging, package, packaged, box, container, lid, spilled, leaked, leaking, "
            "sealed, bag, utensils, cutlery, crushed",
        ),
        "包装",
    ),
    Aspect(
        "service",
        "Service",
        _terms(
            "服务 态度 客服 店员 服务员 商家 老板 店家 售后 退款 回复 不理 热情 礼貌 "
            "耐心 道歉 投诉",
            "service, staff, attitude, rude, friendly, polite, barista, waiter, waitress, "
            "cashier, manager, refund, helpful, unhelpful, support",
        ),
        "服务",
    ),
    Aspect(
        "price",
        "Price",
        _terms(
            "价格 价钱 价位 太贵 好贵 很贵 挺贵 有点贵 偏贵 贵了 不贵 便宜 实惠 划算 "
            "性价比 不值这个价 涨价 优惠 折扣 红包 满减 配送费",
            "price, prices, pricey, expensive, cheap, overpriced, value, worth, cost, "
            "discount, coupon, affordable",
        ),
        "价格",
    ),
    Aspect(
        "quality",
        "Quality",
        _terms(
            "质量 品质 新鲜 变质 馊了 过期 凉了 冷了 没熟 不熟 夹生 太硬 正品 假货 次品 做工 材质",
            "quality, fresh, stale, soggy, cold food, cold coffee, arrived cold, lukewarm, "
            "undercooked, overcooked, burnt, expired, defective, broken, fake",
        ),
        "质量",
    ),
    Aspect(
        "portion",
        "Portion",
        _terms(
            "份量 分量 量少 量太少 量很少 量小 量大 量足 足量 吃不饱 没吃饱 不够吃 管饱 "
            "缩水 肉少 肉太少 就几块 只有几块",
            "portion, portions, serving, amount, small portion, tiny, generous, filling, "
            "not enough, skimpy",
        ),
        "分量",
    ),
    Aspect(
        "hygiene",
        "Hygiene",
        _terms(
            "卫生 干净 很脏 太脏 好脏 头发 虫子 苍蝇 蟑螂 异物 发霉 拉肚子 肚子疼 吃坏 食物中毒",
            "hygiene, hygienic, clean, dirty, hair, bug, bugs, insect, cockroach, mold, "
            "moldy, unsanitary, food poisoning, sick",
        ),
        "卫生",
    ),
)


@dataclass(frozen=True)
class Quote:
    """A complaint about the aspect in text ``text_index``: its clauses that name the
    aspect and read negative on their own (joined with ", "), and their mean
    P(positive)."""

    text_index: int
    clause: str
    positive: float


@dataclass(frozen=True)
class AspectSummary:
    """How the texts feel about one aspect.

    ``mentions``: texts that name it; ``share``: of all texts; ``mean_positive``: mean
    P(positive) of those texts' clauses about it (None without mentions);
    ``negative``: mentions with P(positive) below the threshold, ``negative_share`` of
    the mentions (None without mentions); ``quotes``: the most negative complaints, the
    evidence of a pain point — never praise, and none when nobody complains. ``code``
    is ``FEW_MENTIONS`` when there are too few mentions to rank the aspect (it is then
    listed last), else ``OK``.
    """

    name: str
    label: str
    mentions: int
    share: float
    mean_positive: float | None
    negative: int
    negative_share: float | None
    quotes: tuple[Quote, ...]
    code: Literal["OK", "FEW_MENTIONS"]


# --- the aspects file -------------------------------------------------------------

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def default_aspects_text() -> str:
    """The shipped template: :data:`DEFAULT_ASPECTS` as ``aspects.toml``."""
    return resources.files("memberlens.text").joinpath(TEMPLATE).read_text(encoding="utf-8")


def load_aspects(path: Path) -> tuple[Aspect, ...]:
    """The aspects declared at ``path``, or :data:`DEFAULT_ASPECTS` when there is none."""
    if not path.is_file():
        return DEFAULT_ASPECTS
    return parse_aspects(path.read_text(encoding="utf-8"), origin=str(path))


def parse_aspects(text: str, *, origin: str = "aspects.toml") -> tuple[Aspect, ...]:
    """Aspects from TOML text (``[[aspect]]`` tables with ``name``, ``label``, an
    optional ``label_zh``, ``terms``); a :class:`ConfigError` says what is wrong where
    and how to fix it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc}); fix the line it names") from exc
    unknown = sorted(set(raw) - {"aspect"})
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key {', '.join(unknown)}; declare each aspect as an "
            "[[aspect]] table"
        )
    tables = raw.get("aspect", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{origin}: no aspects; add at least one [[aspect]] table")
    aspects = tuple(_aspect(body, f"{origin}: aspect {i}") for i, body in enumerate(tables, 1))
    seen: set[str] = set()
    for aspect in aspects:
        if aspect.name in seen:
            raise ConfigError(
                f"{origin}: aspect name {aspect.name!r} is declared twice; give each "
                "[[aspect]] its own name or merge their terms"
            )
        seen.add(aspect.name)
    return aspects


def _aspect(body: Any, where: str) -> Aspect:
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: write each aspect as an [[aspect]] table")
    unknown = sorted(set(body) - {"name", "label", "label_zh", "terms"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {', '.join(unknown)}; use name, label, label_zh, terms"
        )
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: name {name!r} is missing or not a machine name; set name = "
            '"delivery" (lower-case letters, digits and _, starting with a letter)'
        )
    label = body.get("label", name)
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f'{where} ({name}): label must be a text, e.g. label = "Delivery"')
    label_zh = body.get("label_zh", "")
    if not isinstance(label_zh, str):
        raise ConfigError(f'{where} ({name}): label_zh must be a text, e.g. label_zh = "配送"')
    terms = body.get("terms")
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ConfigError(
            f'{where} ({name}): terms must be a list of texts, e.g. terms = ["送餐", "late"]'
        )
    kept = tuple(dict.fromkeys(n for n in (normalise(t) for t in terms) if n))
    if not kept:
        raise ConfigError(f"{where} ({name}): terms is empty; list the words that name it")
    return Aspect(name, label.strip(), kept, label_zh.strip())


# --- clauses and mentions ---------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CLAUSE_BREAK = re.compile(
    "|".join(
        (
            r"[,!?;，。！？；、~～\n]+",
            r"(?<!\d)\.+|\.+(?!\d)",  # a full stop, not a decimal point
            f"(?<=[{_CJK}]) (?=[{_CJK}])",  # Chinese written with spaces between clauses
            # before a contrast word; 不但 / 非但 ("not only"), 这就是 ("this is") are not
            r"(?<![不非])(?=但)",
            r"(?=可是)",
            r"(?<!只)(?=不过)|(?=只不过)",
            r"(?<![这那不也都还要])(?=就是)",
            r"(?<![a-z0-9])(?=(?:but|however|though|although)(?![a-z0-9]))",
        )
    )
)


def clauses(text: str) -> list[str]:
    """The clauses of a normalised text: cut at punctuation and before a contrast word.

    >>> clauses("好吃但是送得太慢,下次还点")
    ['好吃', '但是送得太慢', '下次还点']
    >>> clauses("great coffee but the staff were rude.")
    ['great coffee', 'but the staff were rude']
    """
    return [p for p in (piece.strip() for piece in _CLAUSE_BREAK.split(text)) if p]


@functools.cache
def _pattern(aspect: Aspect) -> re.Pattern[str]:
    chinese = [re.escape(t) for t in aspect.terms if not t.isascii()]
    ascii_terms = [re.escape(t) for t in aspect.terms if t.isascii()]
    parts = [*chinese]
    if ascii_terms:
        parts.append(f"(?<![a-z0-9])(?:{'|'.join(ascii_terms)})(?![a-z0-9])")
    return re.compile("|".join(parts))


def _named(texts: Sequence[str], aspects: Sequence[Aspect]) -> list[list[tuple[str, list[str]]]]:
    """Per text, ``(aspect name, the clauses that name it)`` in the order of ``aspects``."""
    out: list[list[tuple[str, list[str]]]] = []
    for text in texts:
        # lines first: normalise() turns a line break into a space
        parts = [c for line in text.splitlines() for c in clauses(normalise(line))]
        found: list[tuple[str, list[str]]] = []
        for aspect in aspects:
            pattern = _pattern(aspect)
            named = [c for c in parts if pattern.search(c)]
            if named:
                found.append((aspect.name, named))
        out.append(found)
    return out


def mentions(texts: Sequence[str], aspects: Sequence[Aspect]) -> list[list[tuple[str, str]]]:
    """Per text, ``(aspect name, clause)`` for each aspect it names, in the order of
    ``aspects``; when several clauses name one aspect they are joined with ", ".

    >>> mentions(["好吃但是送得太慢"], DEFAULT_ASPECTS)
    [[('delivery', '但是送得太慢'), ('taste', '好吃')]]
    """
    return [[(name, ", ".join(named)) for name, named in found] for found in _named(texts, aspects)]


@dataclass(frozen=True)
class _Mention:
    """One text's mention of one aspect: the clauses naming it, each with its own
    P(positive), and the P(positive) of the mention read whole."""

    text_index: int
    aspect: str
    clauses: tuple[tuple[str, float], ...]
    positive: float


def _scored(texts: Sequence[str], aspects: Sequence[Aspect], positive: Positive) -> list[_Mention]:
    """Every mention, scored whole and clause by clause in one call of ``positive``: the
    mentions (text by text, aspect by aspect), then the clauses of the mentions that
    join several (in the same order, clause by clause)."""
    rows = [
        (i, name, named) for i, found in enumerate(_named(texts, aspects)) for name, named in found
    ]
    if not rows:
        return []
    asked = [", ".join(named) for _, _, named in rows]
    asked += [c for _, _, named in rows if len(named) > 1 for c in named]
    scores = np.asarray(positive(asked), dtype=np.float64)
    if scores.shape != (len(asked),):
        raise ValueError(
            f"positive() returned shape {scores.shape} for {len(asked)} clauses; "
            "it must return one P(positive) per text"
        )
    whole, apart = scores[: len(rows)], iter(scores[len(rows) :])
    out = []
    for (i, name, named), p in zip(rows, whole, strict=True):
        own = [float(p)] if len(named) == 1 else [float(next(apart)) for _ in named]
        out.append(_Mention(i, name, tuple(zip(named, own, strict=True)), float(p)))
    return out


def per_text_aspects(
    texts: Sequence[str], aspects: Sequence[Aspect], positive: Positive
) -> list[dict[str, float]]:
    """For each text, ``{aspect name: P(positive) of its clauses about it}`` over the
    aspects it names (an empty dict when it names none)."""
    out: list[dict[str, float]] = [{} for _ in texts]
    for m in _scored(texts, aspects, positive):
        out[m.text_index][m.aspect] = m.positive
    return out


def aspect_sentiment(
    texts: Sequence[str],
    aspects: Sequence[Aspect],
    positive: Positive,
    *,
    min_mentions: int = 5,
    quotes: int = 3,
    negative_below: float = 0.5,
) -> list[AspectSummary]:
    """One summary per aspect, the biggest pain point first.

    Ordered by ``negative`` (mentions with P(positive) < ``negative_below``) descending,
    then name — except that aspects with fewer than ``min_mentions`` mentions
    (``code == "FEW_MENTIONS"``) come after all the others, in the same order among
    themselves. Quotes are the ``quotes`` most negative distinct complaints (ties: the
    earlier text first): per mention, the clauses naming the aspect whose own
    P(positive) is below ``negative_below`` and that do not read as praise by their
    opinion words (``_opinion.reads_as_praise``). A mention is counted and ranked on
    its clauses read whole; only quotes read clause by clause.

    ``positive`` is called once, with the clauses of :func:`mentions` in its order
    (text by text, aspect by aspect), then each clause of the mentions that join
    several (in the same order), and must return one P(positive) per text given.
    """
    by_aspect: dict[str, list[_Mention]] = {a.name: [] for a in aspects}
    for m in _scored(texts, aspects, positive):
        by_aspect[m.aspect].append(m)
    summaries = [
        _summary(a, by_aspect[a.name], len(texts), min_mentions, quotes, negative_below)
        for a in aspects
    ]
    return sorted(summaries, key=lambda s: (s.code != "OK", -s.negative, s.name))


def _summary(
    aspect: Aspect,
    found: list[_Mention],
    n_texts: int,
    min_mentions: int,
    quotes: int,
    negative_below: float,
) -> AspectSummary:
    n = len(found)
    negative = sum(m.positive < negative_below for m in found)
    picked: dict[str, Quote] = {}
    for quote in sorted(
        _complaints(found, negative_below), key=lambda q: (q.positive, q.text_index)
    ):
        if len(picked) == quotes:
            break
        picked.setdefault(quote.clause, quote)
    return AspectSummary(
        name=aspect.name,
        label=aspect.label,
        mentions=n,
        share=n / n_texts if n_texts else 0.0,
        mean_positive=float(np.mean([m.positive for m in found])) if n else None,
        negative=negative,
        negative_share=negative / n if n else None,
        quotes=tuple(picked.values()),
        code="OK" if n >= min_mentions else "FEW_MENTIONS",
    )


def _complaints(found: list[_Mention], negative_below: float) -> list[Quote]:
    """Per mention, its clauses read as negative on their own and not as praise by their
    opinion words (``_opinion``: a model may read "客服态度好" negative), joined; the
    quote's P(positive) is their mean. Praise beside a complaint in one text is left out;
    a mention without such a clause gives no quote."""
    out = []
    for m in found:
        kept = [(c, p) for c, p in m.clauses if p < negative_below and not reads_as_praise(c)]
        if kept:
            text = ", ".join(c for c, _ in kept)
            out.append(Quote(m.text_index, text, float(np.mean([p for _, p in kept]))))
    return out

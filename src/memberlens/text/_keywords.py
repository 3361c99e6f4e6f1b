"""What feedback talks about: keywords, topics, and how a measure moves over time.

Keywords answer "which words stand out in these texts" (say, this month's complaints).
Chinese texts go to jieba's extractors (github.com/fxsjy/jieba): TF-IDF against the
IDF table jieba ships, computed on a general Chinese corpus, or TextRank (Mihalcea &
Tarau, "TextRank: Bringing order into texts", EMNLP 2004) over the co-occurrence
graph of nouns and verbs. English texts need no model download: the candidates are
the runs of one to three words between stop words and punctuation — the candidate
phrases of RAKE (Rose et al., "Automatic keyword extraction from individual
documents", 2010), which keeps "cold coffee" whole — weighted by TF-IDF over the
texts given. The two lists are put on one scale (each language's top term = its share
of the texts) and merged.

Topics are non-negative matrix factorisation of the texts' TF-IDF (Lee & Seung,
"Learning the parts of objects by non-negative matrix factorization", Nature 1999),
Chinese cut into words by jieba, English words without stop words, in one vocabulary.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from memberlens.text._script import language, normalise

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A run of Chinese characters, or an English word (apostrophes inside: "don't").
_RUNS = re.compile(f"([{_CJK}]+)|([a-z][a-z0-9]*(?:'[a-z]+)*)")
_ENGLISH = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)*|([^a-z\s])")
_MAX_PHRASE = 3
_NO_KEYWORD = re.compile(r"[\d\W_]+")  # digits and punctuation only
# Frequent in any Chinese feedback and telling nothing about what it is about.
_ZH_STOP_WORDS = (
    "没有 就是 还是 一个 两个 不是 非常 真的 感觉 觉得 什么 这个 那个 这些 那些 然后 但是 而且 "
    "已经 可以 知道 还有 一点 有点 这么 那么 怎么 这样 那样 因为 所以 比较 特别 时候 下次 "
    "我们 你们 他们 自己 以后 以前 现在 一下 一次 这次 每次 不会 不能 不要 东西 今天 之前 "
    "之后 为什么 还要 只有 也是 都是 不过 可是 如果 虽然 其实 到底 一直 总是 这家 一样 "
    "简直 居然 竟然 还好 以为 不用 应该 可能 一定 只是 直接 结果"
)
_ZH_STOP = frozenset(_ZH_STOP_WORDS.split())


@functools.cache
def _english_stop() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@functools.cache
def _jieba() -> Any:
    import jieba  # its dictionary loads on the first cut: a second or so

    # Its prefix-dictionary cache goes to the temporary directory; keep the progress
    # lines it logs there quiet.
    jieba.setLogLevel(logging.WARNING)
    return jieba


@functools.cache
def _extractor(method: Literal["tfidf", "textrank"]) -> Any:
    _jieba()  # quiet before the extractor loads its tables
    from jieba import analyse

    extractor = analyse.TFIDF() if method == "tfidf" else analyse.TextRank()
    extractor.stop_words |= _ZH_STOP  # the instance's own copy of jieba's list
    return extractor


def _is_term(word: str) -> bool:
    return len(word) > 1 and not _NO_KEYWORD.fullmatch(word) and word not in _ZH_STOP


# --- keywords -----------------------------------------------------------------------


def keywords(
    texts: Sequence[str], *, k: int = 20, method: Literal["tfidf", "textrank"] = "tfidf"
) -> list[tuple[str, float]]:
    """The ``k`` terms that best say what ``texts`` are about, with scores in (0, 1].

    ``method`` picks jieba's extractor for Chinese texts (TextRank tags parts of
    speech: several times slower); English texts are always read as TF-IDF phrases.
    Each language's scores are scaled so its top term scores its share of the texts,
    then the lists are merged. Ordered by score, then term.

    >>> keywords(["Cold coffee!", "cold coffee again", "friendly staff"])
    [('cold coffee', 1.0), ('friendly staff', 0.5)]
    """
    normalised = [n for n in (normalise(t) for t in texts) if n]
    chinese = [t for t in normalised if language(t) == "zh"]
    english = [t for t in normalised if language(t) == "en"]
    merged: dict[str, float] = {}
    for scores, share in (
        (_chinese_keywords(chinese, method), len(chinese)),
        (_english_keywords(english), len(english)),
    ):
        top = max(scores.values(), default=0.0)
        for term, score in scores.items():
            merged[term] = merged.get(term, 0.0) + score / top * share / len(normalised)
    rounded = ((term, round(score, 4)) for term, score in merged.items())
    return sorted(rounded, key=lambda ts: (-ts[1], ts[0]))[:k]


def _chinese_keywords(texts: list[str], method: Literal["tfidf", "textrank"]) -> dict[str, float]:
    if not texts:
        return {}
    pairs = _extractor(method).extract_tags("\n".join(texts), topK=None, withWeight=True)
    return {word: float(score) for word, score in pairs if _is_term(word) and score > 0}


def _phrases(text: str) -> Iterator[str]:
    """The runs of 1–3 non-stop words of an English text; a longer run is cut into
    pieces of three from its start."""
    stop = _english_stop()
    run: list[str] = []
    for match in _ENGLISH.finditer(text):
        word = match.group(0)
        if match.group(1) is None and word not in stop and len(word) > 1:
            run.append(word)
            continue
        yield from _pieces(run)
        run = []
    yield from _pieces(run)


def _pieces(run: list[str]) -> Iterator[str]:
    for start in range(0, len(run), _MAX_PHRASE):
        yield " ".join(run[start : start + _MAX_PHRASE])


def _english_keywords(texts: list[str]) -> dict[str, float]:
    """Summed TF-IDF (sublinear term frequency, unit rows) of each phrase over the texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not any(next(_phrases(t), "") for t in texts):
        return {}
    vectorizer = TfidfVectorizer(analyzer=_phrases, sublinear_tf=True)
    weights = np.asarray(vectorizer.fit_transform(texts).sum(axis=0)).ravel()
    terms = vectorizer.get_feature_names_out()
    return {str(t): float(w) for t, w in zip(terms, weights, strict=True) if w > 0}


# --- topics -------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """``terms``: its top terms with their NMF weights; ``size``: texts assigned to it."""

    index: int
    terms: list[tuple[str, float]]
    size: int


@dataclass(frozen=True, eq=False)  # == on an array is no truth value: compare fields
class TopicModel:
    """The topics, largest first, and ``assignment[i]``: the topic of text ``i``
    (``-1``: the text has no word of the vocabulary)."""

    topics: list[Topic]
    assignment: np.ndarray


def _tokens(text: str) -> list[str]:
    """Words of a normalised text: jieba's for Chinese runs, English words, without stop
    words, single characters and numbers."""
    out: list[str] = []
    stop = _english_stop()
    for chinese, english in _RUNS.findall(text):
        if chinese:
            out += [w for w in _jieba().lcut(chinese) if _is_term(w)]
        elif english not in stop and _is_term(english):
            out.append(english)
    return out


def default_topic_count(n_texts: int) -> int:
    """round(√(n / 50)) held within 2–8: two topics up to about 300 texts, eight from
    about 2,800. A rule of thumb, not a fit: ask for ``n_topics`` to override it."""
    return min(8, max(2, round(math.sqrt(n_texts / 50))))


def topics(
    texts: Sequence[str], *, n_topics: int | None = None, top_terms: int = 8, seed: int = 0
) -> TopicModel:
    """NMF topics of ``texts`` (:func:`default_topic_count` of them unless given).

    Words in at least two texts make the vocabulary (one text cannot make a theme);
    a text belongs to the topic with its largest weight. Topics are numbered largest
    first. With fewer than three texts, or too few shared words, there are no topics
    and every text is ``-1``. Deterministic for a ``seed``.
    """
    if n_topics is not None and n_topics < 1:
        raise ValueError(f"n_topics must be at least 1, not {n_topics}")
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    none = TopicModel([], np.full(len(texts), -1, dtype=np.int64))
    tokens = [_tokens(normalise(t)) for t in texts]
    if sum(bool(t) for t in tokens) < 3:
        return none
    vectorizer = TfidfVectorizer(analyzer=lambda words: words, min_df=2, sublinear_tf=True)
    try:
        x = vectorizer.fit_transform(tokens)
    except ValueError:  # no word is in two texts
        return none
    wanted = n_topics or default_topic_count(len(texts))
    count = min(wanted, int((x.getnnz(axis=1) > 0).sum()), x.shape[1])
    nmf = NMF(n_components=count, init="nndsvda", random_state=seed, max_iter=500)
    weights = nmf.fit_transform(x)
    raw = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    sizes = np.bincount(raw[raw >= 0], minlength=count)
    order = sorted(range(count), key=lambda c: (-sizes[c], c))  # largest topic first
    renumber = np.empty(count + 1, dtype=np.int64)  # the last cell is for raw[i] == -1
    renumber[order] = np.arange(count)
    renumber[-1] = -1
    vocabulary = vectorizer.get_feature_names_out()
    found = [
        Topic(new, _top_terms(nmf.components_[old], vocabulary, top_terms), int(sizes[old]))
        for new, old in enumerate(order)
    ]
    return TopicModel(found, renumber[raw])


def _top_terms(row: np.ndarray, vocabulary: np.ndarray, n: int) -> list[tuple[str, float]]:
    ranked = sorted(
        ((str(vocabulary[j]), round(float(row[j]), 4)) for j in np.flatnonzero(row > 0)),
        key=lambda tw: (-tw[1], tw[0]),
    )
    return ranked[:n]


# --- trend --------------------------------------------------------------------------


def trend(
    dates: Sequence[date],
    values: Sequence[float | None],
    *,
    period: Literal["week", "month"] = "month",
) -> list[tuple[date, int, float]]:
    """Per period (a week starts on Monday, a month on its first day), in time order:
    its first day, how many values it holds and their mean. None and NaN are skipped;
    a period with none left is left out.

    >>> trend([date(2024, 1, 3), date(2024, 1, 30), date(2024, 2, 1)], [1.0, 0.0, None])
    [(datetime.date(2024, 1, 1), 2, 0.5)]
    """
    if len(dates) != len(values):
        raise ValueError(f"{len(dates)} dates but {len(values)} values: pair each value")
    sums: dict[date, tuple[int, float]] = {}
    for day, value in zip(dates, values, strict=True):
        if value is None or math.isnan(value):
            continue
        start = _period_start(day.date() if isinstance(day, datetime) else day, period)
        n, total = sums.get(start, (0, 0.0))
        sums[start] = (n + 1, total + value)
    return [(start, n, total / n) for start, (n, total) in sorted(sums.items())]


def _period_start(day: date, period: Literal["week", "month"]) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)

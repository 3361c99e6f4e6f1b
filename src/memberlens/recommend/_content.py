"""Content-based recommendation: items like the member's, by what the catalogue says.

Each item is a bag of field-prefixed terms — ``cat:`` category, ``sub:`` subcategory,
``brand:``, one ``tag:`` per tag and ``name:`` per word of the name — so that a brand
never matches a word of a name. Chinese runs of a name are cut into words by jieba
(dictionary and HMM segmentation, github.com/fxsjy/jieba); other words are lower-cased.
Terms are weighted by TF-IDF with sublinear term frequency (Salton & Buckley, "Term
weighting approaches in automatic text retrieval", 1988), rows normalised, so the
item × item similarity is the cosine. Each item keeps its ``neighbours`` most similar
items; a member's score for a candidate sums, over the items they have, their weight
times the similarity. Nothing here needs anyone to have touched the candidate, which
is how new items enter lists.

Without a catalogue the text is the interactions' category alone: the member's
categories, their most popular items first (equal similarities go to the item more
members chose, see :func:`_nearest`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from memberlens.core.errors import UsageError
from memberlens.recommend._algorithms import Floats, Ints, Recommender, explain_by_item
from memberlens.recommend._interactions import UNKNOWN, Interactions
from memberlens.recommend._memory import ENTRY, PRODUCT_ENTRY, Shape
from memberlens.recommend._products import Products

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A run of Chinese characters (cut by jieba), or a run of other letters and digits.
_RUNS = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
_TAG_SEPARATORS = re.compile(r"[,;、；|]")


def _value(text: object) -> str:
    """A field value as one term: NFKC (full-width letters become ASCII), case-folded,
    inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


class _Words:
    """Words of a name: jieba for Chinese runs, lower-cased runs of letters and digits
    otherwise (single letters dropped). jieba is loaded on first Chinese text only."""

    def __init__(self) -> None:
        self._jieba: Any = None

    def __call__(self, text: str) -> Iterator[str]:
        for chinese, other in _RUNS.findall(_value(text)):
            if chinese:
                yield from (w for w in self._tokenizer().lcut(chinese) if w.strip())
            elif len(other) > 1 or other.isdigit():
                yield other

    def _tokenizer(self) -> Any:
        if self._jieba is None:
            import jieba  # a second or so to load its dictionary: only when needed

            # Its dictionary ships in the package; the prefix-dictionary cache goes to
            # the temporary directory (jieba's default). Keep its progress lines quiet.
            jieba.setLogLevel(logging.WARNING)
            self._jieba = jieba.Tokenizer()
        return self._jieba


def _nearest(
    vectors: sparse.csr_matrix, n: int, popularity: Floats, budget: int = 4_000_000
) -> sparse.csr_matrix:
    """Per row of ``vectors`` (unit rows), its ``n`` most similar other rows by cosine;
    equal similarities go to the more popular row, then the smaller index.

    Rows with the same text are one document (without a catalogue every item of a
    category is): the product is formed between documents, in blocks of at most about
    ``budget`` cells, and a document passes on only its ``n + 1`` first items (by
    popularity, then index) — no item needs more, as at most one of them is itself.
    """
    items = vectors.shape[0]
    docs, group = _documents_of(vectors)
    # each document's items, the more popular first, then by index
    by_doc = np.lexsort((np.arange(items), -popularity, group))
    doc_start = np.searchsorted(group[by_doc], np.arange(docs.shape[0] + 1))
    rank = np.arange(items) - doc_start[group[by_doc]]
    head = by_doc[rank <= n]  # each document's n + 1 first items, grouped by document
    head_start = np.searchsorted(group[head], np.arange(docs.shape[0] + 1))
    head_size = np.diff(head_start)

    upper = docs.T.tocsr()
    # a document's candidates, at most: the head items of each document sharing a term;
    # and its lists, one per item of it
    has = (docs != 0).astype(np.int64)
    cost = np.cumsum(has @ (has.T @ head_size) + np.diff(doc_start) * (n + 1))
    rows, cols, vals = [], [], []
    start = 0
    while start < docs.shape[0]:
        spent = cost[start - 1] if start else 0
        end = max(int(np.searchsorted(cost, spent + budget, side="right")), start + 1)
        block = (docs[start:end] @ upper).tocoo()
        # rounding makes equal texts tie exactly whatever the order of summation
        sim = np.round(block.data, 12)
        positive = sim > 0
        doc, other, sim = block.row[positive] + start, block.col[positive], sim[positive]
        # expand each (document, similar document) pair to the latter's head items
        repeat = head_size[other]
        doc, sim = np.repeat(doc, repeat), np.repeat(sim, repeat)
        offset = np.arange(len(doc)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        item = head[np.repeat(head_start[other], repeat) + offset]
        order = np.lexsort((item, -popularity[item], -sim, doc))
        doc, item, sim = doc[order], item[order], sim[order]
        first = np.searchsorted(doc, doc, side="left")
        keep = np.arange(len(doc)) - first <= n
        doc, item, sim = doc[keep], item[keep], sim[keep]
        # each item of the block's documents takes its document's list, less itself
        listed = np.searchsorted(doc, np.arange(start, end + 1))
        owners = by_doc[doc_start[start] : doc_start[end]]
        length = listed[group[owners] - start + 1] - listed[group[owners] - start]
        at = np.repeat(listed[group[owners] - start], length)
        at = at + np.arange(len(at)) - np.repeat(np.cumsum(length) - length, length)
        run = np.repeat(np.arange(len(owners)), length)  # one run per item, in order
        row, col, value = owners[run], item[at], sim[at]
        other_item = col != row
        run, row, col, value = run[other_item], row[other_item], col[other_item], value[other_item]
        keep = np.arange(len(run)) - np.searchsorted(run, run, side="left") < n
        rows.append(row[keep])
        cols.append(col[keep])
        vals.append(value[keep])
        start = end
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(items, items),
    )


def _first(similar: sparse.csr_matrix, n: int, popularity: Floats) -> sparse.csr_matrix:
    """Each row's ``n`` first entries by similarity, then popularity, then index: the
    order in which :func:`_nearest` keeps them."""
    m = similar.tocoo()
    order = np.lexsort((m.col, -popularity[m.col], -m.data, m.row))
    row, col, value = m.row[order], m.col[order], m.data[order]
    keep = np.arange(len(row)) - np.searchsorted(row, row, side="left") < n
    return sparse.csr_matrix((value[keep], (row[keep], col[keep])), shape=similar.shape)


def _documents_of(vectors: sparse.csr_matrix) -> tuple[sparse.csr_matrix, Ints]:
    """The distinct rows of ``vectors`` and, per row, the index of its distinct row."""
    seen: dict[bytes, int] = {}
    group = np.empty(vectors.shape[0], dtype=np.int64)
    indptr, indices, data = vectors.indptr, vectors.indices, vectors.data
    for row in range(vectors.shape[0]):
        a, b = indptr[row], indptr[row + 1]
        key = indices[a:b].tobytes() + data[a:b].tobytes()
        group[row] = seen.setdefault(key, len(seen))
    firsts = np.unique(group, return_index=True)[1]
    return sparse.csr_matrix(vectors[firsts]), group


class Content(Recommender):
    """TF-IDF over the catalogue's category, subcategory, brand, tags and name words;
    cosine between items, each item's ``neighbours`` nearest kept.

    Parameters
    ----------
    products
        The catalogue aligned to the interactions' items (``load_products``); without
        it, an item's text is its category in the interactions.
    neighbours
        How many similar items each item passes its weight to.

    Examples
    --------
    >>> model = Content(products).fit(train, data)  # doctest: +SKIP
    >>> model.explain(0, 7)  # doctest: +SKIP
    '{"code":"like","params":{"item":"农夫山泉 天然矿泉水 550ml"}}'
    """

    name = "content"
    NEIGHBOURS: ClassVar[int] = 50
    GRID = ({}, {"neighbours": 200})
    # Scores are multiplied by 1 + TIE × (popularity / the largest): among items equally
    # like the member's, the one more members chose first; never more than a tie-break.
    TIE: ClassVar[float] = 1e-6

    def __init__(self, products: Products | None = None, neighbours: int | None = None) -> None:
        super().__init__()
        self.products = products
        if products is not None:  # reasons name items by their catalogue names
            self.labels = products.name
        self.neighbours = self.NEIGHBOURS if neighbours is None else neighbours

    def params(self) -> dict[str, object]:
        return {"neighbours": self.neighbours}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> Content:
        super().fit(train, data)
        if self.products is not None and len(self.products) != len(data.items):
            raise UsageError(
                f"content: the catalogue has {len(self.products)} items, the interactions "
                f"{len(data.items)}; build it for these interactions with "
                "load_products(warehouse, data)"
            )
        counts = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()
        self.popularity_ = counts / max(counts.max(initial=0.0), 1.0)
        self.tie_ = 1.0 + self.TIE * self.popularity_
        self.vectors_ = self._vectorise(self._documents(data))
        self.similar_ = _nearest(self.vectors_, self.neighbours, self.popularity_)
        # row i: how much each item j speaks for i (scores are train @ similar_)
        self.explained_by_ = self.similar_.T.tocsr()
        return self

    def narrowed(self, neighbours: int) -> Content:
        """This fitted model with each item's list cut to its ``neighbours`` first: what
        fitting with ``neighbours`` gives, without forming the item × item product
        again. An item's n nearest are the first n of its wider list, in the same order
        (similarity, then popularity, then index): within a document every item is as
        similar, so a document's items enter a list in that document's own order."""
        if neighbours > self.neighbours:
            raise ValueError(f"{self.name}: keeps {self.neighbours} neighbours, not {neighbours}")
        train, data = self._fitted()
        if neighbours == self.neighbours:
            return self  # nothing to cut; no second copy of a large catalogue's lists
        copy = Content(self.products, neighbours)
        copy.train, copy.data = train, data
        copy.popularity_, copy.tie_, copy.vectors_ = self.popularity_, self.tie_, self.vectors_
        copy.similar_ = _first(self.similar_, neighbours, self.popularity_)
        copy.explained_by_ = copy.similar_.T.tocsr()
        return copy

    def memory(self, shape: Shape) -> int:
        # the neighbours and their transpose, the term vectors (a few dozen terms per
        # item), a block of the item × item product (``_nearest``'s budget)
        kept = shape.items * self.neighbours * ENTRY * 2 + shape.items * 40 * ENTRY
        return super().memory(shape) + kept + 4_000_000 * PRODUCT_ENTRY

    def _documents(self, data: Interactions) -> list[tuple[str, ...]]:
        """Per item: name, category, subcategory, brand, tags (empty when unknown)."""
        known = [data.categories[c] if c != UNKNOWN else "" for c in data.category.tolist()]
        p = self.products
        if p is None:
            return [("", category, "", "", "") for category in known]
        return [
            (str(p.name[i]), str(p.category[i] or known[i]), str(p.subcategory[i]),
             str(p.brand[i]), str(p.tags[i]))
            for i in range(len(p))
        ]  # fmt: skip

    def _vectorise(self, documents: list[tuple[str, ...]]) -> sparse.csr_matrix:
        words = _Words()

        def terms(document: tuple[str, ...]) -> list[str]:
            name, category, subcategory, brand, tags = document
            found = [f"name:{w}" for w in words(name)]
            fields = (("cat", category), ("sub", subcategory), ("brand", brand))
            found += [f"{field}:{_value(v)}" for field, v in fields if _value(v)]
            return found + [f"tag:{t}" for t in map(_value, _TAG_SEPARATORS.split(tags)) if t]

        bags = [terms(d) for d in documents]
        if not any(bags):
            return sparse.csr_matrix((len(documents), 0))
        from sklearn.feature_extraction.text import TfidfVectorizer  # not at CLI start

        tfidf = TfidfVectorizer(analyzer=_same, sublinear_tf=True, dtype=np.float64)
        return sparse.csr_matrix(tfidf.fit_transform(bags))

    def scores(self, users: Ints) -> Floats:
        dense: Floats = self.sparse_scores(users).toarray()
        return dense

    def sparse_scores(self, users: Ints) -> sparse.csr_matrix:
        train, _ = self._fitted()
        block = sparse.csr_matrix(train[users] @ self.similar_, dtype=np.float64)
        block.data = block.data * self.tie_[block.indices]
        return block

    def explain(self, user: int, item: int) -> str:
        return self.explain_many(user, np.asarray([item]))[0]

    def explain_many(self, user: int, items: Ints) -> list[str]:
        return self.explain_block(np.asarray([user]), [items])[0]

    def explain_block(self, users: Ints, items: list[Ints]) -> list[list[str]]:
        return explain_by_item(
            self,
            self.explained_by_,
            users,
            items,
            "like",
            otherwise="like_what_you_chose",
        )

    ANCHOR_REASON = "similar_to"

    def item_to_item(self) -> sparse.csr_matrix:
        return self.similar_


def _same(terms: list[str]) -> list[str]:
    """The analyzer: documents arrive as their terms already."""
    return terms

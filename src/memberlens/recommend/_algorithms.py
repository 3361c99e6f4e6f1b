"""Recommenders behind one small interface: ``fit``, ``scores``, ``explain``.

``fit(train, data)`` learns from the users × items matrix of the training records
(``data`` gives the items' categories); ``scores(users)`` returns a dense block of
scores, one row per user, higher is better; ``explain(user, item)`` says why in a
few words. :func:`top_k` turns scores into lists, leaving out what a user already has.

- ``popularity``: distinct users per item.
- ``item_knn`` / ``user_knn``: cosine similarity with shrinkage,
  ``x·y / (|x||y| + shrink)``, keeping each item's (user's) ``neighbours`` most similar;
  a user's score for an item sums the similarities of the items they have (of their
  neighbours' weights for it).
- ``category``: the user's share of interest per category times the item's
  popularity within its category (what "category signals" means on sparse data:
  the member's categories, their best sellers); items without a category fall back
  to a small share of their global popularity.
- ``blend`` / ``rrf``: hybrids of category affinity and item-kNN — weighted blending
  of per-user normalised scores, and reciprocal-rank fusion.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from memberlens.core import progress
from memberlens.recommend import _similarity
from memberlens.recommend._blocks import (
    add_reciprocal_ranks,
    block_rows,
    sparse_enough,
    top_positive,
    top_positive_sparse,
)
from memberlens.recommend._interactions import UNKNOWN, Interactions
from memberlens.recommend._memory import ENTRY, PRODUCT_ENTRY, Shape
from memberlens.recommend._reasons import reason
from memberlens.recommend._similarity import cosine_neighbours, keep_top, row_blocks

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class Recommender(abc.ABC):
    """The interface every algorithm follows; ``scores`` is each algorithm's own."""

    name: ClassVar[str] = "base"
    # Keyword sets tried on the validation split, the default first (``evaluate``).
    GRID: ClassVar[tuple[dict[str, Any], ...]] = ({},)

    def __init__(self) -> None:
        self.train: sparse.csr_matrix | None = None
        self.data: Interactions | None = None
        # How reasons name items (product names); default the item ids.
        self.labels: npt.NDArray[np.object_] | None = None

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> Recommender:
        self.train, self.data = train.tocsr(), data
        return self

    @abc.abstractmethod
    def scores(self, users: Ints) -> Floats:
        """One row per user, one column per item; higher is better, 0 or less is no
        evidence (never listed)."""

    def memory(self, shape: Shape) -> int:
        """Bytes this model needs at most to fit on and score a training matrix of
        ``shape`` (:mod:`._memory`): what it keeps plus its largest working block."""
        return shape.training() + shape.block()

    def sparse_scores(self, users: Ints) -> sparse.csr_matrix | None:
        """:meth:`scores` as a sparse block, for models whose scores are mostly 0 (no
        evidence): the neighbour models. None for the others."""
        return None

    def explain(self, user: int, item: int) -> str:
        """Why ``item`` suits ``user``: a reason code with its parameters (``_reasons``)."""
        return reason("recommended")

    def explain_many(self, user: int, items: Ints) -> list[str]:
        """``explain`` for several items of one user (models override it to share work)."""
        return [self.explain(user, int(i)) for i in items]

    def explain_block(self, users: Ints, items: list[Ints]) -> list[list[str]]:
        """Reasons for a block of users' lists (``items[row]`` for ``users[row]``)."""
        return [self.explain_many(int(u), chosen) for u, chosen in zip(users, items, strict=True)]

    def recommend(
        self, users: Ints, k: int, *, exclude: sparse.csr_matrix | None = None
    ) -> list[Ints]:
        """Each user's ``k`` best items (see :func:`top_k`)."""
        return top_k(self, users, k, exclude=exclude)

    def params(self) -> dict[str, object]:
        return {}

    # How an item list (one per product: "similar items") explains its items: a reason
    # code whose ``item`` is the anchor product.
    ANCHOR_REASON: ClassVar[str] = "often_chosen_with"

    def item_to_item(self) -> sparse.csr_matrix | None:
        """For item-to-item models: row ``a`` scores the items to show beside item
        ``a`` (what an item scenario lists); None for the others."""
        return None

    def label(self, item: int) -> str:
        """An item as a reason names it."""
        if self.labels is not None and self.labels[item]:
            return str(self.labels[item])
        return str(self._fitted()[1].items[item])

    def _fitted(self) -> tuple[sparse.csr_matrix, Interactions]:
        if self.train is None or self.data is None:
            raise RuntimeError(f"{self.name}: fit() first")
        return self.train, self.data


class Popularity(Recommender):
    name = "popularity"

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> Popularity:
        super().fit(train, data)
        self.counts = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()
        return self

    def scores(self, users: Ints) -> Floats:
        return np.broadcast_to(self.counts, (len(users), len(self.counts))).copy()

    def memory(self, shape: Shape) -> int:
        return super().memory(shape) + shape.items * 8

    def explain(self, user: int, item: int) -> str:
        return reason("popular_with_count", count=int(self.counts[item]))


class _Knn(Recommender):
    """Neighbourhood models: how many neighbours, and the shrinkage of similarity."""

    NEIGHBOURS: ClassVar[int] = 100

    def __init__(self, neighbours: int | None = None, shrink: float = 10.0) -> None:
        super().__init__()
        self.neighbours = self.NEIGHBOURS if neighbours is None else neighbours
        self.shrink = shrink

    def params(self) -> dict[str, object]:
        return {"neighbours": self.neighbours, "shrink": self.shrink}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> _Knn:
        super().fit(train, data)
        self._keep(cosine_neighbours(self._rows(self._fitted()[0]), self.shrink, self.neighbours))
        return self

    def narrowed(self, neighbours: int) -> _Knn:
        """This fitted model with each row cut to its ``neighbours`` best (at most as
        many as it keeps): what fitting with ``neighbours`` gives, without forming the
        Gram matrix again — a row's n best are the n best of its wider best."""
        if neighbours > self.neighbours:
            raise ValueError(f"{self.name}: keeps {self.neighbours} neighbours, not {neighbours}")
        train, data = self._fitted()
        copy = type(self)(neighbours=neighbours, shrink=self.shrink)
        copy.train, copy.data, copy.labels = train, data, self.labels
        copy._keep(keep_top(self.similar, neighbours))
        return copy

    def _rows(self, train: sparse.csr_matrix) -> sparse.csr_matrix:
        """The rows whose neighbours are kept: items (item-kNN) or members."""
        return train

    def _keep(self, similar: sparse.csr_matrix) -> None:
        self.similar = similar

    def _kept(self, rows: int, pairs: int, copies: int) -> int:
        """Bytes of ``copies`` neighbour matrices of ``rows`` rows and the block of the
        Gram matrix they are cut from."""
        kept = rows * self.neighbours * ENTRY * copies
        return kept + min(pairs, _similarity.CELLS) * PRODUCT_ENTRY


class ItemKnn(_Knn):
    name = "item_knn"
    GRID = ({}, {"neighbours": 20}, {"neighbours": 400})

    def _rows(self, train: sparse.csr_matrix) -> sparse.csr_matrix:
        # item × item similarity; kept as "for item i, its neighbours j" rows
        return train.T.tocsr()

    def _keep(self, similar: sparse.csr_matrix) -> None:
        self.similar = similar
        # scores are train @ similarᵀ: transposed once here, not once per block
        self.similar_t_ = similar.T.tocsr()

    def memory(self, shape: Shape) -> int:
        return super().memory(shape) + self._kept(shape.items, shape.item_pairs, 2)

    def scores(self, users: Ints) -> Floats:
        dense: Floats = self.sparse_scores(users).toarray()
        return dense

    def sparse_scores(self, users: Ints) -> sparse.csr_matrix:
        train, _ = self._fitted()
        return sparse.csr_matrix(train[users] @ self.similar_t_)

    def explain(self, user: int, item: int) -> str:
        return self.explain_many(user, np.asarray([item]))[0]

    def explain_many(self, user: int, items: Ints) -> list[str]:
        return self.explain_block(np.asarray([user]), [items])[0]

    def explain_block(self, users: Ints, items: list[Ints]) -> list[list[str]]:
        return explain_by_item(self, self.similar, users, items, "because_you_liked")

    def item_to_item(self) -> sparse.csr_matrix:
        return self.similar


class UserKnn(_Knn):
    name = "user_knn"
    NEIGHBOURS = 50
    GRID = ({}, {"neighbours": 20}, {"neighbours": 200})

    def memory(self, shape: Shape) -> int:
        return super().memory(shape) + self._kept(shape.users, shape.user_pairs, 1)

    def scores(self, users: Ints) -> Floats:
        dense: Floats = self.sparse_scores(users).toarray()
        return dense

    def sparse_scores(self, users: Ints) -> sparse.csr_matrix:
        train, _ = self._fitted()
        return sparse.csr_matrix(self.similar[users] @ train)

    def explain(self, user: int, item: int) -> str:
        return reason("members_with_your_taste")


class CategoryAffinity(Recommender):
    name = "category"

    # Items without a category compete with this share of their popularity.
    UNCATEGORISED = 0.1

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> CategoryAffinity:
        super().fit(train, data)
        counts = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()
        code = data.category
        known = code != UNKNOWN
        n_categories = max(len(data.categories), 1)
        per_category = np.bincount(code[known], weights=counts[known], minlength=n_categories)
        self.within = np.zeros(len(counts))
        self.within[known] = counts[known] / np.maximum(per_category[code[known]], 1.0)
        self.global_share = counts / max(counts.sum(), 1.0)
        # item -> category one-hot (items × categories); unknown items map nowhere
        self.onehot = sparse.csr_matrix(
            (np.ones(int(known.sum())), (np.flatnonzero(known), code[known])),
            shape=(len(counts), n_categories),
        )
        # each item's category, unknown ones pointing at category 0 (within is 0 there)
        self.code_ = np.where(known, code, 0)
        return self

    def memory(self, shape: Shape) -> int:
        return super().memory(shape) + shape.items * 8 * 5

    def scores(self, users: Ints) -> Floats:
        train, _ = self._fitted()
        interest = np.asarray((train[users] @ self.onehot).todense(), dtype=np.float64)
        totals = interest.sum(axis=1, keepdims=True)
        interest = np.divide(interest, totals, out=np.zeros_like(interest), where=totals > 0)
        # each item's category's interest (items without one: within is 0 for them)
        scored: Floats = interest[:, self.code_]
        scored *= self.within
        scored += self.UNCATEGORISED * self.global_share
        return scored

    def explain(self, user: int, item: int) -> str:
        _, data = self._fitted()
        code = data.category[item]
        if code == UNKNOWN:
            return reason("popular_with_members")
        return reason("favourite_in_category", category=str(data.categories[code]))


class _Hybrid(Recommender):
    """Several recommenders fitted on the same data, their scores combined per user."""

    PARTS: ClassVar[tuple[type[Recommender], ...]] = (CategoryAffinity, ItemKnn)

    def __init__(self, parts: tuple[Recommender, ...] | None = None) -> None:
        super().__init__()
        self.parts = parts or tuple(cls() for cls in self.PARTS)
        self._last: tuple[Ints, list[Floats]] | None = None

    def params(self) -> dict[str, object]:
        return {"parts": [p.name for p in self.parts]}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> _Hybrid:
        super().fit(train, data)
        self._last = None
        for part in self.parts:
            part.fit(train, data)
        return self

    def memory(self, shape: Shape) -> int:
        # each part's own, and the parts' blocks of scores kept for the reasons
        parts = sum(part.memory(shape) for part in self.parts)
        return parts + shape.block() * (1 + len(self.parts)) // 2

    def _shares(self, users: Ints) -> list[Floats]:
        """Each part's scores for ``users`` (not to be written to). The last block's
        are kept: the lists' reasons ask for the block just scored."""
        if self._last is not None and np.array_equal(self._last[0], users):
            return self._last[1]
        shares = [part.scores(users) for part in self.parts]
        self._last = (np.array(users, copy=True), shares)
        return shares

    def explain(self, user: int, item: int) -> str:
        return self.explain_block(np.asarray([user]), [np.asarray([item])])[0][0]

    def explain_block(self, users: Ints, items: list[Ints]) -> list[list[str]]:
        """Each item's reason comes from the part that scores it highest (each part
        scores the whole block once)."""
        shares = self._shares(users)
        lead = [
            np.argmax(np.stack([block[row, chosen] for block in shares]), axis=0)
            for row, chosen in enumerate(items)
        ]
        reasons = [[""] * len(chosen) for chosen in items]
        for index, part in enumerate(self.parts):
            part.labels = self.labels
            mine = [np.flatnonzero(lead[row] == index) for row in range(len(items))]
            texts = part.explain_block(
                users, [chosen[m] for chosen, m in zip(items, mine, strict=True)]
            )
            for row, (where, said) in enumerate(zip(mine, texts, strict=True)):
                for at, text in zip(where.tolist(), said, strict=True):
                    reasons[row][at] = text
        return reasons


class Blend(_Hybrid):
    """Weighted score blending: each part's scores divided by the user's best score
    (so parts on different scales weigh as meant), then summed with ``weights``."""

    name = "blend"
    GRID = ({}, {"weights": (0.75, 0.25)}, {"weights": (0.25, 0.75)})

    def __init__(
        self, parts: tuple[Recommender, ...] | None = None, weights: tuple[float, ...] | None = None
    ) -> None:
        super().__init__(parts)
        self.weights = weights or tuple(1.0 / len(self.parts) for _ in self.parts)

    def params(self) -> dict[str, object]:
        return {**super().params(), "weights": list(self.weights)}

    def reweighted(self, weights: tuple[float, ...] | None) -> Blend:
        """This fitted blend with other ``weights`` (default: equal), its fitted parts
        shared: what fitting with ``weights`` gives, without fitting the parts again."""
        train, data = self._fitted()
        copy = type(self)(self.parts, weights)
        copy.train, copy.data, copy.labels = train, data, self.labels
        return copy

    def scores(self, users: Ints) -> Floats:
        total = np.zeros((len(users), len(self._fitted()[1].items)))
        block = np.empty_like(total)
        for weight, share in zip(self.weights, self._shares(users), strict=True):
            np.maximum(share, 0.0, out=block)
            best = block.max(axis=1, keepdims=True)
            # weight / best per row (0 where a row has no evidence): one pass per block
            scale = np.divide(weight, best, out=np.zeros_like(best), where=best > 0)
            block *= scale
            total += block
        return total


class RankFusion(_Hybrid):
    """Reciprocal-rank fusion: ``Σ 1 / (c + rank)`` over the parts' rankings (rank 1
    best; an item a part has no evidence for gets nothing from it), ``c`` = 60."""

    name = "rrf"
    C = 60

    def scores(self, users: Ints) -> Floats:
        total = np.zeros((len(users), len(self._fitted()[1].items)))
        for block in self._shares(users):
            add_reciprocal_ranks(total, block, self.C)
        return total


def explain_by_item(
    model: Recommender,
    similar: sparse.csr_matrix,
    users: Ints,
    items: list[Ints],
    code: str,
    *,
    otherwise: str = "similar_to_what_you_looked_at",
    weighted: bool = True,
) -> list[list[str]]:
    """Reasons of an item-to-item model for a block of users (``items[row]`` for
    ``users[row]``): for each candidate, the user's item that speaks most for it
    (``similar[candidate, item]``, times the user's weight of the item when
    ``weighted``; equal ones to the smaller item), as the ``item`` of reason ``code``;
    reason ``otherwise`` when none does (``_reasons``)."""
    train, _ = model._fitted()
    best = _speaks_for(train, similar, users, items, weighted)
    return [
        [reason(code, item=model.label(j)) if j >= 0 else reason(otherwise) for j in row.tolist()]
        for row in best
    ]


# Item × item matrices up to this many cells (4,000², 128 MB) are read densely.
DENSE_LOOKUP = 16_000_000


def _speaks_for(
    train: sparse.csr_matrix,
    similar: sparse.csr_matrix,
    users: Ints,
    items: list[Ints],
    weighted: bool,
) -> list[Ints]:
    """Per candidate, the user's item with the largest ``similar[candidate, item]``
    (times its weight; equal ones to the smaller item), -1 when none is above 0.

    Each (candidate, item of the user) pair is looked up in ``similar`` — a few
    dozen per candidate, where the candidate's row may hold thousands of entries (the
    rules of a popular product) — for about ``_similarity.CELLS`` pairs at a time.
    """
    lengths = np.asarray([len(chosen) for chosen in items], dtype=np.int64)
    if not len(items):
        return []
    candidates = np.concatenate(items).astype(np.int64)
    owner = np.repeat(np.arange(len(users), dtype=np.int64), lengths)
    mine = sparse.csr_matrix(train[users])
    mine.sort_indices()  # a user's items ascend: equal links go to the smaller item
    lookup: Any
    if similar.shape[0] * similar.shape[1] <= DENSE_LOOKUP:
        lookup = similar.toarray()  # a small catalogue: direct lookups beat searches
    else:
        # the model's own matrix when it is one: scipy remembers that it checked its
        # format (a new wrapper would scan every entry again, block after block)
        lookup = similar if isinstance(similar, sparse.csr_matrix) else sparse.csr_matrix(similar)
        if not lookup.has_canonical_format:
            lookup = lookup.copy()
            lookup.sum_duplicates()
    best = np.full(len(candidates), -1, dtype=np.int64)
    pairs = np.diff(mine.indptr)[owner].astype(np.int64)
    for start, end in row_blocks(pairs, _similarity.CELLS):
        count = pairs[start:end]
        pair = np.repeat(np.arange(end - start), count)
        offset = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
        at = np.repeat(mine.indptr[owner[start:end]], count) + offset
        item = mine.indices[at].astype(np.int64)
        link = np.asarray(lookup[candidates[start:end][pair], item]).ravel()
        if weighted:
            link = link * mine.data[at]
        best[start:end] = _first_best(link, item, count)
    return np.split(best, np.cumsum(lengths)[:-1])


def _first_best(link: Floats, item: Ints, count: Ints) -> Ints:
    """Per group of ``count`` consecutive links (items ascending within a group), the
    item of the largest link above 0 — the first of equal ones — or -1."""
    best = np.full(len(count), -1, dtype=np.int64)
    some = count > 0
    if not len(link) or not some.any():
        return best
    starts = (np.cumsum(count) - count)[some]
    top = np.zeros(len(count))
    top[some] = np.maximum.reduceat(link, starts)
    hits = np.flatnonzero((link == np.repeat(top, count)) & (link > 0))
    group = np.repeat(np.arange(len(count)), count)[hits]
    first = np.r_[True, group[1:] != group[:-1]] if len(hits) else np.zeros(0, dtype=bool)
    best[group[first]] = item[hits[first]]
    return best


def top_k(
    model: Recommender,
    users: Ints,
    k: int,
    *,
    exclude: sparse.csr_matrix | None = None,
    allowed: npt.NDArray[np.bool_] | None = None,
    chunk: int | None = None,
) -> list[Ints]:
    """Each user's ``k`` best items, best first (ties to the smaller item index),
    leaving out the items ``exclude`` marks for them (its rows are all users), items
    outside ``allowed`` and items without evidence (score 0 or less): a list may be
    shorter than ``k``.

    Users are scored ``chunk`` at a time (default :func:`block_rows`: a block of about
    4 Mi scores, whatever the catalogue); each block is reported as progress of the
    current stage (:mod:`memberlens.core.progress`).
    """
    lists: list[Ints] = []
    size = chunk or block_rows(len(model.data.items) if model.data is not None else 0)
    for start in range(0, len(users), size):
        block_users = users[start : start + size]
        evidence = model.sparse_scores(block_users)
        if evidence is not None and sparse_enough(evidence):
            seen = exclude[block_users] if exclude is not None else None
            items, _ = top_positive_sparse(evidence, k, allowed=allowed, exclude=seen)
            lists.extend(row[row >= 0] for row in items)
            progress.advance(start + len(block_users), len(users), model.name)
            continue
        scores = model.scores(block_users) if evidence is None else evidence.toarray()
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        if exclude is not None:
            seen = exclude[block_users]
            rows = np.repeat(np.arange(len(block_users)), np.diff(seen.indptr))
            scores[rows, seen.indices] = -np.inf
        items, _ = top_positive(scores, k)
        lists.extend(row[row >= 0] for row in items)
        progress.advance(start + len(block_users), len(users), model.name)
    return lists

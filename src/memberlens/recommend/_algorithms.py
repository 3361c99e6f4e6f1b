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

from memberlens.recommend._interactions import UNKNOWN, Interactions
from memberlens.recommend._reasons import reason

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

    def explain(self, user: int, item: int) -> str:
        return reason("popular_with_count", count=int(self.counts[item]))


def _cosine(m: sparse.csr_matrix, shrink: float, neighbours: int) -> sparse.csr_matrix:
    """Row-by-row cosine similarity of ``m``'s rows with shrinkage, the diagonal
    removed and each row cut to its ``neighbours`` largest entries."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    gram = (m @ m.T).tocsr().astype(np.float64)
    gram.setdiag(0.0)
    gram.eliminate_zeros()
    cells = gram.tocoo()
    cells.data = cells.data / (norms[cells.row] * norms[cells.col] + shrink)
    return _keep_top(cells.tocsr(), neighbours)


def _keep_top(m: sparse.csr_matrix, n: int) -> sparse.csr_matrix:
    """Each row's ``n`` largest entries (ties to the smaller column), in one sort."""
    m = m.tocsr()
    m.sort_indices()
    row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, row))
    rank = np.arange(len(order)) - m.indptr[row[order]]
    kept = order[rank < n]
    return sparse.csr_matrix((m.data[kept], (row[kept], m.indices[kept])), shape=m.shape)


class _Knn(Recommender):
    """Neighbourhood models: how many neighbours, and the shrinkage of similarity."""

    NEIGHBOURS: ClassVar[int] = 100

    def __init__(self, neighbours: int | None = None, shrink: float = 10.0) -> None:
        super().__init__()
        self.neighbours = self.NEIGHBOURS if neighbours is None else neighbours
        self.shrink = shrink

    def params(self) -> dict[str, object]:
        return {"neighbours": self.neighbours, "shrink": self.shrink}


class ItemKnn(_Knn):
    name = "item_knn"
    GRID = ({}, {"neighbours": 20}, {"neighbours": 400})

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> ItemKnn:
        super().fit(train, data)
        # item × item similarity; kept as "for item i, its neighbours j" rows
        self.similar = _cosine(train.T.tocsr(), self.shrink, self.neighbours)
        return self

    def scores(self, users: Ints) -> Floats:
        train, _ = self._fitted()
        block = train[users] @ self.similar.T
        return np.asarray(block.todense(), dtype=np.float64)

    def explain(self, user: int, item: int) -> str:
        return self.explain_many(user, np.asarray([item]))[0]

    def explain_many(self, user: int, items: Ints) -> list[str]:
        return explain_by_item(self, self.similar, user, items, "because_you_liked")

    def item_to_item(self) -> sparse.csr_matrix:
        return self.similar


class UserKnn(_Knn):
    name = "user_knn"
    NEIGHBOURS = 50
    GRID = ({}, {"neighbours": 20}, {"neighbours": 200})

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> UserKnn:
        super().fit(train, data)
        self.similar = _cosine(train, self.shrink, self.neighbours)
        return self

    def scores(self, users: Ints) -> Floats:
        train, _ = self._fitted()
        return np.asarray((self.similar[users] @ train).todense(), dtype=np.float64)

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
        return self

    def scores(self, users: Ints) -> Floats:
        train, _ = self._fitted()
        interest = np.asarray((train[users] @ self.onehot).todense(), dtype=np.float64)
        totals = interest.sum(axis=1, keepdims=True)
        interest = np.divide(interest, totals, out=np.zeros_like(interest), where=totals > 0)
        affinity = np.asarray((self.onehot @ sparse.csr_matrix(interest).T).todense()).T
        fallback = self.UNCATEGORISED * self.global_share
        scored: Floats = affinity * self.within + fallback
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

    def params(self) -> dict[str, object]:
        return {"parts": [p.name for p in self.parts]}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> _Hybrid:
        super().fit(train, data)
        for part in self.parts:
            part.fit(train, data)
        return self

    def explain(self, user: int, item: int) -> str:
        return self.explain_block(np.asarray([user]), [np.asarray([item])])[0][0]

    def explain_block(self, users: Ints, items: list[Ints]) -> list[list[str]]:
        """Each item's reason comes from the part that scores it highest (each part
        scores the whole block once)."""
        shares = [part.scores(users) for part in self.parts]
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

    def scores(self, users: Ints) -> Floats:
        total = np.zeros((len(users), len(self._fitted()[1].items)))
        for weight, part in zip(self.weights, self.parts, strict=True):
            block = np.maximum(part.scores(users), 0.0)
            best = block.max(axis=1, keepdims=True)
            total += weight * np.divide(block, best, out=np.zeros_like(block), where=best > 0)
        return total


class RankFusion(_Hybrid):
    """Reciprocal-rank fusion: ``Σ 1 / (c + rank)`` over the parts' rankings (rank 1
    best; an item a part has no evidence for gets nothing from it), ``c`` = 60."""

    name = "rrf"
    C = 60

    def scores(self, users: Ints) -> Floats:
        total = np.zeros((len(users), len(self._fitted()[1].items)))
        for part in self.parts:
            block = part.scores(users)
            order = np.argsort(-block, axis=1, kind="stable")
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(1, block.shape[1] + 1)[None, :], axis=1)
            total += np.where(block > 0, 1.0 / (self.C + rank), 0.0)
        return total


def explain_by_item(
    model: Recommender,
    similar: sparse.csr_matrix,
    user: int,
    items: Ints,
    code: str,
    *,
    otherwise: str = "similar_to_what_you_looked_at",
    weighted: bool = True,
) -> list[str]:
    """Reasons of an item-to-item model: for each candidate, the user's item that
    speaks most for it (``similar[candidate, item]``, times the user's weight of the
    item when ``weighted``), as the ``item`` of reason ``code``; reason ``otherwise``
    when none does."""
    train, _ = model._fitted()
    have = train.indices[train.indptr[user] : train.indptr[user + 1]]
    if not len(have) or not len(items):
        return [reason(otherwise)] * len(items)
    # links[i, j] = similar[items[i], have[j]], gathered from the rows without a
    # column slice (which would convert the matrix to columns on every call)
    column = np.full(similar.shape[1], -1, dtype=np.int64)
    column[have] = np.arange(len(have))
    rows = similar[items]
    at = column[rows.indices]
    hit = at >= 0
    owner = np.repeat(np.arange(len(items)), np.diff(rows.indptr))
    links = np.zeros((len(items), len(have)))
    links[owner[hit], at[hit]] = rows.data[hit]
    if weighted:
        links = links * train.data[train.indptr[user] : train.indptr[user + 1]]
    best = links.argmax(axis=1)
    return [
        reason(code, item=model.label(int(have[j]))) if links[i, j] > 0 else reason(otherwise)
        for i, j in enumerate(best.tolist())
    ]


def top_k(
    model: Recommender,
    users: Ints,
    k: int,
    *,
    exclude: sparse.csr_matrix | None = None,
    allowed: npt.NDArray[np.bool_] | None = None,
    chunk: int = 512,
) -> list[Ints]:
    """Each user's ``k`` best items, best first (ties to the smaller item index),
    leaving out the items ``exclude`` marks for them (its rows are all users), items
    outside ``allowed`` and items without evidence (score 0 or less): a list may be
    shorter than ``k``."""
    lists: list[Ints] = []
    for start in range(0, len(users), chunk):
        block_users = users[start : start + chunk]
        scores = model.scores(block_users)
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        if exclude is not None:
            seen = exclude[block_users]
            rows = np.repeat(np.arange(len(block_users)), np.diff(seen.indptr))
            scores[rows, seen.indices] = -np.inf
        take = min(k, scores.shape[1])
        # The k-th best score per row; every item reaching it is a candidate, so ties
        # at the boundary go to the smaller item index, not to chance.
        kth = -np.partition(-scores, take - 1, axis=1)[:, take - 1]
        for row in range(len(block_users)):
            cand = np.flatnonzero(scores[row] >= kth[row])
            order = np.lexsort((cand, -scores[row, cand]))[:take]
            chosen = cand[order]
            lists.append(chosen[scores[row, chosen] > 0].astype(np.int64))
    return lists

"""Association rules between pairs of items: "bought together".

A basket is one member's items in the training matrix: the matrix holds no orders
(its records are summed per member and item), so a member's history stands for the
basket — "members who have j also have i". Over ``N`` baskets (the members with any
item) a rule ``j -> i`` has (Agrawal, Imielinski & Swami, 1993; lift from
"Dynamic itemset counting and implication rules", SIGMOD 1997):

- count ``c(j, i)``, the baskets holding both; support ``c(j, i) / N``;
- confidence ``c(j, i) / c(j)``; lift ``confidence / (c(i) / N)``.

Pairs are counted exactly with the sparse product ``Bᵀ B`` of the binarised matrix,
formed a block of antecedents at a time and filtered as it goes. The segment
package's FP-growth (``memberlens.segment.mine_rules``) finds the same pair rules —
the tests check it — but it names every rule as an object, which is slow for tens
of thousands of items, and a recommender needs pairs only.

A rule counts when ``c(j, i) >= min_count`` and its lift exceeds ``min_lift`` (1: the
two meet more often than by chance). A member's score for a candidate is the best
confidence among the rules from the items they have (``combine="max"``: the rule that
fires most surely, which the reason names) or the sum of them (``"sum"``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from memberlens.core.errors import UsageError
from memberlens.recommend._algorithms import Floats, Ints, Recommender, explain_by_item
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._memory import ENTRY, Shape
from memberlens.recommend._products import Products
from memberlens.recommend._similarity import CELLS, product_work, row_blocks

Combine = Literal["max", "sum"]


class Association(Recommender):
    """Pair rules mined from members' baskets; scores are rule confidences.

    Parameters
    ----------
    products
        The catalogue aligned to the interactions' items, for names in reasons
        (default: item ids).
    min_count
        Baskets a pair must share for its rule to count.
    combine
        ``"max"`` (best confidence over the member's items) or ``"sum"``.
    min_lift
        A rule counts when its lift is above this.

    Examples
    --------
    >>> model = Association(min_count=2).fit(train, data)  # doctest: +SKIP
    >>> model.explain(0, 3)  # doctest: +SKIP
    '{"code":"bought_together_with","params":{"item":"whole milk"}}'
    """

    name = "association"
    GRID = ({}, {"min_count": 5}, {"combine": "sum"})

    # items: the rules of a catalogue this small are kept dense as well (4,000² floats,
    # 128 MB at most), which makes a member's best rule per item a maximum over rows
    DENSE_UP_TO = 4_000

    def __init__(
        self,
        products: Products | None = None,
        min_count: int = 2,
        combine: Combine = "max",
        min_lift: float = 1.0,
    ) -> None:
        super().__init__()
        self.products = products
        if products is not None:  # reasons name items by their catalogue names
            self.labels = products.name
        self.min_count = min_count
        self.combine = combine
        self.min_lift = min_lift

    def params(self) -> dict[str, object]:
        return {"min_count": self.min_count, "combine": self.combine, "min_lift": self.min_lift}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> Association:
        super().fit(train, data)
        self._check(data)
        baskets = (train > 0).astype(np.int64).tocsr()
        self.baskets_ = int(np.count_nonzero(np.diff(baskets.indptr)))
        # c(i): the diagonal of Bᵀ B, the baskets holding i
        self.item_count_ = np.bincount(baskets.indices, minlength=baskets.shape[1]).astype(
            np.float64
        )
        j, i, count = self._pairs(baskets)
        confidence = count / self.item_count_[j]
        lift = confidence * self.baskets_ / self.item_count_[i]
        shape = (baskets.shape[1], baskets.shape[1])

        def rules(values: Floats) -> sparse.csr_matrix:
            return sparse.csr_matrix((values, (j, i)), shape=shape)

        # antecedent × consequent
        self.count_, self.confidence_, self.lift_ = rules(count), rules(confidence), rules(lift)
        # row i: the confidence of each rule j → i (what explains i)
        self.explained_by_ = self.confidence_.T.tocsr()
        # made on first use (small catalogues): the rules' ranks, and the confidences
        self.dense_: npt.NDArray[np.unsignedinteger[Any]] | None = None
        self.values_: Floats = np.zeros(1)
        return self

    def memory(self, shape: Shape) -> int:
        # the rules (count, confidence, lift, confidence transposed): one per pair of
        # items a member has, at most; a block of the pair product; a block of fired rules
        rules = min(shape.item_pairs, shape.items * shape.items) * ENTRY * 4
        if shape.items <= self.DENSE_UP_TO:
            rules += shape.items * shape.items * 4
        product = shape.product(shape.item_pairs, CELLS)
        return super().memory(shape) + rules + product + CELLS * 24

    def _pairs(self, baskets: sparse.csr_matrix) -> tuple[Ints, Ints, Floats]:
        """The pairs (j, i) whose rule counts, with their counts: ``Bᵀ B`` formed in
        blocks of antecedents (:mod:`._similarity`), each block filtered at once — the
        whole product of a catalogue many members share would not fit."""
        by_item = baskets.T.tocsr()
        found: list[tuple[Ints, Ints, Floats]] = []
        for start, end in row_blocks(product_work(by_item), CELLS):
            cells = (by_item[start:end] @ baskets).tocoo()
            j, i = cells.row.astype(np.int64) + start, cells.col.astype(np.int64)
            count = cells.data.astype(np.float64)
            keep = (j != i) & (count >= self.min_count)
            j, i, count = j[keep], i[keep], count[keep]
            lift = count / self.item_count_[j] * self.baskets_ / self.item_count_[i]
            strong = lift > self.min_lift
            found.append((j[strong], i[strong], count[strong]))
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        return (
            np.concatenate([f[0] for f in found]),
            np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found]),
        )

    def _check(self, data: Interactions) -> None:
        if self.combine not in ("max", "sum"):
            raise UsageError(f"association: combine is 'max' or 'sum', not {self.combine!r}")
        if self.min_count < 1:
            raise UsageError(f"association: min_count must be 1 or more, got {self.min_count}")
        if self.products is not None and len(self.products) != len(data.items):
            raise UsageError(
                f"association: the catalogue has {len(self.products)} items, the "
                f"interactions {len(data.items)}; build it for these interactions with "
                "load_products(warehouse, data)"
            )

    def sparse_scores(self, users: Ints) -> sparse.csr_matrix | None:
        if self.combine != "sum":
            return None
        train, _ = self._fitted()
        have = (train[users] > 0).astype(np.float64).tocsr()
        return sparse.csr_matrix(have @ self.confidence_)

    def scores(self, users: Ints) -> Floats:
        train, data = self._fitted()
        summed = self.sparse_scores(users)
        if summed is not None:
            dense: Floats = summed.toarray()
            return dense
        have = (train[users] > 0).astype(np.float64).tocsr()
        n_items = len(data.items)
        block = np.zeros((len(users), n_items))
        if n_items <= self.DENSE_UP_TO:
            return self._dense_max(have, block)
        flat = block.reshape(-1)
        # every rule fired by a user's item, a few users at a time (their rules can
        # outnumber the block's cells many times over on a small catalogue)
        fired = np.diff(self.confidence_.indptr)[have.indices]
        per_user = np.bincount(
            np.repeat(np.arange(len(users)), np.diff(have.indptr)),
            weights=fired,
            minlength=len(users),
        ).astype(np.int64)
        for start, end in row_blocks(per_user, CELLS):
            mine = have.indices[have.indptr[start] : have.indptr[end]]
            owner = np.repeat(np.arange(start, end), np.diff(have.indptr[start : end + 1]))
            rules = self.confidence_[mine]
            at = np.repeat(owner, np.diff(rules.indptr)) * n_items + rules.indices
            np.maximum.at(flat, at, rules.data)  # the best rule per (user, item)
        return block

    def _dense_max(self, have: sparse.csr_matrix, block: Floats) -> Floats:
        """Each user's best rule per item from the dense rule matrix of a small
        catalogue: the rows of the user's items gathered, a few users at a time, and
        reduced by a maximum per user.

        The matrix holds each confidence's rank among the distinct confidences (0: no
        rule), in 16 or 32 bits: the largest rank is the largest confidence, exactly,
        for a quarter or half of the memory traffic of float64.
        """
        if self.dense_ is None:
            values, rank = np.unique(self.confidence_.data, return_inverse=True)
            kind = np.uint16 if len(values) < 2**16 else np.uint32
            ranks = sparse.csr_matrix(
                ((rank + 1).astype(kind), self.confidence_.indices, self.confidence_.indptr),
                shape=self.confidence_.shape,
            )
            self.dense_ = ranks.toarray()
            self.values_ = np.r_[0.0, values]
        counts = np.diff(have.indptr)
        for start, end in row_blocks(counts * block.shape[1], CELLS):
            lo, hi = have.indptr[start], have.indptr[end]
            if lo == hi:
                continue
            some = counts[start:end] > 0
            starts = (have.indptr[start:end] - lo)[some]
            best = np.maximum.reduceat(self.dense_[have.indices[lo:hi]], starts, axis=0)
            block[np.arange(start, end)[some]] = self.values_[best]
        return block

    def explain(self, user: int, item: int) -> str:
        return self.explain_many(user, np.asarray([item]))[0]

    def explain_many(self, user: int, items: Ints) -> list[str]:
        return self.explain_block(np.asarray([user]), [items])[0]

    def explain_block(self, users: Ints, items: list[Ints]) -> list[list[str]]:
        """The rule with the highest confidence among those the user's items fire."""
        return explain_by_item(
            self,
            self.explained_by_,
            users,
            items,
            "bought_together_with",
            otherwise="bought_together_with_yours",
            weighted=False,
        )

    ANCHOR_REASON = "bought_together_with"

    def item_to_item(self) -> sparse.csr_matrix:
        return self.confidence_

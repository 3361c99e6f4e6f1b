"""Association rules between pairs of items: "bought together".

A basket is one member's items in the training matrix: the matrix holds no orders
(its records are summed per member and item), so a member's history stands for the
basket — "members who have j also have i". Over ``N`` baskets (the members with any
item) a rule ``j -> i`` has (Agrawal, Imielinski & Swami, 1993; lift from
"Dynamic itemset counting and implication rules", SIGMOD 1997):

- count ``c(j, i)``, the baskets holding both; support ``c(j, i) / N``;
- confidence ``c(j, i) / c(j)``; lift ``confidence / (c(i) / N)``.

Pairs are counted exactly with one sparse product, ``Bᵀ B`` of the binarised matrix.
The segment package's FP-growth (``memberlens.segment.mine_rules``) finds the same
pair rules — the tests check it — but it names every rule as an object, which is
slow for tens of thousands of items, and a recommender needs pairs only.

A rule counts when ``c(j, i) >= min_count`` and its lift exceeds ``min_lift`` (1: the
two meet more often than by chance). A member's score for a candidate is the best
confidence among the rules from the items they have (``combine="max"``: the rule that
fires most surely, which the reason names) or the sum of them (``"sum"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import sparse

from memberlens.core.errors import UsageError
from memberlens.recommend._algorithms import Floats, Ints, Recommender, explain_by_item
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._products import Products

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

    DENSE_UP_TO = 4_000  # items: a dense rule matrix of at most 4,000² floats

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
        together = (baskets.T @ baskets).tocsr()
        self.item_count_ = together.diagonal().astype(np.float64)
        cells = together.tocoo()
        keep = (cells.row != cells.col) & (cells.data >= self.min_count)
        j, i, count = cells.row[keep], cells.col[keep], cells.data[keep].astype(np.float64)
        confidence = count / self.item_count_[j]
        lift = confidence * self.baskets_ / self.item_count_[i]
        strong = lift > self.min_lift
        shape = together.shape

        def rules(values: Floats) -> sparse.csr_matrix:
            return sparse.csr_matrix((values[strong], (j[strong], i[strong])), shape=shape)

        # antecedent × consequent
        self.count_, self.confidence_, self.lift_ = rules(count), rules(confidence), rules(lift)
        # row i: the confidence of each rule j → i (what explains i)
        self.explained_by_ = self.confidence_.T.tocsr()
        # a small catalogue's rules fit in memory densely: a row max is then cheap
        small = self.confidence_.shape[0] <= self.DENSE_UP_TO
        self.dense_ = self.confidence_.toarray() if small else None
        return self

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

    def scores(self, users: Ints) -> Floats:
        train, data = self._fitted()
        have = (train[users] > 0).astype(np.float64).tocsr()
        if self.combine == "sum":
            return np.asarray((have @ self.confidence_).todense(), dtype=np.float64)
        block = np.zeros((len(users), len(data.items)))
        dense = self.dense_
        for row in range(len(users)):
            mine = have.indices[have.indptr[row] : have.indptr[row + 1]]
            if not len(mine):
                continue
            if dense is not None:
                block[row] = dense[mine].max(axis=0)
            else:
                block[row] = self.confidence_[mine].max(axis=0).toarray().ravel()
        return block

    def explain(self, user: int, item: int) -> str:
        return self.explain_many(user, np.asarray([item]))[0]

    def explain_many(self, user: int, items: Ints) -> list[str]:
        """The rule with the highest confidence among those the user's items fire."""
        return explain_by_item(
            self,
            self.explained_by_,
            user,
            items,
            "bought_together_with",
            otherwise="bought_together_with_yours",
            weighted=False,
        )

    ANCHOR_REASON = "bought_together_with"

    def item_to_item(self) -> sparse.csr_matrix:
        return self.confidence_

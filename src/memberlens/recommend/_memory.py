"""What an algorithm will need in memory, estimated before it is fitted.

Evaluation and the refresh skip an algorithm whose estimate is above the memory
budget (``[recommend] memory_budget``, default a quarter of the machine's memory) and
say why, rather than let the kernel kill the process. An estimate is an upper bound
built from the training matrix's shape (:class:`Shape`) and the model's settings:
what it keeps (neighbour lists, rules, factors) plus its largest working block (a
block of scores, a block of a product). Each model states its own in
``Recommender.memory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from memberlens.recommend._blocks import BLOCK_CELLS, block_rows

# A stored entry of a sparse matrix: a float64 and an int32 index, as scipy keeps them
# (int64 indices above 2³¹ entries).
ENTRY = 12
# A block of scores is copied a few times on its way to a list (rules, selection).
BLOCK_COPIES = 6
# A block of a product (``_similarity``): the entries, their coordinates, the cut.
PRODUCT_ENTRY = 48

MEMORY_BUDGET = "MEMORY_BUDGET"


@dataclass(frozen=True)
class Shape:
    """The training matrix as memory estimates see it."""

    users: int
    items: int
    records: int  # stored cells
    item_pairs: int  # Σ over users of their items²: entries Bᵀ B can have, at most
    user_pairs: int  # Σ over items of their users²: entries B Bᵀ can have, at most

    @classmethod
    def of(cls, train: sparse.csr_matrix) -> Shape:
        per_user = np.diff(sparse.csr_matrix(train).indptr).astype(np.int64)
        per_item = np.bincount(train.indices, minlength=train.shape[1]).astype(np.int64)
        return cls(
            users=int(train.shape[0]),
            items=int(train.shape[1]),
            records=int(train.nnz),
            item_pairs=int((per_user * per_user).sum()),
            user_pairs=int((per_item * per_item).sum()),
        )

    def block(self) -> int:
        """Bytes of the blocks of scores while lists are chosen."""
        rows = min(block_rows(self.items), max(self.users, 1))
        return min(rows * self.items, BLOCK_CELLS) * 8 * BLOCK_COPIES

    def product(self, pairs: int, cells: int) -> int:
        """Bytes of one block of a product with ``pairs`` entries in all."""
        return min(pairs, cells) * PRODUCT_ENTRY

    def training(self) -> int:
        """Bytes of the training matrix and a copy (binarised, transposed)."""
        return self.records * ENTRY * 2


def describe(size: float) -> str:
    """A size in bytes as a person reads it.

    >>> describe(3_400_000_000), describe(52_000_000), describe(900)
    ('3.4 GB', '52 MB', '900 B')
    """
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(size)} B"


def over_budget(name: str, need: int, budget: int) -> dict[str, Any]:
    """A skipped algorithm's entry in a report: a code, the figures and the words."""
    return {
        "code": MEMORY_BUDGET,
        "estimated_bytes": int(need),
        "budget_bytes": int(budget),
        "reason": (
            f"{name} would need about {describe(need)}, more than the memory budget of "
            f"{describe(budget)}; raise [recommend] memory_budget in memberlens.toml to "
            "run it"
        ),
    }

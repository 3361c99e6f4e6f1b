"""Business rules and re-ranking over a block of users' scores.

``eligible`` says which items a scenario may show a user at all (not bought unless
repurchasable, category not excluded, price inside the band, in stock);
``candidates`` keeps each user's best eligible items; ``mmr_order`` re-orders them by
maximal marginal relevance over categories with a novelty share — vectorised over
the users of a block, so a refresh re-ranks a million lists in seconds.

MMR (Carbonell and Goldstein, 1998) picks, one position at a time, the candidate with
the best ``λ · relevance − (1 − λ) · redundancy``: relevance is the score divided by
the user's best candidate score, redundancy is 1 when an item of the same category is
already in the list (0 for items without a category). λ = 1 keeps the score order.
The novelty share reserves positions for long-tail items: at every position ``p``
(1-based) at least ``floor(share · p)`` of the list so far is novel, while novel
candidates last — so a list cut at any length keeps the share.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import sparse

from memberlens.recommend._blocks import top_positive

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def eligible(
    *,
    bought: sparse.csr_matrix,
    users: Ints,
    category_names: npt.NDArray[np.object_],
    price: Floats,
    in_stock: Bools,
    repurchasable: frozenset[str],
    excluded: frozenset[str],
    price_min: float | None = None,
    price_max: float | None = None,
) -> tuple[Bools, sparse.csr_matrix]:
    """What every user may be shown (items mask) and, per user, what they may not
    (the bought items outside repurchasable categories, rows of ``users``).

    An item without a price stays eligible under a price band.
    """
    ok = in_stock.copy()
    if excluded:
        ok &= ~np.isin(category_names, list(excluded))
    if price_min is not None:
        ok &= ~(price < price_min)  # NaN compares False: unknown prices stay
    if price_max is not None:
        ok &= ~(price > price_max)
    again = np.isin(category_names, list(repurchasable)) if repurchasable else np.zeros_like(ok)
    blocked = bought[users].tocsr().astype(bool).astype(np.float64)
    if again.any():
        blocked = blocked @ sparse.diags((~again).astype(np.float64))
        blocked.eliminate_zeros()
    return ok, blocked.tocsr()


def candidates(
    scores: Floats, n: int, *, allowed: Bools, blocked: sparse.csr_matrix | None = None
) -> tuple[Ints, Floats]:
    """Each row's ``n`` best allowed items with a score above 0, best first, ties to the
    smaller item; rows with fewer are padded with item -1 and score 0."""
    scores = scores.copy()  # a copy, then the masks: cheaper than np.where over the block
    if not allowed.all():
        scores[:, ~allowed] = -np.inf
    if blocked is not None and blocked.nnz:
        rows = np.repeat(np.arange(blocked.shape[0]), np.diff(blocked.indptr))
        scores[rows, blocked.indices] = -np.inf
    return top_positive(scores, n)


def mmr_order(
    items: Ints,
    scores: Floats,
    *,
    category: Ints,
    novel: Bools,
    mmr_lambda: float,
    novelty_share: float,
) -> Ints:
    """Re-order each row of ``items`` (best first, -1 = padding) by MMR over
    categories with the novelty share; returns the re-ordered items (padding last).

    ``category`` maps an item to its category code (-1: none), ``novel`` marks the
    long-tail items.
    """
    n_rows, width = items.shape
    if width == 0 or (mmr_lambda >= 1.0 and novelty_share <= 0.0):
        return items.copy()
    real = items >= 0
    safe = np.where(real, items, 0)
    best = np.where(real, scores, 0.0).max(axis=1, keepdims=True)
    relevance = np.divide(scores, best, out=np.zeros_like(scores), where=best > 0)
    cats = np.where(real, category[safe], -1)
    is_novel = real & novel[safe]
    n_categories = int(category.max()) + 2 if len(category) else 1
    covered = np.zeros((n_rows, n_categories), dtype=bool)  # last column: "no category"
    cat_col = np.where(cats >= 0, cats, n_categories - 1)
    taken = ~real  # padding is never picked
    novel_taken = np.zeros(n_rows, dtype=np.int64)
    out = np.full_like(items, -1)
    rows = np.arange(n_rows)
    for position in range(width):
        remaining = ~taken
        if not remaining.any():
            break
        redundancy = np.take_along_axis(covered, cat_col, axis=1) & (cats >= 0)
        value = mmr_lambda * relevance - (1.0 - mmr_lambda) * redundancy
        quota = math.floor(novelty_share * (position + 1) + 1e-9)
        need_novel = (novel_taken < quota) & (remaining & is_novel).any(axis=1)
        pool = remaining & np.where(need_novel[:, None], is_novel, True)
        value = np.where(pool, value, -np.inf)
        pick = np.argmax(value, axis=1)  # ties: the earlier (better-scored) candidate
        live = pool[rows, pick]
        out[live, position] = items[live, pick[live]]
        taken[rows[live], pick[live]] = True
        covered[rows[live], cat_col[live, pick[live]]] = True
        novel_taken += is_novel[rows, pick] & live
    # rows that ran out early keep their padding at the end
    return _compact(out)


def _compact(block: Ints) -> Ints:
    """Move each row's -1 entries to its end, keeping the order of the rest."""
    order = np.argsort(block < 0, axis=1, kind="stable")
    return np.take_along_axis(block, order, axis=1)


def long_tail(counts: Floats, head_share: float = 0.1) -> Bools:
    """Items outside the head: the ``ceil(head_share · n)`` most popular of the ``n``
    items anyone touched (and every item tied with the last of them)."""
    touched = np.sort(counts[counts > 0])[::-1]
    if not len(touched):
        return np.ones(len(counts), dtype=bool)
    head = max(1, math.ceil(head_share * len(touched)))
    novel: Bools = counts < touched[head - 1]
    return novel


def with_pins(items: Ints, pins: Ints, allowed: Bools) -> Ints:
    """Pinned items (in their order, allowed ones only) lead each row; the row's own
    copies of them move up, the rest keep their order; the width stays the same."""
    pins = pins[allowed[pins]] if len(pins) else pins
    if not len(pins):
        return items
    width = items.shape[1]
    rest = np.where(np.isin(items, pins), -1, items)
    rest = _compact(rest)
    lead = np.broadcast_to(pins, (items.shape[0], len(pins)))
    return np.concatenate([lead, rest], axis=1)[:, : max(width, len(pins))]

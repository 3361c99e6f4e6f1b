"""Members scored in blocks, and each row's best items chosen without sorting the row.

A model's scores for a block of members is a dense block, members × items. Over a
whole member base that matrix would not fit (28,000 members × 55,000 items is 12 GB
in float64), so every caller scores ``block_rows(n_items)`` members at a time: about
``BLOCK_CELLS`` numbers, 32 MB, whatever the catalogue.

:func:`top_positive` chooses each row's ``k`` best items with a score above 0 — best
first, equal scores to the smaller item index — by one ``argpartition`` per block; a
row whose k-th best is tied with items beyond it is settled by counting along the row
(never by sorting all of its tied items, which for a long tail of items seen once is
most of the catalogue).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from scipy import sparse

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Numbers in one block of scores: 4 Mi cells, 32 MB in float64. Callers make a few
# copies of a block (rules, selection), so a block costs about 200 MB at most.
BLOCK_CELLS = 1 << 22
# A sort costs about this many times a partition's pass, per number.
SPARSE_RATIO = 16
# Columns per group when a wide row is narrowed before its partition.
GROUP = 64
# Cells of a row compared first when looking for equal rows.
PROBES = 256


def block_rows(n_items: int, cells: int | None = None) -> int:
    """Members per block so that a block of scores holds about ``cells`` numbers
    (default ``BLOCK_CELLS``).

    >>> block_rows(55_536), block_rows(100), block_rows(0)
    (75, 41943, 4194304)
    """
    return max(1, (cells or BLOCK_CELLS) // max(n_items, 1))


def blocks(users: Ints, n_items: int, cells: int | None = None) -> Iterator[Ints]:
    """``users`` in consecutive blocks of :func:`block_rows` members."""
    size = block_rows(n_items, cells)
    for start in range(0, len(users), size):
        yield users[start : start + size]


def top_positive(scores: Floats, k: int) -> tuple[Ints, Floats]:
    """Each row's ``k`` best columns with a score above 0, best first, equal scores to
    the smaller column; rows with fewer end with column -1 and score 0.

    >>> s = np.array([[0.5, 2.0, 0.5, -1.0, 0.5], [0.0, 0.0, 3.0, 0.0, 0.0]])
    >>> items, values = top_positive(s, 3)
    >>> items.tolist(), values.tolist()
    ([[1, 0, 2], [2, -1, -1]], [[2.0, 0.5, 0.5], [3.0, 0.0, 0.0]])
    """
    n, width = scores.shape
    take = min(k, width)
    if take <= 0 or n == 0:
        return np.full((n, max(take, 0)), -1, dtype=np.int64), np.zeros((n, max(take, 0)))
    first, inverse = same_rows(scores)
    if len(first) < n:  # members with the same scores: choose once for each
        items, best = top_positive(scores[first], k)
        return items[inverse], best[inverse]
    # no evidence (0 or less, NaN) ranks below every score and is never listed
    evidence = scores > 0
    columns = np.empty((n, take), dtype=np.int64)
    # a row with at most k scores above 0 lists them all: no partition, no ties
    few = np.count_nonzero(evidence, axis=1) <= take
    if few.any():
        columns[few] = _first_columns(evidence[few], take)
    if not few.all():
        # A row with more than k scores above 0 has its k best above 0 too, so only a
        # NaN (which a partition puts above every number) needs masking: the copy a
        # mask costs is made only then.
        many = scores if not few.any() else scores[~few]
        if np.isnan(many).any():
            many = np.where(many > 0, many, -np.inf)
        columns[~few] = top_columns(many, take)
    best = np.take_along_axis(scores, columns, axis=1)
    # the columns come in increasing order: a stable sort keeps ties to the smaller
    order = np.argsort(-best, axis=1, kind="stable")
    items = np.take_along_axis(columns, order, axis=1)
    best = np.take_along_axis(best, order, axis=1)
    empty = ~(best > 0)
    items[empty] = -1
    best[empty] = 0.0
    return items, best


def _first_columns(marked: npt.NDArray[np.bool_], k: int) -> Ints:
    """Per row with at most ``k`` marked cells: the marked columns, then the first
    unmarked ones up to ``k`` (increasing column order within each part)."""
    n = len(marked)
    row, col = np.nonzero(marked)
    count = np.bincount(row, minlength=n)
    out = np.empty((n, k), dtype=np.int64)
    place = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    out[row, place] = col
    # the rest: columns that are not marked, in order (enough of them among the first
    # 2k columns, since a row marks at most k)
    head = ~marked[:, : 2 * k] if marked.shape[1] >= 2 * k else ~marked
    fill_row, fill_col = np.nonzero(head)
    per_row = np.bincount(fill_row, minlength=n)
    rank = np.arange(len(fill_row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    slot = count[fill_row] + rank
    keep = slot < k
    out[fill_row[keep], slot[keep]] = fill_col[keep]
    return out


def top_columns(values: npt.NDArray[np.floating], k: int) -> Ints:
    """Per row, the columns of the ``k`` largest values in increasing column order;
    of equal values the smaller column wins.

    A wide row is narrowed first (:func:`_grouped_top`); a partition then takes the
    ``k`` of the rest.
    """
    n, width = values.shape
    if k >= width:
        return np.broadcast_to(np.arange(width, dtype=np.int64), (n, width)).copy()
    if width >= GROUP * k * 4:
        return _grouped_top(values, k)
    top = np.argpartition(values, width - k, axis=1)[:, width - k :]
    kth = np.take_along_axis(values, top, axis=1).min(axis=1)
    # a row with more than k values >= its k-th largest has a tie to break by column
    tied = np.flatnonzero(np.count_nonzero(values >= kth[:, None], axis=1) > k)
    if tied.size:
        top[tied] = _break_ties(values[tied], kth[tied], k)
    top.sort(axis=1)
    return top.astype(np.int64, copy=False)


def _grouped_top(values: npt.NDArray[np.floating], k: int) -> Ints:
    """:func:`top_columns` of wide rows through groups of ``GROUP`` consecutive
    columns: the ``k`` groups with the largest maxima (equal maxima: the earlier
    group), then the ``k`` best of their columns.

    Exact, ties included (the argument of ``_batch``): if column x is among the k best
    — by value, then the smaller column — every group ranked above x's group has a
    first maximal column ranked above x, since groups are ranges of consecutive
    columns; so fewer than k groups rank above x's. One pass over the row (the
    maxima) replaces a partition of it.
    """
    n, width = values.shape
    starts = np.arange(0, width, GROUP)
    groups = top_columns(np.maximum.reduceat(values, starts, axis=1), k)
    columns = (groups[:, :, None] * GROUP + np.arange(GROUP)).reshape(n, -1)
    # the last group may be short: its missing columns sort after every real one
    real = columns < width
    picked = np.take_along_axis(values, np.minimum(columns, width - 1), axis=1)
    picked = np.where(real, picked, -np.inf)
    best = top_columns(picked, k)  # columns ascend, so positions break ties as columns do
    return np.take_along_axis(columns, best, axis=1)


def _break_ties(values: npt.NDArray[np.floating], kth: npt.NDArray[np.floating], k: int) -> Ints:
    """Rows with ties at the k-th value: all larger values, then the first equal ones."""
    above = values > kth[:, None]
    equal = values == kth[:, None]
    room = k - np.count_nonzero(above, axis=1)
    keep = above | (equal & (np.cumsum(equal, axis=1) <= room[:, None]))
    return np.nonzero(keep)[1].reshape(len(values), k)


def same_rows(values: npt.NDArray[np.floating]) -> tuple[Ints, Ints]:
    """Rows equal to an earlier row, bit for bit: the first row of each distinct one
    and each row's index among those firsts.

    Members with nothing but a product everyone has (CDNOW's 23,500 "cd" buyers) get
    the same scores from most models; their lists are chosen once. Rows are grouped
    by ``PROBES`` of their cells, spread along the row; a row that shares its probes
    with an earlier one is then compared with it cell by cell (a row that differs
    stands alone).

    >>> first, inverse = same_rows(np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]]))
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0])
    """
    n, width = values.shape
    alone = np.arange(n)
    if n < 2 or width == 0:
        return alone, alone
    cells = np.ascontiguousarray(values).view(f"u{values.itemsize}")  # bits, NaN included
    probe = np.unique(np.linspace(0, width - 1, min(width, PROBES)).astype(np.int64))
    sample = np.ascontiguousarray(cells[:, probe])
    sample = sample.view(np.dtype((np.void, sample.itemsize * len(probe))))
    _, first, inverse = np.unique(sample.ravel(), return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if len(first) == n:
        return alone, alone
    # rows sharing their probes with an earlier row: compared with it in full
    later = np.flatnonzero(first[inverse] != alone)
    # row by row: views of the two rows, no copies of the block
    model = first[inverse[later]]
    differ = np.asarray(
        [
            not np.array_equal(cells[r], cells[m])
            for r, m in zip(later.tolist(), model.tolist(), strict=True)
        ],
        dtype=bool,
    )
    if differ.any():  # grouped among themselves, by their whole rows
        apart = later[differ]
        rows = np.ascontiguousarray(cells[apart])
        rows = rows.view(np.dtype((np.void, rows.itemsize * width))).ravel()
        _, own, again = np.unique(rows, return_index=True, return_inverse=True)
        inverse[apart] = len(first) + again.ravel()
        first = np.r_[first, apart[own]]
    order = np.argsort(first, kind="stable")  # firsts in row order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse]


def sparse_enough(scores: sparse.csr_matrix) -> bool:
    """Whether a sparse block is sparse enough for :func:`top_positive_sparse` (a sort
    of its entries) to beat :func:`top_positive` on its dense copy (a partition of
    every cell): fewer than one stored score in ``SPARSE_RATIO`` cells."""
    n, width = scores.shape
    return bool(scores.nnz * SPARSE_RATIO < n * width)


def top_positive_sparse(
    scores: sparse.csr_matrix,
    k: int,
    *,
    allowed: npt.NDArray[np.bool_] | None = None,
    exclude: sparse.csr_matrix | None = None,
) -> tuple[Ints, Floats]:
    """:func:`top_positive` of a sparse block (absent cells score 0), leaving out the
    columns outside ``allowed`` and the cells ``exclude`` stores (same shape): one
    sort of the stored scores instead of a pass over every cell.

    >>> s = sparse.csr_matrix(np.array([[0.5, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 0.0]]))
    >>> items, values = top_positive_sparse(s, 3, allowed=np.array([0, 1, 1, 1], bool))
    >>> items.tolist(), values.tolist()
    ([[1, 2, -1], [2, -1, -1]], [[2.0, 0.5, 0.0], [3.0, 0.0, 0.0]])
    """
    n, width = scores.shape
    take = max(0, min(k, width))
    items = np.full((n, take), -1, dtype=np.int64)
    values = np.zeros((n, take))
    if take == 0 or n == 0:
        return items, values
    scores = sparse.csr_matrix(scores)
    scores.sum_duplicates()
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(scores.indptr))
    col = scores.indices.astype(np.int64)
    value = scores.data.astype(np.float64, copy=False)
    keep = value > 0
    if allowed is not None:
        keep &= allowed[col]
    if exclude is not None and exclude.nnz:
        seen = sparse.csr_matrix(exclude)
        seen_row = np.repeat(np.arange(n, dtype=np.int64), np.diff(seen.indptr))
        keep &= ~np.isin(row * width + col, seen_row * width + seen.indices)
    row, col, value = row[keep], col[keep], value[keep]
    order = np.lexsort((col, -value, row))
    row, col, value = row[order], col[order], value[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row, side="left")
    top = rank < take
    items[row[top], rank[top]] = col[top]
    values[row[top], rank[top]] = value[top]
    return items, values


def add_reciprocal_ranks(total: Floats, scores: Floats, c: float) -> None:
    """Add ``1 / (c + rank)`` of each positive score to ``total`` (same shape): rank 1
    the row's best, equal scores by the smaller column, as a full stable sort of the
    row would rank them; a score of 0 or less adds nothing (reciprocal-rank fusion).

    Only positive scores need a rank (the rest rank below them all), so a row with few
    of them sorts those alone; a block dense with them ranks each distinct row once
    (members with no signal of their own share one ranking).

    >>> total = np.zeros((2, 4))
    >>> add_reciprocal_ranks(total, np.array([[0.5, 2.0, 0.5, 0.0]] * 2), 0)
    >>> total.tolist()
    [[0.5, 1.0, 0.3333333333333333, 0.0], [0.5, 1.0, 0.3333333333333333, 0.0]]
    """
    n, width = scores.shape
    positive = scores > 0
    if np.count_nonzero(positive) * SPARSE_RATIO < n * width:
        row, col = np.nonzero(positive)
        order = np.lexsort((col, -scores[row, col], row))
        row, col = row[order], col[order]
        rank = np.arange(len(row)) - np.searchsorted(row, row, side="left") + 1
        total[row, col] += 1.0 / (c + rank)
        return
    first, inverse = same_rows(scores)
    distinct = scores[first]
    order = np.argsort(-distinct, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, width + 1)[None, :], axis=1)
    share = np.where(distinct > 0, 1.0 / (c + rank), 0.0)
    total += share if len(first) == n else share[inverse]

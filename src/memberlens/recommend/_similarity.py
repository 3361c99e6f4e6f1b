"""Neighbour matrices built in blocks of rows, each row cut to its best entries at once.

Item-kNN and user-kNN keep, per item (per member), the ``n`` most similar others by
cosine with shrinkage. The whole Gram matrix ``M Mᵀ`` is never formed: one item that
most members share (a shop's single product, CDNOW's "cd") makes it dense — 23,500
members all similar to each other, 550 million numbers, 13 GB as a sparse matrix.
Rows are taken in blocks whose product has at most about ``cells`` entries, and each
block is cut to ``n`` entries per row before the next is formed, so memory holds one
block and the kept neighbours.

The result is the one the whole product would give, bit for bit: an entry of a block's
product sums the same terms in the same order as the whole product's, and the cut
keeps each row's ``n`` largest entries, equal values to the smaller column.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

from memberlens.recommend._blocks import top_columns

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Entries of one block's product: 2 Mi, about 100 MB with its indices and the cut.
CELLS = 1 << 21
# A row with many entries is cut through a dense copy (a partition) rather than a
# sort of its entries when its entries fill at least 1/DENSE_RATIO of the row.
DENSE_RATIO = 16


def product_work(m: sparse.csr_matrix) -> Ints:
    """Per row of ``m``, the entries its row of ``M Mᵀ`` can have at most: over its
    columns, how many rows share each (what the product of that row costs)."""
    per_column = np.bincount(m.indices, minlength=m.shape[1]).astype(np.int64)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    return np.bincount(rows, weights=per_column[m.indices], minlength=m.shape[0]).astype(np.int64)


def row_blocks(work: Ints, cells: int) -> list[tuple[int, int]]:
    """Consecutive row ranges whose summed ``work`` stays about ``cells`` (one row at
    least per range)."""
    total = np.cumsum(work)
    out, start = [], 0
    while start < len(work):
        spent = int(total[start - 1]) if start else 0
        end = max(int(np.searchsorted(total, spent + cells, side="right")), start + 1)
        out.append((start, end))
        start = end
    return out


def cosine_neighbours(
    m: sparse.csr_matrix, shrink: float, n: int, *, cells: int | None = None
) -> sparse.csr_matrix:
    """Cosine similarity of ``m``'s rows with shrinkage, ``x·y / (|x||y| + shrink)``,
    the diagonal removed and each row cut to its ``n`` largest entries (ties to the
    smaller column); formed in blocks of rows of about ``cells`` product entries."""
    m = sparse.csr_matrix(m, dtype=np.float64)
    m.sort_indices()
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    other = m.T.tocsr()
    kept: list[sparse.csr_matrix] = []
    cells = cells or CELLS
    for start, end in row_blocks(product_work(m), cells):
        gram = (m[start:end] @ other).tocoo()
        row = gram.row.astype(np.int64) + start
        col = gram.col.astype(np.int64)
        keep = (row != col) & (gram.data != 0)
        row, col, value = row[keep], col[keep], gram.data[keep]
        value = value / (norms[row] * norms[col] + shrink)
        block = sparse.csr_matrix((value, (row - start, col)), shape=(end - start, m.shape[0]))
        kept.append(keep_top(block, n, cells=cells))
    if not kept:
        return sparse.csr_matrix((m.shape[0], m.shape[0]))
    return sparse.csr_matrix(sparse.vstack(kept, format="csr"))


def keep_top(m: sparse.csr_matrix, n: int, *, cells: int | None = None) -> sparse.csr_matrix:
    """Each row's ``n`` largest stored entries (ties to the smaller column).

    Rows with ``n`` entries or fewer stay as they are; the others are cut by a sort of
    their entries, or — when they fill much of their row — by a partition of a dense
    copy of a few rows at a time (at most ``cells`` numbers).
    """
    m = sparse.csr_matrix(m)
    m.sum_duplicates()
    m.sort_indices()
    counts = np.diff(m.indptr)
    long = np.flatnonzero(counts > n)
    if not len(long):
        return m
    dense = long[counts[long] * DENSE_RATIO >= m.shape[1]]
    sparse_rows = long[counts[long] * DENSE_RATIO < m.shape[1]]
    drop = np.zeros(m.nnz, dtype=bool)  # entries cut
    drop[_entries(m, long)] = True
    chosen = [_sorted_top(m, sparse_rows, n), *_dense_top(m, dense, n, cells or CELLS)]
    drop[np.concatenate(chosen)] = False
    row = np.repeat(np.arange(m.shape[0]), counts)
    keep = ~drop
    return sparse.csr_matrix(
        (m.data[keep], (row[keep], m.indices[keep])), shape=m.shape, dtype=m.dtype
    )


def _entries(m: sparse.csr_matrix, rows: Ints) -> Ints:
    """Positions in ``m.data`` of every entry of ``rows``."""
    starts, ends = m.indptr[rows], m.indptr[rows + 1]
    lengths = ends - starts
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    found: Ints = (np.repeat(starts, lengths) + offsets).astype(np.int64)
    return found


def _sorted_top(m: sparse.csr_matrix, rows: Ints, n: int) -> Ints:
    """Positions of the ``n`` best entries of each of ``rows``, by one sort."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    at = _entries(m, rows)
    owner = np.repeat(np.arange(len(rows)), np.diff(m.indptr)[rows])
    order = np.lexsort((m.indices[at], -m.data[at], owner))
    first = np.searchsorted(owner, owner, side="left")  # owner is ascending
    rank = np.arange(len(order)) - first[order]
    return at[order[rank < n]]


def _dense_top(m: sparse.csr_matrix, rows: Ints, n: int, cells: int) -> list[Ints]:
    """Positions of the ``n`` best entries of each of ``rows``, a few dense rows at a
    time."""
    out: list[Ints] = []
    step = max(1, cells // max(m.shape[1], 1))
    for at in range(0, len(rows), step):
        chunk = rows[at : at + step]
        sub = m[chunk]
        values = np.full((len(chunk), m.shape[1]), -np.inf)
        owner = np.repeat(np.arange(len(chunk)), np.diff(sub.indptr))
        values[owner, sub.indices] = sub.data
        columns = top_columns(values, n)  # stored entries beat the -inf gaps
        # each chosen column's position in its row's entries (indices are sorted)
        base = m.indptr[chunk][:, None]
        found = np.empty_like(columns)
        for r in range(len(chunk)):
            row_cols = sub.indices[sub.indptr[r] : sub.indptr[r + 1]]
            found[r] = base[r, 0] + np.searchsorted(row_cols, columns[r])
        out.append(found.ravel())
    return out

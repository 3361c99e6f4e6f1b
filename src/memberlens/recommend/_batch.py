"""Every member's top-k items from a factor model, exactly, chunk by chunk.

A score is the dot product of a member's factors and an item's. For a member base
that is a dense matrix product — 1,000,000 members × 50,000 items × 64 factors is
6.4·10¹² flops — and then the k best of 50,000 scores for each member. Choosing is the
hard part: ``argpartition`` over every score costs about 1.8 ns each, 90 s for 5·10¹⁰
scores on one core. Here, per chunk of members (``CHUNK``):

1. Items are grouped in sub-blocks of ``SUB`` consecutive indices and blocks of
   ``BLOCK``. Their rows are permuted once so that slab ``j`` holds the ``j``-th item
   of every block; the scores are computed slab by slab (BLAS ``sgemm``, float32,
   into a preallocated buffer of item rows × member columns), the excluded and
   padding items set to −∞, and each slab folded into its sub-block maxima with one
   element-wise ``maximum`` over contiguous memory while it is still in cache.
2. The k best blocks (by their maxima), then the k best of their sub-blocks, then
   the k best of those sub-blocks' items: about n_items / BLOCK + k·BLOCK / SUB +
   k·SUB numbers per member instead of n_items.
3. The k are sorted, best first.

Exact, ties included: if item x is in the top k — ordered by score, then by the
smaller index — every group ranked above x's group (by maximum, then by index) has a
first maximal item ranked above x, since groups are ranges of consecutive items; so
x's group has fewer than k groups above it. The same holds one level up, with the
sub-blocks' maxima as the items.

Chunks go to one worker thread per core, each with one BLAS thread: NumPy releases the
GIL in the product and the passes, so the workers overlap fully; a threaded BLAS
under them would only oversubscribe the cores.

The product takes about 80% of the time, so the BLAS kernel matters: OpenBLAS picks
it when it loads (``OPENBLAS_CORETYPE`` overrides the choice). On the project machine
(AMD EPYC, AVX-512, with ``OPENBLAS_CORETYPE=Haswell`` set) its AVX2 kernels do the
product in about 66 µs per member and core; its AVX-512 (SkylakeX) kernels, in 37.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from threadpoolctl import threadpool_limits

from memberlens.core import progress
from memberlens.core.errors import UsageError
from memberlens.recommend._blocks import top_columns as _top_columns

Ints32 = npt.NDArray[np.int32]
Floats32 = npt.NDArray[np.float32]

# Items per block and per sub-block, and members per chunk. CPU time per member for
# 50,000 items, 64 factors, k = 20 on the project machine (of which the product takes
# 64 µs): (BLOCK, SUB, CHUNK) = (64, 8, 256) 85-88 µs, (64, 16, 256) 85, (128, 16, 256)
# 91, (32, 8, 256) 95, (64, 8, 128) 97, (64, 8, 512) 98. With 256 members a slab
# (782 items × 256 members, 800 KB) stays in the 1 MB L2 cache for its maximum;
# the whole chunk's scores take 51 MB per worker.
BLOCK = 64
SUB = 8
CHUNK = 256


@dataclass(frozen=True)
class _Items:
    """The item factors laid out for one run: float32, rows permuted in blocks.

    Row ``j * n_blocks + b`` holds item ``b * BLOCK + j``: slab ``j`` (rows
    ``j * n_blocks ...``) has the ``j``-th item of every block. Padding items past
    the last real one have zero factors; their scores are set to −∞.
    """

    factors: Floats32  # (n_blocks * BLOCK, n_factors)
    row: npt.NDArray[np.int64]  # item -> its row
    n_items: int
    n_blocks: int

    @classmethod
    def lay_out(cls, item_factors: npt.NDArray[Any]) -> _Items:
        n_items, n_factors = item_factors.shape
        n_blocks = -(-n_items // BLOCK)
        padded = np.zeros((n_blocks * BLOCK, n_factors), dtype=np.float32)
        padded[:n_items] = item_factors
        permuted = padded.reshape(n_blocks, BLOCK, n_factors).transpose(1, 0, 2)
        items = np.arange(n_items)
        rows = (items % BLOCK) * n_blocks + items // BLOCK
        return cls(np.ascontiguousarray(permuted.reshape(-1, n_factors)), rows, n_items, n_blocks)

    @property
    def first_padded(self) -> int:
        """The first slab whose last row is a padding item."""
        return self.n_items - (self.n_blocks - 1) * BLOCK


def factor_top_k(
    user_factors: npt.NDArray[Any],
    item_factors: npt.NDArray[Any],
    k: int,
    *,
    exclude: sparse.csr_matrix | None = None,
    users: npt.ArrayLike | None = None,
    chunk: int | None = None,
) -> tuple[Ints32, Floats32]:
    """Each user's ``k`` best items by the dot product of factors, best first.

    Parameters
    ----------
    user_factors, item_factors
        ``(n_users, f)`` and ``(n_items, f)`` arrays of finite numbers; scores are
        computed in float32 whatever their dtype.
    k
        List length, 1 or more.
    exclude
        Items never returned (the seen-item filter): a ``(n_users, n_items)`` sparse
        matrix whose row ``u`` stores user ``u``'s items; every stored entry counts,
        whatever its value (explicit zeros too).
    users
        Which rows of ``user_factors`` to score, in the order of the result; default
        all of them.
    chunk
        Users scored together (default ``CHUNK``, 256); each worker thread (one per
        core) holds about ``chunk × n_items × 4.5`` bytes.

    Each finished chunk is reported (from the calling thread) as progress of the
    current stage: users done of all (:mod:`memberlens.core.progress`).

    Returns
    -------
    items, scores
        ``(len(users), k)`` int32 item indices and float32 scores, best first; equal
        scores are ordered by the smaller item index. When fewer than ``k`` items are
        eligible (not excluded) for a user, the list ends with item ``-1`` and score
        ``-inf``. The scores are float32 sums whose last bit may depend on the chunk
        size (BLAS kernels sum in different orders), so two items whose scores differ
        by float32 rounding only may swap between runs with different ``chunk``.

    Examples
    --------
    >>> u = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> v = np.array([[3.0, 1.0], [1.0, 2.0], [2.0, 2.0]])
    >>> seen = sparse.csr_matrix(([1.0], ([0], [0])), shape=(2, 3))
    >>> items, scores = factor_top_k(u, v, 2, exclude=seen)
    >>> items.tolist(), scores.tolist()
    ([[2, 1], [1, 2]], [[2.0, 1.0], [2.0, 2.0]])
    """
    rows = _check(user_factors, item_factors, k, exclude, users, chunk)
    n = len(rows) if rows is not None else user_factors.shape[0]
    kept = min(k, item_factors.shape[0])
    items_out = np.full((n, k), -1, dtype=np.int32)
    scores_out = np.full((n, k), -np.inf, dtype=np.float32)
    if n == 0 or kept == 0:
        return items_out, scores_out
    layout = _Items.lay_out(item_factors)
    seen = _exclusions(exclude, rows, n, item_factors.shape[0])
    size = chunk or CHUNK
    local = threading.local()

    def work(start: int) -> int:
        stop = min(start + size, n)
        ids = slice(start, stop) if rows is None else rows[start:stop]
        if not hasattr(local, "buffers"):
            local.buffers = _Buffers.make(layout, min(size, n))
        top = _chunk_top_k(user_factors[ids], layout, seen, start, kept, local.buffers)
        items_out[start:stop, :kept], scores_out[start:stop, :kept] = top
        return stop - start

    workers = max(1, min(_cores(), -(-n // size)))
    # One BLAS thread per worker (the workers fill the cores); the limit applies to
    # the whole process while this runs and the previous one comes back after.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        done = 0
        for finished in _completed(pool, work, range(0, n, size), window=4 * workers):
            done += finished
            progress.advance(done, n, "members")
    return items_out, scores_out


def _cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _check(
    user_factors: npt.NDArray[Any],
    item_factors: npt.NDArray[Any],
    k: int,
    exclude: sparse.csr_matrix | None,
    users: npt.ArrayLike | None,
    chunk: int | None,
) -> npt.NDArray[np.int64] | None:
    """Validate the arguments; the user rows asked for (None: all, in order)."""
    if user_factors.ndim != 2 or item_factors.ndim != 2:
        raise UsageError("factor_top_k: user_factors and item_factors must be 2-D arrays")
    if user_factors.shape[1] != item_factors.shape[1]:
        raise UsageError(
            f"factor_top_k: users have {user_factors.shape[1]} factors but items have "
            f"{item_factors.shape[1]}; pass both from the same fitted model"
        )
    if k < 1:
        raise UsageError(f"factor_top_k: k must be 1 or more, got {k}")
    if chunk is not None and chunk < 1:
        raise UsageError(f"factor_top_k: chunk must be 1 or more, got {chunk}")
    expected = (user_factors.shape[0], item_factors.shape[0])
    if exclude is not None and exclude.shape != expected:
        raise UsageError(
            f"factor_top_k: exclude has shape {exclude.shape}, expected {expected} "
            "(one row per user of user_factors, one column per item)"
        )
    if not (np.isfinite(item_factors).all() and np.isfinite(user_factors).all()):
        raise UsageError("factor_top_k: the factors contain NaN or infinity; refit the model")
    if users is None:
        return None
    rows = np.asarray(users, dtype=np.int64).ravel()
    if rows.size and (rows.min() < 0 or rows.max() >= user_factors.shape[0]):
        raise UsageError(f"factor_top_k: users must lie in [0, {user_factors.shape[0]})")
    return rows


def _exclusions(
    exclude: sparse.csr_matrix | None,
    rows: npt.NDArray[np.int64] | None,
    n: int,
    n_items: int,
) -> sparse.csr_matrix:
    """The excluded items, one CSR row per user scored, in the order of the result."""
    if exclude is None:
        return sparse.csr_matrix((n, n_items), dtype=np.float32)
    seen = sparse.csr_matrix(exclude)
    return seen[rows] if rows is not None else seen


def _completed(
    pool: ThreadPoolExecutor, work: Callable[[int], int], starts: range, window: int
) -> Iterator[int]:
    """Run ``work`` over ``starts`` with at most ``window`` chunks queued; yield each
    result as it finishes (a bounded queue keeps memory flat for huge bases)."""
    pending: set[Future[int]] = set()
    for start in starts:
        pending.add(pool.submit(work, start))
        if len(pending) >= window:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in finished)
    for future in pending:
        yield future.result()


@dataclass(frozen=True)
class _Buffers:
    """One worker's scratch memory, reused chunk after chunk."""

    scores: Floats32  # flat; a chunk of n users uses the first n_rows * n as (n_rows, n)
    sub: Floats32  # flat; sub-block maxima, (BLOCK // SUB, n_blocks, n)

    @classmethod
    def make(cls, layout: _Items, size: int) -> _Buffers:
        rows = layout.n_blocks * BLOCK
        return cls(np.empty(rows * size, np.float32), np.empty(rows // SUB * size, np.float32))


def _chunk_top_k(
    users: npt.NDArray[Any],
    layout: _Items,
    seen: sparse.csr_matrix,
    start: int,
    k: int,
    buffers: _Buffers,
) -> tuple[Ints32, Floats32]:
    """Top ``k`` of one chunk of users (rows ``start ...`` of ``seen``)."""
    n, n_blocks = len(users), layout.n_blocks
    scores, sub = _sub_maxima(users, layout, seen, start, buffers)
    blocks = _top_columns(np.ascontiguousarray(sub.max(axis=0).T), min(k, n_blocks))
    n_sub = BLOCK // SUB
    user = np.arange(n)[:, None]
    # a block's sub-blocks, block by block: in increasing item order
    sub_index = (np.arange(n_sub)[:, None] * n_blocks + blocks[:, None, :]) * n + user[:, None]
    sub_index = sub_index.transpose(0, 2, 1).reshape(n, -1)
    chosen = _top_columns(sub.reshape(-1).take(sub_index), min(k, sub_index.shape[1]))
    block = np.take_along_axis(blocks, chosen // n_sub, axis=1)
    first = (chosen % n_sub) * SUB  # first position of the sub-block within its block
    offset = (first[:, :, None] + np.arange(SUB)).reshape(n, -1)  # position in block
    block = np.repeat(block, SUB, axis=1)
    values = scores.reshape(-1).take((offset * n_blocks + block) * n + user)
    final = _top_columns(values, k)
    best = np.take_along_axis(values, final, axis=1)
    items = np.take_along_axis(block * BLOCK + offset, final, axis=1)
    # final is in increasing item order, so a stable sort keeps ties by item index
    order = np.argsort(-best, axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    items = np.take_along_axis(items, order, axis=1).astype(np.int32)
    items[best == -np.inf] = -1
    return items, best


def _sub_maxima(
    users: npt.NDArray[Any],
    layout: _Items,
    seen: sparse.csr_matrix,
    start: int,
    buffers: _Buffers,
) -> tuple[Floats32, Floats32]:
    """Scores of one chunk, item rows × user columns, with the excluded and padding
    items at −∞; and the maxima of every sub-block, slab by slab while it is in cache."""
    n, n_blocks = len(users), layout.n_blocks
    scores = buffers.scores[: n_blocks * BLOCK * n].reshape(-1, n)
    sub = buffers.sub[: n_blocks * BLOCK // SUB * n].reshape(BLOCK // SUB, n_blocks, n)
    flat = scores.reshape(-1)
    excluded = _excluded_positions(layout, seen, start, n)
    bounds = np.searchsorted(excluded, np.arange(BLOCK + 1) * n_blocks * n)
    users_t = users.astype(np.float32, copy=False).T
    for j in range(BLOCK):
        slab = scores[j * n_blocks : (j + 1) * n_blocks]
        np.matmul(layout.factors[j * n_blocks : (j + 1) * n_blocks], users_t, out=slab)
        if j >= layout.first_padded:
            slab[-1] = -np.inf
        flat[excluded[bounds[j] : bounds[j + 1]]] = -np.inf
        into = sub[j // SUB]
        if j % SUB:
            np.maximum(into, slab, out=into)
        else:
            into[...] = slab
    return scores, sub


def _excluded_positions(
    layout: _Items, seen: sparse.csr_matrix, start: int, n: int
) -> npt.NDArray[np.int64]:
    """Flat positions, sorted, of one chunk's excluded items in its score buffer."""
    lo, hi = seen.indptr[start], seen.indptr[start + n]
    user = np.repeat(np.arange(n, dtype=np.int64), np.diff(seen.indptr[start : start + n + 1]))
    return np.sort(layout.row[seen.indices[lo:hi]] * n + user)

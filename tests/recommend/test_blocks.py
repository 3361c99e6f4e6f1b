"""Scoring in member blocks and neighbour matrices in row blocks: the same answers as
the whole matrices, without ever holding them.

Known answers: brute-force selections (sort every row), and the whole Gram matrix
computed at once on inputs small enough for it.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import sparse

from memberlens.recommend import _blocks, _similarity
from memberlens.recommend._algorithms import Blend, CategoryAffinity, ItemKnn, UserKnn, top_k
from memberlens.recommend._association import Association
from memberlens.recommend._blocks import add_reciprocal_ranks, top_positive
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._reasons import reason
from memberlens.recommend._similarity import cosine_neighbours, keep_top


def _interactions(matrix: sparse.csr_matrix, categories: int = 5) -> Interactions:
    """Purchases with the matrix's pattern (one record per stored cell)."""
    coo = matrix.tocoo()
    n_users, n_items = matrix.shape
    return Interactions(
        users=np.asarray([f"u{i:06d}" for i in range(n_users)]),
        items=np.asarray([f"i{i:06d}" for i in range(n_items)]),
        user=coo.row.astype(np.int64),
        item=coo.col.astype(np.int64),
        kind=np.full(coo.nnz, "purchase"),
        day=np.zeros(coo.nnz, dtype=np.int64),
        weight=coo.data.astype(np.float64),
        category=(np.arange(n_items) % (categories + 1) - 1).astype(np.int64),  # some -1
        categories=tuple(f"c{c}" for c in range(categories)),
    )


def _random(users: int, items: int, density: float, seed: int, shared: bool) -> sparse.csr_matrix:
    """Weights 1..4 (many ties; a cell drawn twice sums); with ``shared``, item 0 is in
    everyone's history."""
    rng = np.random.default_rng(seed)
    cells = int(users * items * density)
    row, col = rng.integers(0, users, cells), rng.integers(0, items, cells)
    if shared:
        row, col = np.r_[row, np.arange(users)], np.r_[col, np.zeros(users, dtype=np.int64)]
    m = sparse.csr_matrix((rng.integers(1, 5, len(row)).astype(float), (row, col)), (users, items))
    m.sum_duplicates()
    return m


def _brute_top(scores: np.ndarray, k: int) -> list[list[int]]:
    """Each row's best k columns above 0 by a full sort (ties to the smaller column)."""
    out = []
    for row in scores:
        ranked = sorted((-v, c) for c, v in enumerate(row.tolist()) if v > 0)
        out.append([c for _, c in ranked[:k]])
    return out


def test_top_positive_matches_a_full_sort_with_ties_and_short_rows() -> None:
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(size=(200, 300)), 1)  # many ties, many negatives
    scores[:20] = np.where(rng.random((20, 300)) < 0.01, 1.0, 0.0)  # rows with few positives
    scores[5] = np.nan
    scores[100, ::7] = np.nan  # NaN among many positives: never listed, never first
    scores[30:60] = scores[25]  # members with the same scores are chosen for once
    scores[61] = np.where(scores[25] == 0.5, 0.6, scores[25])  # almost the same
    for k in (1, 7, 40, 300, 400):
        items, values = top_positive(scores, k)
        want = _brute_top(np.nan_to_num(scores, nan=0.0), k)
        assert [row[row >= 0].tolist() for row in items] == want
        for row, chosen in zip(values, want, strict=True):
            assert (row[len(chosen) :] == 0).all()


def _whole_cosine(m: sparse.csr_matrix, shrink: float, n: int) -> np.ndarray:
    """The reference: the whole Gram matrix at once, then a full sort per row."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    gram = (m @ m.T).toarray()
    np.fill_diagonal(gram, 0.0)
    cosine = np.where(gram != 0, gram / (np.outer(norms, norms) + shrink), 0.0)
    out = np.zeros_like(cosine)
    for r, row in enumerate(cosine):
        ranked = sorted((-v, c) for c, v in enumerate(row.tolist()) if v != 0)[:n]
        for _, c in ranked:
            out[r, c] = row[c]
    return out


@pytest.mark.parametrize("cells", [64, 1000, None])
@pytest.mark.parametrize("shared", [False, True])
def test_neighbours_in_blocks_equal_the_whole_gram_matrix(cells: int | None, shared: bool) -> None:
    m = _random(120, 60, 0.08, seed=4, shared=shared)
    for rows, n in ((m, 5), (m.T.tocsr(), 7)):  # user-user and item-item
        found = cosine_neighbours(rows, 10.0, n, cells=cells).toarray()
        assert np.array_equal(found, _whole_cosine(rows, 10.0, n))


def test_keep_top_sorts_sparse_rows_and_partitions_dense_ones() -> None:
    rng = np.random.default_rng(8)
    wide = sparse.random(30, 2000, density=0.005, random_state=2, format="csr")  # sparse path
    full = sparse.random(30, 40, density=0.9, random_state=3, format="csr")  # dense path
    for m in (wide, full):
        m.data = np.round(rng.random(m.nnz) * 3) + 1
        kept, dense = keep_top(m, 4, cells=100).toarray(), m.toarray()
        for r in range(m.shape[0]):
            stored = [(-dense[r, c], c) for c in range(m.shape[1]) if dense[r, c]]
            assert sorted((-kept[r, c], c) for c in np.flatnonzero(kept[r])) == sorted(stored)[:4]


def test_user_knn_never_forms_the_gram_matrix_of_a_product_everyone_bought(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """3,000 members who all bought item 0 (CDNOW's single "cd"): the whole Gram matrix
    has 9 million entries, over 100 MB as a sparse matrix; in blocks a few MB."""
    users = 3000
    m = _random(users, 50, 0.02, seed=5, shared=True)
    monkeypatch.setattr(_similarity, "CELLS", 1 << 16)
    tracemalloc.start()
    try:
        model = UserKnn(neighbours=20).fit(m, _interactions(m))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.similar.nnz == users * 20
    assert peak < users * users * 8 / 8, f"{peak / 1e6:.1f} MB"


def test_top_k_scores_a_member_base_in_blocks_never_members_by_items(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2,000 members × 20,000 items would be 320 MB of scores at once; blocks of 256 Ki
    scores keep every allocation a small fraction of that, and the lists are the
    ones a full sort of every member's scores gives."""
    users, items = 2000, 20_000
    m = _random(users, items, 0.0005, seed=6, shared=True)
    data = _interactions(m)
    model = ItemKnn(neighbours=30).fit(m, data)
    monkeypatch.setattr(_blocks, "BLOCK_CELLS", 1 << 18)
    everyone = np.arange(users)
    tracemalloc.start()
    try:
        lists = top_k(model, everyone, 10, exclude=m)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < users * items * 8 / 20, f"{peak / 1e6:.1f} MB"
    sample = everyone[::97]
    scores = model.scores(sample)
    scores[m[sample].nonzero()] = 0.0
    assert [lists[u].tolist() for u in sample] == _brute_top(scores, 10)


@pytest.mark.parametrize("dense_up_to", [4000, 0])
def test_category_and_association_scores_equal_their_definitions(
    dense_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Association, "DENSE_UP_TO", dense_up_to)
    m = _random(300, 80, 0.05, seed=7, shared=False)
    data = _interactions(m)
    users = np.arange(0, 300, 3)
    category = CategoryAffinity().fit(m, data)
    interest = (m[users] @ category.onehot).toarray()
    interest /= np.maximum(interest.sum(axis=1, keepdims=True), 1e-300)
    want = (category.onehot @ interest.T).T * category.within + 0.1 * category.global_share
    assert np.allclose(category.scores(users), want, rtol=0, atol=0)
    rules = Association(min_count=1).fit(m, data)
    confidence = rules.confidence_.toarray()
    best = np.zeros((len(users), 80))
    for row, user in enumerate(users):
        mine = m[user].indices
        if len(mine):
            best[row] = confidence[mine].max(axis=0)
    assert np.array_equal(rules.scores(users), best)


def _explained_one_by_one(
    train: sparse.csr_matrix, similar: sparse.csr_matrix, user: int, items: np.ndarray
) -> list[int]:
    """The reference: per candidate, the argmax over the user's items of
    ``similar[candidate, item] * weight`` (first of equal ones), -1 when not above 0."""
    have = train.indices[train.indptr[user] : train.indptr[user + 1]]
    if not len(have):
        return [-1] * len(items)
    links = (
        similar[items][:, have].toarray() * train.data[train.indptr[user] : train.indptr[user + 1]]
    )
    best = links.argmax(axis=1)
    return [int(have[j]) if links[i, j] > 0 else -1 for i, j in enumerate(best.tolist())]


def test_reasons_of_a_block_name_the_item_each_user_would_be_told_alone() -> None:
    m = _random(200, 60, 0.06, seed=9, shared=False)
    model = ItemKnn(neighbours=8).fit(m, _interactions(m))
    users = np.arange(0, 200, 2)
    chosen = [np.asarray(c) for c in top_k(model, users, 6, exclude=m)]
    chosen[3] = np.asarray([5, 1, 7])  # candidates the user's items may not speak for
    said = model.explain_block(users, chosen)
    for user, items, texts in zip(users.tolist(), chosen, said, strict=True):
        want = _explained_one_by_one(m, model.similar, user, items)
        assert texts == [
            reason("because_you_liked", item=f"i{j:06d}")
            if j >= 0
            else reason("similar_to_what_you_looked_at")
            for j in want
        ]


@pytest.mark.parametrize("density", [0.01, 0.9])
def test_reciprocal_ranks_are_those_of_a_full_stable_sort(density: float) -> None:
    rng = np.random.default_rng(12)
    scores = np.where(rng.random((60, 400)) < density, np.round(rng.random((60, 400)), 1), 0.0)
    scores[10:20] = scores[5]  # members with the same scores share a ranking
    scores[3] = -scores[3]  # no positive score at all
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, 401)[None, :], axis=1)
    total = np.full((60, 400), 0.25)
    add_reciprocal_ranks(total, scores, 60)
    assert np.array_equal(total, 0.25 + np.where(scores > 0, 1.0 / (60 + rank), 0.0))


@pytest.mark.parametrize(("width", "k"), [(5000, 10), (3001, 5), (20_000, 40), (257, 1)])
def test_wide_rows_narrowed_by_groups_keep_the_partitions_answer(
    width: int, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(width)
    values = np.round(rng.random((40, width)) * 20) / 20  # many ties
    values[values < 0.3] = -np.inf
    values[0] = -np.inf  # nothing at all
    values[1] = 0.5  # one value everywhere
    values[2, -1] = 2.0  # the best in the last, short group
    grouped = _blocks.top_columns(values, k)
    monkeypatch.setattr(_blocks, "GROUP", 10**9)  # the partition alone
    assert np.array_equal(grouped, _blocks.top_columns(values, k))
    assert grouped[2, -1] == width - 1


@pytest.mark.parametrize("model", [ItemKnn, UserKnn])
def test_a_neighbour_model_narrowed_equals_one_fitted_with_fewer(model: type) -> None:
    m = _random(150, 90, 0.06, seed=13, shared=True)
    data = _interactions(m)
    wide = model(neighbours=40).fit(m, data)
    for n in (3, 10, 40):
        narrow, fitted = wide.narrowed(n), model(neighbours=n).fit(m, data)
        assert (narrow.similar != fitted.similar).nnz == 0
        users = np.arange(150)
        assert np.array_equal(narrow.scores(users), fitted.scores(users))
    with pytest.raises(ValueError, match="keeps 40"):
        wide.narrowed(41)


def test_a_blend_reweighted_equals_one_fitted_with_those_weights() -> None:
    m = _random(120, 70, 0.08, seed=14, shared=False)
    data = _interactions(m)
    fitted = Blend().fit(m, data)
    users = np.arange(120)
    for weights in ((0.75, 0.25), None):
        want = Blend(weights=weights).fit(m, data).scores(users)
        assert np.array_equal(fitted.reweighted(weights).scores(users), want)


def test_rows_alike_in_their_probes_but_not_in_full_stand_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_blocks, "PROBES", 4)  # cells 0, 333, 666, 999
    values = np.zeros((5, 1000))
    values[1, 500] = 1.0  # same probes as row 0, a different row
    values[3, 500] = 1.0  # the same as row 1
    values[4, 999] = np.nan  # NaN equals itself, bit for bit
    first, inverse = _blocks.same_rows(np.r_[values, values[4:]])
    assert first.tolist() == [0, 1, 4] and inverse.tolist() == [0, 1, 0, 1, 2, 2]

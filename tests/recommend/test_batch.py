"""Batch top-k for factor models against brute force, ties and filters included.

The reference scores every item, sets the excluded ones to −∞, and sorts each row
completely with ``np.lexsort`` (score descending, then item index): the definition of
the answer. Factors are small integers, so every score is exact in float32 whatever
the order of summation, and ties are everywhere. The block sizes are shrunk in most
tests so that small catalogues go through every level of the selection.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy import sparse
from threadpoolctl import threadpool_info, threadpool_limits

from memberlens.core import progress
from memberlens.core.errors import UsageError
from memberlens.recommend import _batch
from memberlens.recommend._batch import factor_top_k


def _reference(
    users: npt.NDArray[np.float32],
    items: npt.NDArray[np.float32],
    k: int,
    exclude: sparse.csr_matrix | None = None,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Full sort of every row: score descending, then the smaller item index."""
    scores = users.astype(np.float32) @ items.astype(np.float32).T
    if exclude is not None:
        rows = np.repeat(np.arange(exclude.shape[0]), np.diff(exclude.indptr))
        scores[rows, exclude.indices] = -np.inf
    n_items = scores.shape[1]
    order = np.stack([np.lexsort((np.arange(n_items), -row)) for row in scores])[:, :k]
    best = np.full((len(scores), k), -np.inf, dtype=np.float32)
    chosen = np.full((len(scores), k), -1, dtype=np.int32)
    best[:, : order.shape[1]] = np.take_along_axis(scores, order, axis=1)
    chosen[:, : order.shape[1]] = order
    chosen[best == -np.inf] = -1
    return chosen, best


def _integers(
    rng: np.random.Generator, n_users: int, n_items: int, n_factors: int = 3
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Factors in {-2, ..., 2}: exact scores, many ties."""
    users = rng.integers(-2, 3, (n_users, n_factors)).astype(np.float32)
    items = rng.integers(-2, 3, (n_items, n_factors)).astype(np.float32)
    return users, items


def _seen(
    rng: np.random.Generator, n_users: int, n_items: int, density: float
) -> sparse.csr_matrix:
    mask = rng.random((n_users, n_items)) < density
    return sparse.csr_matrix(mask.astype(np.float32))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 8 items in sub-blocks of 2, so a few hundred items make ~40 blocks."""
    monkeypatch.setattr(_batch, "BLOCK", 8)
    monkeypatch.setattr(_batch, "SUB", 2)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("n_users", "n_items", "k", "chunk", "density"),
    [
        (50, 300, 10, 7, 0.1),  # chunk does not divide the users
        (33, 301, 5, 33, 0.0),  # items not a multiple of the block: padding items
        (64, 257, 20, 16, 0.5),
        (10, 97, 1, 3, 0.3),
        (40, 200, 40, 1000, 0.9),  # k above most users' eligible items: padded lists
    ],
)
def test_matches_the_full_sort(
    n_users: int, n_items: int, k: int, chunk: int, density: float
) -> None:
    rng = np.random.default_rng(n_users * 1000 + n_items)
    users, items = _integers(rng, n_users, n_items)
    seen = _seen(rng, n_users, n_items, density)
    got_items, got_scores = factor_top_k(users, items, k, exclude=seen, chunk=chunk)
    want_items, want_scores = _reference(users, items, k, seen)
    np.testing.assert_array_equal(got_items, want_items)
    np.testing.assert_array_equal(got_scores, want_scores)
    assert got_items.dtype == np.int32 and got_scores.dtype == np.float32


@pytest.mark.parametrize(("block", "sub"), [(1, 1), (4, 4), (16, 4), (64, 8)])
def test_any_block_sizes_give_the_same_answer(
    monkeypatch: pytest.MonkeyPatch, block: int, sub: int
) -> None:
    monkeypatch.setattr(_batch, "BLOCK", block)
    monkeypatch.setattr(_batch, "SUB", sub)
    rng = np.random.default_rng(7)
    users, items = _integers(rng, 40, 700)
    seen = _seen(rng, 40, 700, 0.05)
    got = factor_top_k(users, items, 12, exclude=seen, chunk=9)
    want = _reference(users, items, 12, seen)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_default_blocks_on_a_larger_catalogue() -> None:
    """5,000 items make 79 blocks of 64 at the default sizes; k = 20 chooses among them."""
    rng = np.random.default_rng(3)
    users, items = _integers(rng, 300, 5000, n_factors=4)
    seen = _seen(rng, 300, 5000, 0.01)
    got = factor_top_k(users, items, 20, exclude=seen)
    want = _reference(users, items, 20, seen)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_ties_go_to_the_smaller_item() -> None:
    users = np.ones((2, 2), dtype=np.float32)
    items = np.ones((10, 2), dtype=np.float32)
    items[7] = 2.0  # one clear winner, then nine ties
    got_items, got_scores = factor_top_k(users, items, 4)
    assert got_items.tolist() == [[7, 0, 1, 2]] * 2
    assert got_scores.tolist() == [[4.0, 2.0, 2.0, 2.0]] * 2


@pytest.mark.usefixtures("small_blocks")
def test_excluded_items_never_come_back() -> None:
    rng = np.random.default_rng(11)
    users, items = _integers(rng, 30, 120)
    seen = _seen(rng, 30, 120, 0.6)
    got_items, _ = factor_top_k(users, items, 30, exclude=seen, chunk=4)
    dense = seen.toarray() != 0
    for user, row in enumerate(got_items):
        listed = row[row >= 0]
        assert not dense[user, listed].any()
        assert len(listed) == min(30, int((~dense[user]).sum()))


def test_short_lists_are_padded_with_minus_one_and_minus_infinity() -> None:
    users = np.array([[1.0], [2.0]], dtype=np.float32)
    items = np.array([[3.0], [1.0], [2.0]], dtype=np.float32)
    seen = sparse.csr_matrix(np.array([[1, 0, 1], [0, 0, 0]], dtype=np.float32))
    got_items, got_scores = factor_top_k(users, items, 5, exclude=seen)
    assert got_items.tolist() == [[1, -1, -1, -1, -1], [0, 2, 1, -1, -1]]
    assert got_scores.tolist() == [
        [1.0, -np.inf, -np.inf, -np.inf, -np.inf],
        [6.0, 4.0, 2.0, -np.inf, -np.inf],
    ]


def test_everything_seen_gives_an_empty_list() -> None:
    users, items = np.ones((1, 2)), np.ones((4, 2))
    seen = sparse.csr_matrix(np.ones((1, 4)))
    got_items, got_scores = factor_top_k(users, items, 3, exclude=seen)
    assert got_items.tolist() == [[-1, -1, -1]]
    assert np.isneginf(got_scores).all()


@pytest.mark.usefixtures("small_blocks")
def test_float64_and_float32_inputs_agree() -> None:
    rng = np.random.default_rng(5)
    users, items = _integers(rng, 20, 90)
    single = factor_top_k(users, items, 6)
    double = factor_top_k(users.astype(np.float64), items.astype(np.float64), 6)
    np.testing.assert_array_equal(single[0], double[0])
    np.testing.assert_array_equal(single[1], double[1])


@pytest.mark.usefixtures("small_blocks")
def test_a_subset_of_users_in_any_order() -> None:
    rng = np.random.default_rng(9)
    users, items = _integers(rng, 40, 150)
    seen = _seen(rng, 40, 150, 0.2)
    everyone = factor_top_k(users, items, 8, exclude=seen)
    chosen = np.array([39, 0, 17, 17, 5])
    some = factor_top_k(users, items, 8, exclude=seen, users=chosen, chunk=2)
    np.testing.assert_array_equal(some[0], everyone[0][chosen])
    np.testing.assert_array_equal(some[1], everyone[1][chosen])


def test_the_chunk_size_does_not_change_the_answer() -> None:
    """Exact scores here: with real-valued factors BLAS may round the last bit of a
    score differently for another chunk size (its kernels sum in other orders)."""
    rng = np.random.default_rng(13)
    users, items = _integers(rng, 101, 900, n_factors=8)
    first = factor_top_k(users, items, 10, chunk=101)
    for chunk in (1, 10, 64):
        again = factor_top_k(users, items, 10, chunk=chunk)
        np.testing.assert_array_equal(again[0], first[0])
        np.testing.assert_array_equal(again[1], first[1])


def test_continuous_factors_against_the_full_sort() -> None:
    """Real-valued float32 factors: same lists, scores equal to float32 rounding."""
    rng = np.random.default_rng(17)
    users = rng.standard_normal((200, 32)).astype(np.float32)
    items = rng.standard_normal((3000, 32)).astype(np.float32)
    seen = _seen(rng, 200, 3000, 0.01)
    got = factor_top_k(users, items, 20, exclude=seen, chunk=64)
    want = _reference(users, items, 20, seen)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-5)


def test_progress_counts_users_done() -> None:
    seen: list[progress.Update] = []
    users, items = np.ones((25, 2)), np.ones((5, 2))
    with progress.listen(seen.append), progress.stage("lists"):
        factor_top_k(users, items, 2, chunk=10)
    done = [u.done for u in seen[1:]]  # after the stage's opening
    assert sorted(done) == done and done[-1] == 25 and len(done) == 3
    assert {u.path for u in seen} == {"lists"} and seen[-1].share == 1.0


def test_blas_thread_limit_comes_back() -> None:
    users, items = np.ones((300, 4)), np.ones((50, 4))
    with threadpool_limits(limits=1, user_api="blas"):
        before = [api["num_threads"] for api in threadpool_info()]
        factor_top_k(users, items, 3, chunk=100)
        assert [api["num_threads"] for api in threadpool_info()] == before


@pytest.mark.parametrize(
    ("users", "items", "k", "exclude", "match"),
    [
        (np.ones((2, 3)), np.ones((4, 2)), 1, None, "factors"),
        (np.ones((2, 2)), np.ones((4, 2)), 0, None, "k must be 1 or more"),
        (np.ones((2, 2)), np.ones((4, 2)), 1, sparse.csr_matrix((2, 5)), "exclude has shape"),
        (np.full((2, 2), np.nan), np.ones((4, 2)), 1, None, "NaN"),
    ],
)
def test_bad_arguments_name_the_fix(
    users: npt.NDArray[np.float64],
    items: npt.NDArray[np.float64],
    k: int,
    exclude: sparse.csr_matrix | None,
    match: str,
) -> None:
    with pytest.raises(UsageError, match=match):
        factor_top_k(users, items, k, exclude=exclude)


def test_users_out_of_range() -> None:
    with pytest.raises(UsageError, match="users must lie"):
        factor_top_k(np.ones((2, 2)), np.ones((3, 2)), 1, users=[2])


def test_same_lists_as_implicit_on_a_fitted_als() -> None:
    """implicit's own ``recommend`` with the seen-item filter, on a small fitted model:
    the same scores everywhere, and the same lists wherever neighbouring scores differ
    by more than float32 noise (elsewhere two near-equal items may swap)."""
    implicit_als = pytest.importorskip("implicit.cpu.als")
    rng = np.random.default_rng(21)
    n_users, n_items = 300, 400
    # users prefer items of their own taste group, so the model has structure to learn
    group_user, group_item = rng.integers(0, 5, n_users), rng.integers(0, 5, n_items)
    likes = rng.random((n_users, n_items)) < np.where(
        group_user[:, None] == group_item[None, :], 0.15, 0.01
    )
    train = sparse.csr_matrix(likes.astype(np.float32))
    with threadpool_limits(limits=1, user_api="blas"):
        model = implicit_als.AlternatingLeastSquares(
            factors=16, iterations=10, random_state=1, num_threads=1
        )
        model.fit(train, show_progress=False)
        ids = np.arange(n_users)
        their_items, their_scores = model.recommend(
            ids, train, N=10, filter_already_liked_items=True
        )
    our_items, our_scores = factor_top_k(model.user_factors, model.item_factors, 10, exclude=train)
    np.testing.assert_allclose(our_scores, their_scores, rtol=1e-5, atol=1e-6)
    # scores are about 0.7 at the top; float32 rounding there is about 1e-7
    gaps = np.abs(np.diff(their_scores, axis=1)).min(axis=1)
    clear = gaps > 1e-5
    assert clear.mean() > 0.95
    np.testing.assert_array_equal(our_items[clear], their_items[clear])


def test_the_recommender_method_uses_its_own_factors() -> None:
    from memberlens.recommend._factors import Als

    rng = np.random.default_rng(23)
    model = Als(factors=4)
    model.user_factors = rng.integers(-2, 3, (30, 4)).astype(np.float64)
    model.item_factors = rng.integers(-2, 3, (80, 4)).astype(np.float64)
    model.train = _seen(rng, 30, 80, 0.1)
    model.data = object()  # type: ignore[assignment]  # only its presence is checked
    got = model.top_k_batch(None, 5, exclude=model.train)
    want = _reference(model.user_factors, model.item_factors, 5, model.train)
    np.testing.assert_array_equal(got[0], want[0])
    assert model.scores(np.array([0])).shape == (1, 80)  # the dense path is unchanged


def test_the_recommender_method_wants_a_fitted_model() -> None:
    from memberlens.recommend._factors import Als

    with pytest.raises(RuntimeError, match="fit"):
        Als().top_k_batch(None, 5)

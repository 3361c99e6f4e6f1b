"""Content-based recommendation on hand-worked catalogues: TF-IDF terms per field,
jieba words in Chinese names, new items scored, reasons, determinism.

TF-IDF as scikit-learn computes it here: ``idf = ln((1 + n) / (1 + df)) + 1`` over
``n`` items, sublinear ``tf`` (1 for a term present once), rows scaled to length 1.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from memberlens.core.errors import UsageError
from memberlens.recommend import Content, Popularity, reason_text, top_k
from memberlens.recommend._evaluate import evaluate, model_factory
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._products import Products


def _interactions(pairs: list[tuple[int, int]], items: int, categories: list[int]) -> Interactions:
    """One purchase (weight 5) per (user, item) pair; ``categories`` per item (-1: none)."""
    user, item = (np.asarray(c, dtype=np.int64) for c in zip(*pairs, strict=True))
    return Interactions(
        users=np.asarray([f"u{i}" for i in range(int(user.max()) + 1)]),
        items=np.asarray([f"p{i}" for i in range(items)]),
        user=user,
        item=item,
        kind=np.full(len(user), "purchase"),
        day=np.zeros(len(user), dtype=np.int64),
        weight=np.full(len(user), 5.0),
        category=np.asarray(categories, dtype=np.int64),
        categories=tuple(f"c{c}" for c in sorted({c for c in categories if c >= 0})),
    )


def _products(rows: list[tuple[str, str, str, str]]) -> Products:
    """(name, category, brand, tags) per item p0, p1, …"""
    n = len(rows)

    def column(at: int) -> np.ndarray:
        return np.asarray([r[at] for r in rows], dtype=object)

    return Products(
        ids=np.asarray([f"p{i}" for i in range(n)]),
        name=column(0),
        category=column(1),
        subcategory=np.full(n, "", dtype=object),
        brand=column(2),
        tags=column(3),
        price=np.full(n, np.nan),
        in_stock=np.ones(n, dtype=bool),
        listed=np.ones(n, dtype=bool),
    )


def _idf(n: int, df: int) -> float:
    return math.log((1 + n) / (1 + df)) + 1


def test_the_neighbour_shares_brand_and_category_and_a_brand_never_matches_a_name() -> None:
    # p0, p1: shoes by nike; p2: tea by lipton; p3: shoes by adidas; p4: named "Nike"
    # with no brand — "name:nike" is not "brand:nike".
    products = _products([
        ("", "shoes", "Nike", ""), ("", "Shoes", "NIKE", ""), ("", "drinks", "Lipton", ""),
        ("", "shoes", "adidas", ""), ("Nike", "", "", ""),
    ])  # fmt: skip
    data = _interactions([(0, 0), (1, 2)], 5, [-1] * 5)
    model = Content(products).fit(data.matrix(), data)
    sim = (model.vectors_ @ model.vectors_.T).toarray()
    assert sim[0, 1] == pytest.approx(1.0)  # the same terms once case is folded
    assert sim[0, 2] == 0.0 and sim[0, 4] == 0.0
    # p0 and p3 share only "cat:shoes" (df 3 of 5 items); brands nike (2) and adidas (1)
    shoes, nike, adidas = _idf(5, 3), _idf(5, 2), _idf(5, 1)
    expected = shoes**2 / math.hypot(shoes, nike) / math.hypot(shoes, adidas)
    assert sim[0, 3] == pytest.approx(expected)
    # each item's nearest: p0 -> p1 first, then p3
    assert model.similar_[0].indices[np.argsort(-model.similar_[0].data)].tolist() == [1, 3]
    # u0 bought p0: p1 (same brand and category) before p3 (category only); p2, p4 never
    assert top_k(model, np.asarray([0]), 5, exclude=data.matrix())[0].tolist() == [1, 3]


def test_chinese_names_share_jieba_words() -> None:
    # jieba: 农夫山泉|天然|矿泉水, 康师傅|矿泉水, 可口可乐, 蒙牛|纯牛奶, 伊利|纯牛奶
    products = _products([
        ("农夫山泉天然矿泉水 550ml", "饮料", "", ""), ("康师傅矿泉水", "", "", ""),
        ("可口可乐", "", "", ""), ("蒙牛纯牛奶", "", "", ""), ("伊利纯牛奶", "", "", ""),
    ])  # fmt: skip
    data = _interactions([(0, 0), (1, 3)], 5, [-1] * 5)
    model = Content(products).fit(data.matrix(), data)
    sim = (model.vectors_ @ model.vectors_.T).toarray()
    # p0: 农夫山泉 天然 矿泉水 550ml 饮料 (five terms); p1: 康师傅 矿泉水; only 矿泉水
    # (df 2) is shared, every other term is unique (df 1)
    water, unique = _idf(5, 2), _idf(5, 1)
    expected = water**2 / math.sqrt(water**2 + 4 * unique**2) / math.hypot(water, unique)
    assert sim[0, 1] == pytest.approx(expected)
    assert sim[3, 4] > 0 and sim[0, 2] == 0.0 and sim[0, 3] == 0.0
    lists = top_k(model, np.asarray([0, 1]), 5, exclude=data.matrix())
    assert [x.tolist() for x in lists] == [[1], [4]]
    assert reason_text(model.explain(1, 4)) == "like 蒙牛纯牛奶"


def test_a_new_item_enters_the_list_through_its_text() -> None:
    # p2 is new: nobody touched it, and it shares brand and tags with p0, which u0 bought
    products = _products([
        ("Trail Runner 2", "shoes", "Nike", "running,outdoor"),
        ("Green Tea", "drinks", "Lipton", "tea"),
        ("Trail Runner 3", "shoes", "Nike", "running, outdoor"),
        ("Desk Lamp", "home", "Ikea", ""),
    ])  # fmt: skip
    data = _interactions([(0, 0), (1, 1), (2, 1), (2, 3)], 4, [-1] * 4)
    train = data.matrix()
    assert train[:, 2].nnz == 0
    model = Content(products).fit(train, data)
    scores = model.scores(np.asarray([0]))[0]
    assert scores[2] > 0 and scores[1] == 0 and scores[3] == 0
    assert top_k(model, np.asarray([0]), 3, exclude=train)[0].tolist() == [2]
    assert reason_text(model.explain(0, 2)) == "like Trail Runner 2"
    # Popularity cannot list it: it has no evidence there
    assert 2 not in top_k(Popularity().fit(train, data), np.asarray([0]), 3, exclude=train)[0]


def test_without_a_catalogue_the_category_is_the_text_and_popularity_breaks_ties() -> None:
    # p0..p3 in c0, p4 in c1, p5 without a category. p2 has two buyers, p1 and p3 one.
    pairs = [(0, 0), (1, 2), (2, 2), (1, 1), (3, 3), (3, 4)]
    data = _interactions(pairs, 6, [0, 0, 0, 0, 1, -1])
    train = data.matrix()
    model = Content().fit(train, data)
    # u0 has p0 (c0): the other c0 items, equally similar, the more popular first
    assert top_k(model, np.asarray([0]), 6, exclude=train)[0].tolist() == [2, 1, 3]
    assert reason_text(model.explain(0, 2)) == "like p0"  # no names: ids
    assert Content(neighbours=1).fit(train, data).similar_[0].indices.tolist() == [2]


def test_refits_give_identical_scores_and_bad_input_is_named() -> None:
    rng = np.random.default_rng(3)
    words = ["红茶", "绿茶", "咖啡", "牛奶", "nike", "adidas", "lipton"]
    rows = [
        (" ".join(rng.choice(words, 2)), f"cat{i % 3}", str(rng.choice(words)), "a,b"[: i % 4])
        for i in range(40)
    ]
    pairs = sorted({(int(u), int(i)) for u, i in rng.integers(0, [15, 40], size=(120, 2))})
    data = _interactions(pairs, 40, [-1] * 40)
    train = data.matrix()
    users = np.arange(len(data.users))
    first = Content(_products(rows)).fit(train, data)
    again = Content(_products(rows)).fit(train, data)
    assert np.array_equal(first.scores(users), again.scores(users))
    lists = [top_k(m, users, 10, exclude=train) for m in (first, again)]
    assert [x.tolist() for x in lists[0]] == [x.tolist() for x in lists[1]]
    with pytest.raises(UsageError, match="load_products"):
        Content(_products(rows[:10])).fit(train, data)


def test_evaluation_hands_the_catalogue_to_the_models_that_read_it() -> None:
    products = _products([(f"item {i % 2}", "c", "b", "") for i in range(6)])
    assert model_factory("content", {"neighbours": 5}, products)().products is products
    assert isinstance(model_factory("popularity", {}, products)(), Popularity)
    # 8 members with four of six items each: enough for a test and a validation split
    pairs = [(u, i) for u in range(8) for i in range(6) if (u + i) % 3 != 0]
    data = _interactions(pairs, 6, [-1] * 6)
    found = evaluate(data, algorithms=["popularity", "content"], rounds=0, products=products)
    assert set(found["algorithms"]) == {"popularity", "content"}


@pytest.mark.slow
def test_jieba_loads_from_its_package_quietly_and_caches_in_the_temp_dir(tmp_path: Path) -> None:
    """In a fresh process with sockets refused: no output, the cache under TMPDIR."""
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from memberlens.recommend._content import _Words\n"
        "words = list(_Words()('农夫山泉天然矿泉水 550ML'))\n"
        "assert words == ['农夫山泉', '天然', '矿泉水', '550ml'], words\n"
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert (temp / "jieba.cache").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]  # nothing in the cwd


def _nearest_by_brute_force(vectors: np.ndarray, n: int, popularity: np.ndarray) -> np.ndarray:
    """The dense reference: every other row with a positive cosine, ordered by
    similarity, then popularity, then index; the first ``n`` of each kept."""
    product = np.round(vectors @ vectors.T, 12)
    kept = np.zeros_like(product)
    for row in range(len(vectors)):
        others = [c for c in range(len(vectors)) if c != row and product[row, c] > 0]
        others.sort(key=lambda c: (-product[row, c], -popularity[c], c))
        kept[row, others[:n]] = product[row, others[:n]]
    return kept


@pytest.mark.parametrize("seed", range(6))
def test_nearest_items_agree_with_the_dense_reference_when_texts_repeat(seed: int) -> None:
    # Rows drawn from a few distinct texts (as a category-only catalogue has), popularity
    # with ties, and a tiny budget so that the product is cut into many blocks: the
    # grouped computation must keep exactly the items the brute force keeps.
    from scipy import sparse

    from memberlens.recommend._content import _nearest

    rng = np.random.default_rng(seed)
    texts = rng.random((5, 7)) * (rng.random((5, 7)) < 0.4)
    texts[0] = 0.0  # an item without any term has no neighbour
    rows = texts[rng.integers(0, len(texts), size=40)]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    vectors = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    popularity = rng.integers(0, 4, size=len(rows)).astype(np.float64)
    for n in (1, 3, 12, 60):
        for budget in (1, 50, 4_000_000):
            found = _nearest(sparse.csr_matrix(vectors), n, popularity, budget).toarray()
            np.testing.assert_array_equal(
                found, _nearest_by_brute_force(vectors, n, popularity), err_msg=f"{n=} {budget=}"
            )


@pytest.mark.parametrize("seed", range(3))
def test_content_narrowed_equals_one_fitted_with_fewer(seed: int) -> None:
    # Few distinct texts (many items alike) and popularity with ties: a narrowed list
    # must keep the very items, in the same order of ties, that a fit with fewer keeps.
    rng = np.random.default_rng(seed)
    items = 60
    words = ["red", "blue", "green", "tea", "cup"]
    rows = [
        (
            f"{rng.choice(words)} {rng.choice(words)}",
            f"c{rng.integers(3)}",
            f"b{rng.integers(2)}",
            "",
        )
        for _ in range(items)
    ]
    pairs = sorted({(int(u), int(i)) for u, i in rng.integers(0, [30, items], size=(150, 2))})
    data = _interactions(pairs, items, [0] * items)
    train = data.matrix()
    wide = Content(_products(rows), neighbours=25).fit(train, data)
    users = np.arange(len(data.users))
    for n in (1, 4, 25):
        narrow, fitted = wide.narrowed(n), Content(_products(rows), neighbours=n).fit(train, data)
        assert (narrow.similar_ != fitted.similar_).nnz == 0, n
        assert np.array_equal(narrow.scores(users), fitted.scores(users))
        assert narrow.explain_many(0, np.arange(5)) == fitted.explain_many(0, np.arange(5))
    with pytest.raises(ValueError, match="keeps 25"):
        wide.narrowed(26)

"""The refresh's lists over a wide catalogue: built a block of members (of anchors) at a
time, never members × items or items × items at once; published without rewriting
lists that did not change.

Known answers: the item lists equal the dense computation they replace (each anchor's
whole row of scores through the same rules and re-ranking), on a catalogue small
enough for it.
"""

from __future__ import annotations

import tracemalloc
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import select

from memberlens import online
from memberlens.core import progress
from memberlens.recommend import _blocks
from memberlens.recommend._choice import Choice
from memberlens.recommend._evaluate import evaluate
from memberlens.recommend._lists import Lists, _Builder
from memberlens.recommend._products import Products
from memberlens.recommend._scenarios import parse_scenarios
from memberlens.store import RecommendationRow
from memberlens.workspace import Workspace
from tests.recommend.test_blocks import _interactions, _random

SCENARIOS = """
[defaults]
candidates = 20
half_life_days = 0

[scenarios.home]
algorithm = "item_knn"
k = 10
mmr_lambda = 0.7
novelty_share = 0.2

[scenarios.similar]
anchor = "item"
algorithm = "item_knn"
k = 5
mmr_lambda = 0.8
"""


def _builder(users: int, items: int, seed: int, per_user: int = 3) -> _Builder:
    m = _random(users, items, per_user / items, seed=seed, shared=False)
    data = _interactions(m)
    n = len(data.items)
    text = np.full(n, "", dtype=object)
    products = Products(
        ids=data.items,
        name=text,
        category=np.asarray([f"c{c}" if c >= 0 else "" for c in data.category], dtype=object),
        subcategory=text,
        brand=text,
        tags=text,
        price=np.full(n, np.nan),
        in_stock=np.ones(n, dtype=bool),
        listed=np.zeros(n, dtype=bool),
    )
    return _Builder(
        data, products, parse_scenarios(SCENARIOS), today=1, auto=lambda: Choice("popularity", {})
    )


@pytest.mark.slow
def test_lists_of_a_wide_catalogue_never_hold_members_or_items_by_items(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1,500 members and 20,000 items: one members × items block would be 240 MB, the
    items × items one 3.2 GB; blocks of 256 Ki scores keep every allocation far below."""
    users, items = 1500, 20_000
    builder = _builder(users, items, seed=1, per_user=10)
    scenarios = builder.scenarios.scenarios
    builder.model(scenarios["home"])  # fitted before measuring
    # pyarrow imports pandas on its first array (its pandas shim): the import's memory
    # is not the lists', so it happens before measuring, whatever ran before this test
    pa.array(["warm"])
    monkeypatch.setattr(_blocks, "BLOCK_CELLS", 1 << 18)
    out = Lists()
    tracemalloc.start()
    try:
        written = builder.member_lists([scenarios["home"]], out)
        anchors = builder.item_lists(scenarios["similar"], out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written["home"] > users / 2 and anchors > items / 4
    assert peak < users * items * 8 / 10, f"{peak / 1e6:.0f} MB"


def test_item_lists_equal_the_dense_rows_they_replace() -> None:
    builder = _builder(400, 300, seed=2)
    scenario = builder.scenarios.scenarios["similar"]
    model, _ = builder.model(scenario)
    out = Lists()
    builder.item_lists(scenario, out)
    found = out.table().to_pylist()
    want = []
    dense = model.item_to_item().toarray()
    anchors = np.arange(300)
    dense[anchors, anchors] = 0.0  # never the item itself
    ordered, scores, _ = builder._shape(scenario, dense, None)
    for anchor in anchors.tolist():
        chosen = ordered[anchor][ordered[anchor] >= 0][: scenario.k * 2]
        name = f"@item:{builder.data.items[anchor]}"
        for rank, item in enumerate(chosen.tolist(), start=1):
            score = round(float(scores[anchor, item]), 6)
            want.append((name, rank, str(builder.data.items[item]), score))
    assert [(r["list_id"], r["rank"], r["product_id"], r["score"]) for r in found] == want


def _lists(score: float) -> Lists:
    out = Lists()
    out.add("home", "m1", ["p1", "p2"], [score, 1.0], ["a", "b"], "popularity")
    out.add("home", "@all", ["p2"], [2.0], ["popular right now"], "trending")
    out.fallback = {"m2": "@all"}
    return out


def test_a_publication_of_unchanged_lists_leaves_them_in_place(workspace: Workspace) -> None:
    as_of = datetime(2025, 6, 1)

    def rows() -> list[tuple[str, int, str, float]]:
        with workspace.state.session() as s:
            return [
                (r.list_id, r.rank, r.product_id, r.score)
                for r in s.scalars(select(RecommendationRow).order_by("list_id", "rank"))
            ]

    first = online.publish_recommendations(workspace.state, _lists(3.0), as_of=as_of)
    assert first["recommendation_rows"] == 3 and not first["recommendations_unchanged"]
    assert rows() == [("@all", 1, "p2", 2.0), ("m1", 1, "p1", 3.0), ("m1", 2, "p2", 1.0)]
    again = online.publish_recommendations(workspace.state, _lists(3.0), as_of=as_of)
    assert again["recommendations_unchanged"]
    assert rows() == [("@all", 1, "p2", 2.0), ("m1", 1, "p1", 3.0), ("m1", 2, "p2", 1.0)]
    changed = online.publish_recommendations(workspace.state, _lists(4.0), as_of=as_of)
    assert not changed["recommendations_unchanged"]
    assert rows()[1] == ("m1", 1, "p1", 4.0)
    later_moment = datetime(2025, 6, 2)
    later = online.publish_recommendations(workspace.state, _lists(4.0), as_of=later_moment)
    assert not later["recommendations_unchanged"]  # the as-of moment is published too
    with workspace.state.session() as s:
        assert s.scalars(select(RecommendationRow.as_of).distinct()).all() == [later_moment]
        # stored as the ORM stores a moment (SQLite: text with microseconds)
        raw = s.connection().exec_driver_sql("SELECT DISTINCT as_of FROM online_recommendations")
        assert raw.scalars().all() == ["2025-06-02 00:00:00.000000"]


def test_evaluation_and_lists_report_their_stages_and_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder = _builder(300, 200, seed=3, per_user=8)
    seen: list[progress.Update] = []
    with progress.listen(seen.append):
        evaluate(builder.data, algorithms=["popularity", "item_knn"], rounds=0)
    paths = {u.path for u in seen}
    assert {"validation", "test", "validation › item_knn", "test › item_knn"} <= paths
    assert 'validation › item_knn › {"neighbours": 20}' in paths  # each setting of the grid
    finished = [u for u in seen if u.path == "test" and u.share == 1.0]
    assert finished and finished[-1].note == "item_knn"
    monkeypatch.setattr(_blocks, "BLOCK_CELLS", 200 * 50)  # blocks of 50 members
    seen.clear()
    with progress.listen(seen.append), progress.stage("recommendations"):
        builder.member_lists([builder.scenarios.scenarios["home"]], Lists())
    blocks = [u.done for u in seen if u.path == "recommendations" and u.done]
    assert blocks == [50, 100, 150, 200, 250, 300]
    assert seen[-1].share == 1.0 and seen[-1].note == "300 of 300 members"


def test_the_publication_digest_reads_values_not_how_the_table_is_chunked() -> None:
    # The lists come from DuckDB in chunks of its choosing: the same rows, chunked
    # otherwise, must read as unchanged; a changed row, a missing row or a null must not.
    from memberlens.online._recommendations import _digest

    table = pa.table({
        "rank": pa.array(range(1, 2_501), pa.int32()),
        "reason": [f"r{i}" if i % 7 else None for i in range(2_500)],
        "score": [i / 3 for i in range(2_500)],
    })  # fmt: skip
    rechunked = pa.concat_tables([table.slice(0, 7), table.slice(7, 1_200), table.slice(1_207)])
    moment = datetime(2025, 6, 1)
    assert _digest(table, [], moment) == _digest(rechunked, [], moment)
    edited = table.set_column(1, "reason", pa.array([f"r{i}" for i in range(2_500)]))
    for other in (
        table.slice(1),
        edited,
        table.set_column(2, "score", table["rank"].cast(pa.float64())),
    ):
        assert _digest(other, [], moment) != _digest(table, [], moment)
    assert _digest(table, [("m2", "@all")], moment) != _digest(table, [], moment)

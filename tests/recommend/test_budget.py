"""The memory budget: an algorithm whose estimate passes it is skipped, with the reason,
in evaluation and in the refresh; the others run.

Known answers: the estimates are computed by the same public functions the code uses,
and the budget is set between them, so which algorithm is skipped is known beforehand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from memberlens import identity, recommend
from memberlens.core.errors import UsageError
from memberlens.core.settings import RecommendSettings, machine_memory, parse_bytes
from memberlens.recommend._evaluate import evaluate, memory_need
from memberlens.recommend._memory import MEMORY_BUDGET, Shape
from memberlens.recommend._split import stratified
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write
from tests.recommend.test_interactions import _synthetic
from tests.recommend.test_serving import MEMBERS, PRODUCTS, SCENARIOS, _orders


def test_sizes_read_as_written_and_the_default_is_a_quarter_of_the_machine() -> None:
    assert parse_bytes("4GB") == 4_000_000_000
    assert parse_bytes("512 mb") == 512_000_000
    assert parse_bytes("1.5GiB") == 1_610_612_736
    assert parse_bytes("2048") == 2048
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes("lots")
    assert RecommendSettings().budget_bytes() == machine_memory() // 4
    assert RecommendSettings(memory_budget="3GB").budget_bytes() == 3_000_000_000
    with pytest.raises(ValueError, match="4GB"):
        RecommendSettings(memory_budget="four gigabytes")


def _taste_groups() -> recommend.Interactions:
    """600 members in six categories of 20 items each, five purchases apiece."""
    rng = np.random.default_rng(5)
    records = []
    for user in range(600):
        home = user % 6
        chosen = rng.choice(20, size=5, replace=False)
        records += [(user, home * 20 + int(c), 1) for c in chosen]
    return _synthetic(records, 120, [i // 20 for i in range(120)])


def test_an_algorithm_over_the_budget_is_skipped_with_its_reason_and_the_others_run() -> None:
    data = _taste_groups()
    # the estimates on the training part evaluate will use (same split, same seed)
    shape = Shape.of(stratified(data, test_ratio=0.25, seed=42).train.matrix())
    small = max(memory_need(n, shape) for n in ("popularity", "category"))
    large = memory_need("user_knn", shape)
    assert small < large
    budget = (small + large) // 2
    found = evaluate(
        data,
        algorithms=["popularity", "category", "user_knn"],
        rounds=50,
        memory_budget=budget,
    )
    assert set(found["algorithms"]) == {"popularity", "category"}
    assert set(found["validation"]["ndcg"]) == {"popularity", "category"}
    assert found["default"] in ("popularity", "category")
    why = found["skipped"]["user_knn"]
    assert why["code"] == MEMORY_BUDGET
    assert why["estimated_bytes"] == large and why["budget_bytes"] == budget
    assert "user_knn would need about" in why["reason"]
    assert "[recommend] memory_budget" in why["reason"]
    # without a budget nothing is skipped
    free = evaluate(data, algorithms=["popularity", "user_knn"], rounds=0)
    assert free["skipped"] == {} and set(free["algorithms"]) == {"popularity", "user_knn"}


def test_a_budget_nothing_fits_is_a_usage_error_naming_the_setting() -> None:
    with pytest.raises(UsageError, match="memory_budget"):
        evaluate(_taste_groups(), algorithms=["user_knn"], memory_budget=1)


@pytest.fixture
def shop(workspace_dir: Path, tmp_path: Path) -> Path:
    """test_serving's shop, ingested and matched (no refresh)."""
    (workspace_dir / "recommend.toml").write_text(SCENARIOS, encoding="utf-8")
    orders, lines = _orders()
    with Workspace.open(workspace_dir) as ws:
        for kind, text in (
            ("products", PRODUCTS),
            ("members", MEMBERS),
            ("orders", orders),
            ("order_items", lines),
        ):
            assert run(ws, kind, write(tmp_path / f"{kind}.csv", text)).quarantined == 0
        identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
    return workspace_dir


def test_the_refresh_skips_a_scenario_whose_algorithm_passes_the_budget(shop: Path) -> None:
    cutoff = datetime(2025, 6, 1, tzinfo=UTC)
    with Workspace.open(shop) as ws:
        scenarios = ws.scenarios()
        data = recommend.load_interactions(ws.warehouse, before=cutoff)
        shape = Shape.of(recommend.with_catalogue(data, ws.warehouse).matrix())
        # the scenarios' settings: the defaults (auto chooses within the budget)
        popular, knn = recommend.Popularity().memory(shape), recommend.ItemKnn().memory(shape)
        assert popular < knn
        lists = recommend.build_lists(
            ws.warehouse,
            ws.state,
            ws.root,
            cutoff=cutoff,
            scenarios=scenarios,
            memory_budget=(popular + knn) // 2,
        )
    summary = lists.summary
    assert summary["home"]["member_lists"] == 5  # popularity ran
    assert summary["similar"] == {"skipped": summary["skipped"]["item_knn"]["reason"]}
    assert summary["skipped"]["item_knn"]["code"] == MEMORY_BUDGET
    ids = lists.list_ids()
    assert not any(i.startswith("@item:") for i in ids)
    assert "@all" in ids

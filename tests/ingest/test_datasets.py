"""The four real data sets load with the counts the foundation issue expects."""

from __future__ import annotations

import pytest

from memberlens.ingest import IngestRequest, ingest_file, load_preset, quality_report
from memberlens.workspace import Workspace
from tests.conftest import DATASETS, requires_datasets

pytestmark = [requires_datasets, pytest.mark.slow]

CASES = [
    # kind, preset, file, read, loaded, quarantined
    ("orders", "cdnow", "cdnow/CDNOW_master.txt", 69_659, 69_659, 0),
    ("order_items", "groceries", "groceries/Groceries_dataset.csv", 38_765, 38_765, 0),
    ("events", "taobao", "taobao/UserBehavior_head.csv", 84_476, 84_475, 1),
    ("feedback", "waimai", "waimai/waimai_10k.csv", 11_987, 11_987, 0),
]


def _ingest(ws: Workspace, kind: str, preset: str, file: str):  # type: ignore[no-untyped-def]
    request = IngestRequest(kind=kind, path=DATASETS / file, mapping=load_preset(preset))
    return ingest_file(ws.warehouse, ws.keyring, request)


@pytest.mark.parametrize(("kind", "preset", "file", "read", "loaded", "quarantined"), CASES)
def test_first_import_and_reimport(
    workspace: Workspace,
    kind: str,
    preset: str,
    file: str,
    read: int,
    loaded: int,
    quarantined: int,
) -> None:
    first = _ingest(workspace, kind, preset, file)
    assert (first.read, first.loaded, first.quarantined, first.duplicates) == (
        read,
        loaded,
        quarantined,
        0,
    )
    again = _ingest(workspace, kind, preset, file)
    assert (again.read, again.loaded, again.duplicates) == (read, 0, loaded)


def test_cdnow_keeps_its_repeat_purchases(workspace: Workspace) -> None:
    _ingest(workspace, "orders", "cdnow", "cdnow/CDNOW_master.txt")
    report = quality_report(workspace.warehouse)
    # 255 lines are exact duplicates of another line: real repeat purchases, kept.
    assert report["orders"].rows == 69_659 and report["orders"].duplicates == 255
    assert report["order_items"].orphans == 0
    assert report["orders"].time_range == ("1997-01-01T00:00:00", "1998-06-30T00:00:00")
    customers = workspace.warehouse.scalar("SELECT count(DISTINCT source_member_key) FROM orders")
    assert customers == 23_570


def test_taobao_cut_line_is_quarantined_and_strays_are_flagged(workspace: Workspace) -> None:
    r = _ingest(workspace, "events", "taobao", "taobao/UserBehavior_head.csv")
    q = workspace.warehouse.fetch_all("SELECT line, column_name FROM quarantine")
    assert q == [(84_476, "occurred_at")]
    strays = workspace.warehouse.scalar(
        "SELECT count(*) FROM events WHERE occurred_at < TIMESTAMP '2017-11-25' "
        "OR occurred_at >= TIMESTAMP '2017-12-04'"
    )
    assert strays > 0 and r.flags == {"out_of_window": strays}
    kinds = dict(
        workspace.warehouse.fetch_all("SELECT event_type, count(*) FROM events GROUP BY 1")
    )
    assert set(kinds) == {"view", "add_to_cart", "favorite", "purchase"}


def test_groceries_baskets_become_orders(workspace: Workspace) -> None:
    _ingest(workspace, "order_items", "groceries", "groceries/Groceries_dataset.csv")
    wh = workspace.warehouse
    members = wh.scalar("SELECT count(DISTINCT source_member_key) FROM orders")
    assert members == 3_898
    assert wh.scalar("SELECT count(DISTINCT product_id) FROM order_items") == 167
    # One basket = one member on one day.
    baskets = wh.scalar(
        "SELECT count(*) FROM (SELECT DISTINCT source_member_key, "
        "CAST(ordered_at AS DATE) FROM orders)"
    )
    assert baskets == wh.scalar("SELECT count(*) FROM orders")


def test_traditional_waimai_loads_too(workspace: Workspace) -> None:
    r = _ingest(workspace, "feedback", "waimai", "waimai/waimai_10k_traditional.csv")
    assert (r.read, r.loaded) == (11_987, 11_987)


def test_presets_shipped() -> None:
    from memberlens.ingest import preset_names

    assert preset_names() == ["cdnow", "groceries", "taobao", "waimai"]

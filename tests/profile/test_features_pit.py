"""Point-in-time correctness: features at a cut-off never see what came after it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from memberlens import pipeline
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write
from tests.profile.feature_data import CUTOFF, load_feature_base

# Everything here happens on or after the cut-off, for both members.
LATER_ORDERS = (
    "order_id,source,source_member_key,ordered_at,total_amount,coupon_code,channel,status\n"
    """x1,pos,p1,2025-06-01T00:00:00Z,1000.00,BIG,web,completed
x2,pos,p2,2025-06-10T10:00:00Z,70.00,,store,refunded
x3,app,a1,2025-07-01T10:00:00Z,5.00,,app,completed
"""
)
LATER_ITEMS = """source,order_id,line_no,product_id,quantity,amount
pos,x1,1,sku3,100,1000.00
pos,x2,1,sku2,1,70.00
"""
LATER_EVENTS = """event_id,source,source_member_key,anonymous_id,event_type,occurred_at,product_id
y1,pos,p1,,view,2025-06-01T00:00:00Z,sku2
y2,pos,p2,,add_to_cart,2025-06-01T08:00:00Z,sku1
y3,pos,p2,,favorite,2025-06-03T08:00:00Z,sku1
y4,app,,dev9,view,2025-06-04T08:00:00Z,sku1
y5,pos,p2,dev9,login,2025-06-04T08:01:00Z,
"""
LATER_FEEDBACK = """feedback_id,source,source_member_key,kind,occurred_at,rating,nps
z1,pos,p2,complaint,2025-06-01T00:00:00Z,,0
z2,pos,p1,review,2025-06-02T00:00:00Z,1,
"""
LATER_TOUCHES = """touch_id,source,source_member_key,channel,sent_at,opened_at,clicked_at,bounced
w1,pos,p2,sms,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,2025-06-01T01:00:00Z,false
"""
# The members again, changed: new time zones and a moved signup (loaded after the cut-off).
LATER_MEMBERS = """source,source_member_key,name,phone,signup_at,timezone
pos,p1,张伟,13812345678,2023-01-01T00:00:00Z,America/Los_Angeles
pos,p2,李娜,13900139000,2025-01-15T08:00:00Z,Europe/London
"""


def snapshot(ws: Workspace, day: date) -> dict[str, dict[str, Any]]:
    pipeline.refresh(ws, as_of=day, only=["identity", "features"])
    table = ws.warehouse.table("member_features")
    rows = ws.warehouse.to_pyarrow(table.filter(table.snapshot_date == day)).to_pylist()
    return {r["member_id"]: r for r in rows}


def shares(ws: Workspace, day: date) -> list[tuple[Any, ...]]:
    return ws.warehouse.fetch_all(
        "SELECT member_id, category, spend_share, order_share FROM member_category_shares "
        "WHERE snapshot_date = ? ORDER BY ALL",
        [day],
    )


@pytest.mark.slow
def test_rows_after_the_cut_off_change_nothing_at_the_cut_off(
    workspace: Workspace, tmp_path: Path
) -> None:
    load_feature_base(workspace, tmp_path)
    before, before_shares = snapshot(workspace, CUTOFF), shares(workspace, CUTOFF)
    for kind, text in (
        ("orders", LATER_ORDERS),
        ("order_items", LATER_ITEMS),
        ("events", LATER_EVENTS),
        ("feedback", LATER_FEEDBACK),
        ("touches", LATER_TOUCHES),
        ("members", LATER_MEMBERS),
    ):
        assert run(workspace, kind, write(tmp_path / f"later_{kind}.csv", text)).quarantined == 0
    workspace.warehouse.execute(
        "INSERT INTO points_ledger BY NAME SELECT 'late' AS movement_id, member_id, "
        "500 AS points, 'earn' AS reason, TIMESTAMP '2025-06-01 00:00:00' AS occurred_at "
        "FROM member_map WHERE source_member_key = 'p2'"
    )
    after = snapshot(workspace, CUTOFF)
    changed = {(m, k) for m, r in after.items() for k, v in r.items() if before[m][k] != v}
    assert changed == set()
    assert after == before
    assert shares(workspace, CUTOFF) == before_shares
    # ... while a later snapshot does see them: the additions were real.
    later = snapshot(workspace, date(2025, 8, 1))
    # p3 (signed up 07-01) 0; Li o8 (x2 is refunded) 1; Zhang o1..o4, o7, x1, x3 = 7
    assert sorted(r["frequency"] for r in later.values()) == [0, 1, 7]
    zhang = next(r for r in later.values() if r["frequency"] == 7)
    assert zhang["monetary"] == before[zhang["member_id"]]["monetary"] + 500 + 1000 + 5
    assert sum(r["complaints"] for r in later.values()) == 2  # f3 and z1


@pytest.mark.parametrize(
    ("day", "weekday", "hour"),
    [
        # o1 2025-01-10 02:00 UTC: Friday 10:00 in Shanghai (the version known then) ...
        (date(2025, 6, 1), 5, 10),
        # ... Thursday 18:00 in Los Angeles, the version loaded 2025-07-01
        (date(2025, 8, 1), 4, 18),
    ],
)
def test_member_attributes_are_read_as_they_were_at_the_cut_off(
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    day: date,
    weekday: int,
    hour: int,
) -> None:
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-03-01T00:00:00Z")
    first = (
        "source,source_member_key,signup_at,timezone\npos,p1,2024-03-01T10:00:00Z,Asia/Shanghai\n"
    )
    orders = (
        "order_id,source,source_member_key,ordered_at,total_amount\n"
        "o1,pos,p1,2025-01-10T02:00:00Z,30.00\n"
    )
    run(workspace, "members", write(tmp_path / "m1.csv", first))
    run(workspace, "orders", write(tmp_path / "o.csv", orders))
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-07-01T00:00:00Z")
    moved = (
        "source,source_member_key,signup_at,timezone\n"
        "pos,p1,2023-03-01T10:00:00Z,America/Los_Angeles\n"
    )
    assert run(workspace, "members", write(tmp_path / "m2.csv", moved)).updated == 1
    (row,) = snapshot(workspace, day).values()
    assert (row["preferred_weekday"], row["preferred_hour"]) == (weekday, hour)
    # tenure follows the signup known then: 2024-03-01 10:00 -> 2025-06-01 = 456.58 days;
    # 2023-03-01 10:00 -> 2025-08-01 = 883.58 days
    assert row["tenure_days"] == {date(2025, 6, 1): 456, date(2025, 8, 1): 883}[day]

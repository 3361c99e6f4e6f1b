"""Member features against hand-computed answers (tests/profile/feature_data.py).

Cut-off 2025-06-01 00:00 UTC. Zhang = pos/p1 + app/a1 (merged), Li = pos/p2.
Zhang's kept orders: o1 2025-01-10 30.00 (coupon), o2 03-10 50.00, o3 05-20 12:00 20.00
(discount), o4 05-20 13:00 10.00; o5 is refunded, o6 cancelled, o7 after the cut-off.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from memberlens import pipeline, profile
from memberlens.workspace import Workspace
from tests.profile.feature_data import CUTOFF, load_feature_base


@pytest.fixture
def ids(workspace: Workspace, tmp_path: Path) -> dict[str, str]:
    return load_feature_base(workspace, tmp_path)


def features_at(ws: Workspace, day: date = CUTOFF) -> dict[str, dict[str, Any]]:
    pipeline.refresh(ws, as_of=day, only=["features"])
    table = ws.warehouse.table("member_features")
    rows = ws.warehouse.to_pyarrow(table.filter(table.snapshot_date == day)).to_pylist()
    return {r["member_id"]: r for r in rows}


@pytest.mark.slow
def test_purchase_features_are_the_hand_computed_ones(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    zhang = features_at(workspace)[ids["p1"]]
    assert zhang["frequency"] == 4  # o1..o4 (both records); o5 refunded, o6 cancelled
    assert zhang["monetary"] == Decimal("110.00")  # 30 + 50 + 20 + 10
    assert zhang["avg_order_value"] == Decimal("27.50")  # 110 / 4
    assert zhang["recency_days"] == 11  # 05-20 13:00 -> 06-01 00:00 = 11 d 11 h
    assert zhang["tenure_days"] == 456  # signup 2024-03-01 10:00 -> 456.58 days
    # purchase days 01-10, 03-10, 05-20 (o3 and o4 share a day): gaps 59 and 71
    assert zhang["interval_mean_days"] == pytest.approx(65.0)  # 130 / 2
    assert zhang["interval_std_days"] == pytest.approx(8.485281)  # |71 - 59| / sqrt(2)
    assert (zhang["orders_30d"], zhang["spend_30d"]) == (2, Decimal("30.00"))  # o3, o4
    assert (zhang["orders_90d"], zhang["spend_90d"]) == (3, Decimal("80.00"))  # + o2
    assert (zhang["orders_365d"], zhang["spend_365d"]) == (4, Decimal("110.00"))
    assert zhang["preferred_channel"] == "app"  # store 2, app 2: the tie goes to A-Z
    # Shanghai wall time: o1 Fri 10:00, o2 Mon 10:00, o3 Tue 20:00, o4 Tue 21:00
    assert (zhang["preferred_weekday"], zhang["preferred_hour"]) == (2, 10)
    assert zhang["coupon_share"] == pytest.approx(0.5)  # o1 coupon, o3 discount: 2 / 4
    assert zhang["refund_rate"] == pytest.approx(0.2)  # o5 / (o1..o5)


@pytest.mark.slow
def test_a_member_with_one_order_in_another_time_zone(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    li = features_at(workspace)[ids["p2"]]
    assert (li["frequency"], li["monetary"], li["avg_order_value"]) == (
        1,
        Decimal("5.50"),
        Decimal("5.50"),
    )
    assert li["recency_days"] == 6  # 05-25 10:00 -> 06-01: 6 d 14 h
    assert li["tenure_days"] == 136  # 2025-01-15 08:00 -> 136.67 days
    assert li["interval_mean_days"] is None and li["interval_std_days"] is None
    # 2025-05-25 10:00 UTC is Sunday 06:00 in New York
    assert (li["preferred_weekday"], li["preferred_hour"]) == (7, 6)
    assert li["preferred_channel"] == "web"
    assert (li["coupon_share"], li["refund_rate"]) == (0.0, 0.0)
    assert li["favourite_category"] is None  # o8 has no lines
    assert (li["product_views"], li["view_to_buy"]) == (1, 0.0)  # e11 viewed sku1, not bought
    assert li["days_since_last_event"] == 7  # e11 05-24 09:00: 7 d 15 h
    assert (li["active_days_30d"], li["active_days_90d"]) == (2, 2)  # 05-24 event, 05-25 order
    assert (li["reviews"], li["avg_rating"], li["complaints"], li["last_nps"]) == (0, None, 0, None)
    assert (li["messages"], li["open_rate"], li["points_balance"]) == (0, None, 0)


@pytest.mark.slow
def test_category_features_and_the_long_share_table(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    zhang = features_at(workspace)[ids["p1"]]
    # lines of kept orders: dairy in o1, o3 (10 + 20); bakery in o1, o2 (20 + 50);
    # snacks in o4 (10). dairy and bakery tie on 2 orders; bakery spent more.
    assert zhang["favourite_category"] == "bakery"
    assert zhang["favourite_category_share"] == pytest.approx(0.5)  # 2 of 4 orders
    shares = workspace.warehouse.fetch_all(
        "SELECT category, spend_share, order_share FROM member_category_shares "
        "WHERE member_id = ? AND snapshot_date = ? ORDER BY category",
        [ids["p1"], CUTOFF],
    )
    expected = [
        ("bakery", 70 / 110, 2 / 4),
        ("dairy", 30 / 110, 2 / 4),
        ("snacks", 10 / 110, 1 / 4),
    ]
    assert [s[0] for s in shares] == [e[0] for e in expected]
    for got, want in zip(shares, expected, strict=True):
        assert got[1:] == pytest.approx(want[1:])


@pytest.mark.slow
def test_behaviour_features_count_stitched_events(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    zhang = features_at(workspace)[ids["p1"]]
    # viewed sku1 (e1), sku3 (e2, e3) and sku4 (e7, anonymous, stitched by the login e8)
    assert zhang["product_views"] == 3
    # sku3 bought 05-20 after its first view 05-10; sku4 bought 05-20 after 05-14;
    # sku1 was last bought 01-10, before its view (o5 was refunded): 2 / 3
    assert zhang["view_to_buy"] == pytest.approx(2 / 3)
    # e5 (sku2, 05-01): not bought by 05-08; e4 (sku4, 05-15) bought 05-20;
    # e6 (05-28) is still inside its 7-day window at the cut-off
    assert zhang["cart_abandonments"] == 1
    assert zhang["favourites"] == 1  # e9
    assert zhang["days_since_last_event"] == 3  # e6 05-28 09:00: 3 d 15 h
    # 30 days from 05-02: 05-02, 05-10, 05-12, 05-14, 05-15, 05-20 (orders), 05-28 = 7;
    # 90 days from 03-03 add 05-01 (e5), 04-01 (e9) and 03-10 (o2) = 10
    assert (zhang["active_days_30d"], zhang["active_days_90d"]) == (7, 10)


@pytest.mark.slow
def test_feedback_message_and_loyalty_features(workspace: Workspace, ids: dict[str, str]) -> None:
    zhang = features_at(workspace)[ids["p1"]]
    assert (zhang["reviews"], zhang["avg_rating"]) == (2, pytest.approx(4.5))  # (4 + 5) / 2
    assert zhang["complaints"] == 1
    assert zhang["last_nps"] == 3  # f5 05-01; f6 (10) is after the cut-off
    # delivered before the cut-off: t1, t2, t4 (t3 bounced); opened before it: t1, t2
    assert zhang["messages"] == 3
    assert zhang["open_rate"] == pytest.approx(2 / 3)
    assert zhang["click_rate"] == pytest.approx(1 / 3)
    assert zhang["points_balance"] == 70  # 100 + 50 - 30 - 50 (expired 05-31); 20 is later
    assert zhang["tier"] is None  # no member_tiers snapshot yet


@pytest.mark.slow
def test_only_members_who_existed_at_the_cut_off_get_a_row(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    rows = features_at(workspace)
    assert set(rows) == {ids["p1"], ids["p2"]}  # p3 signs up 2025-07-01
    assert {r["feature_version"] for r in rows.values()} == {profile.feature_version()}


@pytest.mark.slow
def test_rerunning_a_snapshot_replaces_it(workspace: Workspace, ids: dict[str, str]) -> None:
    first = features_at(workspace)
    again = features_at(workspace)
    assert first == again
    count = workspace.warehouse.scalar(
        "SELECT count(*) FROM member_features WHERE snapshot_date = ?", [CUTOFF]
    )
    assert count == 2
    features_at(workspace, date(2025, 5, 1))  # another snapshot is kept beside it
    snapshots = workspace.warehouse.fetch_all(
        "SELECT snapshot_date, count(*) FROM member_features GROUP BY 1 ORDER BY 1"
    )
    assert snapshots == [(date(2025, 5, 1), 2), (CUTOFF, 2)]


@pytest.mark.slow
def test_tier_comes_from_the_latest_tiers_snapshot_up_to_the_cut_off(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    wh = workspace.warehouse
    if not wh.has_table("member_tiers"):
        wh.execute(
            "CREATE TABLE member_tiers (snapshot_date DATE, member_id VARCHAR, tier VARCHAR)"
        )
    # The tiers step's table may carry more columns; fill the required one it has.
    extra = (
        ", 0 AS qualifying_value" if "qualifying_value" in wh.table("member_tiers").columns else ""
    )
    later = date(2025, 6, 2)
    for day, tier in ((date(2025, 4, 1), "silver"), (date(2025, 5, 1), "gold"), (later, "vip")):
        wh.execute(
            "INSERT INTO member_tiers BY NAME SELECT ? AS snapshot_date, ? AS member_id, "
            f"? AS tier{extra}",
            [day, ids["p1"], tier],
        )
    rows = features_at(workspace)
    # Without a snapshot of the cut-off day itself the latest earlier one counts, and a
    # later snapshot never does.
    assert rows[ids["p1"]]["tier"] == "gold"
    assert rows[ids["p2"]]["tier"] is None
    # A refresh writes the cut-off day's tiers just before its features: those count.
    wh.execute(
        f"INSERT INTO member_tiers BY NAME SELECT ? AS snapshot_date, ? AS member_id, "
        f"'platinum' AS tier{extra}",
        [CUTOFF, ids["p1"]],
    )
    assert features_at(workspace)[ids["p1"]]["tier"] == "platinum"

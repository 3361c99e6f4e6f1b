"""Points: earning on orders and actions, reversals, FIFO expiry, idempotency.

Every expected number below is counted by hand from the fixture next to it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from memberlens import profile
from memberlens.core.clock import utc_now
from memberlens.core.errors import ConfigError
from memberlens.core.settings import PointsSettings
from memberlens.profile._fifo import expiry, movement_id, replay
from memberlens.profile.contracts import PointsMovement
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write
from tests.profile.loyalty_data import balance, ledger, load_orders, member, refresh

ONE_MONTH = PointsSettings(expire_after_months=1, expire_at="day", actions={})


def test_an_order_earns_its_amount_rounded_down(workspace: Workspace, tmp_path: Path) -> None:
    load_orders(
        workspace,
        tmp_path,
        "o1,pos,a,2024-05-01T10:00:00Z,123.45,completed\n"
        "o2,pos,a,2024-05-02T10:00:00Z,0.99,\n"  # no status = a completed sale; 0 points
        "o3,pos,a,2024-05-03T10:00:00Z,50.00,cancelled\n"
        "o4,pos,a,2024-05-04T10:00:00Z,60.00,refunded\n"
        "o5,pos,a,2024-05-05T10:00:00Z,70.00,pending\n"
        "o6,pos,a,2024-06-05T10:00:00Z,80.00,completed\n",  # after the cut-off
    )
    run_ = refresh(workspace, date(2024, 6, 1))
    a = member(workspace, "pos", "a")
    assert run_.credited["earn_order"] == 1
    assert ledger(workspace, a) == [("earn_order", 123, "o1", datetime(2024, 5, 1, 10))]
    # The default expiry: 12 months later, at the end of that year.
    expires = workspace.warehouse.scalar("SELECT expires_at FROM points_ledger")
    assert expires == datetime(2026, 1, 1)
    assert movement_id("earn_order", "pos", "o1") == workspace.warehouse.scalar(
        "SELECT movement_id FROM points_ledger"
    )


def test_the_rate_applies_before_rounding_down(workspace: Workspace, tmp_path: Path) -> None:
    load_orders(workspace, tmp_path, "o1,pos,a,2024-05-01T10:00:00Z,123.45,completed\n")
    refresh(workspace, date(2024, 6, 1), points=PointsSettings(per_currency_unit=Decimal("0.1")))
    assert ledger(workspace)[0][:2] == ("earn_order", 12)  # 12.345 -> 12


def test_two_refreshes_credit_each_order_once(workspace: Workspace, tmp_path: Path) -> None:
    load_orders(workspace, tmp_path, "o1,pos,a,2024-05-01T10:00:00Z,10.00,completed\n")
    first = refresh(workspace, date(2024, 6, 1))
    second = refresh(workspace, date(2024, 6, 1))
    third = refresh(workspace, date(2024, 7, 1))
    assert (first.credited["earn_order"], second.credited["earn_order"]) == (1, 0)
    assert third.credited["earn_order"] == 0
    assert workspace.warehouse.scalar("SELECT count(*) FROM points_ledger") == 1


@pytest.mark.slow
def test_a_pending_order_earns_once_completed_and_a_refund_takes_it_back(
    workspace: Workspace, tmp_path: Path
) -> None:
    keep = PointsSettings(expire_after_months=0)  # no expiry: the refund comes years later
    load_orders(workspace, tmp_path, "o1,pos,a,2024-05-01T10:00:00Z,40.00,pending\n", "v1")
    assert refresh(workspace, date(2024, 6, 1), points=keep).credited["earn_order"] == 0
    load_orders(workspace, tmp_path, "o1,pos,a,2024-05-01T10:00:00Z,40.00,completed\n", "v2")
    assert refresh(workspace, date(2024, 6, 1), points=keep).credited["earn_order"] == 1
    load_orders(workspace, tmp_path, "o1,pos,a,2024-05-01T10:00:00Z,40.00,refunded\n", "v3")
    # The refund was loaded now: a refresh as of June 2024 does not know it yet.
    assert refresh(workspace, date(2024, 6, 1), points=keep).credited["reverse_order"] == 0
    later = (utc_now() + timedelta(days=1)).date()
    assert refresh(workspace, later, points=keep).credited["reverse_order"] == 1
    a = member(workspace, "pos", "a")
    rows = workspace.warehouse.fetch_all(
        "SELECT reason, points, lot_id FROM points_ledger WHERE member_id = ? ORDER BY occurred_at",
        [a],
    )
    lot = movement_id("earn_order", "pos", "o1")
    assert rows == [("earn_order", 40, None), ("reverse_order", -40, lot)]
    assert refresh(workspace, later, points=keep).credited["reverse_order"] == 0
    assert balance(workspace, a, later) == 0


def test_a_refund_after_the_points_expired_takes_nothing_back(
    workspace: Workspace, tmp_path: Path
) -> None:
    load_orders(workspace, tmp_path, "o1,pos,a,2020-05-01T10:00:00Z,40.00,completed\n", "v1")
    refresh(workspace, date(2020, 6, 1))  # expires 2022-01-01
    load_orders(workspace, tmp_path, "o1,pos,a,2020-05-01T10:00:00Z,40.00,refunded\n", "v2")
    later = (utc_now() + timedelta(days=1)).date()
    done = refresh(workspace, later)
    assert (done.credited["reverse_order"], done.credited["expire"]) == (0, 1)
    assert balance(workspace, member(workspace, "pos", "a"), later) == 0


def test_reviews_and_shares_earn_their_configured_points(
    workspace: Workspace, tmp_path: Path
) -> None:
    feedback = (
        "feedback_id,source,source_member_key,kind,occurred_at,rating\n"
        "f1,app,a,review,2024-05-01T10:00:00Z,5\n"
        "f2,app,a,complaint,2024-05-02T10:00:00Z,\n"
        "f3,app,b,review,2024-05-03T10:00:00Z,4\n"
    )
    events = (
        "event_id,source,source_member_key,event_type,occurred_at\n"
        "e1,app,a,share,2024-05-04T10:00:00Z\n"
        "e2,app,a,view,2024-05-04T11:00:00Z\n"
        "e3,app,a,share,2024-07-04T10:00:00Z\n"  # after the cut-off
    )
    run(workspace, "feedback", write(tmp_path / "f.csv", feedback))
    run(workspace, "events", write(tmp_path / "e.csv", events))
    settings = PointsSettings(actions={"review": 10, "share": 5})
    done = refresh(workspace, date(2024, 6, 1), points=settings)
    assert (done.credited["earn_review"], done.credited["earn_share"]) == (2, 1)
    assert refresh(workspace, date(2024, 6, 1), points=settings).credited["earn_review"] == 0
    a = member(workspace, "app", "a")
    assert balance(workspace, a, date(2024, 6, 1)) == 15


def test_an_action_name_no_row_can_match_is_refused(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="referral: not an action"):
        refresh(workspace, date(2024, 6, 1), points=PointsSettings(actions={"referral": 50}))


def test_expiry_consumes_the_oldest_lots_first(workspace: Workspace, tmp_path: Path) -> None:
    """o1 100 (expires Feb 11), o2 50 (Feb 21), a redemption of 120 on Jan 25 takes all
    of o1 and 20 of o2: o1 expires with 0 left, o2 with 30, the balance ends at 0."""
    load_orders(
        workspace,
        tmp_path,
        "o1,pos,a,2024-01-10T10:00:00Z,100.00,completed\n"
        "o2,pos,a,2024-01-20T10:00:00Z,50.00,completed\n",
    )
    refresh(workspace, date(2024, 1, 22), points=ONE_MONTH)
    profile.record_points_adjustments(
        workspace.warehouse,
        [
            profile.PointsAdjustment(
                "r1", "pos", "a", -120, "redeem", datetime(2024, 1, 25, 12), note="voucher"
            )
        ],
        ONE_MONTH,
    )
    a = member(workspace, "pos", "a")
    assert balance(workspace, a, date(2024, 2, 1)) == 30
    assert refresh(workspace, date(2024, 2, 15), points=ONE_MONTH).credited["expire"] == 1
    assert balance(workspace, a, date(2024, 2, 15)) == 30
    refresh(workspace, date(2024, 3, 1), points=ONE_MONTH)
    assert refresh(workspace, date(2024, 3, 1), points=ONE_MONTH).credited["expire"] == 0
    expired = workspace.warehouse.fetch_all(
        "SELECT lot_id, points, occurred_at FROM points_ledger WHERE reason = 'expire' "
        "ORDER BY occurred_at"
    )
    assert expired == [
        (movement_id("earn_order", "pos", "o1"), 0, datetime(2024, 2, 11)),
        (movement_id("earn_order", "pos", "o2"), -30, datetime(2024, 2, 21)),
    ]
    assert balance(workspace, a, date(2024, 3, 1)) == 0
    snap = workspace.warehouse.fetch_all(
        "SELECT snapshot_date, balance FROM member_points ORDER BY snapshot_date"
    )
    assert snap[-2:] == [(date(2024, 2, 15), 30), (date(2024, 3, 1), 0)]


def _m(mid: str, points: int, day: int, expires: int | None = None, **kw: str) -> PointsMovement:
    t0 = datetime(2024, 1, 1)
    at = t0 + timedelta(days=day)
    until = t0 + timedelta(days=expires) if expires is not None else None
    reason = kw.get("reason", "earn_order")
    return PointsMovement(mid, "m", points, reason, at, until, lot_id=kw.get("lot_id"))


def test_a_debit_beyond_the_balance_leaves_a_deficit_that_expiry_never_deepens() -> None:
    moves = [
        _m("a", 100, 0, expires=30),
        _m("b", -250, 5, reason="adjust_manual"),  # 150 more than there is
        _m("c", 200, 10, expires=40),  # pays the 150 deficit first: 50 left in lot c
    ]
    r = replay(moves, until=datetime(2024, 3, 1))  # day 60: both lots expired
    assert [(lot.movement_id, n) for lot, n in r.due] == [("a", 0), ("c", 50)]
    assert r.balance == 0 and r.deficit == 0
    early = replay(moves[:2], until=datetime(2024, 1, 8))
    assert early.balance == -150


def test_a_reversal_takes_from_its_own_lot_first() -> None:
    moves = [
        _m("a", 100, 0, expires=300),
        _m("b", 40, 1, expires=300),
        _m("r", -40, 2, reason="reverse_order", lot_id="b"),
    ]
    r = replay(moves, until=datetime(2024, 2, 1))
    assert r.lots == {"a": 100, "b": 0} and r.balance == 100


@pytest.mark.slow
def test_engine_and_python_expiry_rules_agree(workspace: Workspace, tmp_path: Path) -> None:
    load_orders(workspace, tmp_path, "o1,pos,a,2024-01-31T09:00:00Z,10.00,completed\n")
    for months, at in ((1, "day"), (1, "month_end"), (12, "year_end"), (0, "day")):
        settings = PointsSettings(expire_after_months=months, expire_at=at)
        workspace.warehouse.execute("DELETE FROM points_ledger")
        refresh(workspace, date(2024, 2, 1), points=settings)
        stored = workspace.warehouse.scalar("SELECT expires_at FROM points_ledger")
        assert stored == expiry(datetime(2024, 1, 31, 9), months=months, at=at)  # type: ignore[arg-type]

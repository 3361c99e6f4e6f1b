"""The refresh pipeline: steps in order, point-in-time cut-off, job runs, online summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from memberlens import online, pipeline
from memberlens.core.errors import UsageError
from memberlens.store import recent_jobs
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

ORDERS = """order_id,source,source_member_key,ordered_at,total_amount,status
o1,pos,m1,2025-05-01T10:00:00Z,10.00,completed
o2,pos,m1,2025-05-20T10:00:00Z,20.00,completed
o3,app,m2,2025-05-25T10:00:00Z,5.50,completed
o4,app,m2,2025-05-26T10:00:00Z,99.00,refunded
o5,pos,m1,2025-06-10T10:00:00Z,7.25,completed
"""
EVENTS = """event_id,source,source_member_key,event_type,occurred_at
e1,app,m2,view,2025-05-30T08:00:00Z
e2,app,m3,view,2025-05-02T08:00:00Z
e3,app,m3,view,2025-07-01T08:00:00Z
"""


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    run(workspace, "orders", write(tmp_path / "o.csv", ORDERS))
    run(workspace, "events", write(tmp_path / "e.csv", EVENTS))
    return workspace


def _member(ws: Workspace, source: str, key: str) -> str:
    found = ws.warehouse.scalar(
        "SELECT member_id FROM member_map WHERE source = ? AND source_member_key = ?",
        [source, key],
    )
    assert found, f"{source}/{key} is not in member_map"
    return str(found)


@pytest.mark.slow
def test_refresh_publishes_summaries_of_data_before_the_cut_off(shop: Workspace) -> None:
    result = pipeline.refresh(shop, as_of=date(2025, 6, 1))
    assert result.steps["online"]["member_summaries"] == 3  # m1, m2 and the browser m3
    m1 = online.member_summary(shop.state, _member(shop, "pos", "m1"))
    m2 = online.member_summary(shop.state, _member(shop, "app", "m2"))
    m3 = online.member_summary(shop.state, _member(shop, "app", "m3"))
    assert m1 and m2 and m3
    # o5 (June 10) lies after the cut-off; o4 was refunded.
    assert (m1.orders, m1.revenue, m1.last_order_at) == (
        2,
        Decimal("30.00"),
        datetime(2025, 5, 20, 10),
    )
    assert (m2.orders, m2.revenue, m2.last_event_at) == (
        1,
        Decimal("5.50"),
        datetime(2025, 5, 30, 8),
    )
    assert (m3.orders, m3.revenue, m3.last_event_at) == (
        0,
        Decimal("0.00"),
        datetime(2025, 5, 2, 8),
    )
    assert m1.as_of == datetime(2025, 6, 1)

    later = pipeline.refresh(shop, as_of=date(2025, 7, 2))
    assert later.steps["online"]["member_summaries"] == 3  # replaced, not appended
    m1 = online.member_summary(shop.state, _member(shop, "pos", "m1"))
    assert m1 and (m1.orders, m1.revenue) == (3, Decimal("37.25"))
    assert online.member_summary(shop.state, "nobody") is None


@pytest.mark.slow
def test_each_refresh_is_a_recorded_job_run(shop: Workspace) -> None:
    first = pipeline.refresh(shop, as_of=date(2025, 6, 1))
    runs = recent_jobs(shop.state, job="refresh")
    assert [r.run_id for r in runs] == [first.run_id]
    assert runs[0].status == "succeeded" and runs[0].detail["steps"]["online"]
    assert runs[0].duration_ms is not None and runs[0].duration_ms >= 0


def test_unknown_steps_are_refused_before_anything_runs(shop: Workspace) -> None:
    with pytest.raises(UsageError, match="the steps are: identity, text, tiers, features"):
        pipeline.refresh(shop, only=["no_such_step", "online"])
    assert recent_jobs(shop.state) == []


@pytest.mark.parametrize("as_of", [date(1, 1, 1), date(1899, 12, 31), date(9999, 12, 31)])
def test_an_as_of_outside_the_supported_range_is_refused(shop: Workspace, as_of: date) -> None:
    """Found by the API fuzzer: a 365-day window before year 1 overflowed into a 500."""
    with pytest.raises(UsageError, match="is outside 1900-01-01 … 2199-12-31"):
        pipeline.refresh(shop, as_of=as_of)
    assert recent_jobs(shop.state) == []  # refused before a job run was recorded


def test_a_failing_step_is_recorded_as_failed(
    shop: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_ws: Workspace, _at: datetime) -> dict[str, object]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "STEPS", (pipeline.Step("online", "x", broken),))
    with pytest.raises(RuntimeError):
        pipeline.refresh(shop)
    (failed,) = recent_jobs(shop.state)
    assert failed.status == "failed" and "disk full" in failed.detail["error"]


# -- the workspace clock ([refresh] as_of) ------------------------------------------
# The shop's newest order is 2025-06-10, its newest event 2025-07-01 08:00.


def _set_clock(ws: Workspace, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr(ws.settings.refresh, "as_of", value)


def test_the_data_clock_refreshes_as_of_the_day_after_the_newest_data(
    shop: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: without --as-of, a refresh of historical files ran as of today and
    turned every member into a lapsed one. "data" (the default) reads the data's end."""
    monkeypatch.setenv("MEMBERLENS_NOW", "2026-12-06T09:00:00Z")
    assert shop.settings.refresh.as_of == "data"  # the default
    result = pipeline.refresh(shop, only=["features"])
    assert result.as_of == datetime(2025, 7, 2, tzinfo=UTC)
    assert result.to_json()["clock"] == {
        "source": "data",
        "newest_data": "2025-07-01T08:00:00",
        "stale_days": None,
    }
    assert result.to_json()["warnings"] == []


@pytest.mark.slow
def test_the_data_clock_never_runs_ahead_of_now(
    shop: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live shop: its newest event is from today, so the as-of is now, not tomorrow."""
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-07-01T12:00:00Z")
    result = pipeline.refresh(shop, only=["features"])
    assert result.as_of == datetime(2025, 7, 1, 12, tzinfo=UTC)


def test_a_clock_far_after_the_data_warns_that_members_will_look_lapsed(
    shop: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBERLENS_NOW", "2026-12-06T09:00:00Z")
    _set_clock(shop, monkeypatch, "now")
    result = pipeline.refresh(shop, only=["features"]).to_json()
    assert result["as_of"] == "2026-12-06T09:00:00+00:00"
    assert result["clock"]["stale_days"] == 523  # 2025-07-01 08:00 → 2026-12-06 09:00
    (warning,) = result["warnings"]
    assert warning["code"] == "DATA_STALE"
    assert "2025-07-01" in warning["message"] and "--as-of" in warning["message"]
    (run,) = recent_jobs(shop.state, job="refresh")
    assert run.detail["warnings"] == result["warnings"]  # kept for the console's banner


@pytest.mark.slow
def test_a_fixed_clock_and_an_explicit_as_of_see_only_data_before_them(
    shop: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBERLENS_NOW", "2026-12-06T09:00:00Z")
    _set_clock(shop, monkeypatch, "2025-06-15")
    fixed = pipeline.refresh(shop, only=["features"]).to_json()
    assert fixed["as_of"] == "2025-06-15T00:00:00+00:00"
    # the newest before the as-of is o5 (June 10): 4 days, not stale
    assert fixed["clock"] == {
        "source": "setting",
        "newest_data": "2025-06-10T10:00:00",
        "stale_days": None,
    }
    given = pipeline.refresh(shop, as_of=date(2025, 9, 1), only=["features"]).to_json()
    assert given["clock"]["source"] == "given" and given["clock"]["stale_days"] == 61


def test_the_data_clock_ignores_activity_flagged_out_of_window(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taobao's sample holds stray timestamps outside its window: flagged on import,
    they must not move the clock."""
    monkeypatch.setenv("MEMBERLENS_NOW", "2026-12-06T09:00:00Z")
    run(workspace, "orders", write(tmp_path / "o.csv", ORDERS))
    workspace.warehouse.execute(
        "UPDATE orders SET ordered_at = TIMESTAMP '2026-03-01', _flags = 'out_of_window' "
        "WHERE order_id = 'o5'"
    )
    result = pipeline.refresh(workspace, only=["features"])
    assert result.as_of == datetime(2025, 5, 27, tzinfo=UTC)  # after o4 (May 26)


def test_a_clock_setting_that_is_no_date_is_refused_with_the_choices(tmp_path: Path) -> None:
    from memberlens.core.errors import ConfigError
    from memberlens.core.settings import load_settings

    (tmp_path / "memberlens.toml").write_text('[refresh]\nas_of = "yesterday"\n')
    with pytest.raises(ConfigError, match=r"refresh.as_of.*'yesterday' is not \"now\", \"data\""):
        load_settings(tmp_path)

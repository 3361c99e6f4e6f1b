"""Scheduled work: the watched folder and the daily refresh slot."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from memberlens import jobs, pipeline
from memberlens.store import recent_jobs
from memberlens.workspace import Workspace

ORDERS = """order_id,source_member_key,ordered_at,total_amount
o1,m1,2025-05-01T10:00:00Z,10.00
o2,m2,not-a-date,5.00
"""


def _settled(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def test_settled_files_are_imported_and_moved_to_done(workspace: Workspace) -> None:
    jobs.prepare_watch_folder(workspace)
    inbox = workspace.root / "inbox"
    assert (inbox / "orders").is_dir() and (inbox / "events").is_dir()
    _settled(inbox / "orders" / "may.csv", ORDERS)
    (inbox / "orders" / "copying.csv").write_text(ORDERS)  # still being written: not yet

    (done,) = jobs.import_watched(workspace)
    assert done.ok and done.kind == "orders" and done.file == "may.csv"
    assert (done.detail["loaded"], done.detail["quarantined"]) == (1, 1)
    assert Path(done.moved_to).parent == inbox / "orders" / "done"
    assert not (inbox / "orders" / "may.csv").exists()
    assert (inbox / "orders" / "copying.csv").exists()
    assert workspace.warehouse.scalar("SELECT count(*) FROM orders") == 1
    (record,) = recent_jobs(workspace.state, job=jobs.WATCH_JOB)
    assert record.status == "succeeded" and record.detail["loaded"] == 1


def test_an_unreadable_file_moves_to_failed_with_its_reason(workspace: Workspace) -> None:
    jobs.prepare_watch_folder(workspace)
    folder = workspace.root / "inbox" / "orders"
    _settled(folder / "empty.csv", "")
    (refused,) = jobs.import_watched(workspace)
    assert not refused.ok and Path(refused.moved_to).parent == folder / "failed"
    reason = Path(refused.moved_to + ".reason.txt").read_text(encoding="utf-8")
    assert "empty" in reason
    assert recent_jobs(workspace.state)[0].status == "failed"
    assert jobs.import_watched(workspace) == []  # not retried forever


def test_a_mapping_file_in_the_kind_folder_is_used(workspace: Workspace) -> None:
    jobs.prepare_watch_folder(workspace)
    folder = workspace.root / "inbox" / "orders"
    (folder / "mapping.toml").write_text(
        'kind = "orders"\n[tables.orders]\norder_id = "id"\nsource_member_key = "customer"\n'
        'ordered_at = "when"\ntotal_amount = "paid"\n'
    )
    _settled(folder / "shop.csv", "id,customer,when,paid\nx1,c1,2025-01-02T03:04:05Z,1.50\n")
    (done,) = jobs.import_watched(workspace)
    assert done.ok, done.detail
    assert workspace.warehouse.scalar("SELECT order_id FROM orders") == "x1"


def _at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    monkeypatch.setenv("MEMBERLENS_NOW", moment)


@pytest.mark.slow
def test_the_daily_refresh_runs_once_per_slot(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not jobs.refresh_due(workspace)  # no refresh_at: never
    workspace.settings.jobs.refresh_at = "03:00"  # Asia/Shanghai = 19:00 UTC the day before
    _at(monkeypatch, "2025-06-01T18:00:00+00:00")  # 02:00 in Shanghai; never refreshed
    assert jobs.refresh_due(workspace)  # a missed slot (yesterday's) catches up
    pipeline.refresh(workspace)
    assert not jobs.refresh_due(workspace)
    _at(monkeypatch, "2025-06-01T18:59:00+00:00")  # 02:59: today's slot not reached
    assert not jobs.refresh_due(workspace)
    _at(monkeypatch, "2025-06-01T19:01:00+00:00")  # 03:01
    assert jobs.refresh_due(workspace)
    pipeline.refresh(workspace)
    _at(monkeypatch, "2025-06-02T12:00:00+00:00")  # 20:00 the same Shanghai day
    assert not jobs.refresh_due(workspace)

"""The server's job runner and the warehouse gate: retries, schedules, pages that never hang."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from memberlens import accounts
from memberlens.service import create_app
from memberlens.store import recent_jobs, start_job
from memberlens.workspace import Workspace, open_state
from tests.service.test_console import PASSWORD, login


def _wait_for(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_refresh_cut_short_by_a_crash_runs_again_at_start(workspace_dir: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        stale = start_job(ws.state, "refresh")  # its process died: still "running"
    with TestClient(create_app(workspace_dir, flush_interval=3600)):
        state = open_state(workspace_dir)
        try:
            _wait_for(lambda: "succeeded" in {r.status for r in recent_jobs(state)})
            runs = {r.run_id: r.status for r in recent_jobs(state, job="refresh")}
        finally:
            state.close()
    assert runs.pop(stale) == "interrupted"
    assert list(runs.values()) == ["succeeded"]


def test_a_page_waits_briefly_then_says_what_holds_the_warehouse(workspace_dir: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        accounts.create_user(
            ws.state, email="a@shop.cn", role="analyst", actor="t", password=PASSWORD
        )
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "a@shop.cn")
        gate = client.app.state.gate  # type: ignore[attr-defined]
        gate.wait_seconds = 0.2
        with gate.hold("refresh"):
            started = time.monotonic()
            busy = client.get("/api/v1/overview")
            assert time.monotonic() - started < 5
        assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
        assert busy.json()["code"] == "WAREHOUSE_BUSY" and "refresh" in busy.json()["detail"]
        with gate.hold("refresh"):
            page = client.get("/")  # a page, not a problem document
        assert page.status_code == 503 and 'id="busy"' in page.text and "refresh" in page.text
        assert client.get("/api/v1/overview").status_code == 200  # free again

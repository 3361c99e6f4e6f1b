"""The server's job runner and the warehouse gate: retries, schedules, pages that never hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts
from memberlens.service import create_app
from memberlens.service._gate import WarehouseBusy, WarehouseGate
from memberlens.store import recent_jobs, start_job
from memberlens.workspace import Workspace, open_state
from tests.service.test_console import PASSWORD, login


def _wait_for(condition: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
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


def test_pages_answer_at_once_while_a_job_holds_the_warehouse(workspace_dir: Path) -> None:
    """Issue 17: a page used to wait, then answer 503, while a refresh held the warehouse.
    Pages read committed data on their own connection and need no gate."""
    with Workspace.open(workspace_dir) as ws:
        accounts.create_user(
            ws.state, email="a@shop.cn", role="analyst", actor="t", password=PASSWORD
        )
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "a@shop.cn")
        gate = client.app.state.gate  # type: ignore[attr-defined]
        with gate.hold("refresh"):
            started = time.monotonic()
            assert client.get("/api/v1/overview").status_code == 200
            assert client.get("/").status_code == 200
            assert time.monotonic() - started < 5


def test_a_writer_that_may_not_wait_is_told_what_holds_the_warehouse() -> None:
    gate = WarehouseGate(wait_seconds=0.1)
    with (
        gate.hold("refresh"),
        pytest.raises(WarehouseBusy) as busy,
        gate.hold("segment save", wait=0.1),
    ):
        raise AssertionError("the gate let a second writer in")
    assert busy.value.holder == "refresh" and busy.value.waited == 0.1
    with gate.hold("segment save", wait=0.1):  # free again
        assert gate.holder == "segment save"

"""A real `memberlens serve` process: events over HTTP, a CLI refused cleanly, a graceful stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from memberlens import accounts
from memberlens.workspace import Workspace
from tests import memberlens_process
from tests.servers import start_server

pytestmark = pytest.mark.slow


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return memberlens_process.run(args, timeout=120)


def test_serve_accepts_events_serves_other_commands_and_stops_gracefully(
    workspace_dir: Path,
) -> None:
    with Workspace.open(workspace_dir) as ws:
        _, token = accounts.create_token(ws.state, name="t", scopes=["events:write"], actor="t")
    env = {**os.environ, "MEMBERLENS_JOBS__WATCH_INTERVAL_SECONDS": "0.5"}
    proc, base = start_server(workspace_dir, env)
    try:
        events = [
            {
                "event_id": f"p{i}",
                "source_member_key": "u",
                "event_type": "view",
                "occurred_at": "2025-03-01T00:00:00Z",
            }
            for i in range(100)
        ]
        answer = httpx.post(
            f"{base}/events",
            json=events,
            timeout=10,
            headers={"Authorization": f"Bearer {token.secret}"},
        )
        assert answer.status_code == 202 and answer.json()["accepted"] == 100

        # Other commands go through the server's API (data/server.json, mode 0600).
        owner = workspace_dir / "data" / "server.json"
        assert owner.is_file() and oct(owner.stat().st_mode & 0o777) == "0o600"
        orders = workspace_dir.parent / "orders.csv"
        orders.write_text(
            "order_id,source_member_key,ordered_at,total_amount\n"
            "o1,u,2025-03-01T00:00:00Z,9.90\no2,u,nope,1.00\n"
        )
        started = time.monotonic()
        ingest = _cli(
            "ingest", "orders", str(orders), "--source", "web", "--json", "-w", str(workspace_dir)
        )
        assert ingest.returncode == 0, ingest.stderr
        assert '"loaded": 1' in ingest.stdout and '"quarantined": 1' in ingest.stdout
        quality = _cli("quality", "--json", "-w", str(workspace_dir))
        assert quality.returncode == 0 and '"rows": 1' in quality.stdout
        refresh = _cli("refresh", "--json", "-w", str(workspace_dir))
        assert refresh.returncode == 0, refresh.stderr
        # "u" of the event API and "u" of the web shop stay two members until identity
        # resolution links them.
        assert json.loads(refresh.stdout)["steps"]["online"]["member_summaries"] == 2
        assert time.monotonic() - started < 60  # answered, never a hang

        # The job runner imports settled files dropped into the watched folder.
        dropped = workspace_dir / "inbox" / "orders" / "more.csv"
        dropped.write_text("order_id,source_member_key,ordered_at\no9,u,2025-03-02\n")
        os.utime(dropped, (time.time() - 60, time.time() - 60))
        deadline = time.monotonic() + 30
        while dropped.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list((dropped.parent / "done").glob("*-more.csv")), "not imported"
        runs = json.loads(_cli("jobs", "--json", "-w", str(workspace_dir)).stdout)
        assert [r["status"] for r in runs if r["job"] == "import watched"] == ["succeeded"]
        # A command beside the server is run by it (issue 17), never refused as locked.
        beside = _cli("quality", "--quarantine", "x", "-w", str(workspace_dir))
        assert beside.returncode == 0, beside.stderr
        assert "no quarantined rows for run x" in beside.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    with Workspace.open(workspace_dir) as ws:  # the final flush ran before exit
        assert ws.warehouse.scalar("SELECT count(*) FROM events") == 100
        assert ws.warehouse.scalar("SELECT count(*) FROM orders") == 2
    assert not (workspace_dir / "data" / "server.json").exists()  # released on stop


def test_personal_data_never_reaches_the_server_log(workspace_dir: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        _, token = accounts.create_token(ws.state, name="t", scopes=["members:write"], actor="t")
    proc, base = start_server(workspace_dir)
    try:
        members = [
            {
                "source_member_key": "k1",
                "email": "secret.person@example.com",
                "phone": "13912345678",
                "name": "李秘密",
            },
            {"source_member_key": "k2", "email": "not-an-email@@x", "phone": "13987654321"},
        ]
        answer = httpx.post(
            f"{base}/members",
            json=members,
            timeout=10,
            headers={"Authorization": f"Bearer {token.secret}"},
        )
        assert answer.status_code == 202
        assert (
            httpx.post(
                f"{base}/members",
                content=b"{bad",
                timeout=10,
                headers={
                    "Authorization": f"Bearer {token.secret}",
                    "content-type": "application/json",
                },
            ).status_code
            == 422
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        log, _ = proc.communicate(timeout=60)
    assert "GET /api/v1/health" in log or "POST /api/v1/members" in log  # the log is real
    for needle in (
        "secret.person",
        "13912345678",
        "李秘密",
        "not-an-email",
        "13987654321",
        token.secret,
    ):
        assert needle not in log

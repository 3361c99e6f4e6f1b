"""The event collection API: auth, validation, idempotency, buffer, flush, problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from memberlens import accounts
from memberlens.service import create_app
from memberlens.store import BufferRow
from memberlens.workspace import Workspace

EVENT = {
    "source_member_key": "u1",
    "event_type": "view",
    "occurred_at": "2025-01-02T03:04:05Z",
    "product_id": "sku1",
}


def _token(root: Path, *scopes: str) -> str:
    with Workspace.open(root) as ws:
        _, secret = accounts.create_token(ws.state, name="test", scopes=list(scopes), actor="test")
    return secret.secret


@pytest.fixture
def server(workspace_dir: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = _token(workspace_dir, "events:write")
    app = create_app(workspace_dir, flush_interval=3600, rate=1000, burst=1000)
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_health_and_openapi(server: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = server
    assert client.get("/api/v1/health").json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/events" in spec["paths"] and "/api/v1/health" in spec["paths"]


def test_events_need_a_token_with_the_scope(
    server: tuple[TestClient, dict[str, str]], workspace_dir: Path
) -> None:
    client, _ = server
    missing = client.post("/api/v1/events", json=EVENT)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "NO_TOKEN" and "Bearer" in missing.json()["detail"]
    wrong = _token(workspace_dir, "recommendations:read")
    forbidden = client.post(
        "/api/v1/events", json=EVENT, headers={"Authorization": f"Bearer {wrong}"}
    )
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "MISSING_SCOPE")
    bogus = client.post("/api/v1/events", json=EVENT, headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401


def test_batch_is_validated_per_item_idempotent_and_flushed(
    server: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = server
    batch = [
        {**EVENT, "event_id": "e1"},
        {**EVENT, "event_id": "e2", "event_type": "teleport"},
        {**EVENT, "event_id": "e3", "occurred_at": "yesterday"},
        {"event_id": "e4", "event_type": "view", "occurred_at": "2025-01-01T00:00:00Z"},
    ]
    answer = client.post("/api/v1/events", json={"events": batch}, headers=auth)
    assert answer.status_code == 202
    body = answer.json()
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (1, 3, 0)
    assert [i["status"] for i in body["items"]] == ["accepted", "rejected", "rejected", "rejected"]
    assert "'teleport'" in body["items"][1]["errors"][0]
    assert "neither source_member_key nor anonymous_id" in body["items"][3]["errors"][0]
    again = client.post("/api/v1/events", json=[{**EVENT, "event_id": "e1"}], headers=auth)
    assert again.json()["duplicates"] == 1
    assert client.get("/api/v1/health").json()["pending_events"] == 4

    runner = client.app.state.runner  # type: ignore[attr-defined]
    result = runner.flush_now()
    assert (result.flushed, result.quarantined) == (1, 3)
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    assert ws.warehouse.fetch_all("SELECT event_id, source, event_type FROM events") == [
        ("e1", "api", "view")
    ]
    assert ws.warehouse.scalar("SELECT count(*) FROM quarantine WHERE table_name = 'events'") == 3
    assert client.get("/api/v1/health").json()["pending_events"] == 0


def test_batch_limits_and_malformed_bodies(server: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = server
    too_many = client.post("/api/v1/events", json=[EVENT] * 1001, headers=auth)
    assert (too_many.status_code, too_many.json()["code"]) == (413, "BATCH_SIZE")
    bad = client.post(
        "/api/v1/events", content=b"{not json", headers={**auth, "content-type": "application/json"}
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    nowhere = client.get("/api/v1/nope")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "HTTP_404"


def test_rate_limit_says_when_to_retry(workspace_dir: Path) -> None:
    token = _token(workspace_dir, "events:write")
    app = create_app(workspace_dir, flush_interval=3600, rate=1, burst=2)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        codes = [
            client.post("/api/v1/events", json=EVENT, headers=auth).status_code for _ in range(3)
        ]
        assert codes == [202, 202, 429]
        limited = client.post("/api/v1/events", json=EVENT, headers=auth)
        assert limited.json()["code"] == "RATE_LIMITED"
        assert int(limited.headers["Retry-After"]) >= 1


def test_stopping_the_server_flushes_what_was_accepted(workspace_dir: Path) -> None:
    token = _token(workspace_dir, "events:write")
    app = create_app(workspace_dir, flush_interval=3600)
    with TestClient(app) as client:
        client.post(
            "/api/v1/events",
            json=[{**EVENT, "event_id": f"s{i}"} for i in range(50)],
            headers={"Authorization": f"Bearer {token}"},
        )
    with Workspace.open(workspace_dir) as ws:
        assert ws.warehouse.scalar("SELECT count(*) FROM events") == 50


def test_duplicates_within_one_batch_and_across_batches(
    server: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = server
    batch = [{**EVENT, "event_id": "d1"}, {**EVENT, "event_id": "d1"}, {**EVENT, "event_id": "d2"}]
    first = client.post("/api/v1/events", json=batch, headers=auth).json()
    assert [i["status"] for i in first["items"]] == ["accepted", "duplicate", "accepted"]
    second = client.post("/api/v1/events", json=batch, headers=auth).json()
    assert second["duplicates"] == 3


def test_a_corrected_event_is_accepted_and_stored(
    server: tuple[TestClient, dict[str, str]],
) -> None:
    """A rejected event reserves nothing: re-sent corrected with its event_id, it is
    stored — whether its rejected twin still waits in the buffer (c1) or already sits
    in the quarantine (c2)."""
    client, auth = server
    runner = client.app.state.runner  # type: ignore[attr-defined]
    bad = [
        {**EVENT, "event_id": "c1", "event_type": "pageview"},
        {**EVENT, "event_id": "c2", "occurred_at": "yesterday"},
    ]
    first = client.post("/api/v1/events", json=bad, headers=auth).json()
    assert [i["status"] for i in first["items"]] == ["rejected", "rejected"]
    fixed = client.post("/api/v1/events", json=[{**EVENT, "event_id": "c1"}], headers=auth)
    assert fixed.json()["items"][0]["status"] == "accepted"
    flushed = runner.flush_now()
    assert (flushed.flushed, flushed.quarantined) == (1, 2)  # c1 stored; both twins quarantined
    later = client.post("/api/v1/events", json=[{**EVENT, "event_id": "c2"}], headers=auth)
    assert later.json()["items"][0]["status"] == "accepted"
    again = client.post("/api/v1/events", json=[{**EVENT, "event_id": "c2"}], headers=auth)
    assert again.json()["items"][0]["status"] == "duplicate"  # accepted once is enough
    assert runner.flush_now().flushed == 1
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    assert ws.warehouse.fetch_all("SELECT event_id, event_type FROM events ORDER BY 1") == [
        ("c1", "view"),
        ("c2", "view"),
    ]
    assert ws.warehouse.scalar("SELECT count(*) FROM quarantine WHERE table_name = 'events'") == 2


def test_an_id_kept_by_a_rejected_row_of_an_older_version_is_released(
    server: tuple[TestClient, dict[str, str]],
) -> None:
    """Buffers written before the fix hold the event_id of rejected rows: the corrected
    event takes it over instead of being answered ``duplicate``."""
    client, auth = server
    client.post(
        "/api/v1/events", json=[{**EVENT, "event_id": "k1", "event_type": "x"}], headers=auth
    )
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    with ws.state.session() as s, s.begin():
        s.execute(update(BufferRow).values(dedupe_key="events:k1"))  # as older versions kept it
    fixed = client.post("/api/v1/events", json=[{**EVENT, "event_id": "k1"}], headers=auth)
    assert fixed.json()["items"][0]["status"] == "accepted"
    client.app.state.runner.flush_now()  # type: ignore[attr-defined]
    assert ws.warehouse.fetch_all("SELECT event_id FROM events") == [("k1",)]

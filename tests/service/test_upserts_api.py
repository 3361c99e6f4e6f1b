"""Upserts of members, orders and products: same rules as files, personal data sealed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts
from memberlens.service import create_app
from memberlens.workspace import Workspace

SCOPES = ["members:write", "orders:write", "products:write"]
MEMBER = {
    "source_member_key": "w1",
    "name": "王芳",
    "phone": "139 1234 5678",
    "email": "Wang.Fang@Example.com",
    "birth_date": "1990-06-01",
    "city": "上海",
}


@pytest.fixture
def api(workspace_dir: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Workspace.open(workspace_dir) as ws:
        _, secret = accounts.create_token(ws.state, name="shop", scopes=SCOPES, actor="t")
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        yield client, {"Authorization": f"Bearer {secret.secret}"}


def test_members_are_encrypted_in_the_buffer_and_in_the_warehouse(
    api: tuple[TestClient, dict[str, str]],
    workspace_dir: Path,
) -> None:
    client, auth = api
    answer = client.post(
        "/api/v1/members",
        json=[MEMBER, {**MEMBER, "source_member_key": "w2", "phone": "12345"}],
        headers=auth,
    )
    assert answer.status_code == 202
    assert [i["status"] for i in answer.json()["items"]] == ["accepted", "rejected"]
    assert "phone" in answer.json()["items"][1]["errors"][0]
    assert "12345" not in answer.text  # personal values are not echoed back
    state_bytes = (workspace_dir / "data" / "state.db").read_bytes()
    for wal in (workspace_dir / "data").glob("state.db-wal"):
        state_bytes += wal.read_bytes()
    assert b"Wang.Fang" not in state_bytes and "王芳".encode() not in state_bytes

    client.app.state.runner.flush_now()  # type: ignore[attr-defined]
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    (email,) = ws.warehouse.fetch_all("SELECT email FROM members")[0]
    assert ws.keyring.decrypt(email, context="members.email") == "wang.fang@example.com"
    assert ws.warehouse.scalar("SELECT count(*) FROM member_identities") == 2
    assert ws.warehouse.scalar("SELECT count(*) FROM quarantine WHERE raw_encrypted") == 1


def test_orders_come_with_their_lines_and_are_rejected_whole(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    good = {
        "order_id": "o1",
        "source_member_key": "w1",
        "ordered_at": "2025-05-01T10:00:00Z",
        "total_amount": "30.00",
        "items": [{"product_id": "p1", "quantity": 2, "unit_price": "15.00", "amount": "30.00"}],
    }
    bad = {**good, "order_id": "o2", "items": [{"product_id": "p1", "quantity": 0}]}
    body = client.post("/api/v1/orders", json={"orders": [good, bad]}, headers=auth).json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["items"][1]["errors"] == ["items[0]: quantity: 0 must be at least 1"]
    products = client.post(
        "/api/v1/products", json={"product_id": "p1", "name": "Tea", "price": "15.00"}, headers=auth
    )
    assert products.json()["accepted"] == 1
    client.app.state.runner.flush_now()  # type: ignore[attr-defined]
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    assert ws.warehouse.fetch_all("SELECT order_id, line_no, quantity FROM order_items") == [
        ("o1", 1, 2)
    ]
    assert ws.warehouse.fetch_all("SELECT order_id, _flags FROM orders") == [("o1", "orphan")]
    assert ws.warehouse.scalar("SELECT count(*) FROM products") == 1


def test_each_upsert_needs_its_own_scope(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    answer = client.post("/api/v1/events", json={"event_type": "view"}, headers=auth)
    assert (answer.status_code, answer.json()["code"]) == (403, "MISSING_SCOPE")


def test_a_corrected_member_and_order_are_stored(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    """A rejected member or order reserves nothing: corrected, in the same batch (w3),
    after its twin was quarantined (w2, o3), it loads; the twins stay in the quarantine."""
    client, auth = api
    runner = client.app.state.runner  # type: ignore[attr-defined]
    bad = {**MEMBER, "source_member_key": "w2", "phone": "12345"}
    body = client.post(
        "/api/v1/members",
        json=[bad, {**bad, "source_member_key": "w3"}, {**MEMBER, "source_member_key": "w3"}],
        headers=auth,
    ).json()
    assert [i["status"] for i in body["items"]] == ["rejected", "rejected", "accepted"]
    order = {
        "order_id": "o3",
        "source_member_key": "w2",
        "ordered_at": "2025-05-01T10:00:00Z",
        "total_amount": "30.00",
        "items": [{"product_id": "p1", "quantity": 0}],
    }
    assert client.post("/api/v1/orders", json=[order], headers=auth).json()["rejected"] == 1
    first = runner.flush_now()
    assert (first.flushed, first.quarantined) == (1, 3)

    fixed = client.post(
        "/api/v1/members", json=[{**MEMBER, "source_member_key": "w2"}], headers=auth
    )
    assert fixed.json()["accepted"] == 1
    line = {"product_id": "p1", "quantity": 2, "unit_price": "15.00", "amount": "30.00"}
    fixed = client.post("/api/v1/orders", json=[{**order, "items": [line]}], headers=auth)
    assert fixed.json()["accepted"] == 1
    assert runner.flush_now().flushed == 3  # a member, an order and its line
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    assert ws.warehouse.fetch_all("SELECT source_member_key FROM members ORDER BY 1") == [
        ("w2",),
        ("w3",),
    ]
    assert ws.warehouse.fetch_all("SELECT order_id, _flags FROM orders") == [("o3", None)]
    assert ws.warehouse.fetch_all("SELECT order_id, quantity FROM order_items") == [("o3", 2)]
    assert ws.warehouse.scalar("SELECT count(*) FROM quarantine") == 3

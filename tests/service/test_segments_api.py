"""The segments API for applications: scopes, save, preview, members, errors.

Member base: tests/profile/feature_data.py at 2025-06-01 (Zhang bought 4 times, Li once).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, audit, pipeline, segment
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.conftest import built_once, copy_of
from tests.profile.feature_data import CUTOFF, load_feature_base
from tests.service.test_console import PASSWORD, login


@pytest.fixture
def setup(workspace_dir: Path, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Workspace.open(workspace_dir) as ws:
        load_feature_base(ws, tmp_path)
        pipeline.refresh(ws, as_of=CUTOFF)
        tokens = {}
        for name, scopes in (("reader", ["segments:read"]), ("admin", ["admin"]),
                             ("events", ["events:write"])):  # fmt: skip
            _, made = accounts.create_token(ws.state, name=name, actor="t", scopes=scopes)
            tokens[name] = made.secret
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        yield client, tokens


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.slow
def test_save_preview_and_read_members_with_the_right_tokens(
    setup: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = setup
    body = {"rule": "frequency >= 2", "description": "bought twice", "owner": "crm"}
    refused = client.put("/api/v1/segments/repeaters", json=body, headers=_auth(tokens["reader"]))
    assert refused.status_code == 403  # reading is not saving
    saved = client.put("/api/v1/segments/repeaters", json=body, headers=_auth(tokens["admin"]))
    assert saved.status_code == 200 and saved.json()["owner"] == "crm"

    preview = client.post(
        "/api/v1/segments/preview", json={"rule": "frequency >= 2"}, headers=_auth(tokens["reader"])
    )
    assert (preview.json()["members"], preview.json()["of"]) == (1, 2)  # Zhang of Zhang and Li
    bad = client.post(
        "/api/v1/segments/preview",
        json={"rule": "frequency >>= 2"},
        headers=_auth(tokens["reader"]),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "line 1, column" in bad.json()["detail"]
    wrong = client.get("/api/v1/segments", headers=_auth(tokens["events"]))
    assert wrong.status_code == 403

    # The next refresh computes it: through the server, which owns the workspace now.
    refreshed = client.post(
        "/api/v1/refresh", json={"as_of": "2025-06-02"}, headers=_auth(tokens["admin"])
    )
    assert refreshed.status_code == 200 and refreshed.json()["steps"]["segments"]["segments"] == {
        "repeaters": 1
    }
    listed = client.get("/api/v1/segments", headers=_auth(tokens["reader"])).json()
    assert [(s["name"], s["members"]) for s in listed] == [("repeaters", 1)]
    members = client.get("/api/v1/segments/repeaters/members", headers=_auth(tokens["reader"]))
    assert members.json()["members"] == 1 and len(members.json()["member_ids"]) == 1
    missing = client.get("/api/v1/segments/nobody/members", headers=_auth(tokens["reader"]))
    assert missing.status_code == 422 and "no segment named 'nobody'" in missing.json()["detail"]
    gone = client.delete("/api/v1/segments/repeaters", headers=_auth(tokens["admin"]))
    assert gone.json() == {"deleted": "repeaters"}


@pytest.fixture(scope="module")
def _export_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """The feature base, saved segment ``buyers`` refreshed, a marketer and an analyst:
    built once for the module (a refresh each, otherwise); each test exports from its
    own copy. (workspace, key ring, member ids by key)."""
    root = tmp_path_factory.mktemp("export")

    def fill(ws: Workspace) -> dict[str, str]:
        ids = load_feature_base(ws, root)
        segment.save_segment(
            ws.state,
            lambda names: segment.segment_catalogue(ws.tag_book(), names),
            name="buyers",
            rule="frequency >= 1",
            actor="t",
        )
        pipeline.refresh(ws, as_of=CUTOFF)
        for role in ("marketer", "analyst"):
            accounts.create_user(ws.state, email=f"{role}@shop.cn", role=role, actor="t",
                                 password=PASSWORD)  # fmt: skip
        return ids

    keys, ids = built_once(root / "ws", fill)
    return root / "ws", keys, ids


@pytest.mark.parametrize(
    ("role", "asked", "status", "phone"),
    [
        ("marketer", None, 200, "138****5678"),  # masked: may not export pseudonymised data
        ("analyst", None, 200, hashlib.sha256(b"+8613812345678").hexdigest()),
        ("marketer", "hashed", 403, None),
        ("analyst", "masked", 200, "138****5678"),
    ],
)
@pytest.mark.slow
def test_console_export_follows_the_role(
    _export_base: tuple[Path, str, dict[str, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, role: str, asked: str | None, status: int,
    phone: str | None,
) -> None:  # fmt: skip
    base, keys, ids = _export_base
    workspace_dir = copy_of(base, keys, tmp_path / "ws", monkeypatch)
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, f"{role}@shop.cn")
        query = f"?contacts={asked}" if asked else ""
        answer = client.get(f"/segments/buyers/export.csv{query}", follow_redirects=False)
    assert answer.status_code == status
    if status != 200:
        return
    rows = {r["member_id"]: r for r in csv.DictReader(io.StringIO(answer.text))}
    assert set(rows) == {ids["p1"], ids["p2"]} and rows[ids["p1"]]["phone"] == phone
    assert "13812345678" not in answer.text
    with Workspace.open(workspace_dir) as ws:
        assert [e.target for e in audit.entries(ws.state, action="export.segment")] == ["buyers"]

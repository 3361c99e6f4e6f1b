"""The segments API for applications: scopes, save, preview, members, errors.

Member base: tests/profile/feature_data.py at 2025-06-01 (Zhang bought 4 times, Li once).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, pipeline
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.profile.feature_data import CUTOFF, load_feature_base


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

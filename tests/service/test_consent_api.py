"""Consent API: statements committed before the 202, withdrawals honoured at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, pipeline
from memberlens.service import create_app
from memberlens.store import ConsentBufferRow
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write
from tests.service.test_console import PASSWORD, _csrf, login

Auth = dict[str, str]


@pytest.fixture
def api(workspace_dir: Path) -> Iterator[tuple[TestClient, Auth, Auth]]:
    """A client, a token with both consent scopes, and one with events:write only."""
    with Workspace.open(workspace_dir) as ws:
        _, both = accounts.create_token(
            ws.state, name="app", scopes=["consent:read", "consent:write"], actor="t"
        )
        _, other = accounts.create_token(ws.state, name="ev", scopes=["events:write"], actor="t")
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        yield (
            client,
            {"Authorization": f"Bearer {both.secret}"},
            {"Authorization": f"Bearer {other.secret}"},
        )


def ask(client: TestClient, auth: Auth, key: str, purpose: str, channel: str) -> dict[str, Any]:
    answer = client.get(
        f"/api/v1/members/app/{key}/consent",
        params={"purpose": purpose, "channel": channel},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_withdrawal_counts_for_the_very_next_decision(
    api: tuple[TestClient, Auth, Auth],
) -> None:
    client, auth, _ = api
    assert ask(client, auth, "u1", "marketing", "sms")["code"] == "NO_OPT_IN"
    granted = client.post(
        "/api/v1/members/app/u1/consents",
        json={"purpose": "marketing", "channel": "sms", "granted": True},
        headers=auth,
    )
    assert granted.status_code == 202 and granted.json()["accepted"] == 1
    got = ask(client, auth, "u1", "marketing", "sms")
    assert (got["allowed"], got["code"], got["pending"]) == (True, "GRANTED", True)
    client.post(
        "/api/v1/members/app/u1/consents",
        json=[{"purpose": "marketing", "granted": False}],  # channel * = every channel
        headers=auth,
    )
    got = ask(client, auth, "u1", "marketing", "sms")  # no flush, no refresh in between
    assert (got["allowed"], got["code"]) == (False, "WITHDRAWN")
    assert ask(client, auth, "u1", "personalisation", "*")["code"] == "DEFAULT_ALLOW"


LEDGER = """source,source_member_key,purpose,channel,recorded_at,granted,policy_version
app,u2,marketing,email,2025-01-01T00:00:00Z,true,v1
pos,p2,marketing,email,2025-01-01T00:00:00Z,true,v1
"""


def test_published_decisions_take_newer_statements_of_every_source_record(
    api: tuple[TestClient, Auth, Auth], tmp_path: Path
) -> None:
    client, auth, _ = api
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    runner = client.app.state.runner  # type: ignore[attr-defined]
    run(ws, "consents", write(tmp_path / "c.csv", LEDGER))
    ws.warehouse.execute(  # the two records are one person (identity's job; by hand here)
        "UPDATE member_map SET member_id = (SELECT member_id FROM member_map "
        "WHERE source_member_key = 'u2') WHERE source_member_key = 'p2'"
    )
    pipeline.refresh(ws, only=["online"])
    got = ask(client, auth, "u2", "marketing", "email")
    assert (got["code"], got["pending"]) == ("GRANTED", False)
    assert got["member_id"] and got["as_of"]
    # The shop till's record withdraws: the app's key of the same member is refused.
    answer = client.post(
        "/api/v1/members/pos/p2/consents",
        json={"consents": [{"purpose": "marketing", "channel": "email", "granted": False}]},
        headers=auth,
    )
    assert answer.json()["accepted"] == 1
    assert ask(client, auth, "u2", "marketing", "email")["code"] == "WITHDRAWN"
    # Into the ledger, then published: same answer, from the ledger, buffer emptied.
    runner.flush_now()
    assert ws.warehouse.scalar("SELECT count(*) FROM consents WHERE NOT granted") == 1
    pipeline.refresh(ws, only=["online"])
    got = ask(client, auth, "u2", "marketing", "email")
    assert (got["code"], got["pending"]) == ("WITHDRAWN", False)
    with ws.state.session() as s:
        assert s.query(ConsentBufferRow).count() == 0


def test_statements_are_validated_one_by_one(api: tuple[TestClient, Auth, Auth]) -> None:
    client, auth, _ = api
    body = client.post(
        "/api/v1/members/app/u3/consents",
        json=[
            {"purpose": "marketing", "channel": "email", "granted": True, "policy_version": "v3"},
            {"purpose": "newsletters", "granted": True},
            {"purpose": "marketing", "channel": "fax", "granted": "maybe"},
            {"purpose": "analytics", "granted": False, "recorded_at": "2999-01-01T00:00:00Z"},
            {"purpose": "analytics", "granted": False, "source": "other"},
        ],
        headers=auth,
    ).json()
    assert (body["accepted"], body["rejected"]) == (1, 4)
    errors = [" ".join(i["errors"]) for i in body["items"]]
    assert "purpose" in errors[1] and "newsletters" in errors[1]
    assert "channel" in errors[2] and "granted" in errors[2]
    assert "in the future" in errors[3]
    assert "unknown field source" in errors[4]
    assert ask(client, auth, "u3", "analytics", "*")["code"] == "DEFAULT_ALLOW"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"purpose": "newsletters"}, "unknown consent purpose"),
        ({"purpose": "marketing", "channel": "*"}, "decided per channel"),
    ],
)
def test_bad_questions_are_400_with_the_fix(
    api: tuple[TestClient, Auth, Auth], params: dict[str, str], words: str
) -> None:
    client, auth, _ = api
    answer = client.get("/api/v1/members/app/u1/consent", params=params, headers=auth)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"]


def test_scopes_are_enforced(api: tuple[TestClient, Auth, Auth]) -> None:
    client, _, other = api
    url = "/api/v1/members/app/u1/consent"
    assert client.get(url, params={"purpose": "analytics"}).status_code == 401
    assert client.get(url, params={"purpose": "analytics"}, headers=other).status_code == 403
    post = "/api/v1/members/app/u1/consents"
    body = {"purpose": "analytics", "granted": False}
    assert client.post(post, json=body).status_code == 401
    refused = client.post(post, json=body, headers=other)
    assert refused.status_code == 403 and refused.json()["code"] == "MISSING_SCOPE"


PAGE_LEDGER = """source,source_member_key,purpose,channel,recorded_at,granted,policy_version
app,u9,marketing,email,2025-01-01T08:00:00Z,true,v1
pos,p9,marketing,*,2025-02-01T09:30:00Z,false,v2
app,u9,profiling,*,2025-03-01T10:00:00Z,true,
"""


@pytest.mark.slow
def test_the_member_page_shows_the_consent_history(workspace_dir: Path, tmp_path: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        run(ws, "consents", write(tmp_path / "c.csv", PAGE_LEDGER))
        ws.warehouse.execute(  # one person, two source records
            "UPDATE member_map SET member_id = (SELECT member_id FROM member_map "
            "WHERE source_member_key = 'u9') WHERE source_member_key = 'p9'"
        )
        member_id = ws.warehouse.scalar(
            "SELECT member_id FROM member_map WHERE source_member_key = 'u9'"
        )
        accounts.create_user(
            ws.state, email="viewer@shop.cn", role="viewer", actor="t", password=PASSWORD
        )
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "viewer@shop.cn")
        page = client.get(f"/members/{member_id}").text
        table = page.split('id="member-consents"', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r"<tr data-granted=\"(\w+)\"><td>(.*?)</td>.*?</tr>", table, re.S)
        assert [(g, when[:10]) for g, when in rows] == [  # newest first
            ("true", "2025-03-01"),
            ("false", "2025-02-01"),
            ("true", "2025-01-01"),
        ]
        assert "Consent history" in page and "all channels" in page and "v2" in page
        assert "Withdrawn" in table and ">pos<" in table and "Profiling" in table
        client.post("/language", data={"locale": "zh-CN", "csrf": _csrf(page)})
        page = client.get(f"/members/{member_id}").text
        assert "授权记录" in page and "撤回" in page and "全部渠道" in page and "营销" in page
        twin = client.get(f"/api/v1/console/members/{member_id}").json()["consents"]
        assert [(c["granted"], c["recorded_at"][:10]) for c in twin] == [
            (True, "2025-03-01"),
            (False, "2025-02-01"),
            (True, "2025-01-01"),
        ]
        other = client.get("/members/m_nobody")
        assert other.status_code == 404


def test_a_corrected_statement_is_stored(api: tuple[TestClient, Auth, Auth]) -> None:
    """A rejected statement reserves nothing: corrected, before or after its twin was
    quarantined, it reaches the ledger."""
    client, auth, _ = api
    runner = client.app.state.runner  # type: ignore[attr-defined]
    url = "/api/v1/members/app/u5/consents"
    statement = {"purpose": "marketing", "channel": "email", "granted": "maybe"}
    assert client.post(url, json=[statement], headers=auth).json()["rejected"] == 1
    first = runner.flush_now()
    assert (first.flushed, first.quarantined) == (0, 1)
    fixed = client.post(url, json=[{**statement, "granted": True}], headers=auth).json()
    assert fixed["accepted"] == 1
    assert runner.flush_now().flushed == 1
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    assert ws.warehouse.fetch_all(
        "SELECT source_member_key, purpose, channel, granted FROM consents"
    ) == [("u5", "marketing", "email", True)]
    assert ask(client, auth, "u5", "marketing", "email")["allowed"] is True

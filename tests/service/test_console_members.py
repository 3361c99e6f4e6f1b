"""Console member search, member page and audit log: masking, auditing, permissions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from memberlens import accounts, audit, profile
from memberlens.accounts import Permission, Role
from memberlens.privacy import mask_phone
from memberlens.service import create_app
from memberlens.service.console._i18n import STRINGS
from memberlens.store import AuditRow
from memberlens.workspace import Workspace
from tests.profile.helpers import CLEAR, load_members
from tests.service.test_console import PASSWORD, login


@pytest.fixture
def ids(workspace_dir: Path, tmp_path: Path) -> dict[str, str]:
    with Workspace.open(workspace_dir) as ws:
        found = load_members(ws, tmp_path)
        for role in Role:
            accounts.create_user(
                ws.state,
                email=f"{role.value}@shop.cn",
                role=role.value,
                actor="t",
                password=PASSWORD,
            )
    return found


@pytest.fixture
def client(workspace_dir: Path, ids: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as c:
        yield c


def _views(client: TestClient) -> list[audit.AuditEntry]:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    return audit.entries(ws.state, action=profile.VIEW_ACTION)


def _no_clear_value(html: str) -> None:
    leaked = [v for v in CLEAR if v.lower() in html.lower()]
    assert leaked == []


@pytest.mark.parametrize(
    "query", ["138 1234 5678", "+8613812345678", "13812345678", "0086-138-1234-5678"]
)
def test_search_by_phone_in_any_format_finds_the_same_member(
    client: TestClient, ids: dict[str, str], query: str
) -> None:
    login(client, "marketer@shop.cn")
    found = client.get("/api/v1/console/members", params={"q": query}).json()
    assert found["matched_by"] == "phone"
    assert [m["member_id"] for m in found["members"]] == [ids["zhang"]]
    page = client.get("/members", params={"q": query}).text
    assert 'id="member-count" data-matched-by="phone">1<' in page
    assert f'href="/members/{ids["zhang"]}"' in page


@pytest.mark.parametrize(
    ("query", "matched_by", "who"),
    [
        (" Zhang.Wei@EXAMPLE.com ", "email", "zhang"),  # normalised like ingest did
        ("zw.app@example.net", "email", "zhang"),  # the second source's address
        ("lina@example.org", "email", "li"),
        ("a1", "key", "zhang"),  # a source's own key, through member_map
        ("p2", "key", "li"),
    ],
)
def test_search_by_email_and_keys_goes_through_member_map(
    client: TestClient, ids: dict[str, str], query: str, matched_by: str, who: str
) -> None:
    login(client, "viewer@shop.cn")
    found = client.get("/api/v1/console/members", params={"q": query}).json()
    assert found["matched_by"] == matched_by
    assert [m["member_id"] for m in found["members"]] == [ids[who]]


def test_search_by_member_id_and_misses(client: TestClient, ids: dict[str, str]) -> None:
    login(client, "viewer@shop.cn")
    get = client.get
    assert (
        get("/api/v1/console/members", params={"q": ids["li"]}).json()["members"][0]["member_id"]
        == ids["li"]
    )
    # A partial phone or address finds nothing: blind indexes compare whole values.
    for miss in ("1234 5678", "zhang.wei", "nobody@example.com"):
        assert get("/api/v1/console/members", params={"q": miss}).json()["members"] == []
    assert 'id="member-none"' in get("/members", params={"q": "zhang.wei"}).text
    assert get("/api/v1/console/members").json()["matched_by"] == "nothing"


def test_search_hits_are_masked_and_combine_source_records(
    client: TestClient, ids: dict[str, str]
) -> None:
    login(client, "admin@shop.cn")  # even with pii:read, the hit list stays masked
    hit = client.get("/api/v1/console/members", params={"q": "a1"}).json()["members"][0]
    assert hit == {
        "member_id": ids["zhang"],
        "sources": ["app", "pos"],
        "name": "张***",
        "phone": mask_phone("+8613812345678"),
        "email": "z***@example.net",  # the newest record's address
        "city": "上海",
        "signup_at": "2024-03-01",  # the earliest record: member since
    }
    assert _views(client) == []


def test_member_page_reads_every_source_record_order_and_event(
    client: TestClient, ids: dict[str, str]
) -> None:
    login(client, "marketer@shop.cn")
    card = client.get(f"/api/v1/console/members/{ids['zhang']}").json()
    assert [(r["source"], r["source_member_key"]) for r in card["records"]] == [
        ("app", "a1"),
        ("pos", "p1"),
    ]
    # o2 (app, 1 line of 1) is newer than o1 (pos, 2 lines of 1 + 2 units).
    assert [(o["order_id"], o["lines"], o["units"]) for o in card["orders"]] == [
        ("o2", 1, 1),
        ("o1", 2, 3),
    ]
    assert (card["order_count"], card["revenue"]) == (2, "30.00")
    assert [e["event_id"] for e in card["events"]] == ["e3", "e2", "e1"]
    assert card["event_count"] == 3 and card["revealed"] is False
    page = client.get(f"/members/{ids['zhang']}").text
    assert re.search(r'id="order-count">2<', page) and re.search(r'id="event-count">3<', page)
    assert re.search(r'id="member-revenue">¥30.00<', page)
    assert 'data-revealed="false"' in page
    assert page.index('data-order-id="o2"') < page.index('data-order-id="o1"')


def test_marketer_sees_masked_values_and_no_audit_entry_is_written(
    client: TestClient, ids: dict[str, str]
) -> None:
    login(client, "marketer@shop.cn")
    page = client.get(f"/members/{ids['zhang']}")
    assert page.status_code == 200
    assert "张***" in page.text and mask_phone("+8613812345678") in page.text
    _no_clear_value(page.text)
    _no_clear_value(client.get(f"/api/v1/console/members/{ids['zhang']}").text)
    assert _views(client) == []


def test_privacy_officer_sees_clear_values_and_each_view_is_audited_once(
    client: TestClient, ids: dict[str, str]
) -> None:
    login(client, "privacy_officer@shop.cn")
    page = client.get(f"/members/{ids['zhang']}").text
    assert "张伟" in page and "+8613812345678" in page and "zhang.wei@example.com" in page
    assert 'data-revealed="true"' in page
    views = _views(client)
    assert len(views) == 1
    entry = views[0]
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    officer = next(u for u in accounts.list_users(ws.state) if u.role is Role.PRIVACY_OFFICER)
    assert entry.actor == officer.user_id and entry.member_token
    assert entry.member_token.startswith("mt_")
    # The member appears only as their audit token: no id, no clear value.
    written = repr(entry)
    assert ids["zhang"] not in written
    assert [v for v in (*CLEAR, "+8613812345678") if v in written] == []
    # The JSON twin reveals too, and is audited as a second view.
    card = client.get(f"/api/v1/console/members/{ids['zhang']}").json()
    assert card["records"][1]["email"] == "zhang.wei@example.com"
    assert card["audit_seq"] == len(audit.entries(ws.state))
    assert len(_views(client)) == 2


@pytest.mark.parametrize("role", [r for r in Role if not accounts.allows(r, Permission.PII_READ)])
def test_personal_values_never_reach_a_role_without_pii_read(
    client: TestClient, ids: dict[str, str], role: Role
) -> None:
    login(client, f"{role.value}@shop.cn")
    for url, typed in (
        (f"/members/{ids['zhang']}", ""),
        (f"/members/{ids['li']}", ""),
        ("/members?q=13812345678", "13812345678"),
        ("/members?q=lina@example.org", "lina@example.org"),
        (f"/api/v1/console/members/{ids['zhang']}", ""),
        ("/api/v1/console/members?q=lina@example.org", "lina@example.org"),
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
        # What the viewer typed is echoed back (search box, "query"); nothing else.
        assert not typed or answer.text.count(typed) == 1
        _no_clear_value(answer.text.replace(typed, "") if typed else answer.text)
    assert _views(client) == []


def test_an_unknown_member_is_a_404_page_that_says_so(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    page = client.get("/members/m_nobody")
    assert page.status_code == 404
    assert "No member with id m_nobody" in page.text and 'href="/members"' in page.text
    api = client.get("/api/v1/console/members/m_nobody")
    assert (api.status_code, api.json()["code"]) == (404, "MEMBER_NOT_FOUND")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_members_and_audit_as_the_role_table_says(
    client: TestClient, role: Role
) -> None:
    login(client, f"{role.value}@shop.cn")
    reader = 200 if accounts.allows(role, Permission.DATA_READ) else 403
    auditor = 200 if accounts.allows(role, Permission.AUDIT_READ) else 403
    assert client.get("/members").status_code == reader
    assert client.get("/api/v1/console/members", params={"q": "a1"}).status_code == reader
    assert client.get("/audit").status_code == auditor
    assert client.get("/api/v1/console/audit").status_code == auditor
    nav = client.get("/").text
    assert 'id="nav-members"' in nav
    assert ('id="nav-audit"' in nav) == (auditor == 200)


def test_viewer_may_not_open_the_audit_log_and_admin_may(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    assert client.get("/audit").status_code == 403
    client.cookies.clear()
    login(client, "admin@shop.cn")
    page = client.get("/audit")
    assert page.status_code == 200 and 'id="audit-chain" data-ok="true"' in page.text


def test_audit_filters_pages_and_chain_state(client: TestClient, ids: dict[str, str]) -> None:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    for n in range(55):
        audit.record(ws.state, actor="batch", action="test.step", detail=f"n={n}")
    login(client, "admin@shop.cn")
    total = audit.count(ws.state)
    logins = [e for e in audit.entries(ws.state, limit=total) if e.action == "login"]
    data = client.get("/api/v1/console/audit", params={"action": "login"}).json()
    assert data["total"] == len(logins) == 1
    assert {e["action"] for e in data["entries"]} == {"login"}
    # Newest first, 50 a page: page 2 holds the 5 oldest test.step entries.
    steps = client.get("/api/v1/console/audit", params={"actor": "batch", "page": 2}).json()
    assert (steps["total"], steps["pages"]) == (55, 2)
    assert [e["detail"] for e in steps["entries"]] == [f"n={n}" for n in range(4, -1, -1)]
    first = client.get("/audit", params={"actor": "batch", "action": "test.step"}).text
    assert re.search(r'id="audit-total">55<', first) and 'id="audit-next"' in first
    assert "page=2" in first and "actor=batch" in first
    # Date range (UTC days, both ends included): from the first entry's day to the last
    # one's holds them all; the day after the last holds none.
    every = audit.entries(ws.state, limit=total)
    first_day, last_day = every[-1].at.date(), every[0].at.date()
    tomorrow = (last_day + timedelta(days=1)).isoformat()
    span = {"since": first_day.isoformat(), "until": last_day.isoformat()}
    assert client.get("/api/v1/console/audit", params=span).json()["total"] == total
    assert client.get("/api/v1/console/audit", params={"since": tomorrow}).json()["total"] == 0
    assert client.get("/audit", params={"since": "", "until": ""}).status_code == 200
    bad = client.get("/api/v1/console/audit", params={"since": "2025-13-01"})
    assert (bad.status_code, bad.json()["code"]) == (400, "BAD_DATE")
    # An edited entry shows on the page at once.
    with ws.state.session() as s, s.begin():
        s.execute(update(AuditRow).where(AuditRow.seq == 3).values(detail="edited"))
    page = client.get("/audit").text
    assert 'id="audit-chain" data-ok="false" data-code="EDITED"' in page


def test_pages_speak_chinese_and_every_string_has_both_languages(
    client: TestClient, ids: dict[str, str]
) -> None:
    assert [k for k, v in STRINGS.items() if set(v) != {"en", "zh-CN"}] == []
    login(client, "privacy_officer@shop.cn")
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    officer = next(u for u in accounts.list_users(ws.state) if u.role is Role.PRIVACY_OFFICER)
    accounts.set_locale(ws.state, user_id=officer.user_id, locale="zh-CN")
    page = client.get(f"/members/{ids['zhang']}").text
    # e3 at 10:00 UTC on 20 May: 18:00 in the workspace's zone, Beijing time
    assert "来源记录" in page and "2025年5月20日 18:00" in page and "（北京时间）" in page
    assert "审计日志" in client.get("/audit").text

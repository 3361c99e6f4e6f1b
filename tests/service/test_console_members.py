"""Console member search, member page and audit log: masking, auditing, permissions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from memberlens import accounts, audit, predict, profile, segment
from memberlens.accounts import Permission, Role
from memberlens.privacy import mask_phone
from memberlens.service import create_app
from memberlens.service.console._i18n import STRINGS
from memberlens.store import AuditRow
from memberlens.workspace import Workspace
from tests.conftest import built_once, copy_of
from tests.profile.helpers import CLEAR, load_members
from tests.service.test_console import add_role_accounts, login


@pytest.fixture(scope="module")
def _base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """The members and an account per role, built once for the module: (workspace, its
    key ring, member ids by name). Each test works on its own copy (``workspace_dir``),
    so what one test writes (audit entries, views) no other test sees — as when each
    built its own, at a copy's cost instead of two imports and five password hashes."""
    root = tmp_path_factory.mktemp("members-base")

    def fill(ws: Workspace) -> dict[str, str]:
        found = load_members(ws, root)
        add_role_accounts(ws)
        return found

    keys, found = built_once(root / "ws", fill)
    return root / "ws", keys, found


@pytest.fixture
def workspace_dir(
    _base: tuple[Path, str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    return copy_of(_base[0], _base[1], tmp_path / "ws", monkeypatch)


@pytest.fixture
def ids(_base: tuple[Path, str, dict[str, str]], workspace_dir: Path) -> dict[str, str]:
    return dict(_base[2])


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
@pytest.mark.slow
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
@pytest.mark.slow
def test_search_by_email_and_keys_goes_through_member_map(
    client: TestClient, ids: dict[str, str], query: str, matched_by: str, who: str
) -> None:
    login(client, "viewer@shop.cn")
    found = client.get("/api/v1/console/members", params={"q": query}).json()
    assert found["matched_by"] == matched_by
    assert [m["member_id"] for m in found["members"]] == [ids[who]]


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
@pytest.mark.slow
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


@pytest.mark.slow
def test_an_unknown_member_is_a_404_page_that_says_so(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    page = client.get("/members/m_nobody")
    assert page.status_code == 404
    assert "No member with id m_nobody" in page.text and 'href="/members"' in page.text
    api = client.get("/api/v1/console/members/m_nobody")
    assert (api.status_code, api.json()["code"]) == (404, "MEMBER_NOT_FOUND")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.slow
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


@pytest.mark.slow
def test_viewer_may_not_open_the_audit_log_and_admin_may(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    assert client.get("/audit").status_code == 403
    client.cookies.clear()
    login(client, "admin@shop.cn")
    page = client.get("/audit")
    assert page.status_code == 200 and 'id="audit-chain" data-ok="true"' in page.text


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- the member list ----------------------------------------------------------------------

SNAPSHOT = date(2025, 6, 1)


def _listed(ws: Workspace, ids: dict[str, str]) -> list[dict[str, Any]]:
    """A hand-made refresh of 2025-06-01: Zhang and Li (real records, for masking) and
    58 made-up members h00..h57 whose values repeat often, so sorting must break many
    ties on member_id; saved segment ``vip`` holds Zhang and every third made-up member.
    Returns the members as the list should know them."""
    rows = [
        {"member_id": ids["zhang"], "clv": 500.0, "risk": 0.2, "recency": 5, "tier": "Gold",
         "stage": "active", "vip": True},
        {"member_id": ids["li"], "clv": 120.0, "risk": 0.9, "recency": 40, "tier": "Silver",
         "stage": "at_risk", "vip": False},
    ]  # fmt: skip
    for i in range(58):
        scored = i % 10 != 9  # every tenth has no prediction: sorted last either way
        rows.append({
            "member_id": f"h{i:02d}", "clv": float(i % 7 * 50) if scored else None,
            "risk": (i % 5) / 5 if scored else None, "recency": None if i % 11 == 0 else i % 13,
            "tier": ("Gold", "Silver", "Bronze")[i % 3], "stage": ("active", "at_risk")[i % 2],
            "vip": i % 3 == 0,
        })  # fmt: skip
    wh = ws.warehouse
    predict.ensure_predictions_table(wh)
    segment.ensure_segment_tables(wh)
    wh.execute(
        "CREATE TABLE member_features (snapshot_date DATE, member_id VARCHAR, tier VARCHAR, "
        "recency_days BIGINT, frequency BIGINT, monetary DECIMAL(18,2))"
    )
    for r in rows:
        wh.execute(
            "INSERT INTO member_features VALUES (?, ?, ?, ?, 1, 10)",
            [SNAPSHOT, r["member_id"], r["tier"], r["recency"]],
        )
        wh.execute("INSERT INTO member_lifecycle VALUES (?, ?, ?)",
                   [SNAPSHOT, r["member_id"], r["stage"]])  # fmt: skip
        if r["clv"] is not None:
            wh.execute(
                "INSERT INTO member_predictions (snapshot_date, member_id, clv, churn_risk) "
                "VALUES (?, ?, ?, ?)",
                [SNAPSHOT, r["member_id"], r["clv"], r["risk"]],
            )
        if r["vip"]:
            wh.execute("INSERT INTO segment_members VALUES (?, 'vip', ?)",
                       [SNAPSHOT, r["member_id"]])  # fmt: skip
    book = ws.tag_book()
    segment.save_segment(ws.state, lambda names: segment.segment_catalogue(book, names),
                         name="vip", rule="frequency >= 1", actor="t")  # fmt: skip
    return rows


def _reference(rows: list[dict[str, Any]], key: str, descending: bool) -> list[str]:
    """Plain Python: by ``key`` (nulls last whichever the direction), ties on member_id."""
    known = sorted((r for r in rows if r[key] is not None), key=lambda r: r["member_id"])
    known.sort(key=lambda r: r[key], reverse=descending)  # stable: ids stay in order
    return [r["member_id"] for r in known] + sorted(r["member_id"] for r in rows if r[key] is None)


@pytest.fixture
def listed(
    workspace_dir: Path, ids: dict[str, str]
) -> Iterator[tuple[TestClient, list[dict[str, Any]]]]:
    with Workspace.open(workspace_dir) as ws:
        rows = _listed(ws, ids)
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as c:
        yield c, rows


def _all_pages(client: TestClient, **query: Any) -> list[str]:
    """Member ids of every page of the JSON twin, in order."""
    found, page = [], 1
    while True:
        answer = client.get("/api/v1/console/member-list",
                            params={**query, "page": page, "size": 25}).json()  # fmt: skip
        found += [m["member_id"] for m in answer["members"]]
        if page >= answer["pages"]:
            return found
        page += 1


@pytest.mark.parametrize(
    ("sort", "order", "key", "descending"),
    [
        ("value", None, "clv", True),  # the most valuable first
        ("value", "asc", "clv", False),
        ("risk", None, "risk", True),  # the riskiest first
        ("recency", None, "recency", False),  # the latest buyers first
        ("recency", "desc", "recency", True),
    ],
)
@pytest.mark.slow
def test_the_member_list_sorts_with_nulls_last_and_ties_on_member_id_across_pages(
    listed: tuple[TestClient, list[dict[str, Any]]],
    sort: str,
    order: str | None,
    key: str,
    descending: bool,
) -> None:
    client, rows = listed
    login(client, "viewer@shop.cn")
    query = {"sort": sort, **({"order": order} if order else {})}
    expected = _reference(rows, key, descending)
    assert len(expected) == 60
    assert _all_pages(client, **query) == expected  # 25 + 25 + 10: no overlap, no gap
    page = client.get("/members", params={**query, "size": 25, "page": 2}).text
    shown = re.findall(r'<tr data-member-id="([^"]+)">', page)
    assert shown == expected[25:50]
    assert 'id="page-of" data-page="2" data-pages="3"' in page


@pytest.mark.slow
def test_the_member_list_filters_by_segment_tier_and_stage(
    listed: tuple[TestClient, list[dict[str, Any]]],
) -> None:
    client, rows = listed
    login(client, "marketer@shop.cn")
    for query, keep in (
        ({"segment": "vip"}, lambda r: r["vip"]),
        ({"tier": "Silver"}, lambda r: r["tier"] == "Silver"),
        ({"stage": "at_risk"}, lambda r: r["stage"] == "at_risk"),
        ({"segment": "vip", "tier": "Gold", "stage": "active"},
         lambda r: r["vip"] and r["tier"] == "Gold" and r["stage"] == "active"),
        ({"segment": "", "tier": "", "stage": ""}, lambda r: True),  # the form's "any"
    ):  # fmt: skip
        expected = _reference([r for r in rows if keep(r)], "clv", True)
        answer = client.get("/api/v1/console/member-list", params=query).json()
        assert answer["total"] == len(expected), query
        assert [m["member_id"] for m in answer["members"]] == expected[:50], query
    page = client.get("/members", params={"segment": "vip", "tier": "Gold"}).text
    assert re.search(r'id="list-total" data-total="(\d+)"', page).group(1) == str(  # type: ignore[union-attr]
        sum(1 for r in rows if r["vip"] and r["tier"] == "Gold")
    )
    assert '<option translate="no" selected>vip</option>' in page
    assert '<option value="Gold" selected>Gold</option>' in page
    data = client.get("/api/v1/console/member-list").json()
    assert data["segments"] == ["vip"] and data["tiers"] == ["Bronze", "Gold", "Silver"]
    # the configured stages in their order, then the others the snapshot holds
    assert data["stages"] == ["new", "lapsed", "at_risk", "mature", "growing", "active"]
    # A segment that is not saved: a problem for the API, a page that says what to do.
    wrong = client.get("/api/v1/console/member-list", params={"segment": "nobody"})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "BAD_SEGMENT")
    page = client.get("/members", params={"segment": "nobody"})
    assert page.status_code == 422 and 'data-code="BAD_SEGMENT"' in page.text


@pytest.mark.slow
def test_the_member_list_is_masked_for_every_role_and_audits_nothing(
    listed: tuple[TestClient, list[dict[str, Any]]], ids: dict[str, str]
) -> None:
    client, _ = listed
    login(client, "admin@shop.cn")  # holds pii:read: the list stays masked all the same
    page = client.get("/members").text
    _no_clear_value(page)
    row = page.split(f'<tr data-member-id="{ids["zhang"]}">', 1)[1].split("</tr>", 1)[0]
    assert "张***" in row and mask_phone("+8613812345678") in row and "上海" in row
    first = client.get("/api/v1/console/member-list").json()["members"][0]
    assert (first["member_id"], first["name"], first["sources"]) == (
        ids["zhang"], "张***", ["app", "pos"],
    )  # fmt: skip
    assert _views(client) == []
    # Column heads sort; the current one turns the order round.
    links = dict(re.findall(r'href="([^"]+)" id="sort-(\w+)"', page))
    assert {v: html.unescape(k) for k, v in links.items()} == {
        "value": "/members?size=50&sort=value&order=asc&page=1",
        "risk": "/members?size=50&sort=risk&page=1",
        "recency": "/members?size=50&sort=recency&page=1",
    }


@pytest.mark.slow
def test_the_member_list_speaks_chinese_and_waits_for_a_refresh(
    listed: tuple[TestClient, list[dict[str, Any]]], workspace_dir: Path, tmp_path: Path
) -> None:
    client, _ = listed
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    viewer = next(u for u in accounts.list_users(ws.state) if u.role is Role.VIEWER)
    accounts.set_locale(ws.state, user_id=viewer.user_id, locale="zh-CN")
    login(client, "viewer@shop.cn")
    page = client.get("/members").text
    assert "全部会员" in page and "第 1 / 2 页" in page and "位会员符合条件" in page
    assert "下一页" in page and "距上次购买天数" in page


@pytest.mark.slow
def test_before_a_refresh_the_members_page_still_searches(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    page = client.get("/members").text
    assert 'id="member-search"' in page and 'id="no-list"' in page
    assert "memberlens refresh" in page
    assert client.get("/api/v1/console/member-list").json()["code"] == "NO_SNAPSHOT"

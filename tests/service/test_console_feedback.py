"""The console's feedback page, its JSON twin and the member page's feedback section.

A hand-made base of six members and nineteen feedback rows in Simplified Chinese,
Traditional Chinese and English, imported for real and read by one refresh as of
2025-06-01 (the built-in sentiment model), which puts every member in one tier. The
newest feedback is f19 (2025-05-29), read by that refresh, so the default 90 days run
from 2025-03-03 up to the refresh's cut-off 2025-06-01 and leave f18 (2024-12-01) out.
Counted by hand in that window: 18 feedback, 10 with text; ten NPS answers
10 9 9 8 7 6 3 10 0 9 (five promoters, two passives, three detractors: NPS 20), six of
them in the app (10 9 9 8 7 6: NPS 33.3) and four on the web (too few for a group);
four ratings 1 2 5 4 (CSAT 50 %, mean 3). Nine texts name the delivery aspect (f01–f06,
f12, f15, f19), the most named one. f19 holds a mobile number the member typed, which
is not the number of their member record.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, audit, identity, pipeline, privacy, profile, text
from memberlens.accounts import Role
from memberlens.privacy import KeyRing
from memberlens.service import create_app
from memberlens.workspace import Workspace, init_workspace
from tests.ingest.helpers import run, write
from tests.service.test_console import PASSWORD, login

AS_OF = date(2025, 6, 1)
TYPED = "13987654321"  # the mobile number f19's text holds
MEMBERS = """source,source_member_key,name,phone,city
pos,p1,张伟,13812345678,上海
pos,p2,李娜,13900139000,北京
pos,p3,王芳,13700137000,上海
pos,p4,Tom Smith,13600136000,北京
pos,p5,陈静,13500135000,上海
pos,p6,Ann Lee,13400134000,北京
"""
HEADER = "feedback_id,source,source_member_key,kind,occurred_at,rating,nps,text,product_id,channel"
FEEDBACK = f"""{HEADER}
f01,pos,p1,complaint,2025-05-28T09:00:00Z,,,送餐太慢了，等了两个小时，饭都凉了,sku1,app
f02,pos,p2,review,2025-05-20T09:00:00Z,1,,配送太慢，骑手态度也很差,sku1,app
f03,pos,p3,review,2025-05-10T09:00:00Z,2,,送餐員遲到了一個多小時，太失望了,sku2,app
f04,pos,p4,complaint,2025-04-15T09:00:00Z,,,The delivery was late and the courier rude,sku2,web
f05,pos,p5,review,2025-04-20T09:00:00Z,5,,味道很好，送餐也快,sku3,app
f06,pos,p6,review,2025-05-05T09:00:00Z,4,,"Great taste, fast delivery",sku3,web
f07,pos,p1,survey,2025-05-02T09:00:00Z,,10,,,app
f08,pos,p2,survey,2025-05-02T09:00:00Z,,9,,,app
f09,pos,p3,survey,2025-05-03T09:00:00Z,,9,,,app
f10,pos,p4,survey,2025-05-03T09:00:00Z,,8,,,app
f11,pos,p5,survey,2025-05-04T09:00:00Z,,7,,,app
f12,pos,p6,survey,2025-05-04T09:00:00Z,,6,送货太慢,,app
f13,pos,p1,survey,2025-04-05T09:00:00Z,,3,,,web
f14,pos,p2,survey,2025-04-05T09:00:00Z,,10,,,web
f15,pos,p3,survey,2025-04-06T09:00:00Z,,0,外卖送到的时候全洒了，要求退款,,web
f16,pos,p4,survey,2025-04-06T09:00:00Z,,9,,,web
f17,pos,p5,consult,2025-05-15T09:00:00Z,,,请问会员积分怎么用？,,app
f18,pos,p6,complaint,2024-12-01T09:00:00Z,,,送餐超时一个小时,sku1,app
f19,pos,p1,complaint,2025-05-29T09:00:00Z,,,骑手送餐太慢了请打{TYPED}找我,sku2,app
"""
DELIVERY = {"f01", "f02", "f03", "f04", "f05", "f06", "f12", "f15", "f19"}
IN_WINDOW = [f"f{i:02d}" for i in range(1, 20) if i != 18]


@dataclass(frozen=True)
class Base:
    root: Path
    keys: str
    members: dict[str, str]  # source key -> member id
    insights: dict[str, dict[str, Any]]  # feedback id -> its feedback_insights row
    tier: str  # every member's tier in the refresh's snapshot


def build_feedback(root: Path, keys: str) -> Base:
    """The base at ``root`` (key ring ``keys``), read by one refresh, and a user per
    role (``<role>@shop.cn``); the browser tier serves it too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        init_workspace(root)
        with Workspace.open(root) as ws:
            for kind, body in (("members", MEMBERS), ("feedback", FEEDBACK)):
                found = run(ws, kind, write(root.parent / f"{kind}.csv", body))
                assert (found.loaded, found.quarantined) == (len(body.splitlines()) - 1, 0)
            identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
            pipeline.refresh(ws, as_of=AS_OF)
            for role in Role:
                accounts.create_user(ws.state, email=f"{role.value}@shop.cn", role=role,
                                     actor="t", password=PASSWORD)  # fmt: skip
            members = dict(
                ws.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map")
            )
            cols = ("feedback_id", "sentiment", "sentiment_label", "complaint", "aspects")
            rows = ws.warehouse.fetch_all(f"SELECT {', '.join(cols)} FROM {text.INSIGHTS_TABLE}")
            tiers = ws.warehouse.fetch_all("SELECT DISTINCT tier FROM member_tiers")
    assert len(tiers) == 1
    insights = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    return Base(root, keys, members, insights, tiers[0][0])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return build_feedback(tmp_path_factory.mktemp("feedback") / "ws", KeyRing.generate().to_json())


@pytest.fixture
def client(base: Base, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("MEMBERLENS_KEYS", base.keys)
    with TestClient(create_app(base.root, flush_interval=3600)) as c:
        yield c


def _nps_interval(promoters: int, passives: int, detractors: int) -> tuple[float, float]:
    """The adjusted Wald interval (docs/text.md), worked out here from its formula."""
    n = promoters + passives + detractors + 3
    p, d = (promoters + 0.75) / n, (detractors + 0.75) / n
    half = NormalDist().inv_cdf(0.975) * math.sqrt((p + d - (p - d) ** 2) / n)
    return 100 * (p - d - half), 100 * (p - d + half)


def _value(page: str, element: str) -> str:
    found = re.search(rf'id="{element}"[^>]*>([^<]*)<', page)
    assert found, element
    return html.unescape(found.group(1)).strip()


def _rows(page: str, table: str, key: str) -> list[str]:
    body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [html.unescape(v) for v in re.findall(rf'<tr data-{key}="([^"]+)"', body)]


@pytest.mark.slow
def test_the_headline_numbers_and_the_nps_are_the_hand_counts(
    client: TestClient, base: Base
) -> None:
    login(client, "viewer@shop.cn")
    data = client.get("/api/v1/console/feedback").json()
    page = client.get("/feedback").text
    assert (data["code"], data["days"], data["period"], data["model"]) == (
        "OK", 90, "month", "sentiment v1",
    )  # fmt: skip
    r = data["report"]
    assert (r["since"], r["cutoff"]) == ("2025-03-03T00:00:00", "2025-06-01T00:00:00")
    assert (r["feedback"], r["with_text"]) == (18, 10)
    assert r["by_kind"] == {"complaint": 3, "consult": 1, "review": 4, "survey": 10}
    read = [base.insights[f] for f in IN_WINDOW]
    assert r["negative"] == sum(i["sentiment_label"] == "negative" for i in read)
    assert r["complaints"] == sum(bool(i["complaint"]) for i in read) >= 3  # 3 of kind complaint
    nps = r["nps"]["overall"]
    assert (nps["n"], nps["promoters"], nps["passives"], nps["detractors"]) == (10, 5, 2, 3)
    assert nps["nps"] == pytest.approx(20.0)
    assert (nps["low"], nps["high"]) == pytest.approx(_nps_interval(5, 2, 3))
    tiers = {g["group"]: g["result"]["n"] for g in r["nps"]["by"]["tier"]}
    assert tiers == {base.tier: 10}
    channels = {g["group"]: g["result"] for g in r["nps"]["by"]["channel"]}
    assert list(channels) == ["app"]  # web has four answers, fewer than five
    assert channels["app"]["nps"] == pytest.approx(100 * (3 - 1) / 6)
    csat = r["csat"]["overall"]
    assert (csat["n"], csat["satisfied"], csat["csat"], csat["mean"]) == (4, 2, 50.0, 3.0)
    assert [(p["start"], p["result"]["n"]) for p in r["nps"]["trend"]] == [
        ("2025-04-01", 4), ("2025-05-01", 6),
    ]  # fmt: skip
    assert sum(p["count"] for p in r["sentiment_trend"]) == 10
    # The page shows the same figures.
    assert _value(page, "fb-total") == "18" and _value(page, "fb-with-text") == "10"
    assert _value(page, "fb-negative") == str(r["negative"])
    assert _value(page, "fb-complaints") == str(r["complaints"])
    assert _value(page, "nps-overall") == "20.0"
    low, high = _nps_interval(5, 2, 3)
    assert _value(page, "nps-interval").endswith(f"[{low:.1f}, {high:.1f}]")
    assert _value(page, "csat-overall") == "50.0%"
    assert _rows(page, "groups-channel", "group") == ["app"]
    assert _rows(page, "groups-tier", "group") == [base.tier]
    assert 'id="no-groups-segment"' in page  # no saved segment
    for chart in ("sentiment-trend", "nps-trend"):
        assert f'id="{chart}"' in page
    assert '<script src="/static/plotly.min.js">' in page and 'id="nav-feedback"' in page


def test_the_top_pain_point_is_delivery_with_its_quotes(client: TestClient, base: Base) -> None:
    login(client, "marketer@shop.cn")
    data = client.get("/api/v1/console/feedback").json()["report"]
    page = client.get("/feedback").text
    top = data["pain_points"][0]
    assert (top["name"], top["mentions"], top["code"]) == ("delivery", len(DELIVERY), "OK")
    assert top["share"] == pytest.approx(0.9)
    assert 1 <= len(top["quotes"]) <= 3
    assert {q["feedback_id"] for q in top["quotes"]} <= DELIVERY
    shown = [p["name"] for p in data["pain_points"] if p["mentions"]]
    assert _rows(page, "pain-points", "aspect") == shown
    row = page.split('<tr data-aspect="delivery"', 1)[1].split("</tr>", 1)[0]
    for quote in top["quotes"]:
        assert f'<q translate="no">{html.escape(quote["clause"], quote=False)}</q>' in row
        assert f'data-feedback="{quote["feedback_id"]}"' in row
        assert quote["occurred_at"][:10] in row
        if quote["product_id"]:
            assert f'href="/recommendations/similar?product={quote["product_id"]}"' in row
    # The Traditional review reads as Simplified; the products most complained about
    # link to the similar-items explorer.
    assert "送餐員" not in json.dumps(data, ensure_ascii=False)
    assert data["products"] and data["products"][0]["negative"] >= 1
    worst = data["products"][0]["product_id"]
    assert _rows(page, "worst-products", "product")[0] == worst
    assert f'href="/recommendations/similar?product={worst}"' in page
    assert data["keywords"] and 'id="keywords"' in page


def test_the_window_and_the_period_follow_the_query(client: TestClient) -> None:
    login(client, "analyst@shop.cn")
    year = client.get("/api/v1/console/feedback", params={"days": 365}).json()["report"]
    assert year["feedback"] == 19 and year["by_kind"]["complaint"] == 4  # f18 too
    week = client.get("/api/v1/console/feedback", params={"days": 7, "period": "week"}).json()
    # 2025-05-25 up to 2025-06-01: f01 and f19, in the week of Monday 2025-05-26.
    assert (week["period"], week["report"]["feedback"]) == ("week", 2)
    assert [p["start"] for p in week["report"]["sentiment_trend"]] == ["2025-05-26"]
    page = client.get("/feedback", params={"days": 7, "period": "week"}).text
    assert '<option value="7" selected>' in page and '<option value="week" selected>' in page
    for bad in ({"days": 6}, {"days": 3651}, {"period": "day"}):
        assert client.get("/api/v1/console/feedback", params=bad).status_code == 422
        assert client.get("/feedback", params=bad).status_code == 422


def test_the_feedback_page_names_nobody_and_masks_typed_contacts(
    client: TestClient, base: Base
) -> None:
    login(client, "privacy_officer@shop.cn")  # even with pii:read
    for answer in (client.get("/feedback"), client.get("/api/v1/console/feedback?days=365")):
        assert answer.status_code == 200
        named = [v for v in ("张伟", "李娜", "Tom Smith", "13812345678", TYPED,
                             *base.members.values()) if v in answer.text]  # fmt: skip
        assert named == []


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (f"请打{TYPED}找我", "请打139****4321找我"),
        ("电话 +86 139-8765-4321", "电话 139****4321"),
        ("电话 0086 13987654321。", "电话 139****4321。"),
        ("mail Zhang.Wei@Example.com now", "mail Z***@Example.com now"),
        ("call +44 7911 123456", "call +44******3456"),
        # dates, amounts and order numbers are not contacts
        ("订单 20250501123456 于 2025-05-01 退款 139.00 元", None),
        ("order 13800001111222 late", None),
        ("", None),
    ],
)
def test_mask_contacts_masks_addresses_and_phone_numbers(written: str, shown: str | None) -> None:
    assert privacy.mask_contacts(written) == (written if shown is None else shown)


def test_the_member_page_lists_the_members_feedback_with_its_reading(
    client: TestClient, base: Base
) -> None:
    zhang = base.members["p1"]
    login(client, "viewer@shop.cn")
    page = client.get(f"/members/{zhang}").text
    answer = client.get(f"/api/v1/console/members/{zhang}").json()
    # p1 gave f19, f01, f07 and f13, newest first.
    assert _rows(page, "member-feedback", "feedback") == ["f19", "f01", "f07", "f13"]
    rows = {r["feedback_id"]: r for r in answer["profile"]["feedback"]}
    assert list(rows) == ["f19", "f01", "f07", "f13"]
    for fid, row in rows.items():
        read = base.insights[fid]
        assert row["sentiment"] == read["sentiment"]
        assert row["sentiment_label"] == read["sentiment_label"]
        assert row["complaint"] == read["complaint"]
        assert row["aspects"] == (json.loads(read["aspects"]) if read["aspects"] else None)
        label = read["sentiment_label"] or ""
        complaint = "true" if read["complaint"] else "false"
        assert f'data-feedback="{fid}" data-sentiment="{label}" data-complaint="{complaint}"' in (
            page
        )
    assert rows["f07"]["nps"] == 10 and rows["f07"]["sentiment"] is None  # no text
    assert "delivery" in rows["f19"]["aspects"]
    # The last sentiment is f19's, the newest feedback with text.
    last = base.insights["f19"]
    found = re.search(r'id="last-sentiment" data-label="(\w+)">([^<]+)<', page)
    assert found and found.groups() == (last["sentiment_label"], f"{last['sentiment']:+.2f}")
    # The number the member typed is masked for a role without pii:read, everywhere.
    assert "骑手送餐太慢了请打139****4321找我" in page
    assert TYPED not in page and TYPED not in json.dumps(answer)
    assert 'data-aspect="delivery"' in page


def test_a_revealed_member_page_shows_the_text_as_written_and_is_audited(
    client: TestClient, base: Base
) -> None:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    before = len(audit.entries(ws.state, action=profile.VIEW_ACTION, limit=1000))
    login(client, "privacy_officer@shop.cn")
    page = client.get(f"/members/{base.members['p1']}").text
    assert f"骑手送餐太慢了请打{TYPED}找我" in page and 'data-revealed="true"' in page
    assert len(audit.entries(ws.state, action=profile.VIEW_ACTION, limit=1000)) == before + 1
    # Traditional text is shown as the member wrote it.
    assert "送餐員遲到了一個多小時" in client.get(f"/members/{base.members['p3']}").text


def test_the_page_needs_data_read_and_answers_while_a_job_holds_the_warehouse(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/feedback", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/v1/console/feedback").status_code == 401
    monkeypatch.setitem(accounts.ROLE_PERMISSIONS, Role.VIEWER, frozenset())
    login(client, "viewer@shop.cn")
    assert client.get("/feedback").status_code == 403
    assert client.get("/api/v1/console/feedback").json()["code"] == "FORBIDDEN"
    login(client, "marketer@shop.cn")
    gate = client.app.state.gate  # type: ignore[attr-defined]
    with gate.hold("refresh"):  # pages read the last completed refresh on their own
        assert client.get("/api/v1/console/feedback").status_code == 200
        assert client.get("/feedback").status_code == 200


def test_the_page_speaks_chinese(client: TestClient, base: Base) -> None:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    viewer = next(u for u in accounts.list_users(ws.state) if u.role is Role.VIEWER)
    accounts.set_locale(ws.state, user_id=viewer.user_id, locale="zh-CN")
    login(client, "viewer@shop.cn")
    page = client.get("/feedback").text
    assert "主要痛点" in page and "2025年6月1日 之前 90 天内" in page and "净推荐值" in page
    assert "最近一次情感" in client.get(f"/members/{base.members['p1']}").text


def test_before_a_refresh_the_page_says_what_to_do(workspace_dir: Path, tmp_path: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        accounts.create_user(ws.state, email="viewer@shop.cn", role="viewer", actor="t",
                             password=PASSWORD)  # fmt: skip
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "viewer@shop.cn")
        none = client.get("/api/v1/console/feedback").json()
        assert (none["code"], none["report"]) == ("NO_FEEDBACK", None)
        assert 'id="feedback-none"' in client.get("/feedback").text
        ws = client.app.state.workspace  # type: ignore[attr-defined]
        run(ws, "feedback", write(tmp_path / "feedback.csv", FEEDBACK))
        unread = client.get("/api/v1/console/feedback").json()
        page = client.get("/feedback").text
    assert (unread["code"], unread["model"], unread["report"]) == ("NOT_READ", None, None)
    assert 'id="feedback-not-read"' in page and "memberlens refresh" in page

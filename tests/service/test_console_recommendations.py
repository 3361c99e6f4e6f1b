"""The console's recommendation views: a member's lists on the member page, the
evaluation report, the similar-items explorer; and their JSON twins.

The shop of tests/recommend/test_serving.py (its answers worked out there by hand):
s1 bought c1 m1, s2 c1 m1 b1, s3 m1 b1 (Shanghai), x1 b2 b3, x2 b2 (Beijing); n0
(Shanghai) bought nothing. ``home`` is popularity (k 3): s1 gets b1 b2 c1, each
"popular: bought or viewed by 2 members"; n0 gets Shanghai's trending m1 b1 c1. The
item scenario ``similar`` (item-kNN) gives m1 the items bought with it, b1 and c1
("often chosen with Blue mug"). A fresh shop per test.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, identity, pipeline, recommend, registry
from memberlens.accounts import Role
from memberlens.privacy import KeyRing
from memberlens.service import create_app
from memberlens.workspace import Workspace, init_workspace
from tests.ingest.helpers import run, write
from tests.recommend.test_serving import AS_OF, MEMBERS, PRODUCTS, SCENARIOS, _orders
from tests.service.test_console import PASSWORD, login

EVALUATED = ("popularity", "category", "item_knn", "blend")
SHOP_LISTS = {  # scenario -> (members' own, fallbacks, item lists), counted by hand
    # five members with interactions; @all, both cities and both regions (2+ members)
    "home": (5, 5, 0),
    "auto": (5, 5, 0),
    "discover": (5, 5, 0),
    # every product bought with another: b1 b2 b3 c1 m1; and through content the
    # catalogue's others, never bought: c2 (like c1), m2 (like m1), n1 (the books)
    "similar": (0, 0, 8),
}


@dataclass(frozen=True)
class Shop:
    root: Path
    keys: str
    members: dict[str, str]  # source key -> member id


def build_shop(root: Path, keys: str, *, refresh: bool = True) -> Shop:
    """The shop at ``root`` (key ring ``keys``), one refresh unless told otherwise, and
    a user per role (``<role>@shop.cn``); the browser tier serves it too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        init_workspace(root)
        (root / "recommend.toml").write_text(SCENARIOS, encoding="utf-8")
        orders, lines = _orders()
        with Workspace.open(root) as ws:
            for kind, text in (
                ("products", PRODUCTS),
                ("members", MEMBERS),
                ("orders", orders),
                ("order_items", lines),
            ):
                assert run(ws, kind, write(root.parent / f"{kind}.csv", text)).quarantined == 0
            identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
            if refresh:
                pipeline.refresh(ws, as_of=AS_OF)
            for role in Role:
                accounts.create_user(ws.state, email=f"{role.value}@shop.cn", role=role,
                                     actor="t", password=PASSWORD)  # fmt: skip
            members = dict(
                ws.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map")
            )
    return Shop(root, keys, members)


def _client(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("MEMBERLENS_KEYS", shop.keys)
    with TestClient(create_app(shop.root, flush_interval=3600)) as c:
        yield c


@pytest.fixture(scope="module")
def _built_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """The shop built and refreshed once for the module; each test gets a copy."""
    return build_shop(tmp_path_factory.mktemp("shop") / "ws", KeyRing.generate().to_json())


@pytest.fixture
def shop(_built_shop: Shop, tmp_path: Path) -> Shop:
    """A copy of the module's shop: what a test writes (tokens, views, audit entries)
    stays its own, as when each test built one, at a copy's cost instead of a refresh."""
    shutil.copytree(_built_shop.root, tmp_path / "ws")
    return Shop(tmp_path / "ws", _built_shop.keys, dict(_built_shop.members))


@pytest.fixture
def client(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield from _client(shop, monkeypatch)


def _token(client: TestClient, *scopes: str) -> dict[str, str]:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    _, token = accounts.create_token(ws.state, name="app", scopes=list(scopes), actor="t")
    return {"Authorization": f"Bearer {token.secret}"}


def _block(page: str, marker: str, end: str) -> str:
    return page.split(marker, 1)[1].split(end, 1)[0]


def _products(fragment: str) -> list[str]:
    """The data-product keys of a fragment's rows, in order."""
    return re.findall(r'<tr data-product="([^"]+)"', fragment)


def _ids(served: dict[str, Any]) -> list[str]:
    return [i["product_id"] for i in served["items"]]


@pytest.mark.slow
def test_the_member_page_lists_each_member_scenario_with_its_reasons(
    client: TestClient, shop: Shop
) -> None:
    login(client, "analyst@shop.cn")
    s1, n0 = shop.members["s1"], shop.members["n0"]
    lists = client.get(f"/api/v1/console/members/{s1}").json()["recommendations"]
    assert client.get(f"/api/v1/members/{s1}").json()["recommendations"] == lists
    assert list(lists) == ["home", "auto", "discover"]  # member scenarios, not `similar`
    home = lists["home"]
    assert _ids(home) == ["b1", "b2", "c1"] and home["personalised"]
    assert home["lists"] == [s1]
    assert {i["reason"] for i in home["items"]} == {"popular: bought or viewed by 2 members"}
    assert [i["name"] for i in home["items"]] == ["Dune", "Emma", "Espresso beans"]
    # The same answer as the recommendations API gives an application.
    auth = _token(client, "recommendations:read")
    for name in ("home", "auto"):
        api = client.get(f"/api/v1/members/{s1}/recommendations?scenario={name}", headers=auth)
        assert api.json()["items"] == lists[name]["items"]

    page = client.get(f"/members/{s1}").text
    section = _block(page, 'id="rec-home"', "</section>")
    assert 'data-personalised="true"' in section and _products(section) == ["b1", "b2", "c1"]
    assert "popular: bought or viewed by 2 members" in section and "Espresso beans" in section
    assert "personalised: the member&#39;s own list" in section
    assert _products(_block(page, 'id="rec-auto"', "</section>")) == _ids(lists["auto"])
    assert 'href="/recommendations/similar?product=b1"' in section

    # Cold start: Shanghai's trending list, said so.
    cold = client.get(f"/api/v1/console/members/{n0}").json()["recommendations"]["home"]
    assert cold["lists"] == ["@city:Shanghai"] and _ids(cold) == ["m1", "b1", "c1"]
    section = _block(client.get(f"/members/{n0}").text, 'id="rec-home"', "</section>")
    assert 'data-list="@city:Shanghai"' in section
    assert "not personalised: trending in the city Shanghai" in section
    assert "popular in Shanghai" in section and _products(section) == ["m1", "b1", "c1"]


@pytest.mark.slow
def test_a_member_without_personalisation_consent_is_shown_the_list_for_everyone(
    client: TestClient, shop: Shop
) -> None:
    auth = _token(client, "consent:write")
    refusal = {"consents": [{"purpose": "personalisation", "granted": False}]}
    answer = client.post("/api/v1/members/pos/s1/consents", json=refusal, headers=auth)
    assert answer.status_code == 202, answer.text
    login(client, "viewer@shop.cn")
    s1 = shop.members["s1"]
    home = client.get(f"/api/v1/console/members/{s1}").json()["recommendations"]["home"]
    # Trending everywhere (5 a purchase): m1 15, then b1 b2 c1 10 each.
    assert (home["lists"], home["consent_code"], _ids(home)) == (
        ["@all"],
        "WITHDRAWN",
        ["m1", "b1", "b2"],
    )
    section = _block(client.get(f"/members/{s1}").text, 'id="rec-home"', "</section>")
    assert "not personalised: trending everywhere" in section
    assert "the member has not consented to personalisation" in section


@pytest.mark.slow
def test_the_evaluation_page_says_what_auto_is_and_shows_a_registered_evaluation(
    client: TestClient,
) -> None:
    login(client, "analyst@shop.cn")
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    chosen = registry.get_model(ws.state, recommend.MODEL)
    before = client.get("/api/v1/console/recommendations").json()
    page = client.get("/recommendations").text
    auto = before["auto"]
    assert (auto["algorithm"], auto["version"], auto["chosen_by"]) == (
        chosen.params["algorithm"],
        1,
        "refresh",
    )
    assert auto["validation_ndcg"] == chosen.metrics["validation_ndcg_at_10"]
    assert f'data-algorithm="{auto["algorithm"]}" data-version="1" data-chosen-by="refresh"' in page
    assert before["evaluation"] is None and 'id="evaluation-empty"' in page
    assert "memberlens recommend evaluate" in page and 'id="ndcg-chart"' not in page
    assert 'id="nav-recommendations"' in page
    # Each scenario with its lists in the snapshot, counted by hand.
    assert before["snapshot_date"] == AS_OF.isoformat()
    shown = {s["name"]: s for s in before["scenarios"]}
    for name, (own, fallback, item) in SHOP_LISTS.items():
        s = shown[name]
        assert (s["member_lists"], s["fallback_lists"], s["item_lists"]) == (own, fallback, item)
        assert f'<tr data-scenario="{name}">' in page
        assert f'data-lists="{own + fallback + item}"' in _block(page, f'data-scenario="{name}"',
                                                                 "</tr>")  # fmt: skip
    assert shown["auto"]["serves"] == f"{auto['algorithm']} v1"
    assert shown["auto"]["snapshot_algorithms"] == [f"{auto['algorithm']} v1"]
    assert (shown["home"]["k"], shown["home"]["mmr_lambda"], shown["home"]["novelty_share"]) == (
        3,
        1.0,
        0.0,
    )

    # A real evaluation on the shop's interactions, registered: auto follows it.
    data = recommend.load_interactions(ws.warehouse)
    result = recommend.evaluate(data, k=3, algorithms=EVALUATED, rounds=200)
    entry = recommend.register_evaluation(ws.state, ws.root, result, data)
    after = client.get("/api/v1/console/recommendations").json()
    page = client.get("/recommendations").text
    default = result["default"]
    assert after["auto"]["algorithm"] == default and after["auto"]["version"] == entry.version
    assert after["auto"]["chosen_by"] == "evaluate"
    assert 'data-chosen-by="evaluate"' in page and 'id="evaluation-empty"' not in page
    report = after["evaluation"]
    assert (report["k"], report["default"]) == (3, default)
    assert [r["name"] for r in report["algorithms"]] == list(EVALUATED)
    table = _block(page, 'id="evaluation-table"', "</table>")
    assert re.findall(r'<tr data-algorithm="([^"]+)"', table) == list(EVALUATED)
    for row in report["algorithms"]:
        truth = result["algorithms"][row["name"]]
        assert row["metrics"]["ndcg"] == truth["ndcg"] and row["ci"]["ndcg"] == truth["ci"]["ndcg"]
        assert row["default"] is (row["name"] == default)
        cells = _block(table, f'data-algorithm="{row["name"]}"', "</tr>")
        low, high = truth["ci"]["ndcg"]
        ndcg = _block(cells, 'data-metric="ndcg">', "</td>")
        assert ndcg.startswith(f"{truth['ndcg']:.4f}") and f"[{low:.4f}, {high:.4f}]" in ndcg
        if row["name"] == "popularity":
            assert row["versus_popularity"] is None
            continue
        versus = result["versus_popularity"][row["name"]]
        assert row["versus_popularity"] == versus
        assert f"{versus['mean']:+.4f}" in _block(cells, 'class="num versus">', "</td>")
    assert 'class="default"' in _block(table, f'data-algorithm="{default}"', ">")
    assert 'id="ndcg-chart"' in page and '<script src="/static/plotly.min.js">' in page


@pytest.mark.slow
def test_the_similar_items_explorer_follows_the_lists(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    found = client.get("/api/v1/console/recommendations/similar?product=m1").json()
    assert (found["scenario"], found["scenarios"], found["product"]) == ("similar", ["similar"],
                                                                         "m1")  # fmt: skip
    assert found["anchor"] == {"product_id": "m1", "name": "Blue mug", "category": "mugs",
                               "price": 12.0, "in_stock": True}  # fmt: skip
    similar = found["similar"]
    assert set(_ids(similar)) == {"b1", "c1"} and similar["lists"] == ["@item:m1"]
    assert {i["reason"] for i in similar["items"]} == {"often chosen with Blue mug"}
    # Starting points: products in the most lists of the snapshot, each with a list of
    # its own in `similar` — checked against a count over the warehouse.
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    counted = ws.warehouse.fetch_all(
        "SELECT product_id, count(DISTINCT list_id) AS n FROM recommendations "
        "WHERE '@item:' || product_id IN (SELECT list_id FROM recommendations "
        "WHERE scenario = 'similar') GROUP BY 1 ORDER BY n DESC, product_id LIMIT 10"
    )
    assert [(s["product_id"], s["lists"]) for s in found["starters"]] == counted
    # every product in a list (c2, out of stock, is in none) that has a list of its own
    assert {s["product_id"] for s in found["starters"]} == {
        "b1", "b2", "b3", "c1", "m1", "m2", "n1"
    }  # fmt: skip

    page = client.get("/recommendations/similar?product=m1").text
    table = _block(page, 'id="similar"', "</table>")
    assert _products(table) == _ids(similar)
    heading = re.sub(r"<[^>]+>", "", page.split('id="similar-heading">', 1)[1].split("</h3>")[0])
    assert "often chosen with Blue mug" in table and "Similar to Blue mug" in heading
    link = "/recommendations/similar?product=b1&amp;scenario=similar"
    assert f'href="{link}"' in table
    # The link leads to b1's own list: bought with c1 (s2) and with m1 (s2, s3).
    followed = client.get(html.unescape(link)).text
    assert set(_products(_block(followed, 'id="similar"', "</table>"))) == {"c1", "m1"}
    starters = _block(page, 'id="starters"', "</ul>")
    assert re.findall(r'<li data-product="([^"]+)"', starters) == [p for p, _ in counted]


@pytest.mark.slow
def test_stock_shows_on_the_explorer_at_once(client: TestClient) -> None:
    auth = _token(client, "products:write")
    sold_out = {"product_id": "c1", "name": "Espresso beans", "category": "coffee",
                "in_stock": False}  # fmt: skip
    assert client.post("/api/v1/products", json=sold_out, headers=auth).status_code == 202
    login(client, "marketer@shop.cn")
    found = client.get("/api/v1/console/recommendations/similar?product=m1").json()
    assert _ids(found["similar"]) == ["b1"]  # c1 is out of stock now: left out
    # c2 is out of stock in the catalogue; its only neighbour, c1, is out of stock now.
    page = client.get("/recommendations/similar?product=c2").text
    assert 'id="anchor-facts" data-in-stock="false"' in page and "out of stock" in page
    assert 'id="no-similar"' in page


@pytest.mark.slow
def test_a_wrong_scenario_is_named(client: TestClient) -> None:
    login(client, "viewer@shop.cn")
    for scenario, status, code in (("home", 422, "SCENARIO_KIND"),
                                   ("nope", 404, "UNKNOWN_SCENARIO")):  # fmt: skip
        query = f"?product=m1&scenario={scenario}"
        answer = client.get("/api/v1/console/recommendations/similar" + query)
        assert (answer.status_code, answer.json()["code"]) == (status, code)
        assert "similar" in answer.json()["detail"]  # the item scenarios, named
        page = client.get("/recommendations/similar" + query)
        assert page.status_code == status and f'data-code="{code}"' in page.text


@pytest.mark.slow
def test_before_any_refresh_every_view_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = build_shop(tmp_path / "ws", KeyRing.generate().to_json(), refresh=False)
    for client in _client(shop, monkeypatch):
        login(client, "viewer@shop.cn")
        member = shop.members["s1"]
        lists = client.get(f"/api/v1/console/members/{member}").json()["recommendations"]
        page = client.get(f"/members/{member}").text
        report = client.get("/api/v1/console/recommendations").json()
        report_page = client.get("/recommendations").text
        found = client.get("/api/v1/console/recommendations/similar?product=m1").json()
        similar_page = client.get("/recommendations/similar?product=m1").text
    assert {name: (s["items"], s["lists"]) for name, s in lists.items()} == {
        "home": ([], []),
        "auto": ([], []),
        "discover": ([], []),
    }
    assert 'id="recommendations-empty"' in page and "memberlens refresh" in page
    assert report["auto"] is None and report["evaluation"] is None
    assert report["snapshot_date"] is None
    assert [(s["name"], s["lists"]) for s in report["scenarios"]] == [
        ("home", 0),
        ("auto", 0),
        ("discover", 0),
        ("similar", 0),
    ]
    for empty in ('id="auto-empty"', 'id="evaluation-empty"', 'id="no-lists"'):
        assert empty in report_page
    assert "memberlens recommend evaluate" in report_page
    assert found["starters"] == [] and found["similar"]["items"] == []
    assert 'id="no-similar"' in similar_page and 'id="no-lists"' in similar_page


@pytest.mark.slow
def test_the_views_speak_chinese(client: TestClient, shop: Shop) -> None:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    viewer = next(u for u in accounts.list_users(ws.state) if u.role is Role.VIEWER)
    accounts.set_locale(ws.state, user_id=viewer.user_id, locale="zh-CN")
    login(client, "viewer@shop.cn")
    assert "个性化：会员专属列表" in client.get(f"/members/{shop.members['s1']}").text
    assert "<code>auto</code>（自动选择）所代表的算法" in client.get("/recommendations").text
    similar = client.get("/recommendations/similar?product=m1").text
    assert "与“Blue mug”相似的商品" in re.sub(r"<[^>]+>", "", similar)
    assert "常与“Blue mug”一起选择" in similar  # the reasons too


@pytest.mark.slow
def test_the_views_need_data_read(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [
        "/recommendations",
        "/recommendations/similar?product=m1",
        f"/members/{shop.members['s1']}",
    ]
    apis = [
        "/api/v1/console/recommendations",
        "/api/v1/console/recommendations/similar?product=m1",
        f"/api/v1/console/members/{shop.members['s1']}",
    ]
    for path in paths:  # no session: to the login page
        assert client.get(path, follow_redirects=False).headers["location"] == "/login"
    for path in apis:
        assert client.get(path).status_code == 401
    # Every shipped role reads data; a role without data:read is refused.
    monkeypatch.setitem(accounts.ROLE_PERMISSIONS, Role.VIEWER, frozenset())
    login(client, "viewer@shop.cn")
    for path in paths + apis:
        assert client.get(path).status_code == 403, path
    login(client, "admin@shop.cn")
    for path in paths + apis:
        assert client.get(path).status_code == 200, path

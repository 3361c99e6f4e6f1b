"""Lists from refresh to the API, every answer worked out by hand.

Catalogue (sorted ids): b1 b2 b3 books, c1 c2 coffee (c2 out of stock), m1 m2 mugs,
n1 a new book nobody touched. Purchases (5 each, no decay): Shanghai s1 c1 m1, s2 c1
m1 b1, s3 m1 b1; Beijing x1 b2 b3, x2 b2. Member n0 (Shanghai) has none.

Popularity (distinct members): m1 3, b1 2, b2 2, c1 2, b3 1. For s1 (home, k 3): m1 is
bought and mugs are not repurchasable, coffee is — so b1 2, b2 2, c1 2 (ties to the
smaller id), then b3.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, identity, pipeline, recommend, registry
from memberlens.service import create_app
from memberlens.service.routers.recommendations import RecommendationsOut
from memberlens.workspace import Workspace
from tests.cli.test_cli import cli, json_of
from tests.ingest.helpers import run, write

PRODUCTS = """product_id,source,name,category,price,in_stock
b1,shop,Dune,books,20.00,true
b2,shop,Emma,books,15.00,true
b3,shop,Ulysses,books,25.00,true
c1,shop,Espresso beans,coffee,9.00,true
c2,shop,Filter beans,coffee,8.00,false
m1,shop,Blue mug,mugs,12.00,true
m2,shop,Red mug,mugs,12.00,true
n1,shop,New novel,books,18.00,true
"""
MEMBERS = """source,source_member_key,name,city,region
pos,s1,A,Shanghai,East
pos,s2,B,Shanghai,East
pos,s3,C,Shanghai,East
pos,x1,D,Beijing,North
pos,x2,E,Beijing,North
pos,n0,F,Shanghai,East
"""
BOUGHT = {
    "s1": ["c1", "m1"],
    "s2": ["c1", "m1", "b1"],
    "s3": ["m1", "b1"],
    "x1": ["b2", "b3"],
    "x2": ["b2"],
}
SCENARIOS = """
[defaults]
candidates = 10
half_life_days = 0
repurchasable = ["coffee"]
min_audience = 2

[scenarios.home]
algorithm = "popularity"
k = 3

[scenarios.auto]
algorithm = "auto"
k = 3

[scenarios.discover]
algorithm = "popularity"
k = 5
novelty_share = 0.5

[scenarios.similar]
anchor = "item"
algorithm = "item_knn"
k = 3
"""
AS_OF = date(2025, 6, 1)


def _orders() -> tuple[str, str]:
    orders = ["order_id,source,source_member_key,ordered_at,total_amount,status"]
    lines = ["source,order_id,line_no,product_id,quantity,amount"]
    for n, (key, products) in enumerate(sorted(BOUGHT.items())):
        orders.append(f"o{n},pos,{key},2025-05-0{n + 1}T10:00:00Z,10.00,completed")
        lines += [f"pos,o{n},{i + 1},{p},1,10.00" for i, p in enumerate(products)]
    return "\n".join(orders) + "\n", "\n".join(lines) + "\n"


@pytest.fixture
def shop(workspace_dir: Path, tmp_path: Path) -> Path:
    (workspace_dir / "recommend.toml").write_text(SCENARIOS, encoding="utf-8")
    orders, lines = _orders()
    with Workspace.open(workspace_dir) as ws:
        for kind, text in (
            ("products", PRODUCTS),
            ("members", MEMBERS),
            ("orders", orders),
            ("order_items", lines),
        ):
            assert run(ws, kind, write(tmp_path / f"{kind}.csv", text)).quarantined == 0
        identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
        pipeline.refresh(ws, as_of=AS_OF)
    return workspace_dir


@pytest.fixture
def api(shop: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Workspace.open(shop) as ws:
        _, token = accounts.create_token(
            ws.state,
            name="app",
            scopes=[
                "recommendations:read",
                "events:write",
                "orders:write",
                "products:write",
                "consent:write",
            ],
            actor="t",
        )
    with TestClient(create_app(shop, flush_interval=3600)) as client:
        yield client, {"Authorization": f"Bearer {token.secret}"}


def ask(client: TestClient, auth: dict[str, str], key: str, **params: Any) -> dict[str, Any]:
    answer = client.get(f"/api/v1/members/pos/{key}/recommendations", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, Any] = answer.json()
    return documented(body)


def documented(body: dict[str, Any]) -> dict[str, Any]:
    """``body``, after checking it is exactly the documented shape (the routes serialise
    their answers themselves, past FastAPI's response model)."""
    assert RecommendationsOut.model_validate(body, strict=True).model_dump(mode="json") == body
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["product_id"] for item in body["items"]]


@pytest.mark.slow
def test_a_member_gets_their_list_with_the_rules_applied(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    body = ask(client, auth, "s1", scenario="home")
    assert ids(body) == ["b1", "b2", "c1"]
    assert body["personalised"] and body["lists"] == [body["member_id"]]
    assert body["items"][0]["reason"] == "popular: bought or viewed by 2 members"
    assert body["items"][0]["name"] == "Dune" and body["items"][0]["category"] == "books"
    assert ids(ask(client, auth, "s1", scenario="home", k=5)) == ["b1", "b2", "c1", "b3"]


@pytest.mark.slow
def test_stock_and_just_bought_count_at_once(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    sold_out = {"product_id": "b2", "name": "Emma", "category": "books", "in_stock": False}
    assert client.post("/api/v1/products", json=sold_out, headers=auth).status_code == 202
    assert ids(ask(client, auth, "s1", scenario="home", k=5)) == ["b1", "c1", "b3"]
    purchases = [
        {"source": "pos", "source_member_key": "s1", "event_type": "purchase",
         "product_id": p, "occurred_at": "2025-06-01T08:00:00Z"}
        for p in ("b1", "c1")
    ]  # fmt: skip
    assert client.post("/api/v1/events", json=purchases, headers=auth).status_code == 202
    # b1 (a book) just bought: gone; c1 is coffee, repurchasable: stays.
    assert ids(ask(client, auth, "s1", scenario="home", k=5)) == ["c1", "b3"]
    # an order through the API counts too: x1's lines drop c1 for x1 (coffee stays)
    # and m1 (a mug: gone)
    order = {"source": "pos", "order_id": "api-1", "source_member_key": "x1",
             "ordered_at": "2025-06-01T09:00:00Z", "total_amount": "22.00",
             "items": [{"product_id": "m1", "quantity": 1, "unit_price": "12.00"},
                       {"product_id": "c1", "quantity": 1, "unit_price": "10.00"}]}  # fmt: skip
    answer = client.post("/api/v1/orders", json=order, headers=auth)
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text
    assert ids(ask(client, auth, "x1", scenario="home", k=3)) == ["b1", "c1"]
    # another member's list is untouched by s1's purchase
    assert "b1" not in ids(ask(client, auth, "s2", scenario="home", k=5))  # s2 owns b1
    assert ids(ask(client, auth, "x2", scenario="home", k=2)) == ["m1", "b1"]


@pytest.mark.slow
def test_no_personalisation_consent_gets_the_non_personalised_list(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    refusal = {"consents": [{"purpose": "personalisation", "granted": False}]}
    answer = client.post("/api/v1/members/pos/s1/consents", json=refusal, headers=auth)
    assert answer.status_code == 202, answer.text
    body = ask(client, auth, "s1", scenario="home")
    assert not body["personalised"] and body["lists"] == ["@all"]
    assert body["consent_code"] == "WITHDRAWN"
    # Trending everywhere (5 a purchase): m1 15, then b1 b2 c1 10 each.
    assert ids(body) == ["m1", "b1", "b2"]
    assert body["items"][0]["reason"] == "popular right now"


@pytest.mark.slow
def test_cold_start_members_get_their_city_and_strangers_everyone(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    body = ask(client, auth, "n0", scenario="home")
    # Shanghai's purchases: m1 15, b1 10, c1 10.
    assert body["lists"] == ["@city:Shanghai"] and not body["personalised"]
    assert ids(body) == ["m1", "b1", "c1"]
    assert body["items"][0]["reason"] == "popular in Shanghai"
    stranger = ask(client, auth, "nobody", scenario="home")
    assert stranger["member_id"] is None and stranger["lists"] == ["@all"]


@pytest.mark.slow
def test_new_items_enter_through_content_similarity(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    """m2 (a mug) and n1 (a book) are in the catalogue but nobody touched them; c2 is
    out of stock. s3 has m1 and b1: popularity offers b2 2, c1 2, b3 1; a new item
    scores half the member's best score (m1's 3) times its content similarity relative
    to the best new match — m2 (mugs, and "mug" in the name, like m1) 1.5, n1 (books
    only, like b1) less than b3's 1."""
    client, auth = api
    body = ask(client, auth, "s3", scenario="discover")
    assert ids(body) == ["b2", "c1", "m2", "b3", "n1"]
    reasons = {i["product_id"]: i["reason"] for i in body["items"]}
    assert reasons["m2"] == "new — like Blue mug" and reasons["n1"] == "new — like Dune"
    # No novelty share, no new items: home lists only what has evidence.
    assert "n1" not in ids(ask(client, auth, "s3", scenario="home", k=10))
    # A new item's similar items come from content: the other books, the more
    # popular first on equal similarity.
    answer = documented(client.get("/api/v1/products/n1/similar", headers=auth).json())
    assert ids(answer) == ["b1", "b2", "b3"]
    assert answer["items"][0]["reason"] == "similar to New novel"
    assert answer["items"][0]["algorithm"] == "content"


@pytest.mark.slow
def test_reasons_come_in_the_language_of_accept_language(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    """The same answers as above, asked in Chinese: the reasons' words change, their
    codes and parameters do not; any other language gets English."""
    client, auth = api
    zh = {**auth, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}

    def first(path: str, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        return documented(answer.json())["items"][0], answer.headers["content-language"]

    item, language = first("/api/v1/members/pos/s1/recommendations?scenario=home", zh)
    assert (item["reason"], language) == ("热门：2 位会员买过或看过", "zh-CN")
    assert (item["reason_code"], item["reason_params"]) == ("popular_with_count", {"count": 2})
    item, language = first("/api/v1/members/pos/s1/recommendations?scenario=home", auth)
    assert (item["reason"], language) == ("popular: bought or viewed by 2 members", "en")
    assert item["reason_code"] == "popular_with_count"
    item, _ = first("/api/v1/members/pos/n0/recommendations?scenario=home", zh)
    assert (item["reason"], item["reason_params"]) == ("Shanghai热门", {"place": "Shanghai"})
    item, _ = first("/api/v1/products/m1/similar", {**auth, "Accept-Language": "zh"})
    assert item["reason"] == "常与“Blue mug”一起选择"
    item, language = first("/api/v1/products/m1/similar", {**auth, "Accept-Language": "fr"})
    assert (item["reason"], language) == ("often chosen with Blue mug", "en")
    new = client.get("/api/v1/members/pos/s3/recommendations?scenario=discover", headers=zh)
    reasons = {i["product_id"]: i for i in documented(new.json())["items"]}
    assert reasons["m2"]["reason"] == "新品 — 与“Blue mug”相似"
    assert reasons["m2"]["reason_code"] == "new_item"
    assert reasons["m2"]["reason_params"] == {
        "reason": {"code": "like", "params": {"item": "Blue mug"}}
    }


@pytest.mark.slow
def test_similar_items_and_scenario_errors(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    answer = client.get("/api/v1/products/m1/similar", headers=auth)
    assert answer.status_code == 200, answer.text
    body = documented(answer.json())
    # m1 was bought with c1 (s1, s2) and b1 (s2, s3); never with b2 or b3.
    assert set(ids(body)) == {"c1", "b1"}
    assert body["items"][0]["reason"] == "often chosen with Blue mug"
    unknown = client.get("/api/v1/members/pos/s1/recommendations?scenario=nope", headers=auth)
    assert (
        unknown.status_code == 404 and "home, auto, discover, similar" in unknown.json()["detail"]
    )
    wrong = client.get("/api/v1/members/pos/s1/recommendations?scenario=similar", headers=auth)
    assert wrong.status_code == 422
    no_scope = client.get("/api/v1/members/pos/s1/recommendations")
    assert no_scope.status_code == 401


@pytest.mark.slow
def test_auto_is_chosen_on_validation_registered_and_kept(shop: Path) -> None:
    with Workspace.open(shop) as ws:
        entry = registry.get_model(ws.state, recommend.MODEL)
        assert entry.stage == "production" and entry.version == 1
        assert entry.params["algorithm"] in recommend.ALGORITHMS
        assert entry.metrics["chosen_by"] == "refresh"
        rows = ws.warehouse.fetch_all(
            "SELECT DISTINCT algorithm FROM recommendations WHERE scenario = 'auto' "
            "AND list_id NOT LIKE '@%'"
        )
        assert rows == [(f"{entry.params['algorithm']} v1",)]
        pipeline.refresh(ws, as_of=AS_OF, only=["recommendations"])
        assert [m.version for m in registry.list_models(ws.state, name=recommend.MODEL)] == [1]
        snapshot = ws.warehouse.fetch_all(
            "SELECT count(DISTINCT snapshot_date) FROM recommendations"
        )
        assert snapshot == [(1,)]


@pytest.mark.slow
def test_the_cli_shows_what_the_api_serves(shop: Path) -> None:
    with Workspace.open(shop) as ws:
        member = ws.warehouse.scalar(
            "SELECT member_id FROM member_map WHERE source_member_key = 's1'"
        )
    shown = json_of("recommend", "show", member, "-w", str(shop), "--scenario", "home",
                    schema="recommend-served")  # fmt: skip
    assert ids(shown) == ["b1", "b2", "c1"] and shown["personalised"]
    similar = json_of("recommend", "similar", "m1", "-w", str(shop), schema="recommend-served")
    assert similar["scenario"] == "similar" and set(ids(similar)) == {"c1", "b1"}
    wrong = cli("recommend", "show", member, "-w", str(shop), "--scenario", "similar")
    assert wrong.returncode == 2 and "item scenario" in wrong.stderr
    unknown = cli("recommend", "similar", "m1", "-w", str(shop), "--scenario", "nope")
    assert (
        unknown.returncode == 2
        and "the scenarios are: home, auto, discover, similar" in unknown.stderr
    )

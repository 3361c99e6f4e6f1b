"""The recommendation views in a real Chromium: the evaluation chart draws, the member
page lists what the JSON twin says, and the similar-items links lead from list to list
without a JavaScript error.

The session's small data set has no products, so this module serves its own
workspace: the shop of tests/service/test_console_recommendations.py, refreshed, with
a real evaluation of four algorithms registered (what ``auto`` stands for).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from memberlens import recommend
from memberlens.workspace import Workspace
from tests.browser.helpers import (
    assert_clean,
    email_of,
    expect_charts,
    log_in,
    save_screenshot,
    served_environment,
)
from tests.servers import start_server, stop_server
from tests.service.test_console_recommendations import EVALUATED, build_shop

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Served:
    origin: str
    members: dict[str, str]  # source key -> member id


@pytest.fixture(scope="module")
def served(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real `memberlens serve` over the refreshed, evaluated shop."""
    root = tmp_path_factory.mktemp("browser_recommendations")
    with served_environment(root) as env:
        shop = build_shop(root / "ws", env["MEMBERLENS_KEYS"])
        with Workspace.open(shop.root) as ws:
            data = recommend.load_interactions(ws.warehouse)
            result = recommend.evaluate(data, k=3, algorithms=EVALUATED, rounds=200)
            recommend.register_evaluation(ws.state, ws.root, result, data)
    proc, api = start_server(shop.root, env, capture=False, log=root / "server.log")
    try:
        yield Served(api.removesuffix("/api/v1"), shop.members)
    finally:
        stop_server(proc)


def test_the_evaluation_chart_draws_one_bar_per_algorithm(new_page: Page, served: Served) -> None:
    page = new_page
    log_in(page, served.origin, email_of("analyst"))
    with page.expect_navigation():
        page.click("#nav-recommendations")
    expect_charts(page, "#ndcg-chart")
    report = page.request.get(f"{served.origin}/api/v1/console/recommendations").json()
    names = [r["name"] for r in report["evaluation"]["algorithms"]]
    drawn = page.evaluate("document.getElementById('ndcg-chart').data[0].y")
    assert sorted(drawn) == sorted(names) == sorted(EVALUATED)
    rows = page.locator("#evaluation-table tbody tr")
    assert rows.count() == len(names)
    default = report["evaluation"]["default"]
    assert page.locator("#evaluation-table tr.default").get_attribute("data-algorithm") == default
    assert page.locator("#auto-algorithm").inner_text() == report["auto"]["algorithm"] == default
    save_screenshot(page, "recommendations")
    assert_clean(page)


def test_similar_items_lead_from_list_to_list(new_page: Page, served: Served) -> None:
    page = new_page
    log_in(page, served.origin, email_of("viewer"))
    page.goto(f"{served.origin}/recommendations/similar")
    assert page.locator("#starters li").count() > 0
    page.fill("#product", "m1")
    with page.expect_navigation():
        page.click("#show")
    api = f"{served.origin}/api/v1/console/recommendations/similar"
    found = page.request.get(f"{api}?product=m1").json()["similar"]
    rows = page.locator("#similar tbody tr")
    shown = [rows.nth(i).get_attribute("data-product") for i in range(rows.count())]
    assert shown == [i["product_id"] for i in found["items"]] and shown
    target = shown[0]
    with page.expect_navigation():
        rows.first.locator("a.similar-link").click()
    assert f"product={target}" in page.url
    then = page.request.get(f"{api}?product={target}").json()["similar"]
    rows = page.locator("#similar tbody tr")
    assert rows.count() == len(then["items"])
    assert rows.first.get_attribute("data-product") == then["items"][0]["product_id"]
    save_screenshot(page, "similar")
    assert_clean(page)


def test_the_member_page_shows_the_lists_and_links_to_similar_items(
    new_page: Page, served: Served
) -> None:
    page = new_page
    member = served.members["s1"]
    log_in(page, served.origin, email_of("marketer"))
    page.goto(f"{served.origin}/members/{member}")
    lists = page.request.get(f"{served.origin}/api/v1/console/members/{member}").json()
    home = [i["product_id"] for i in lists["recommendations"]["home"]["items"]]
    rows = page.locator("#rec-home tbody tr")
    assert [rows.nth(i).get_attribute("data-product") for i in range(rows.count())] == home
    assert page.locator("#rec-home").get_attribute("data-personalised") == "true"
    with page.expect_navigation():
        rows.first.locator("a").click()
    assert page.url.endswith(f"/recommendations/similar?product={home[0]}")
    assert page.locator("#similar-heading").is_visible()
    assert_clean(page)

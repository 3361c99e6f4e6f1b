"""The console in a real Chromium: login, the overview's charts and figures, language, logout."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import (
    ConsolePage,
    assert_clean,
    expect_charts,
    glyphs_render,
    save_screenshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import LiveConsole

pytestmark = pytest.mark.browser


def _figure(page: Page, element_id: str) -> str:
    return page.locator(f"#{element_id}").inner_text().strip()


def test_overview_draws_both_charts_without_javascript_errors(console_page: ConsolePage) -> None:
    page = console_page("marketer")
    expect_charts(page, "#trend", "#channels")
    # The pie's legend holds every channel of the period, the Chinese one included.
    legend = page.locator("#channels .legend .legendtext").all_text_contents()
    assert sorted(legend) == sorted(["app", "store", "小程序"])
    trend = page.locator("#trend .legend .legendtext").all_text_contents()
    assert trend == ["Orders", "Revenue"]
    assert_clean(page)


def test_overview_charts_show_their_titles(console_page: ConsolePage) -> None:
    page = console_page("marketer")
    expect_charts(page, "#trend", "#channels")
    titles = [page.locator(f"{chart} .gtitle") for chart in ("#trend", "#channels")]
    assert [t.count() for t in titles] == [1, 1], "no chart title drawn"
    assert titles[0].text_content() == "Orders and revenue by month"


def test_overview_figures_match_the_api(
    console_page: ConsolePage, live_console: LiveConsole
) -> None:
    page = console_page("analyst")
    for period, orders, revenue in ((30, 3, "35.50"), (90, 4, "47.50")):
        if period != 30:  # the period picker submits itself on change
            with page.expect_navigation():
                page.select_option("select[name=period]", str(period))
        # The API answers the same session (the context's cookies) for the same period.
        answer = page.request.get(f"{live_console.api}/overview", params={"period": period})
        assert answer.ok, answer.text()
        data = answer.json()
        assert (data["orders"], data["revenue"]) == (orders, revenue)  # counted by hand
        assert int(_figure(page, "orders").replace(",", "")) == data["orders"]
        assert _figure(page, "revenue").replace(",", "") == "¥" + data["revenue"]
        expect_charts(page, "#trend", "#channels")
    assert_clean(page)


def test_language_switch_renders_chinese_and_back(console_page: ConsolePage) -> None:
    page = console_page("admin")
    with page.expect_navigation():
        page.click("#language")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator(".card .label", has_text="订单").count() == 1
    expect_charts(page, "#trend", "#channels")
    assert page.locator("#trend .legend .legendtext").all_text_contents() == ["订单", "销售额"]
    legend = page.locator("#channels .legend .legendtext").all_text_contents()
    assert sorted(legend) == sorted(["手机应用", "门店", "小程序"])  # app, store, 小程序
    # Without a CJK font Chinese draws as identical empty boxes.
    assert glyphs_render(page, "订单概览"), "Chinese renders as boxes: install fonts-wqy-microhei"
    save_screenshot(page, "zh-CN")
    assert_clean(page)
    # The choice is stored per user, so switch back for the other tests' sake.
    with page.expect_navigation():
        page.click("#language")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".card .label", has_text="Orders").count() == 1


def test_logout_ends_the_session(console_page: ConsolePage, live_console: LiveConsole) -> None:
    page = console_page("viewer")
    with page.expect_navigation():
        page.click("#logout")
    assert page.url == f"{live_console.origin}/login"
    page.goto(f"{live_console.origin}/")
    assert page.url == f"{live_console.origin}/login"  # sent back to log in
    answer = page.request.get(f"{live_console.api}/overview")
    assert (answer.status, answer.json()["code"]) == (401, "NO_SESSION")
    assert_clean(page)

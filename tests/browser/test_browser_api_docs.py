"""`/api/v1/docs` in a real Chromium: Swagger UI draws the API from the server alone.

Issue 17: the page was blank without internet, its script and styles coming from a
CDN (also unreliable in mainland China). The browser here reaches nothing but the
server under test; every request the page makes is recorded and must go there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import save_screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import LiveConsole

pytestmark = pytest.mark.browser


def test_swagger_ui_draws_every_route_from_the_servers_own_assets(
    new_page: Page, live_console: LiveConsole
) -> None:
    asked: list[str] = []
    new_page.on("request", lambda request: asked.append(request.url))
    new_page.goto(f"{live_console.api}/docs")
    new_page.locator(".swagger-ui .info .title").wait_for()
    # the operations are drawn from the server's OpenAPI document
    new_page.locator(".opblock").first.wait_for()
    drawn = new_page.locator(".opblock-summary-path").all_text_contents()
    spec = new_page.request.get(f"{live_console.api}/openapi.json").json()
    assert len(drawn) == sum(len(methods) for methods in spec["paths"].values())
    assert any(path.endswith("/events") for path in drawn)
    save_screenshot(new_page, "api-docs")
    elsewhere = [url for url in asked if not url.startswith(live_console.origin)]
    assert not elsewhere, f"the docs page reached beyond the server: {elsewhere}"
    assert any("/api/v1/docs/assets/" in url for url in asked)

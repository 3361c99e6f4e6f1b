"""The feedback page and the member page's feedback section in a real Chromium: both
charts draw, the figures and pain points on the page are the JSON twin's, the filters
reload the page by week, and no JavaScript error occurs.

The session's small data set has no feedback, so this module serves its own workspace:
the base of tests/service/test_console_feedback.py, read by one refresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import (
    assert_clean,
    email_of,
    expect_charts,
    log_in,
    save_screenshot,
    served_environment,
)
from tests.servers import start_server, stop_server
from tests.service.test_console_feedback import TYPED, build_feedback

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Served:
    origin: str
    members: dict[str, str]  # source key -> member id


@pytest.fixture(scope="module")
def served(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real `memberlens serve` over the refreshed feedback base."""
    root = tmp_path_factory.mktemp("browser_feedback")
    with served_environment(root) as env:
        base = build_feedback(root / "ws", env["MEMBERLENS_KEYS"])
    proc, api = start_server(base.root, env, capture=False, log=root / "server.log")
    try:
        yield Served(api.removesuffix("/api/v1"), base.members)
    finally:
        stop_server(proc)


def test_feedback_charts_draw_and_match_the_api(new_page: Page, served: Served) -> None:
    page = new_page
    origin = served.origin
    log_in(page, origin, email_of("marketer"))
    page.click("#nav-feedback")
    expect_charts(page, "#sentiment-trend", "#nps-trend")
    data = page.request.get(f"{origin}/api/v1/console/feedback").json()["report"]
    assert page.locator("#fb-total").inner_text() == str(data["feedback"])
    assert page.locator("#nps-overall").inner_text() == f"{data['nps']['overall']['nps']:.1f}"
    # One bar and one point per month; the NPS chart has a point per period.
    drawn = page.evaluate("document.getElementById('sentiment-trend').data[0].x.length")
    assert drawn == len(data["sentiment_trend"])
    points = page.evaluate("document.getElementById('nps-trend').data[0].y")
    assert points == [p["result"]["nps"] for p in data["nps"]["trend"]]
    top = data["pain_points"][0]
    row = page.locator(f'#pain-points tr[data-aspect="{top["name"]}"]')
    assert page.locator("#pain-points tbody tr").first.get_attribute("data-aspect") == top["name"]
    assert row.locator("q").all_inner_texts() == [q["clause"] for q in top["quotes"]]
    assert TYPED not in page.content()
    save_screenshot(page, "feedback")
    assert_clean(page)

    page.select_option("#period", "week")
    with page.expect_navigation():
        page.click("#show")
    assert "period=week" in page.url
    expect_charts(page, "#sentiment-trend")
    weekly = page.request.get(f"{origin}/api/v1/console/feedback?period=week").json()["report"]
    starts = page.evaluate("document.getElementById('sentiment-trend').data[0].x")
    assert starts == [p["start"] for p in weekly["sentiment_trend"]]
    assert_clean(page)


def test_the_member_page_lists_the_feedback_with_its_reading(
    new_page: Page, served: Served
) -> None:
    page = new_page
    member = served.members["p1"]
    log_in(page, served.origin, email_of("viewer"))
    page.goto(f"{served.origin}/members/{member}")
    answer = page.request.get(f"{served.origin}/api/v1/console/members/{member}").json()
    rows = page.locator("#member-feedback tbody tr")
    feedback = answer["profile"]["feedback"]
    assert rows.count() == len(feedback) == 4
    assert [rows.nth(i).get_attribute("data-feedback") for i in range(4)] == [
        f["feedback_id"] for f in feedback
    ]
    last = next(f for f in feedback if f["sentiment"] is not None)
    assert page.locator("#last-sentiment").inner_text() == f"{last['sentiment']:+.2f}"
    assert page.locator("#last-sentiment").get_attribute("data-label") == last["sentiment_label"]
    assert "139****4321" in rows.first.inner_text() and TYPED not in page.content()
    save_screenshot(page, "member-feedback")
    with page.expect_navigation():
        page.click("#to-feedback")
    assert page.url == f"{served.origin}/feedback"
    assert_clean(page)

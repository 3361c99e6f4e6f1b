"""The predictions page and the model cards in a real Chromium: every Plotly chart draws,
the figures on the page are the JSON twin's, and no JavaScript error occurs.

The session's small data set is too small to fit models on, so this module serves its
own workspace: the CDNOW sample with both models fitted and one refresh (the same one
tests/service/test_console_predictions.py reads).
"""

from __future__ import annotations

from collections.abc import Iterator
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
from tests.conftest import requires_datasets
from tests.servers import start_server, stop_server
from tests.service.test_console_predictions import build_scored

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, requires_datasets]


@pytest.fixture(scope="module")
def origin(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `memberlens serve` over the scored sample; its origin."""
    root = tmp_path_factory.mktemp("browser_predictions")
    with served_environment(root) as env:
        built = build_scored(root / "ws", env["MEMBERLENS_KEYS"])
    proc, api = start_server(built.root, env, capture=False, log=root / "server.log")
    try:
        yield api.removesuffix("/api/v1")
    finally:
        stop_server(proc)


def test_prediction_charts_draw_and_match_the_api(new_page: Page, origin: str) -> None:
    page = new_page
    log_in(page, origin, email_of("viewer"))
    page.click("#nav-predictions")
    expect_charts(page, "#clv-histogram", "#clv-by-segment", "#churn-bands")
    data = page.request.get(f"{origin}/api/v1/console/predictions").json()
    rows = page.locator("#at-risk tbody tr")
    assert rows.count() == len(data["at_risk"]) == 100
    assert rows.first.get_attribute("data-member") == data["at_risk"][0]["member_id"]
    for band, members in data["churn"]["bands"].items():
        cell = page.locator(f'#band-counts tr[data-band="{band}"] td.num').first
        assert cell.inner_text().replace(",", "") == str(members)
    # The histogram's bars hold every member below the cap.
    drawn = page.evaluate(
        "document.getElementById('clv-histogram').data[0].y.reduce((a, b) => a + b, 0)"
    )
    assert drawn == data["members"] - data["clv"]["histogram"]["above"]
    save_screenshot(page, "predictions")
    assert_clean(page)

    with page.expect_navigation():
        rows.first.locator("a").click()  # the member page of the riskiest member
    assert page.url.endswith(f"/members/{data['at_risk'][0]['member_id']}")
    assert_clean(page)


def test_model_cards_draw_calibration_and_importance(new_page: Page, origin: str) -> None:
    page = new_page
    log_in(page, origin, email_of("analyst"))
    page.goto(f"{origin}/models")
    expect_charts(page, "#calibration-1", "#importance-1")
    cards = page.request.get(f"{origin}/api/v1/console/models").json()
    churn = next(c for c in cards if c["name"] == "churn")
    shown = page.locator('#auc-1 tr[data-metric="roc_auc"] td.model').inner_text()
    assert shown == f"{churn['card']['test']['roc_auc']:.4f}"
    # The diagonal and the model's points.
    traces = page.evaluate("document.getElementById('calibration-1').data.length")
    assert traces == 2
    save_screenshot(page, "models")
    assert_clean(page)

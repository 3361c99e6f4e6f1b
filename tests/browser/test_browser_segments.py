"""The segments page in a real Chromium: live count, errors, saving, RFM and lifecycle charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import ConsolePage, assert_clean, expect_charts, save_screenshot

if TYPE_CHECKING:
    from tests.browser.conftest import LiveConsole

pytestmark = pytest.mark.browser


def test_builder_counts_live_explains_errors_and_saves(
    console_page: ConsolePage, live_console: LiveConsole
) -> None:
    page = console_page("marketer", "/segments")
    count = page.locator("#live-count")
    page.fill("#rule", "frequency >= 2")
    # m1 alone bought twice (o1, o2) by the refresh's cut-off, 2025-05-26.
    page.wait_for_function("document.getElementById('live-count').dataset.members === '1'")
    answer = page.request.post(
        f"{live_console.api}/console/segments/preview", data={"rule": "frequency >= 2"}
    ).json()
    assert answer["members"] == 1 and count.inner_text() == "1"
    page.fill("#rule", "frequncy >= 2")
    page.wait_for_function("document.getElementById('rule-error').textContent.length > 0")
    assert "did you mean frequency" in page.locator("#rule-error").inner_text()
    assert count.inner_text() == "—"

    page.fill("#rule", "frequency >= 2")
    page.fill("#segment-name", "repeaters")
    with page.expect_navigation():
        page.click("#save-segment")
    row = page.locator('#segment-list tr[data-segment="repeaters"]')
    assert row.count() == 1 and "frequency >= 2" in row.inner_text()
    save_screenshot(page, "builder")
    assert_clean(page)


def test_rfm_and_lifecycle_charts_match_the_api(
    console_page: ConsolePage, live_console: LiveConsole
) -> None:
    page = console_page("viewer", "/segments")
    assert page.locator("#save-segment").count() == 0  # a viewer may look, not save
    expect_charts(page, "#rfm-grid")
    data = page.request.get(f"{live_console.api}/console/segments").json()
    for s in data["rfm"]["segments"]:
        cell = page.locator(f'#rfm-segments tr[data-rfm="{s["name"]}"] td.num').first
        assert cell.inner_text().replace(",", "") == str(s["members"])
    # Four buyers (m1..m4) by the cut-off.
    assert data["rfm"]["members"] == 4
    stages = page.locator("#lifecycle-stages tr[data-stage]")
    shown = {
        stages.nth(i).get_attribute("data-stage"): int(stages.nth(i).locator("td.num").inner_text())
        for i in range(stages.count())
    }
    assert shown == {s["stage"]: s["members"] for s in data["lifecycle"]["stages"]}
    assert sum(shown.values()) == data["rfm"]["members"]  # every buyer has a stage
    save_screenshot(page, "segments")
    assert_clean(page)

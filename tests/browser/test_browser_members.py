"""Member search, the member page and the audit log in a real Chromium."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import ConsolePage, assert_clean, save_screenshot

if TYPE_CHECKING:
    from tests.browser.conftest import LiveConsole

pytestmark = pytest.mark.browser


def test_search_by_phone_opens_a_masked_member_page_matching_the_api(
    console_page: ConsolePage, live_console: LiveConsole
) -> None:
    page = console_page("analyst", "/members")
    page.fill("#q", "138 1234 5678")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert page.locator("#member-count").inner_text().strip() == "1"
    assert page.locator("#member-count").get_attribute("data-matched-by") == "phone"
    hit = page.locator("#member-results tr[data-member-id]")
    member_id = hit.get_attribute("data-member-id")
    assert "138****5678" in hit.inner_text()
    save_screenshot(page, "search")
    with page.expect_navigation():
        hit.locator("a").first.click()
    assert page.locator("#pii-state").get_attribute("data-revealed") == "false"
    card = page.request.get(f"{live_console.api}/console/members/{member_id}").json()
    # m1 bought o1 and o2 (10.00 + 20.00), counted by hand from the data set.
    assert page.locator("#order-count").inner_text().strip() == str(card["order_count"]) == "2"
    assert page.locator("#member-revenue").inner_text().strip() == "30.00"
    text = page.content()
    for clear in ("13812345678", "zhang.wei@example.com", "张伟"):
        assert clear not in text  # an analyst never sees personal data in clear
    assert_clean(page)


def test_a_clear_view_is_audited_and_shown_in_the_audit_log(
    console_page: ConsolePage,
) -> None:
    page = console_page("admin", "/members?q=zhang.wei%40example.com")
    with page.expect_navigation():
        page.locator("#member-results tr[data-member-id] a").first.click()
    assert page.locator("#pii-state").get_attribute("data-revealed") == "true"
    assert "zhang.wei@example.com" in page.locator("#member-records").inner_text()
    with page.expect_navigation():
        page.click("#nav-audit")
    assert page.locator("#audit-chain").get_attribute("data-ok") == "true"
    page.select_option("#audit-action", "member.view_personal")
    with page.expect_navigation():
        page.locator("#audit-filter [type=submit]").click()
    rows = page.locator("#audit-entries tr[data-seq]")
    assert rows.count() >= 1
    assert "zhang.wei" not in page.locator("#audit-entries").inner_text()  # tokens, not people
    assert_clean(page)


def test_the_audit_log_is_not_offered_to_a_viewer(console_page: ConsolePage) -> None:
    page = console_page("viewer", "/members")
    assert page.locator("#nav-members").count() == 1
    assert page.locator("#nav-audit").count() == 0
    answer = page.goto(page.url.replace("/members", "/audit"))
    assert answer is not None and answer.status == 403
    assert "may not open this page" in page.content()

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
    assert page.locator("#member-revenue").inner_text().strip() == "¥30.00"
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


def test_member_profile_shows_features_tags_and_tier_explained_by_the_dictionary(
    console_page: ConsolePage, live_console: LiveConsole
) -> None:
    page = console_page("marketer", "/members?q=13812345678")
    hit = page.locator("#member-results tr[data-member-id]")
    member_id = hit.get_attribute("data-member-id")
    with page.expect_navigation():
        hit.locator("a").first.click()
    twin = page.request.get(f"{live_console.api}/console/members/{member_id}").json()
    dictionary = page.request.get(f"{live_console.api}/dictionary").json()
    names = [f["name"] for f in dictionary["features"]]

    rows = page.locator("#member-features tr[data-feature]")
    assert [rows.nth(i).get_attribute("data-feature") for i in range(rows.count())] == names

    def shown(feature: str) -> str:
        return page.locator(f'#member-features tr[data-feature="{feature}"] td.num').inner_text()

    # Refreshed as of 2025-05-26: m1 bought o1 (05-01, 10.00) and o2 (05-20 10:00, 20.00),
    # 5.6 days before the cut-off: recency is whole days, rounded down.
    assert (shown("frequency"), shown("monetary"), shown("recency_days")) == ("2", "¥30.00", "5")
    chips = page.locator("#member-tags li[data-tag]")
    tags = [chips.nth(i).get_attribute("data-tag") for i in range(chips.count())]
    assert tags == [t["tag"] for t in twin["profile"]["tags"]] == ["repeat_buyer"]
    assert page.locator("#member-tier").inner_text().strip() == "Silver"  # 30.00 < 2,000
    timeline = page.locator("#member-timeline tr[data-kind]")
    assert [timeline.nth(i).get_attribute("data-kind") for i in range(timeline.count())] == [
        item["kind"] for item in twin["timeline"]
    ]
    assert page.locator('#member-timeline tr[data-kind="order"]').count() == 2  # o2, o1
    save_screenshot(page, "profile")
    assert_clean(page)

    with page.expect_navigation():
        page.click("#nav-dictionary")
    listed = page.locator("#dictionary tr[data-feature]")
    assert [listed.nth(i).get_attribute("data-feature") for i in range(listed.count())] == names
    frequency = next(f for f in dictionary["features"] if f["name"] == "frequency")
    row = page.locator('#dictionary tr[data-feature="frequency"]').inner_text()
    assert frequency["description"] in row and frequency["formula"] in row
    assert dictionary["feature_version"] in page.locator("#feature-version").inner_text()
    assert_clean(page)


def test_the_member_list_sorts_filters_and_pages_as_the_api_says(
    console_page: ConsolePage, live_console: LiveConsole
) -> None:
    """Refreshed as of 2025-05-26: m2 last bought 0 whole days before (05-25 10:00), m1
    5, m4 45 and m3 144; the list sorts by a click on a column head, filters by tier,
    and keeps both in the other language."""
    page = console_page("analyst", "/members")
    api = f"{live_console.api}/console/member-list"

    def shown() -> list[str | None]:
        rows = page.locator("#member-list tbody tr[data-member-id]")
        return [rows.nth(i).get_attribute("data-member-id") for i in range(rows.count())]

    listed = page.request.get(api).json()
    assert listed["total"] == 4 and page.locator("#list-total").inner_text() == "4"
    assert shown() == [m["member_id"] for m in listed["members"]]
    assert "138****5678" in page.locator("#member-list").inner_text()  # masked, as search
    with page.expect_navigation():
        page.click("#sort-recency")
    by_recency = page.request.get(api, params={"sort": "recency"}).json()["members"]
    assert [m["recency_days"] for m in by_recency] == [0, 5, 45, 144]
    assert shown() == [m["member_id"] for m in by_recency]
    assert page.locator("#member-list").get_attribute("data-order") == "asc"
    with page.expect_navigation():
        page.click("#sort-recency")  # the same head again: the other way round
    assert shown() == [m["member_id"] for m in reversed(by_recency)]
    tier = by_recency[0]["tier"]
    page.select_option("#filter-tier", tier)
    with page.expect_navigation():
        page.click("#apply-filters")
    kept = [m["member_id"] for m in reversed(by_recency) if m["tier"] == tier]
    assert shown() == kept and page.locator("#page-of").get_attribute("data-pages") == "1"
    save_screenshot(page, "member-list")
    assert_clean(page)
    with page.expect_navigation():
        page.click("#language")
    assert "全部会员" in page.locator("#member-list-title").inner_text()
    assert shown() == kept  # the list keeps its filters in the other language
    save_screenshot(page, "member-list-zh")
    assert_clean(page)

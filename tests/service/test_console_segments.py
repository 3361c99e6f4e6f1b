"""Console segments: saving computes at once, comparing, and errors as pages.

Member base: tests/profile/feature_data.py, refreshed at 2025-06-01 (Zhang bought four
times, Li once). Console errors are pages in the viewer's language that say what to
do; the API keeps its problem documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, pipeline, segment
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.profile.feature_data import CUTOFF, load_feature_base
from tests.service.test_console import PASSWORD, _csrf, login


def _users(ws: Workspace) -> None:
    for email, role, locale in (
        ("marketer@shop.cn", "marketer", "en"),
        ("zh@shop.cn", "marketer", "zh-CN"),
    ):
        accounts.create_user(ws.state, email=email, role=role, actor="t", password=PASSWORD,
                             locale=locale)  # fmt: skip


@pytest.fixture
def refreshed(workspace_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    with Workspace.open(workspace_dir) as ws:
        load_feature_base(ws, tmp_path)
        pipeline.refresh(ws, as_of=CUTOFF)
        _users(ws)
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        yield client


def _save(client: TestClient, name: str, rule: str) -> str:
    form = client.get("/segments").text
    answer = client.post(
        "/segments",
        data={"name": name, "rule": rule, "csrf": _csrf(form)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return answer.headers["location"]


@pytest.mark.slow
def test_a_saved_segment_is_counted_at_once_and_compares_right_away(
    refreshed: TestClient,
) -> None:
    login(refreshed, "marketer@shop.cn")
    where = _save(refreshed, "repeaters", "frequency >= 2")
    assert where == "/segments?saved=repeaters"
    page = refreshed.get(where).text
    assert re.search(r'id="saved-note" data-segment="repeaters" data-members="1"', page)
    assert "Saved <code>repeaters</code>: 1 members in the snapshot of 2025-06-01." in page
    row = page.split('<tr data-segment="repeaters">', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in row and "not computed" not in row
    _save(refreshed, "buyers", "frequency >= 1")
    compared = refreshed.get("/segments/compare", params={"a": "repeaters", "b": "buyers"})
    assert compared.status_code == 200 and 'id="comparison"' in compared.text
    assert re.search(r'id="overlap">1<', compared.text)
    twin = refreshed.get(
        "/api/v1/console/segments/compare", params={"a": "repeaters", "b": "buyers"}
    ).json()
    assert [s["members"] for s in twin["segments"]] == [1, 2]


@pytest.mark.slow
def test_compare_without_a_choice_offers_one_in_the_viewers_language(
    refreshed: TestClient,
) -> None:
    login(refreshed, "zh@shop.cn")
    empty = refreshed.get("/segments/compare")
    assert empty.status_code == 200 and 'id="compare-none"' in empty.text
    assert "尚未保存任何人群" in empty.text
    _save(refreshed, "repeaters", "frequency >= 2")
    _save(refreshed, "buyers", "frequency >= 1")
    page = refreshed.get("/segments/compare")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="compare-form"' in page.text and "请在上方选择两个已保存的人群" in page.text
    assert "Field required" not in page.text


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.slow
def test_console_errors_are_pages_that_say_what_to_do(refreshed: TestClient, locale: str) -> None:
    login(refreshed, "marketer@shop.cn" if locale == "en" else "zh@shop.cn")
    zh = locale == "zh-CN"
    cases = [  # path, query, status, code, words of the fix
        ("/segments/compare", {"a": "nobody", "b": "x"}, 422, "BAD_SEGMENT",
         "请在“人群”页面选择" if zh else "Choose a saved segment"),
        ("/nope", {}, 404, "HTTP_404", "请使用上方菜单" if zh else "use the menu above"),
        ("/feedback", {"days": "6"}, 422, "INVALID_REQUEST", "“days”"),
    ]  # fmt: skip
    for path, query, status, code, fix in cases:
        page = refreshed.get(path, params=query)
        assert page.status_code == status, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert f'data-code="{code}"' in page.text and fix in page.text, path
        assert ('<html lang="zh-CN">' in page.text) is zh
        # English detail only for English readers
        assert ("no segment named" in page.text) is (not zh and code == "BAD_SEGMENT")
    # The API keeps its problem documents.
    twin = refreshed.get("/api/v1/console/segments/compare", params={"a": "nobody", "b": "x"})
    assert twin.status_code == 422 and twin.json()["code"] == "BAD_SEGMENT"
    assert refreshed.get("/api/v1/nope").json()["code"] == "HTTP_404"
    # A form sent with a stale token: a page saying to reload.
    stale = refreshed.post("/segments", data={"name": "x", "rule": "true", "csrf": "old"})
    assert stale.status_code == 403 and 'data-code="CSRF"' in stale.text
    assert ("请重新加载页面" if zh else "Reload the page") in stale.text


def test_before_any_refresh_compare_says_to_run_one(workspace_dir: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        _users(ws)
        book = ws.tag_book()
        for name in ("a", "b"):
            segment.save_segment(ws.state, lambda names: segment.segment_catalogue(book, names),
                                 name=name, rule="frequency >= 1", actor="t")  # fmt: skip
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        for email, title, fix in (
            ("marketer@shop.cn", "Not computed yet", "Run <code>memberlens refresh</code>"),
            ("zh@shop.cn", "尚未计算", "请运行 <code>memberlens refresh</code>"),
        ):
            login(client, email)
            page = client.get("/segments/compare", params={"a": "a", "b": "b"})
            assert page.status_code == 422 and 'data-code="NO_SNAPSHOT"' in page.text
            assert title in page.text and fix in page.text
        problem = client.get("/api/v1/console/segments/compare", params={"a": "a", "b": "b"})
        assert problem.json()["code"] == "NO_SNAPSHOT"

"""The console in Simplified Chinese reads as Chinese: no English word on any page.

A small demo workspace (its members, orders, events, feedback, consents and messages,
refreshed, with the CLV and churn models fitted and two saved segments) is crawled
page by page by an analyst whose language is zh-CN. Every visible text is read —
not scripts, not code (`<code>`, `<pre>`: rules, commands, feature names), not what
the page marks ``translate="no"`` (ids, product and member names, what members
wrote) — and any Latin word outside a short allow-list fails the test: the product's
name, the language switch, and the abbreviations a Chinese analyst reads as they are
(RFM, CLV, NPS, AUC, …). Ids carry digits or underscores (``SKU00102``,
``m_0b7aff8b34f5a9a7``, ``v1``) and are not words. The JSON twins, asked with
``Accept-Language: zh-CN``, answer their reasons and labels in Chinese too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, pipeline, segment
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.demo_cache import demo_copy
from tests.service.test_console import PASSWORD, login

pytestmark = pytest.mark.slow

# Enough buyers for the churn model; the same demo as tests/cli/test_readme_with_server.py,
# built once for both (tests/demo_cache.py).
MEMBERS = 600
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# Latin words a Chinese page may show: the product's name, the switch to English, and
# abbreviations Chinese analysts read as written (each shown beside its Chinese name
# where one exists: 净推荐值（NPS）, 客户终身价值（CLV）).
ALLOWED = frozenset(
    {"memberlens", "English", "ID", "IP", "CSV", "API", "RFM", "CLV", "NPS", "CSAT", "FM",
     "ROC", "AUC", "PR", "PSI", "MAE", "BG", "NBD", "NDCG", "MMR", "MAP"}
)  # fmt: skip


class _Visible(HTMLParser):
    """The text a reader sees, without scripts, code and what is marked not to translate."""

    HIDDEN = frozenset({"script", "style", "code", "pre", "textarea"})
    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: hidden (itself or an ancestor)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        hidden = (self.stack and self.stack[-1]) or tag in self.HIDDEN
        self.stack.append(bool(hidden or dict(attrs).get("translate") == "no"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_words(text: str) -> set[str]:
    """Latin words of two letters or more in ``text``, ids and allowed words left out.

    >>> sorted(english_words("SKU001 因为你喜欢 m_0b7a；because you liked v1 RFM 得分 k = 5"))
    ['because', 'liked', 'you']
    """
    words: set[str] = set()
    for token in re.findall(r"[A-Za-z0-9_@.+-]+", text):
        if re.search(r"[0-9_@]", token):
            continue  # an id, a version, a code
        words.update(w for w in re.findall(r"[A-Za-z]{2,}", token) if w not in ALLOWED)
    return words


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts)


@dataclass(frozen=True)
class Shop:
    root: Path
    keys: str
    member: str  # the member most at risk: orders, events, feedback, messages, lists
    product: str  # a product with a similar-items list
    segments: tuple[str, str]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    root = tmp_path_factory.mktemp("i18n") / "ws"
    keys = demo_copy(root, members=MEMBERS, seed=7)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        with Workspace.open(root) as ws:
            book = ws.tag_book()
            for name, rule in (
                ("big_spenders", "monetary >= 500"),
                ("recent", "recency_days < 90"),
            ):
                segment.save_segment(ws.state, lambda names: segment.segment_catalogue(book, names),
                                     name=name, rule=rule, description="", actor="t")  # fmt: skip
            today = ws.warehouse.scalar("SELECT max(snapshot_date) FROM member_predictions")
            pipeline.refresh(ws, as_of=today, only=["segments"])
            accounts.create_user(
                ws.state,
                email="fenxi@shop.cn",
                role="admin",
                actor="t",
                password=PASSWORD,
                display_name="分析师",
                locale="zh-CN",
            )
            member = ws.warehouse.fetch_all(
                "SELECT member_id FROM member_predictions WHERE churn_risk IS NOT NULL "
                "ORDER BY churn_risk DESC, member_id LIMIT 1"
            )[0][0]
            product = ws.warehouse.fetch_all(
                "SELECT substr(list_id, 7) FROM recommendations WHERE scenario = 'similar' "
                "ORDER BY list_id LIMIT 1"
            )[0][0]
    return Shop(root, keys, member, product, ("big_spenders", "recent"))


@pytest.fixture
def client(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("MEMBERLENS_KEYS", shop.keys)
    with TestClient(create_app(shop.root, flush_interval=3600)) as c:
        login(c, "fenxi@shop.cn")
        yield c


def _pages(shop: Shop) -> list[str]:
    a, b = shop.segments
    return [
        "/",
        "/members",
        f"/members?segment={a}&sort=risk&order=desc&size=25",  # the list, filtered
        "/members?sort=recency&page=2",
        f"/members?q={shop.member}",
        f"/members/{shop.member}",
        "/members/m_0000000000000000",  # no such member
        "/dictionary",
        "/segments",
        f"/segments/compare?a={a}&b={b}",
        "/segments/compare",  # nothing chosen: a page that offers the choice
        f"/segments/compare?a={a}&b=no_such_segment",  # an error page
        "/predictions",
        "/models",
        "/recommendations",
        "/recommendations/similar",
        f"/recommendations/similar?product={shop.product}",
        "/feedback",
        "/feedback?days=365&period=week",
        "/audit",
    ]


def test_no_english_word_on_any_page_in_chinese(client: TestClient, shop: Shop) -> None:
    found: dict[str, set[str]] = {}
    for path in _pages(shop):
        answer = client.get(path)
        assert answer.status_code in (200, 404, 422), (path, answer.status_code)
        assert '<html lang="zh-CN">' in answer.text, path
        words = english_words(visible_text(answer.text))
        if words:
            found[path] = words
    client.cookies.clear()
    client.cookies.set("ml_locale", "zh-CN")
    words = english_words(visible_text(client.get("/login").text))
    if words:
        found["/login"] = words
    assert not found, f"English words on Chinese pages: {found}"


def test_the_clusters_table_names_its_column_as_clusters(client: TestClient) -> None:
    page = client.get("/segments").text
    header = page.split('id="cluster-profiles"', 1)[1].split("</thead>", 1)[0]
    assert "姓名" not in header and "聚类名称" in header


def _labels(answer: Any, *keys: str) -> Iterator[str]:
    """Every string under the given keys, however deep."""
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key in keys and isinstance(value, str):
                yield value
            elif key in keys and isinstance(value, list) and all(isinstance(v, str) for v in value):
                yield from value
            else:
                yield from _labels(value, *keys)
    elif isinstance(answer, list):
        for value in answer:
            yield from _labels(value, *keys)


def test_the_json_twins_answer_reasons_and_labels_in_the_language_asked(
    client: TestClient, shop: Shop
) -> None:
    asked = {
        f"/api/v1/console/members/{shop.member}": ("reason", "text"),
        "/api/v1/console/predictions": ("reasons",),
        "/api/v1/console/segments": ("label", "description"),
        "/api/v1/console/models": ("label",),
        "/api/v1/console/recommendations": ("label",),
        f"/api/v1/console/recommendations/similar?product={shop.product}": ("reason",),
        "/api/v1/console/feedback?days=365": ("label",),
    }
    found: dict[str, set[str]] = {}
    for path, keys in asked.items():
        zh = client.get(path, headers=ZH)
        assert zh.status_code == 200, path
        said = list(_labels(zh.json(), *keys))
        assert said, f"{path}: no {keys} in the answer"
        words = set().union(*(english_words(s) for s in said))
        if words:
            found[path] = words
        # without Accept-Language the same fields keep their English words
        en = list(_labels(client.get(path).json(), *keys))
        assert len(en) == len(said) and any(english_words(s) for s in en), path
    assert not found, f"English words in Chinese answers: {found}"

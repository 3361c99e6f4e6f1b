"""The member 360 (GET /api/v1/members/{id}, the member page) and the dictionary page.

The base is tests/profile/test_tags.py's: Ann bought formula for 120.00 and is tagged
big, toddler_fan, big_toddler and shanghai, with interest shares toddler 1.75/2.375
and formula 0.625/2.375 at the 2025-06-01 snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, pipeline, profile
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.profile.test_tags import load_tag_base
from tests.service.test_console import PASSWORD, login


@pytest.fixture
def ids(workspace_dir: Path, tmp_path: Path) -> dict[str, str]:
    with Workspace.open(workspace_dir) as ws:
        found = load_tag_base(ws, tmp_path)
        pipeline.refresh(ws, as_of=date(2025, 6, 1))
        accounts.create_user(
            ws.state, email="analyst@shop.cn", role="analyst", actor="t", password=PASSWORD
        )
    return found


@pytest.fixture
def client(workspace_dir: Path, ids: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as c:
        login(c, "analyst@shop.cn")
        yield c


def test_the_360_answer_holds_features_tags_and_history(
    client: TestClient, ids: dict[str, str]
) -> None:
    answer = client.get(f"/api/v1/members/{ids['a']}")
    assert answer.status_code == 200, answer.text
    derived = answer.json()["profile"]
    assert derived["features_snapshot"] == "2025-06-01"
    features = {f["name"]: f for f in derived["features"]}
    assert set(features) == {f.name for f in profile.feature_defs()}
    assert features["monetary"]["value"] == "120.00"
    assert features["frequency"]["value"] == 1
    assert features["monetary"]["description"] == profile.feature_defs()[2].description
    tags = {t["tag"]: t for t in derived["tags"]}
    assert {n for n, t in tags.items() if t["kind"] == "rule"} == {
        "big", "toddler_fan", "big_toddler", "shanghai",
    }  # fmt: skip
    assert tags["interest:toddler"]["weight"] == pytest.approx(1.75 / 2.375)
    assert [r["snapshot_date"] for r in derived["points"]] == ["2025-06-01"]
    assert derived["points"][0]["balance"] == 120  # 1 point per currency unit
    assert derived["ledger"][0]["points"] == 120
    assert client.get(f"/api/v1/console/members/{ids['a']}").json() == answer.json()


def test_the_member_page_shows_the_profile(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/members/{ids['a']}").text
    assert 'data-tag="big_toddler"' in html and 'data-tag="interest:toddler"' in html
    assert "73.7%" in html  # the toddler interest share
    assert 'data-feature="spend_365d"' in html
    assert 'id="points-balance">120<' in html


def test_the_dictionary_page_lists_every_feature(client: TestClient) -> None:
    html = client.get("/dictionary").text
    for f in profile.feature_defs():
        assert f'data-feature="{f.name}"' in html
    answer = client.get("/api/v1/dictionary").json()
    assert answer["feature_version"] == profile.feature_version()
    assert [f["name"] for f in answer["features"]] == [f.name for f in profile.feature_defs()]

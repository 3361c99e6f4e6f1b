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
from tests.profile.feature_data import load_feature_base
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_member_page_shows_the_profile(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/members/{ids['a']}").text
    assert 'data-tag="big_toddler"' in html and 'data-tag="interest:toddler"' in html
    assert "73.7%" in html  # the toddler interest share
    assert 'data-feature="spend_365d"' in html
    assert 'id="points-balance">120<' in html


@pytest.mark.slow
def test_the_dictionary_page_lists_every_feature(client: TestClient) -> None:
    html = client.get("/dictionary").text
    for f in profile.feature_defs():
        assert f'data-feature="{f.name}"' in html
    answer = client.get("/api/v1/dictionary").json()
    assert answer["feature_version"] == profile.feature_version()
    assert [f["name"] for f in answer["features"]] == [f.name for f in profile.feature_defs()]


@pytest.mark.slow
def test_the_timeline_merges_orders_events_feedback_and_messages(
    workspace_dir: Path, tmp_path: Path
) -> None:
    """tests/profile/feature_data.py: Zhang's newest row is o7 (2025-06-05), his oldest
    o1 (2025-01-10); every order, event, feedback row and message appears once."""
    with Workspace.open(workspace_dir) as ws:
        zhang = load_feature_base(ws, tmp_path)["p1"]
        pipeline.refresh(ws, as_of=date(2025, 6, 1))
        accounts.create_user(
            ws.state, email="analyst@shop.cn", role="analyst", actor="t", password=PASSWORD
        )
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "analyst@shop.cn")
        answer = client.get(f"/api/v1/members/{zhang}").json()
        page = client.get(f"/members/{zhang}").text
    items = answer["timeline"]
    sizes = (len(answer["orders"]), len(answer["events"]), len(answer["profile"]["feedback"]),
             len(answer["profile"]["messages"]))  # fmt: skip
    assert sizes == (7, 10, 6, 5)  # o1-o7; e1-e10 with the stitched e7; f1-f6; t1-t5
    assert len(items) == sum(sizes)
    assert {i["kind"] for i in items} == {"order", "event", "feedback", "message"}
    times = [i["at"] for i in items]
    assert times == sorted(times, reverse=True)
    assert (items[0]["kind"], items[0]["what"]) == ("order", "o7")
    assert (items[-1]["kind"], items[-1]["what"]) == ("order", "o1")
    assert page.count('data-kind="message"') == 5

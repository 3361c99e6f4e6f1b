"""The refresh's predictions step: the production CLV model scores every buyer, rules read
the scores as prediction.*, and the member 360 shows them.

CDNOW sample (2,357 customers, all first buying in the first quarter of 1997), model
fitted on purchases up to 1997-09-30, refresh as of 1997-10-01.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts, pipeline, predict, segment
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.conftest import requires_datasets
from tests.predict.cdnow_helpers import load_sample
from tests.service.test_console import PASSWORD, login

pytestmark = [requires_datasets, pytest.mark.slow]

AS_OF = date(1997, 10, 1)


def test_buyers_are_scored_and_rules_and_the_360_read_the_scores(workspace: Workspace) -> None:
    load_sample(workspace)
    before = pipeline.refresh(workspace, as_of=AS_OF, only=["predictions"])
    assert "no production model" in before.steps["predictions"]["clv"]
    predict.fit_clv(
        workspace.warehouse, workspace.state, workspace.root, calibration_end=date(1997, 9, 30)
    )
    run = pipeline.refresh(workspace, as_of=AS_OF, only=["identity", "features", "predictions"])
    assert run.steps["predictions"]["members"] == 2_357
    direct = predict.score_clv(
        workspace.warehouse,
        predict.load_clv_model(workspace.state, workspace.root),
        datetime(1997, 10, 1, tzinfo=UTC),
    ).to_pylist()
    first = direct[0]
    stored = predict.member_predictions(workspace.warehouse, first["member_id"])
    assert stored is not None
    for name in predict.SCORES:
        assert stored[name] == pytest.approx(first[name], nan_ok=True)
    assert stored["model_version"] == "clv:1" and stored["snapshot_date"] == "1997-10-01"

    top = segment.preview_segment(
        workspace.warehouse,
        workspace.state,
        "prediction.clv_percentile >= 90",
        settings=workspace.settings.segments,
        book=workspace.tag_book(),
    )
    by_hand = sum(
        1 for r in direct if r["clv_percentile"] is not None and r["clv_percentile"] >= 90
    )
    assert top.members == by_hand and 200 <= by_hand <= 260  # about a tenth of 2,357

    accounts.create_user(
        workspace.state, email="analyst@shop.cn", role="analyst", actor="t", password=PASSWORD
    )
    root = workspace.root
    workspace.close()
    with TestClient(create_app(root, flush_interval=3600)) as client:
        login(client, "analyst@shop.cn")
        answer = client.get(f"/api/v1/members/{first['member_id']}/predictions")
        missing = client.get("/api/v1/members/m_nobody/predictions")
        page = client.get(f"/members/{first['member_id']}").text
    assert answer.status_code == 200 and answer.json()["p_alive"] == pytest.approx(first["p_alive"])
    assert missing.status_code == 404 and missing.json()["code"] == "NO_PREDICTIONS"
    assert 'id="member-predictions"' in page

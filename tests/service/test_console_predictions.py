"""The console's predictions page, churn-list export and model cards.

Real models on the CDNOW sample (2,357 buyers, first purchases in early 1997): CLV fitted
on purchases up to 1998-06-30, churn trained as of 1998-07-01, one refresh as of
1998-07-01; built once for the module (fitting churn is the slow part) and only read
by the tests, whose figures are checked against hand counts over the stored scores and
against the registry. A hand-made snapshot with set values checks the histogram and the
per-segment sums, and a workspace without models the empty state.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import (
    accounts,
    audit,
    pipeline,
    predict,
    prediction_views,
    registry,
    segment,
)
from memberlens.accounts import Role
from memberlens.privacy import KeyRing
from memberlens.service import create_app
from memberlens.workspace import Workspace, init_workspace
from tests.conftest import requires_datasets
from tests.ingest.helpers import run, write
from tests.predict.cdnow_helpers import load_sample
from tests.service.test_console import ORDERS, PASSWORD, login

AS_OF = date(1998, 7, 1)
CHURN = predict.ChurnOptions(horizon_days=90, cutoffs=2, step_days=30)


@dataclass(frozen=True)
class Scored:
    root: Path
    keys: str
    users: dict[str, str]  # role -> user id
    members: int  # scored by the refresh
    risks: list[tuple[str, float]]  # (member id, churn risk), riskiest first
    lapsed: frozenset[str]  # members with no completed order in the 90 days before AS_OF
    clv_total: float
    rfm: dict[str, tuple[int, float]]  # segment -> (members, CLV total)
    churn: registry.RegisteredModel
    drift_flagged: bool
    cluster_sizes: dict[int, int]  # cluster id -> members, from member_clusters


def build_scored(root: Path, keys: str) -> Scored:
    """A workspace at ``root`` with the sample, both models, one refresh and a user per
    role (the browser tier serves it too); ``keys`` is its key ring."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        init_workspace(root)
        with Workspace.open(root) as ws:
            load_sample(ws)
            predict.fit_clv(ws.warehouse, ws.state, ws.root, calibration_end=date(1998, 6, 30))
            predict.fit_churn(ws.warehouse, ws.state, ws.root, as_of=AS_OF,
                              default_timezone="UTC", options=CHURN)  # fmt: skip
            summary = pipeline.refresh(ws, as_of=AS_OF).steps["predictions"]
            users = {
                role.value: accounts.create_user(ws.state, email=f"{role.value}@shop.cn",
                                                 role=role.value, actor="t",
                                                 password=PASSWORD)[0].user_id
                for role in Role
            }  # fmt: skip
            rows = ws.warehouse.fetch_all(
                "SELECT p.member_id, p.churn_risk, p.clv, r.rfm_segment FROM member_predictions p "
                "LEFT JOIN member_rfm r USING (member_id, snapshot_date) WHERE snapshot_date = ?",
                [AS_OF],
            )
            # Lapsed by hand: no order on the horizon's 90 days before the cut-off.
            recent = ws.warehouse.fetch_all(
                "SELECT DISTINCT m.member_id FROM orders o JOIN member_map m "
                "USING (source, source_member_key) WHERE o.ordered_at >= ? AND o.ordered_at < ?",
                [AS_OF - timedelta(days=90), AS_OF],
            )
            churn = registry.get_model(ws.state, predict.CHURN_MODEL)
            sizes = ws.warehouse.fetch_all(
                "SELECT cluster_id, count(*) FROM member_clusters WHERE snapshot_date = ? "
                "GROUP BY 1",
                [AS_OF],
            )
            drift = predict.latest_drift(ws.warehouse, "churn", churn.version)
            threshold = ws.settings.predict.drift_threshold
    rfm: dict[str, tuple[int, float]] = {}
    for _, _, clv, name in rows:
        n, total = rfm.get(name, (0, 0.0))
        rfm[name] = (n + 1, total + clv)
    return Scored(
        root=root,
        keys=keys,
        users=users,
        members=summary["members"],
        risks=sorted(((m, r) for m, r, _, _ in rows), key=lambda mr: (-mr[1], mr[0])),
        lapsed=frozenset(m for m, *_ in rows) - {m for (m,) in recent},
        clv_total=sum(clv for _, _, clv, _ in rows),
        rfm=rfm,
        churn=churn,
        drift_flagged=drift is not None and drift["max_psi"] > threshold,
        cluster_sizes=dict(sizes),
    )


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Scored:
    return build_scored(tmp_path_factory.mktemp("predictions") / "ws", KeyRing.generate().to_json())


@pytest.fixture
def client(scored: Scored, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("MEMBERLENS_KEYS", scored.keys)
    with TestClient(create_app(scored.root, flush_interval=3600)) as c:
        yield c


def _rows(page: str, table: str) -> list[str]:
    """The data-* keys of ``table``'s rows, in order."""
    body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [html.unescape(v) for v in re.findall(r"<tr data-[a-z]+=\"([^\"]+)\"", body)]


@pytest.mark.slow
@requires_datasets
def test_predictions_page_draws_the_charts_and_lists_the_riskiest(
    client: TestClient, scored: Scored
) -> None:
    login(client, "viewer@shop.cn")
    page = client.get("/predictions")
    data = client.get("/api/v1/console/predictions").json()
    assert page.status_code == 200
    text = page.text
    for chart in ("clv-histogram", "clv-by-segment", "churn-bands"):
        assert f'id="{chart}"' in text
    assert '<script src="/static/plotly.min.js">' in text and 'id="nav-predictions"' in text
    # Every buyer was scored by both models; the list is the 100 riskiest of the members
    # who have not lapsed, riskiest first.
    assert data["members"] == scored.members == len(scored.risks) == 2_357
    assert data["models"] == {"clv": "clv:1", "churn": "churn:1"}
    active = [(m, r) for m, r in scored.risks if m not in scored.lapsed]
    assert 100 < len(active) < len(scored.risks) / 2  # most of the sample has lapsed
    top = [m for m, _ in active[:100]]
    assert [m["member_id"] for m in data["at_risk"]] == top
    assert _rows(text, "at-risk") == top
    assert f'<a href="/members/{top[0]}">{top[0]}</a>' in text
    assert all(len(m["reasons"]) == 3 and all(m["reasons"]) for m in data["at_risk"])
    assert all(m["next_purchase_date"] and m["days_since_purchase"] <= 90 for m in data["at_risk"])
    # Lapsed members apart; the bands of the others by the default thresholds (0.4,
    # 0.7), counted by hand.
    risks = [r for _, r in active]
    assert data["churn"] == {
        "members": 2_357,
        "active": len(active),
        "lapsed": len(scored.lapsed),
        "horizon_days": 90,
        "bands": {
            "high": sum(r >= 0.7 for r in risks),
            "medium": sum(0.4 <= r < 0.7 for r in risks),
            "low": sum(r < 0.4 for r in risks),
        },
    }
    assert "no purchase in the last 90 days" in text
    clv = data["clv"]
    assert clv["total"] == pytest.approx(scored.clv_total)
    assert sum(clv["histogram"]["counts"]) + clv["histogram"]["above"] == scored.members
    assert 0 < clv["histogram"]["above"] <= 0.011 * scored.members  # above the 99th percentile
    shown = {s["segment"]: (s["members"], s["clv_total"]) for s in data["by_segment"]["segments"]}
    assert shown.keys() == scored.rfm.keys()
    for name, (n, total) in scored.rfm.items():
        assert shown[name][0] == n and shown[name][1] == pytest.approx(total)
    assert _rows(text, "clv-segments") == [s["segment"] for s in data["by_segment"]["segments"]]


@pytest.mark.slow
@requires_datasets
@pytest.mark.parametrize(
    ("role", "asked", "status", "contacts"),
    [
        ("analyst", None, 200, "hashed"),  # may export pseudonymised data
        ("marketer", None, 200, "masked"),
        ("viewer", "hashed", 403, None),  # may not: refused, not downgraded
        ("privacy_officer", "none", 200, "none"),
    ],
)
def test_churn_csv_is_the_whole_list_riskiest_first_and_audited(
    client: TestClient, scored: Scored, role: str, asked: str | None, status: int,
    contacts: str | None,
) -> None:  # fmt: skip
    login(client, f"{role}@shop.cn")
    query = f"?contacts={asked}" if asked else ""
    answer = client.get(f"/predictions/churn.csv{query}", follow_redirects=False)
    assert answer.status_code == status
    if status != 200:
        return
    assert answer.headers["content-disposition"].endswith(f'"churn-1998-07-01-{contacts}.csv"')
    reader = csv.DictReader(io.StringIO(answer.text))
    rows = list(reader)
    extra = [] if contacts == "none" else ["email", "phone"]
    assert reader.fieldnames == [
        "member_id", "churn_risk", "churn_band", "next_purchase_date", "clv",
        "reason_1", "reason_2", "reason_3", *extra,
    ]  # fmt: skip
    assert len(rows) == scored.members
    assert [(r["member_id"], float(r["churn_risk"])) for r in rows] == scored.risks
    assert all(r["reason_1"] for r in rows)
    for r in rows:  # a lapsed member has no next purchase date
        lapsed = r["member_id"] in scored.lapsed
        assert (r["churn_band"] == "lapsed") is lapsed
        assert (r["next_purchase_date"] == "") is lapsed
        assert lapsed or date.fromisoformat(r["next_purchase_date"]) >= AS_OF
    with Workspace.open(scored.root) as ws:
        newest = audit.entries(ws.state, action="export.churn", limit=1)[0]
    assert (newest.actor, newest.target) == (scored.users[role], "member_predictions")
    assert f'"rows": {scored.members}' in (newest.detail or "")


@pytest.mark.slow
@requires_datasets
def test_model_cards_show_the_registry_figures(client: TestClient, scored: Scored) -> None:
    login(client, "marketer@shop.cn")
    page = client.get("/models").text
    cards = client.get("/api/v1/console/models").json()
    assert [(c["name"], c["version"], c["stage"]) for c in cards] == [
        ("churn", 1, "production"),
        ("clusters", 1, "production"),
        ("clv", 1, "production"),
        # no sentiment model: the text step registers the built-in one when it first
        # has feedback to read, and this CDNOW workspace has none
    ]
    # the refresh's clustering, as stored: k and each cluster's size
    clusters = cards[1]["card"]
    assert clusters["k"] == len(scored.cluster_sizes) and clusters["members"] == scored.members
    assert {c["cluster_id"]: c["size"] for c in clusters["clusters"]} == scored.cluster_sizes
    assert 'id="clusters-1"' in page and 'id="drift-clusters-1"' not in page
    test = scored.churn.metrics["test"]
    auc = page.split('id="auc-1"', 1)[1].split("</table>", 1)[0]
    roc = re.search(r'data-metric="roc_auc">.*?class="num model">([^<]+)<.*?'
                    r'class="num baseline">([^<]+)<', auc)  # fmt: skip
    assert roc is not None
    assert roc.groups() == (
        f"{test['model']['roc_auc']:.4f}",
        f"{test['baseline']['roc_auc']:.4f}",
    )
    card = cards[0]["card"]
    assert card["test"]["roc_auc"] == test["model"]["roc_auc"]
    assert card["baseline"]["roc_auc"] == test["baseline"]["roc_auc"]
    assert card["calibration"] == test["model"]["calibration"] and card["calibration"]
    shares = [f["share"] for f in card["importance"]]
    assert shares == sorted(shares, reverse=True) and len(shares) <= 15
    for box in ('id="calibration-1"', 'id="importance-1"', 'id="model-clv-1"'):
        assert box in page
    flagged = re.search(r'id="drift-churn-1" data-flagged="(\w+)"', page)
    assert flagged is not None
    assert flagged.group(1) == ("yes" if scored.drift_flagged else "no")
    assert cards[0]["drift"]["flagged"] is scored.drift_flagged
    assert "artifact_path" not in cards[0]


@pytest.mark.slow
def test_without_models_the_pages_say_how_to_fit_them(workspace_dir: Path, tmp_path: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        run(ws, "orders", write(tmp_path / "o.csv", ORDERS))
        assert (
            "no production model"
            in pipeline.refresh(ws, as_of=date(2025, 5, 26)).steps["predictions"]["clv"]
        )
        accounts.create_user(ws.state, email="viewer@shop.cn", role="viewer", actor="t",
                             password=PASSWORD, locale="zh-CN")  # fmt: skip
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        assert client.get("/predictions", follow_redirects=False).headers["location"] == "/login"
        assert client.get("/api/v1/console/models").status_code == 401
        login(client, "viewer@shop.cn")
        page = client.get("/predictions").text
        models = client.get("/models").text
        data = client.get("/api/v1/console/predictions").json()
        export = client.get("/predictions/churn.csv?contacts=none")
    assert 'id="predictions-empty"' in page and "memberlens predict clv --calibration-end" in page
    assert "暂无预测" in page and 'id="clv-histogram"' not in page  # the viewer reads Chinese
    assert 'id="models-empty"' in models and "memberlens predict churn" in models
    assert data["snapshot_date"] is None and data["at_risk"] == []
    assert export.status_code == 200 and export.text.splitlines() == [
        "member_id,churn_risk,churn_band,next_purchase_date,clv,reason_1,reason_2,reason_3"
    ]


def _hand_made(ws: Workspace, clv: list[float]) -> dict[str, Any]:
    """A snapshot with CLV only (no churn model): members m0.., CLV as given, the first
    half Champions and the rest Lost."""
    predict.ensure_predictions_table(ws.warehouse)
    segment.ensure_segment_tables(ws.warehouse)
    day = date(2025, 1, 1)
    for i, value in enumerate(clv):
        ws.warehouse.execute(
            "INSERT INTO member_predictions (snapshot_date, member_id, clv, model_version) "
            "VALUES (?, ?, ?, 'clv:1')",
            [day, f"m{i}", value],
        )
        ws.warehouse.execute(
            "INSERT INTO member_rfm (snapshot_date, member_id, rfm_segment) VALUES (?, ?, ?)",
            [day, f"m{i}", "Champions" if i < len(clv) // 2 else "Lost"],
        )
    return prediction_views.prediction_overview(ws.warehouse, bins=4)


def test_histogram_and_segment_sums_on_known_values(workspace_dir: Path) -> None:
    # 101 members: CLV 0..99 and one at 10,000; the 99th percentile is 99.0, so four
    # bins of width 24.75 hold 25 members each and the outlier is counted above.
    with Workspace.open(workspace_dir) as ws:
        found = _hand_made(ws, [float(v) for v in range(100)] + [10_000.0])
        assert prediction_views.churn_list(ws.warehouse)["members"] == []
        accounts.create_user(ws.state, email="analyst@shop.cn", role="analyst", actor="t",
                             password=PASSWORD)  # fmt: skip
    histogram = found["clv"]["histogram"]
    assert histogram["edges"] == [0.0, 24.75, 49.5, 74.25, 99.0]
    assert histogram["counts"] == [25, 25, 25, 25] and histogram["above"] == 1
    assert found["clv"]["total"] == sum(range(100)) + 10_000
    assert found["clv"]["median"] == 50.0
    by = {s["segment"]: s for s in found["by_segment"]["segments"]}
    assert list(by) == ["Champions", "Lost"]  # in RFM_SEGMENTS order
    assert (by["Champions"]["members"], by["Champions"]["clv_total"]) == (50, sum(range(50)))
    assert by["Lost"]["clv_total"] == sum(range(50, 100)) + 10_000
    assert by["Lost"]["churn_risk_mean"] is None
    assert found["churn"] is None and found["at_risk"] == []
    # A CLV model alone: its charts, and the churn part says how to fit a churn model.
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "analyst@shop.cn")
        page = client.get("/predictions").text
    assert 'id="clv-histogram"' in page and 'id="clv-by-segment"' in page
    assert 'id="no-churn"' in page and "memberlens predict churn" in page
    assert 'id="at-risk"' not in page and 'id="clv-above"' in page


def test_lapsed_members_stand_apart_from_the_members_at_risk(workspace_dir: Path) -> None:
    """A hand-made snapshot: three members scored lapsed (band ``lapsed``, no next
    purchase), three active. The band counts and the at-risk list hold the active
    ones only, riskiest first, with their days since the last purchase; the lapsed are
    counted apart, and the page says what lapsed means, in both languages."""
    day = date(2025, 1, 1)
    members = [  # id, risk, band, lapsed, next purchase, days since the last purchase
        ("g1", 0.99, "lapsed", True, None, 400),
        ("g2", 0.97, "lapsed", True, None, 300),
        ("g3", 0.50, "lapsed", True, None, 90),
        ("a1", 0.80, "high", False, date(2025, 1, 20), 40),
        ("a2", 0.45, "medium", False, date(2025, 1, 9), 12),
        ("a3", 0.10, "low", False, date(2025, 1, 3), 2),
    ]
    with Workspace.open(workspace_dir) as ws:
        predict.ensure_predictions_table(ws.warehouse)
        ws.warehouse.execute(
            "CREATE TABLE member_features (snapshot_date DATE, member_id VARCHAR, "
            "recency_days BIGINT)"
        )
        for member_id, risk, band, lapsed, next_day, recency in members:
            ws.warehouse.execute(
                "INSERT INTO member_predictions (snapshot_date, member_id, churn_risk, "
                "churn_band, lapsed, next_purchase_date, churn_reasons, churn_model_version) "
                "VALUES (?, ?, ?, ?, ?, ?, '[]', 'churn:1')",
                [day, member_id, risk, band, lapsed, next_day],
            )
            ws.warehouse.execute(
                "INSERT INTO member_features VALUES (?, ?, ?)", [day, member_id, recency]
            )
        found = prediction_views.prediction_overview(ws.warehouse, state=ws.state)
        whole = prediction_views.churn_list(ws.warehouse)["members"]
        for locale in ("en", "zh-CN"):
            accounts.create_user(ws.state, email=f"{locale}@shop.cn", role="viewer", actor="t",
                                 password=PASSWORD, locale=locale)  # fmt: skip
    assert found["churn"] == {
        "members": 6,
        "active": 3,
        "lapsed": 3,
        "horizon_days": None,  # no registered model to ask
        "bands": {"high": 1, "medium": 1, "low": 1},
    }
    assert [m["member_id"] for m in found["at_risk"]] == ["a1", "a2", "a3"]
    assert [m["days_since_purchase"] for m in found["at_risk"]] == [40, 12, 2]
    assert all(m["next_purchase_date"] and not m["lapsed"] for m in found["at_risk"])
    # The export keeps the whole list, the lapsed with no next purchase date.
    assert [(m["member_id"], m["churn_band"], m["next_purchase_date"]) for m in whole[:3]] == [
        ("g1", "lapsed", None),
        ("g2", "lapsed", None),
        ("a1", "high", "2025-01-20"),
    ]
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "en@shop.cn")
        page = client.get("/predictions").text
        login(client, "zh-CN@shop.cn")
        zh = client.get("/predictions").text
    assert _rows(page, "at-risk") == ["a1", "a2", "a3"]
    assert _rows(page, "band-counts") == ["high", "medium", "low", "lapsed"]
    assert re.search(r'id="lapsed">3<', page) and 'id="lapsed-note"' in page
    assert "active members most at risk" in page and "Days since last purchase" in page
    assert "已流失会员" in zh and "距上次购买天数" in zh and "流失风险最高的 3 位活跃会员" in zh

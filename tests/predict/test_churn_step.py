"""The churn model in the refresh: scores, bands, reasons, next purchase date, the
churn_risk_crossed signal, prediction.* rule names, drift and retraining, the CLI.

CDNOW sample, churn model trained as of 1998-04-01 with a 60-day horizon; refreshes
as of 1998-04-01 and 1998-06-01 (two months later, when many members are overdue).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from memberlens import pipeline, predict, registry, segment
from memberlens.core.settings import PredictSettings
from memberlens.workspace import Workspace
from tests.cli.test_cli import cli, json_of
from tests.conftest import requires_datasets
from tests.predict.cdnow_helpers import load_sample

pytestmark = [requires_datasets, pytest.mark.slow]

FIRST, SECOND = date(1998, 4, 1), date(1998, 6, 1)
OPTIONS = predict.ChurnOptions(horizon_days=60, step_days=30)
STEPS = ["identity", "features", "predictions", "signals"]


def _fit(ws: Workspace) -> predict.ChurnReport:
    return predict.fit_churn(
        ws.warehouse, ws.state, ws.root, as_of=FIRST, default_timezone="UTC", options=OPTIONS
    )


def test_refresh_scores_bands_reasons_and_signals_crossings(workspace: Workspace) -> None:
    load_sample(workspace)
    _fit(workspace)
    first = pipeline.refresh(workspace, as_of=FIRST, only=STEPS)
    assert first.steps["predictions"]["churn_model"] == "churn:1"
    assert first.steps["predictions"]["members"] == 2_357
    medium, high = PredictSettings().churn_bands
    # Lapsed by hand: no completed order on the 60 days before the cut-off.
    rows = workspace.warehouse.fetch_all(
        "SELECT churn_risk, churn_band, churn_reasons, next_purchase_date, churn_model_version, "
        "lapsed, member_id NOT IN (SELECT m.member_id FROM orders o JOIN member_map m "
        "USING (source, source_member_key) WHERE o.ordered_at >= ? AND o.ordered_at < ?) "
        "FROM member_predictions WHERE snapshot_date = ?",
        [FIRST - timedelta(days=60), FIRST, FIRST],
    )
    for risk, band, reasons, next_date, version, lapsed, silent in rows:
        assert 0 < risk < 1 and version == "churn:1"
        assert lapsed is silent
        if lapsed:  # past risk: no band of risk, no next purchase
            assert band == "lapsed" and next_date is None
        else:
            assert band == ("high" if risk >= high else "medium" if risk >= medium else "low")
            assert FIRST <= next_date < date(1998, 5, 31)  # within the 60-day horizon
        said = json.loads(reasons)
        assert len(said) <= 3 and all(r["contribution"] > 0 and r["code"] for r in said)
        assert all(r["text"] for r in predict.with_texts(said))
    assert {band for _, band, *_ in rows} == {"low", "medium", "high", "lapsed"}

    # Two months on: members whose risk rose past the alert threshold are signalled once.
    second = pipeline.refresh(workspace, as_of=SECOND, only=STEPS)
    alert = PredictSettings().churn_alert
    crossed = workspace.warehouse.fetch_all(
        "SELECT b.member_id FROM member_predictions a JOIN member_predictions b "
        "USING (member_id) WHERE a.snapshot_date = ? AND b.snapshot_date = ? "
        "AND a.churn_risk < ? AND b.churn_risk >= ? ORDER BY 1",
        [FIRST, SECOND, alert, alert],
    )
    assert crossed, "two months later some members should have crossed"
    assert second.steps["signals"]["emitted"].get("churn_risk_crossed") == len(crossed)
    again = pipeline.refresh(workspace, as_of=SECOND, only=["predictions", "signals"])
    assert again.steps["signals"]["emitted"].get("churn_risk_crossed", 0) == 0
    payload = workspace.warehouse.fetch_all(
        "SELECT payload FROM member_signals WHERE signal = 'churn_risk_crossed' LIMIT 1"
    )[0][0]
    assert json.loads(payload)["reasons"]

    # Rules read the churn scores.
    pipeline.refresh(workspace, as_of=SECOND, only=["segments"])
    count = segment.preview_segment(
        workspace.warehouse,
        workspace.state,
        "prediction.churn_band = 'high' and prediction.next_purchase_date >= date(\"1998-06-01\")",
        settings=workspace.settings.segments,
        book=workspace.tag_book(),
    )
    by_hand = workspace.warehouse.scalar(
        "SELECT count(*) FROM member_predictions WHERE snapshot_date = ? "
        "AND churn_band = 'high' AND next_purchase_date >= DATE '1998-06-01'",
        [SECOND],
    )
    assert count.members == by_hand > 0


def test_drift_starts_at_zero_flags_a_shift_and_a_refit_starts_again(
    workspace: Workspace,
) -> None:
    load_sample(workspace)
    _fit(workspace)
    wh, state, root = workspace.warehouse, workspace.state, workspace.root
    settings = PredictSettings()

    # On the fit's own day the members are the reference itself.
    first = predict.compute_predictions(wh, state, root, cutoff=_at(FIRST), settings=settings)
    assert "drift_flagged" not in first
    drift = predict.latest_drift(wh, "churn", 1)
    assert drift is not None and set(drift["psi"]) >= {"recency_days", "churn_risk"}
    assert drift["max_psi"] == 0.0 and all(v == 0.0 for v in drift["psi"].values())

    # Two months on, the cohort has aged (tenure_days, a clock input, moves most but
    # cannot flag) and gone quiet (recency and the risk moved: they flag).
    second = predict.compute_predictions(wh, state, root, cutoff=_at(SECOND), settings=settings)
    drift = predict.latest_drift(wh, "churn", 1)
    assert drift is not None and drift["max_input"] != "tenure_days"
    assert drift["psi"]["tenure_days"] > drift["max_psi"] > settings.drift_threshold
    moved = {k: v for k, v in drift["psi"].items() if k != "tenure_days"}
    assert drift["max_psi"] == max(moved.values())
    assert second["drift_flagged"] == {"churn:1": drift["max_input"]}

    # The next refresh refits on the newer data and promotes; the new version's
    # reference is the members as of its fit, so it measures no drift that day.
    third_day = _at(SECOND + timedelta(days=1))
    third = predict.compute_predictions(wh, state, root, cutoff=third_day, settings=settings)
    assert third["retrained"] and third["churn_model"] == "churn:2"
    assert "drift_flagged" not in third
    stages = {m.version: m.stage for m in registry.list_models(state, name="churn")}
    assert stages == {1: "retired", 2: "production"}
    assert predict.latest_drift(wh, "churn", 2)["max_psi"] == 0.0  # type: ignore[index]


def _at(day: date):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_cli_churn_and_backtest(workspace_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Workspace.open(workspace_dir) as ws:
        load_sample(ws)
    ws = str(workspace_dir)
    fitted = json_of("predict", "churn", "-w", ws, "--as-of", "1998-07-01", schema="predict-churn")
    test = fitted["test"]
    assert not test["overlap"] and test["model"]["rows"] == 2_357
    replay = json_of(
        "predict",
        "backtest",
        "-w",
        ws,
        "--as-of",
        "1998-07-01",
        "--replays",
        "2",
        schema="predict-backtest",
    )
    cutoffs = [e["cutoff"] for e in replay["evaluations"]]
    assert cutoffs == sorted(cutoffs) and cutoffs[-1] == test["cutoff"]
    # The latest replay is the fit's own held-out test: the same numbers.
    assert replay["evaluations"][-1]["model"]["roc_auc"] == test["model"]["roc_auc"]
    short = cli("predict", "churn", "-w", ws, "--as-of", "1997-03-01")
    assert short.returncode == 1 and "not enough history" in short.stderr

"""The churn model: honest held-out tests against the BG/NBD baseline, point-in-time
features, reasons in plain words, and the metrics themselves on hand-worked answers.

Figures (printed with ``pytest -s``) are the ones docs/predictions.md and the README
quote: CDNOW sample with the classic 39-week holdout and the demo's generated base. The
whole CDNOW_master under the strict protocol is measured by bench/churn.py (at scale,
outside the suite).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from memberlens import predict
from memberlens.core.errors import InputError
from memberlens.predict import _churn_data as data
from memberlens.predict._metrics import (
    brier,
    calibration_bins,
    pr_auc,
    psi,
    reference_bins,
    roc_auc,
    top_decile_lift,
)
from memberlens.predict._reasons import reasons
from memberlens.workspace import Workspace
from tests.cli.test_cli import cli
from tests.conftest import requires_datasets
from tests.ingest.helpers import run, write
from tests.predict.cdnow_helpers import load_sample

F = predict.MODEL_FEATURES


def _show(name: str, report: predict.ChurnReport) -> None:
    t = report.evaluation
    print(
        f"\n{name}: horizon {t.horizon_days} d, test at {t.cutoff} on {t.model['rows']} buyers "
        f"({t.model['positive_rate']:.1%} churned), overlap={t.overlap}: LightGBM ROC-AUC "
        f"{t.model['roc_auc']:.4f} vs BG/NBD {t.baseline['roc_auc']:.4f}; PR-AUC "
        f"{t.model['pr_auc']:.4f} vs {t.baseline['pr_auc']:.4f}; Brier {t.model['brier']:.4f}; "
        f"top-decile lift {t.model['top_decile_lift']:.3f} vs {t.baseline['top_decile_lift']:.3f}; "
        f"next purchase MAE {t.next_purchase['mae_days']} d (naive "
        f"{t.next_purchase['naive_mae_days']} d) over {t.next_purchase['members']} buyers; "
        f"repeat purchases predicted {t.clv['predicted_repeat']} vs {t.clv['actual_repeat']}"
    )


# -- the metrics, by hand ---------------------------------------------------------------


def test_metrics_match_hand_worked_answers() -> None:
    y = [0, 0, 1, 1, 0, 1]
    s = [0.1, 0.4, 0.35, 0.8, 0.7, 0.9]
    # Pairs (positive above negative): 0.35 beats 0.1 only; 0.8 and 0.9 beat all three.
    assert roc_auc(y, s) == pytest.approx(7 / 9)
    # Ranks by score: 0.9(+) 0.8(+) 0.7(-) 0.4(-) 0.35(+) 0.1(-): AP = (1 + 1 + 3/5) / 3.
    assert pr_auc(y, s) == pytest.approx((1 + 1 + 0.6) / 3)
    assert brier([1, 0], [0.75, 0.5]) == pytest.approx((0.0625 + 0.25) / 2)
    # Top 10% of 20 rows = 2 rows, both positive; base rate 5/20: lift 4.
    labels = [1, 1] + [1, 1, 1] + [0] * 15
    assert top_decile_lift(labels, np.linspace(1, 0, 20)) == pytest.approx(4.0)
    bins = calibration_bins([0, 1, 1, 1], [0.05, 0.08, 0.95, 0.91])
    assert bins == [
        {"predicted": 0.065, "observed": 0.5, "count": 2},
        {"predicted": 0.93, "observed": 1.0, "count": 2},
    ]
    ref = reference_bins(np.arange(100.0))
    assert psi(ref, np.arange(100.0)) == pytest.approx(0.0, abs=1e-12)
    # Everything in the top decile: 10% expected there, 100% seen.
    shifted = psi(ref, np.full(100, 1000.0))
    assert shifted > 0.2


def test_our_pr_auc_is_average_precision() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(3)
    y = rng.random(500) < 0.3
    s = np.round(rng.random(500) + 0.3 * y, 2)  # ties on purpose
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s))
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


# -- reasons ------------------------------------------------------------------------------


def test_reasons_are_the_strongest_risk_raising_features_in_plain_words() -> None:
    x = np.full((1, len(F)), np.nan)
    for name, value in {
        "recency_days": 74,
        "interval_mean_days": 24,
        "gap_ratio": 74 / 24,
        "orders_90d": 0,
        "complaints": 2,
        "frequency": 9,
    }.items():
        x[0, F.index(name)] = value
    contrib = np.zeros((1, len(F) + 1))
    contrib[0, F.index("p_alive")] = 0.5  # reads as recency: one sentence, 0.5 + 0.2
    contrib[0, F.index("recency_days")] = 0.2
    contrib[0, F.index("complaints")] = 0.6
    contrib[0, F.index("orders_90d")] = 0.1
    contrib[0, F.index("frequency")] = -1.0  # lowers the risk: never a reason
    contrib[0, -1] = 3.0  # the bias is not a reason
    (found,) = reasons(x, contrib)
    assert [r["text"] for r in predict.with_texts(found)] == [
        "no purchase for 74 days, 3.1× the usual gap",
        "2 complaints made",
        "no order in 90 days",
    ]
    assert [r["contribution"] for r in found] == [0.7, 0.6, 0.1]


# -- point in time ------------------------------------------------------------------------


@requires_datasets
@pytest.mark.slow
def test_rows_at_a_cutoff_never_see_later_data(workspace: Workspace) -> None:
    """Features (and the BG/NBD inputs) at a cut-off are the same with or without the
    orders after it: nothing from the future leaks in."""
    load_sample(workspace)
    cutoff, horizon = date(1997, 6, 1), 90
    with_future = data.rows_at(
        workspace.warehouse, data.feature_source(workspace.warehouse, "UTC"), cutoff, horizon
    )
    assert with_future.churned is not None and 0 < with_future.churned.mean() < 1
    workspace.warehouse.execute("DELETE FROM orders WHERE ordered_at >= ?", [cutoff])
    without = data.rows_at(
        workspace.warehouse,
        data.feature_source(workspace.warehouse, "UTC"),
        cutoff,
        horizon,
        labelled=False,
    )
    assert list(with_future.member_id) == list(without.member_id)
    np.testing.assert_array_equal(with_future.features, without.features)


def test_the_plan_keeps_training_labels_before_the_test_cutoff() -> None:
    plan = data.plan_cutoffs(
        date(2025, 12, 1), 60, first_day=date(2024, 1, 1), cutoffs=4, step_days=30
    )
    assert plan.validate + timedelta(days=60) <= date(2025, 12, 1)
    assert all(c < plan.validate for c in plan.fit) and len(plan.fit) == 3
    with pytest.raises(InputError, match="not enough history"):
        data.plan_cutoffs(
            date(1997, 10, 1), 273, first_day=date(1997, 1, 1), cutoffs=4, step_days=30
        )


# -- the horizon, lapsed members, and the message when the data is older than --as-of ------

# One member buying on 21 days with gaps of 1, 2, ... 20 days (from 2025-01-01), one
# buying once on 2025-06-01. Times are UTC; every order is completed.
_GAPS = list(range(1, 21))
_DAYS = [date(2025, 1, 1) + timedelta(days=sum(_GAPS[:i])) for i in range(len(_GAPS) + 1)]
RHYTHM = (
    "order_id,source,source_member_key,ordered_at,total_amount\n"
    + "".join(f"o{i},pos,a,{d.isoformat()}T10:00:00Z,10.00\n" for i, d in enumerate(_DAYS))
    + "once,pos,b,2025-06-01T10:00:00Z,5.00\n"
)


def test_the_default_horizon_is_the_90th_percentile_of_repeat_purchase_gaps(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Nine repeat purchases in ten come within the horizon: over the gaps 1..20 the 90th
    percentile (linear interpolation) is 1 + 0.9 × 19 = 18.1 days, so 19 whole days."""
    run(workspace, "orders", write(tmp_path / "o.csv", RHYTHM))
    assert float(np.quantile(_GAPS, 0.9)) == pytest.approx(18.1)
    assert data.default_horizon(workspace.warehouse, date(2025, 8, 1)) == 19


@pytest.mark.slow
def test_lapsed_means_no_purchase_for_longer_than_the_horizon(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Member a last bought on 2025-07-30, b on 2025-06-01. Nineteen days after a's last
    purchase a is not lapsed at H = 19 (the churn label allows 19 silent days); a day
    later a is. b is lapsed on both days."""
    run(workspace, "orders", write(tmp_path / "o.csv", RHYTHM))
    ids = dict(workspace.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map"))
    last = _DAYS[-1]
    assert last == date(2025, 7, 30)
    source = data.feature_source(workspace.warehouse, "UTC")
    for days, a_lapsed in ((19, False), (20, True)):
        rows = data.rows_at(
            workspace.warehouse, source, last + timedelta(days=days), 19, labelled=False
        )
        cutoff = last + timedelta(days=days)
        gone = data.lapsed(workspace.warehouse, cutoff, 19, rows.member_id).tolist()
        found = dict(zip(rows.member_id, gone, strict=True))
        assert found == {ids["a"]: a_lapsed, ids["b"]: True}


@pytest.mark.slow
def test_data_older_than_as_of_says_to_pass_as_of(workspace_dir: Path, tmp_path: Path) -> None:
    """Orders end on 2025-07-30; trained as of 2026-12-01 every buyer has long churned:
    the message names --as-of and the day to pass."""
    with Workspace.open(workspace_dir) as ws:
        run(ws, "orders", write(tmp_path / "o.csv", RHYTHM))
    done = cli("predict", "churn", "-w", str(workspace_dir), "--as-of", "2026-12-01")
    assert done.returncode == 1
    assert "only churned members" in done.stderr and "--as-of 2025-07-31" in done.stderr


# -- beating the baseline ---------------------------------------------------------------


@requires_datasets
@pytest.mark.slow
def test_cdnow_sample_classic_holdout_beats_bgnbd(workspace: Workspace) -> None:
    """The issue's protocol: churn = no purchase in the 39-week holdout (1997-10-01 ..
    1998-06-30). No earlier cut-off has a whole 39-week window before 1997-10-01, so
    training windows overlap the test's (flagged as such)."""
    load_sample(workspace)
    report = predict.fit_churn(
        workspace.warehouse,
        workspace.state,
        workspace.root,
        as_of=date(1998, 7, 1),
        default_timezone="UTC",
        options=predict.ChurnOptions(horizon_days=273, evaluate_at=date(1997, 10, 1), overlap=True),
    )
    _show("CDNOW sample, 39-week holdout", report)
    t = report.evaluation
    assert t.overlap and t.model["rows"] == 2_357
    assert t.baseline["roc_auc"] == pytest.approx(0.77, abs=0.01)  # the figure
    assert t.model["roc_auc"] >= t.baseline["roc_auc"] + 0.03
    assert t.model["pr_auc"] > t.baseline["pr_auc"]
    assert t.next_purchase["mae_days"] < t.next_purchase["naive_mae_days"]
    # Calibrated: predicted and observed churn agree overall within two points.
    cal = t.model["calibration"]
    predicted = sum(b["predicted"] * b["count"] for b in cal) / t.model["rows"]
    assert predicted == pytest.approx(t.model["positive_rate"], abs=0.02)
    assert report.model.stage == "production" and report.model.name == "churn"

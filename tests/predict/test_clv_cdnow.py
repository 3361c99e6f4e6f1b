"""The literature, reproduced: BG/NBD and Gamma-Gamma on the CDNOW sample.

Fader, Hardie & Lee (2005) fit BG/NBD to the 2,357-customer sample with the classic
protocol (calibration to 1997-09-30, 39 weeks; holdout to 1998-06-30) and report
r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = -9582.4; Fader & Hardie (2013)
report Gamma-Gamma p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers.
"""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pytest

from memberlens import predict
from memberlens.workspace import Workspace
from tests.conftest import requires_datasets
from tests.predict.cdnow_helpers import PUBLISHED_SUMMARY, SAMPLE, load_sample

pytestmark = requires_datasets

CAL_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture
def sample(workspace: Workspace) -> Workspace:
    load_sample(workspace)
    return workspace


def _index_of_member(ws: Workspace) -> dict[str, int]:
    """member_id -> the published file's ID (the sample's customer_index column)."""
    index = {}
    for line in SAMPLE.read_text().splitlines():
        customer, position = line.split()[:2]
        index[customer] = int(position)
    rows = ws.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map")
    return {member: index[key] for key, member in rows}


def test_calibration_summary_equals_the_published_one(sample: Workspace) -> None:
    summary = predict.summarise(sample.warehouse, calibration_end=CAL_END, unit="week")
    index = _index_of_member(sample)
    ours = {
        index[m]: (f, f"{r:.2f}", f"{t:.2f}")
        for m, f, r, t in zip(
            *(summary.column(c).to_pylist() for c in ("member_id", "frequency", "recency", "T")),
            strict=True,
        )
    }
    with PUBLISHED_SUMMARY.open(newline="") as fh:
        published = {
            int(row["ID"]): (
                int(row["frequency"]),
                f"{float(row['recency']):.2f}",
                f"{float(row['T']):.2f}",
            )
            for row in csv.DictReader(fh)
        }
    assert len(published) == 2_357
    assert ours == published


def test_bgnbd_and_gamma_gamma_reproduce_the_published_estimates(sample: Workspace) -> None:
    report = predict.fit_clv(
        sample.warehouse,
        sample.state,
        sample.root,
        calibration_end=CAL_END,
        holdout_end=HOLDOUT_END,
    )
    print("BG/NBD", report.bgnbd, "Gamma-Gamma", report.gamma_gamma)
    for name, value in BGNBD.items():
        assert report.bgnbd[name] == pytest.approx(value, rel=0.01), name
    assert abs(report.bgnbd["loglik"] - -9582.4) < 0.5
    assert report.gamma_gamma is not None
    for name, value in GAMMA_GAMMA.items():
        assert report.gamma_gamma[name] == pytest.approx(value, rel=0.01), name
    assert (report.members, report.repeat_members) == (2_357, 946)


def test_holdout_repeat_purchases_predicted_about_twelve_percent_low(sample: Workspace) -> None:
    report = predict.fit_clv(
        sample.warehouse,
        sample.state,
        sample.root,
        calibration_end=CAL_END,
        holdout_end=HOLDOUT_END,
    )
    h = report.holdout
    assert h is not None
    shortfall = 1 - h.predicted_repeat / h.actual_repeat
    print(
        f"holdout: predicted {h.predicted_repeat:.1f}, actual {h.actual_repeat}, "
        f"{shortfall:.1%} below; MAE per customer {h.mae:.4f}"
    )
    assert h.span == 39.0
    assert h.actual_repeat == 1_882
    assert 0.10 < shortfall < 0.14
    # Most customers buy nothing in the holdout; a per-customer error near 0.8 repeat
    # transactions is what the model's spread allows (mean actual: 0.80).
    assert 0.6 < h.mae < 1.0


def test_standard_errors_are_those_of_the_information_matrix(sample: Workspace) -> None:
    summary = predict.summarise(sample.warehouse, calibration_end=CAL_END)
    x, t_x, t_age = (summary.column(c).to_numpy() for c in ("frequency", "recency", "T"))
    model = predict.BetaGeoModel().fit(x, t_x, t_age)
    assert model.standard_errors_ is not None and model.confidence_intervals_ is not None
    # Delta-method errors of about 5% of r and 8.5% of alpha on 2,357 customers; the
    # published point estimates lie inside the 95% intervals.
    assert 0.03 < model.standard_errors_["r"] / model.params_["r"] < 0.08  # type: ignore[index]
    for name, value in BGNBD.items():
        low, high = model.confidence_intervals_[name]
        assert low < value < high, name
    assert np.isfinite(list(model.standard_errors_.values())).all()

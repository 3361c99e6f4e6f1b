"""Fit, evaluate, register and score the churn model; replay past cut-offs.

``fit_churn`` does two trainings. First an honest test: a model trained as of the
evaluation cut-off ``E`` (by default the latest day whose label window has ended) is
scored on what members did after ``E``, beside the BG/NBD baseline (expected
purchases in the horizon, fitted on the same history) on the same members. Then the
production model: the same recipe with the newest cut-offs the data can label. Both
figures go into the registry entry; the production model is what the refresh scores
with. ``backtest`` repeats the honest test at earlier cut-offs to show the metrics
over time. See docs/predictions.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from memberlens.core.errors import InputError
from memberlens.predict import _churn_data as data
from memberlens.predict._bgnbd import BetaGeoModel
from memberlens.predict._churn_model import ChurnModel
from memberlens.predict._metrics import classification_metrics, pr_auc, psi, roc_auc
from memberlens.predict._metrics import top_decile_lift as lift
from memberlens.predict._reasons import reasons
from memberlens.predict._summary import summarise
from memberlens.predict.contracts import (
    CHURN_MODEL,
    UNIT_DAYS,
    ChurnEvaluation,
    ChurnOptions,
    ChurnReport,
)
from memberlens.registry import ModelNotFoundError, get_model, read_artifact, register_model
from memberlens.store import StateStore, Warehouse

Progress = Callable[[str], None]
_WEEK = UNIT_DAYS["week"]


def fit_churn(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    as_of: date,
    default_timezone: str,
    options: ChurnOptions | None = None,
    progress: Progress | None = None,
) -> ChurnReport:
    """Evaluate, then fit and register the churn model on data before ``as_of``."""
    options = options or ChurnOptions()
    began = time.perf_counter()
    first = data.first_purchase_day(warehouse, as_of)
    horizon = options.horizon_days or data.default_horizon(warehouse, as_of)
    features = _features(warehouse, default_timezone, progress)
    evaluate_at = options.evaluate_at or as_of - timedelta(days=horizon)
    if evaluate_at + timedelta(days=horizon) > as_of:
        raise InputError(
            f"--evaluate-at {evaluate_at} leaves its {horizon}-day label window unfinished "
            f"before {as_of}; evaluate at {as_of - timedelta(days=horizon)} or earlier"
        )
    try:
        evaluation = evaluate(warehouse, features, evaluate_at, horizon, first, options)
        # The production model learns from every cut-off the data can label by as_of:
        # no test lies ahead of it, so nothing can overlap one.
        plan = _plan(as_of, horizon, first, options, overlap=False)
        model, validation = _train(warehouse, features, plan, options.seed)
    except InputError as error:
        raise _as_of_hint(warehouse, as_of, horizon, error) from None
    # Drift is measured against the members as they are at the fit, so a refresh on the
    # same day measures none and a refit starts from zero.
    model.set_reference(data.rows_at(warehouse, features, as_of, horizon, labelled=False).features)
    metrics = {
        "horizon_days": horizon,
        "test": evaluation.to_json(),
        "validation": validation,
        "importance": model.importance(),
    }
    entry = register_model(
        state,
        root,
        name=CHURN_MODEL,
        artifact=model.to_dict(),
        params={"horizon_days": horizon, "cutoffs": [c.isoformat() for c in plan.fit]}
        | {"validate_cutoff": plan.validate.isoformat(), "step_days": options.step_days},
        metrics=metrics,
        window=(first, plan.validate + timedelta(days=horizon - 1)),
        data_fingerprint=_fingerprint(model),
    )
    return ChurnReport(
        as_of=as_of,
        horizon_days=horizon,
        evaluation=evaluation,
        validation=validation,
        importance=model.importance(),
        model=entry,
        fit_seconds=time.perf_counter() - began,
    )


def backtest(
    warehouse: Warehouse,
    *,
    as_of: date,
    default_timezone: str,
    options: ChurnOptions | None = None,
    replays: int = 4,
    every_days: int = 30,
    progress: Progress | None = None,
) -> tuple[list[ChurnEvaluation], list[str]]:
    """The honest test at ``replays`` cut-offs ``every_days`` apart, oldest first.

    Returns the evaluations and, for cut-offs the data cannot support, why not.
    """
    options = options or ChurnOptions()
    first = data.first_purchase_day(warehouse, as_of)
    horizon = options.horizon_days or data.default_horizon(warehouse, as_of)
    features = _features(warehouse, default_timezone, progress)
    latest = options.evaluate_at or as_of - timedelta(days=horizon)
    done, skipped = [], []
    for k in reversed(range(replays)):
        cutoff = latest - timedelta(days=k * every_days)
        try:
            done.append(evaluate(warehouse, features, cutoff, horizon, first, options))
        except InputError as exc:
            skipped.append(f"{cutoff}: {exc}")
    if not done:
        raise InputError(
            "no cut-off could be replayed: " + "; ".join(skipped[-1:]), code="NO_BACKTEST"
        )
    return done, skipped


def evaluate(
    warehouse: Warehouse,
    features: data.FeatureSource,
    cutoff: date,
    horizon: int,
    first: date,
    options: ChurnOptions,
) -> ChurnEvaluation:
    """Train as of ``cutoff`` and score the members who had bought by then."""
    plan = _plan(cutoff, horizon, first, options, overlap=options.overlap)
    model, _ = _train(warehouse, features, plan, options.seed)
    rows = data.rows_at(warehouse, features, cutoff, horizon)
    assert rows.churned is not None
    peer = _bgnbd_peer(warehouse, cutoff, horizon)
    shared, mine, theirs = np.intersect1d(
        rows.member_id.astype(str), peer["member_id"], return_indices=True
    )
    y = rows.churned[mine]
    if len(shared) == 0 or len(np.unique(y)) < 2:
        raise InputError(
            f"at {cutoff} the buyers all {'churned' if y.all() else 'stayed'} within "
            f"{horizon} days: no test is possible there; pick another cut-off",
            code="ALL_CHURNED" if len(shared) and y.all() else "NONE_CHURNED",
        )
    p = model.probability(rows.features[mine])
    expected = peer["expected"][theirs]
    baseline = {
        "score": "BG/NBD expected purchases in the horizon (fewer = riskier)",
        "rows": len(y),
        "roc_auc": round(roc_auc(y, -expected), 4),
        "pr_auc": round(pr_auc(y, -expected), 4),
        "top_decile_lift": round(lift(y, -expected), 4),
    }
    return ChurnEvaluation(
        cutoff=cutoff,
        horizon_days=horizon,
        fit_cutoffs=plan.fit,
        validate_cutoff=plan.validate,
        overlap=plan.overlap,
        model=classification_metrics(y, p),
        baseline=baseline,
        next_purchase=_next_purchase_check(model, rows),
        clv=peer["clv"],
    )


def _as_of_hint(warehouse: Warehouse, as_of: date, horizon: int, error: InputError) -> InputError:
    """``error``, naming --as-of as the likely fix when everyone churned because the
    orders end long before ``as_of``: a late --as-of, or a workspace clock set to now
    on data exported some time ago."""
    last = data.last_purchase_day(warehouse, as_of)
    if error.code != "ALL_CHURNED" or last is None or last + timedelta(days=horizon) > as_of:
        return error
    after = last + timedelta(days=1)
    return InputError(
        f"{error.message.split(';')[0]}: the newest completed order is on {last}, more "
        f"than {horizon} days before the cut-off {as_of}. If the data ends there, pass "
        f"--as-of {after} (the day after it), or leave --as-of out to use the workspace "
        'clock ([refresh] as_of = "data"); else load newer orders',
        code="ALL_CHURNED",
    )


def _plan(
    target: date, horizon: int, first: date, options: ChurnOptions, *, overlap: bool
) -> data.CutoffPlan:
    return data.plan_cutoffs(
        target,
        horizon,
        first_day=first,
        cutoffs=options.cutoffs,
        step_days=options.step_days,
        overlap=overlap,
    )


def _train(
    warehouse: Warehouse, features: data.FeatureSource, plan: data.CutoffPlan, seed: int
) -> tuple[ChurnModel, dict[str, Any]]:
    fit = data.Rows.concat(
        [data.rows_at(warehouse, features, c, plan.horizon_days) for c in plan.fit]
    )
    valid = data.rows_at(warehouse, features, plan.validate, plan.horizon_days)
    assert fit.wait_days is not None and valid.wait_days is not None
    assert fit.churned is not None and valid.churned is not None
    model = ChurnModel.fit(
        fit.features,
        fit.churned,
        valid.features,
        valid.churned,
        wait_fit=fit.wait_days,
        wait_valid=valid.wait_days,
        horizon_days=plan.horizon_days,
        seed=seed,
    )
    metrics = classification_metrics(valid.churned, model.probability(valid.features))
    metrics["fit_rows"] = len(fit)
    return model, metrics


def _bgnbd_peer(warehouse: Warehouse, cutoff: date, horizon: int) -> dict[str, Any]:
    """BG/NBD fitted on the history before ``cutoff``, scored on the window after it."""
    last_day = cutoff - timedelta(days=1)
    summary = summarise(
        warehouse,
        calibration_end=last_day,
        unit="week",
        holdout_end=last_day + timedelta(days=horizon),
    )
    x, t_x, t_age = (summary.column(c).to_numpy() for c in ("frequency", "recency", "T"))
    bg = BetaGeoModel().fit(x, t_x, t_age)
    expected = bg.expected_purchases(horizon / _WEEK, x, t_x, t_age)
    actual = summary.column("holdout_frequency").to_numpy().astype(np.float64)
    return {
        "member_id": np.asarray(summary.column("member_id").to_pylist(), dtype=str),
        "expected": expected,
        "clv": {
            "predicted_repeat": round(float(expected.sum()), 2),
            "actual_repeat": int(actual.sum()),
            "mae": round(float(np.abs(expected - actual).mean()), 4),
        },
    }


def _next_purchase_check(model: ChurnModel, rows: data.Rows) -> dict[str, Any]:
    """MAE in days of the next-purchase estimate for the members who did buy again,
    beside the naive "last purchase + the member's mean gap" (median gap when unknown)."""
    assert rows.wait_days is not None
    came = ~np.isnan(rows.wait_days)
    x, actual = rows.features[came], rows.wait_days[came]
    recency = x[:, data.MODEL_FEATURES.index("recency_days")]
    usual = x[:, data.MODEL_FEATURES.index("interval_mean_days")]
    known = usual[np.isfinite(usual)]
    usual = np.where(np.isfinite(usual), usual, np.median(known) if len(known) else 0.0)
    naive = np.clip(usual - recency, 0.0, model.horizon_days - 1)
    return {
        "members": int(came.sum()),
        "mae_days": _mae(model.next_purchase_days(x), actual),
        "naive_mae_days": _mae(naive, actual),
    }


def _mae(predicted: np.ndarray, actual: np.ndarray) -> float | None:
    return round(float(np.abs(predicted - actual).mean()), 2) if len(actual) else None


def _features(
    warehouse: Warehouse, default_timezone: str, progress: Progress | None
) -> data.FeatureSource:
    source = data.feature_source(warehouse, default_timezone)
    if progress is None:
        return source
    seen: set[date] = set()

    def at(day: date) -> pa.Table:
        if day not in seen:
            seen.add(day)
            progress(f"features as of {day}")
        return source(day)

    return at


def _fingerprint(model: ChurnModel) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(model.reference, sort_keys=True).encode()).hexdigest()


def load_churn_model(state: StateStore, root: Path, version: int | None = None) -> ChurnModel:
    """The registered churn model (its production version by default), verified and loaded."""
    try:
        entry = get_model(state, CHURN_MODEL, version)
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(
            f"{exc.message} (fit one with `memberlens predict churn`)"
        ) from None
    return ChurnModel.from_dict(read_artifact(root, entry), version=f"{entry.name}:{entry.version}")


def score_churn(
    warehouse: Warehouse, model: ChurnModel, as_of: datetime, default_timezone: str
) -> tuple[pa.Table, dict[str, float]]:
    """Risk and reasons for every buyer before ``as_of``; the drift (PSI) per input.

    Columns: ``member_id, churn_risk, churn_reasons`` (a JSON list of up to three
    ``{feature, value, contribution, text}``), ``lapsed`` (no purchase for longer than
    the model's horizon: see :func:`memberlens.predict._churn_data.lapsed`) and
    ``next_purchase_days`` (from the cut-off, if the member buys within the horizon;
    NaN for a lapsed member, whose return the model does not expect).
    """
    moment = as_of.astimezone(UTC) if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    day = moment.date()
    source = data.feature_source(warehouse, default_timezone)
    rows = data.rows_at(warehouse, source, day, model.horizon_days, labelled=False)
    risk = model.probability(rows.features)
    gone = data.lapsed(warehouse, day, model.horizon_days, rows.member_id)
    wait = np.where(gone, np.nan, model.next_purchase_days(rows.features))
    why = reasons(rows.features, model.contributions(rows.features))
    drift = {
        name: round(psi(model.reference[name], rows.features[:, j]), 4)
        for j, name in enumerate(data.MODEL_FEATURES)
        if name in model.reference
    }
    if "churn_risk" in model.reference:
        drift["churn_risk"] = round(psi(model.reference["churn_risk"], risk), 4)
    table = pa.table(
        {
            "member_id": pa.array(rows.member_id.tolist(), pa.string()),
            "churn_risk": pa.array(risk, pa.float64()),
            "churn_reasons": pa.array([json.dumps(r, ensure_ascii=False) for r in why]),
            "lapsed": pa.array(gone, pa.bool_()),
            "next_purchase_days": pa.array(wait, pa.float64()),
        }
    )
    return table, drift

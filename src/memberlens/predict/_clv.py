"""Fit, check and register the CLV model; score members with it.

``fit_clv`` summarises the orders in the engine up to the calibration end, fits
BG/NBD and Gamma-Gamma, compares predicted with actual repeat transactions after the
calibration end when a holdout end is given, and records the pair in the model
registry as model ``clv``. ``score_clv`` turns a fitted model and the orders before
``as_of`` into one row of predictions per member (an Arrow table the refresh step
can write as it is).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from memberlens.predict._bgnbd import BetaGeoModel
from memberlens.predict._clv_model import ClvModel
from memberlens.predict._gamma_gamma import GammaGammaModel
from memberlens.predict._metrics import reference_bins
from memberlens.predict._summary import fingerprint, summarise
from memberlens.predict.contracts import (
    CLV_MODEL,
    UNIT_DAYS,
    ClvOptions,
    ClvReport,
    HoldoutCheck,
)
from memberlens.registry import ModelNotFoundError, get_model, read_artifact, register_model
from memberlens.store import StateStore, Warehouse

# Above this |correlation| between frequency and spend, Gamma-Gamma's independence
# assumption (Fader & Hardie 2013, section 2) is doubtful: say so.
_CORRELATION_WARNING = 0.3
_INPUTS = ("frequency", "recency", "T", "monetary_value")


def fit_clv(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    calibration_end: date,
    holdout_end: date | None = None,
    options: ClvOptions | None = None,
) -> ClvReport:
    """Fit BG/NBD + Gamma-Gamma on orders up to ``calibration_end`` (inclusive) and register.

    With ``holdout_end`` (inclusive), repeat transactions after the calibration end are
    predicted for each member and compared with what happened (total and mean
    absolute error per member).
    """
    options = options or ClvOptions()
    began = time.perf_counter()
    summary = summarise(
        warehouse, calibration_end=calibration_end, unit=options.time_unit, holdout_end=holdout_end
    )
    x, t_x, t_age, m = (
        summary.column(c).to_numpy() for c in ("frequency", "recency", "T", "monetary_value")
    )
    bgnbd = BetaGeoModel(penalizer=options.penalizer).fit(x, t_x, t_age)
    gamma_gamma, warnings = _fit_spend(x, m, options.penalizer)
    model = ClvModel(bgnbd, gamma_gamma, options)
    model.reference = {
        name: reference_bins(values)
        for name, values in zip(_INPUTS, (x, t_x, t_age, m), strict=True)
    }
    if gamma_gamma is not None:
        model.reference["clv"] = reference_bins(model.score(x, t_x, t_age, m)["clv"])
    holdout = None
    if holdout_end is not None:
        holdout = _holdout(model, summary, calibration_end, holdout_end)
    seconds = time.perf_counter() - began
    metrics: dict[str, Any] = {
        "bgnbd_loglik": bgnbd.loglik_,
        "members": summary.num_rows,
        "repeat_members": int((x > 0).sum()),
    }
    if gamma_gamma is not None:
        metrics["gamma_gamma_loglik"] = gamma_gamma.loglik_
    if holdout is not None:
        metrics["holdout"] = holdout.to_json()
    entry = register_model(
        state,
        root,
        name=CLV_MODEL,
        artifact=model.to_dict(),
        params=_params(model),
        metrics=metrics,
        window=(_first_day(summary), calibration_end),
        data_fingerprint=fingerprint(summary),
    )
    return ClvReport(
        calibration_end=calibration_end,
        time_unit=options.time_unit,
        members=summary.num_rows,
        repeat_members=int((x > 0).sum()),
        bgnbd=dict(bgnbd.params_ or {}) | {"loglik": float(bgnbd.loglik_ or 0.0)},
        gamma_gamma=None if gamma_gamma is None else dict(gamma_gamma.params_ or {}),
        holdout=holdout,
        model=entry,
        fit_seconds=seconds,
        warnings=tuple(warnings),
    )


def _fit_spend(
    x: np.ndarray, m: np.ndarray, penalizer: float
) -> tuple[GammaGammaModel | None, list[str]]:
    repeat = (x > 0) & (m > 0)
    if repeat.sum() < 3:
        return None, [
            "no order values for repeat buyers (total_amount empty): Gamma-Gamma and "
            "CLV are left out; expected purchases and P(alive) are still scored"
        ]
    warnings = []
    if repeat.sum() > 2:
        corr = float(np.corrcoef(x[repeat], m[repeat])[0, 1])
        if abs(corr) > _CORRELATION_WARNING:
            warnings.append(
                f"frequency and spend per order correlate ({corr:.2f}): Gamma-Gamma assumes "
                "they are independent, so expected order values may be biased"
            )
    model = GammaGammaModel(penalizer=penalizer).fit(x[repeat], m[repeat])
    return model, warnings


def _holdout(model: ClvModel, summary: pa.Table, end: date, holdout_end: date) -> HoldoutCheck:
    span = (holdout_end - end).days / UNIT_DAYS[model.options.time_unit]
    x, t_x, t_age = (summary.column(c).to_numpy() for c in ("frequency", "recency", "T"))
    predicted = model.bgnbd.expected_purchases(span, x, t_x, t_age)
    actual = summary.column("holdout_frequency").to_numpy().astype(np.float64)
    return HoldoutCheck(
        holdout_end=holdout_end,
        span=span,
        predicted_repeat=float(predicted.sum()),
        actual_repeat=int(actual.sum()),
        mae=float(np.abs(predicted - actual).mean()),
    )


def _params(model: ClvModel) -> dict[str, Any]:
    params: dict[str, Any] = {
        "bgnbd": model.bgnbd.params_,
        "time_unit": model.options.time_unit,
        "options": model.to_dict()["options"],
    }
    if model.gamma_gamma is not None:
        params["gamma_gamma"] = model.gamma_gamma.params_
    return params


def _first_day(summary: pa.Table) -> date | None:
    first = summary.column("first_purchase").to_pylist()
    return min(first) if first else None


def load_clv_model(state: StateStore, root: Path, version: int | None = None) -> ClvModel:
    """The registered CLV model (its production version by default), verified and loaded."""
    try:
        entry = get_model(state, CLV_MODEL, version)
    except ModelNotFoundError as exc:
        hint = "fit one with `memberlens predict clv --calibration-end DATE`"
        raise ModelNotFoundError(f"{exc.message} ({hint})") from None
    return ClvModel.from_dict(read_artifact(root, entry), version=f"{entry.name}:{entry.version}")


def score_clv(warehouse: Warehouse, model: ClvModel, as_of: datetime) -> pa.Table:
    """One row per member who bought before ``as_of``: the predictions of ``model``.

    Orders on days before ``as_of`` count (``as_of`` at midnight UTC, as the refresh
    pipeline passes it, means "up to and including the day before"). Columns:
    ``member_id, frequency, recency, T, monetary_value, p_alive,
    expected_purchases_30d, expected_purchases_90d, expected_purchases_365d,
    expected_order_value, clv, clv_percentile, as_of, model_version``.
    """
    moment = as_of.replace(tzinfo=None)
    end = (moment - timedelta(microseconds=1)).date()
    summary = summarise(warehouse, calibration_end=end, unit=model.options.time_unit)
    inputs = [summary.column(c).to_numpy() for c in ("frequency", "recency", "T", "monetary_value")]
    scores = model.score(*inputs)
    n = summary.num_rows
    columns: dict[str, Any] = {
        name: summary.column(name)
        for name in ("member_id", "frequency", "recency", "T", "monetary_value")
    }
    # NaN (no order values, so no CLV) becomes null in the table.
    columns.update(
        {name: pa.array(values, pa.float64(), from_pandas=True) for name, values in scores.items()}
    )
    columns["as_of"] = pa.array(np.full(n, np.datetime64(moment, "us")), pa.timestamp("us"))
    columns["model_version"] = pa.array([model.version] * n, pa.string())
    return pa.table(columns)

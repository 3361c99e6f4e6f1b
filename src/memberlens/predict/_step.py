"""The refresh's predictions step: score every buyer with the production models.

``member_predictions`` gets, per member who bought before the cut-off and per snapshot
date, the CLV model's scores (P(alive), expected purchases in 30/90/365 days, the
expected order value, the discounted CLV and its percentile) and the churn model's
(risk, band, the three strongest reasons, the next purchase date, and whether the
member has lapsed: no purchase for longer than the churn horizon, band ``lapsed`` and
no next purchase date), each with the version of the model that made it. A missing
model leaves its columns empty and the step says how to fit one.

Drift: every run measures the population stability index of each model's inputs and
scores against its training sample into ``model_drift``; when the production model's
last measurement was above ``[predict] drift_threshold``, this run first retrains it
(same options, newer data) and promotes the new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from memberlens.core.settings import PredictSettings
from memberlens.predict._churn import fit_churn, load_churn_model, score_churn
from memberlens.predict._clv import fit_clv, load_clv_model, score_clv
from memberlens.predict._metrics import psi
from memberlens.predict._reasons import with_texts
from memberlens.predict.contracts import CHURN_MODEL, CLV_MODEL, ChurnOptions, ClvOptions
from memberlens.registry import ModelNotFoundError, RegisteredModel, get_model, promote
from memberlens.store import StateStore, Warehouse

PREDICTIONS_TABLE = "member_predictions"
DRIFT_TABLE = "model_drift"
# The CLV scores the table keeps; rules read them as prediction.<name>.
SCORES = (
    "p_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_order_value",
    "clv",
    "clv_percentile",
)
CHURN_COLUMNS = {
    "churn_risk": "DOUBLE",
    "churn_band": "VARCHAR",
    "churn_reasons": "VARCHAR",
    "next_purchase_date": "DATE",
    "churn_model_version": "VARCHAR",
    "lapsed": "BOOLEAN",
}
_CLV_INPUTS = ("frequency", "recency", "T", "monetary_value")
# Inputs that grow by a day every day for every member, whatever they do: the age of
# a member (churn's tenure_days, BG/NBD's T). In a base that is mostly one cohort
# (a new shop, CDNOW) they shift a little with every refresh, and a refit would not
# change that; BG/NBD conditions on T exactly. Their PSI is measured and kept, but
# only the other inputs and the scores can flag a model.
CLOCK_INPUTS = frozenset({"tenure_days", "T"})


def ensure_predictions_table(warehouse: Warehouse) -> None:
    scores = ", ".join(f"{name} DOUBLE" for name in SCORES)
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {PREDICTIONS_TABLE} (snapshot_date DATE NOT NULL, "
        f"member_id VARCHAR NOT NULL, {scores}, model_version VARCHAR)"
    )
    present = set(warehouse.table(PREDICTIONS_TABLE).columns)
    for name, kind in CHURN_COLUMNS.items():
        if name not in present:
            warehouse.execute(f"ALTER TABLE {PREDICTIONS_TABLE} ADD COLUMN {name} {kind}")
    # Tables made before churn required a CLV version on every row.
    warehouse.execute(f"ALTER TABLE {PREDICTIONS_TABLE} ALTER COLUMN model_version DROP NOT NULL")
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {DRIFT_TABLE} (snapshot_date DATE NOT NULL, "
        "model VARCHAR NOT NULL, version INTEGER NOT NULL, input VARCHAR NOT NULL, "
        "psi DOUBLE)"
    )


def compute_predictions(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    cutoff: datetime,
    settings: PredictSettings | None = None,
    default_timezone: str = "UTC",
) -> dict[str, Any]:
    """Replace the cut-off day's snapshot of ``member_predictions``; the step summary."""
    settings = settings or PredictSettings()
    ensure_predictions_table(warehouse)
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    snapshot = moment.date()
    summary: dict[str, Any] = {}
    retrained = _retrain_drifted(warehouse, state, root, snapshot, settings, default_timezone)
    if retrained:
        summary["retrained"] = retrained
    parts: list[pa.Table] = []
    drift: dict[tuple[str, int], dict[str, float]] = {}
    try:
        clv = load_clv_model(state, root)
    except ModelNotFoundError:
        summary["clv"] = "no production model: fit one with `memberlens predict clv`"
    else:
        scored = score_clv(warehouse, clv, moment)
        parts.append(scored.select(["member_id", *SCORES, "model_version"]))
        reference = clv.reference or {}
        drift[(CLV_MODEL, _number(clv.version))] = {
            name: round(psi(reference[name], scored.column(name).to_numpy()), 4)
            for name in (*_CLV_INPUTS, "clv")
            if name in reference
        }
        summary["clv_model"] = clv.version
    try:
        churn = load_churn_model(state, root)
    except ModelNotFoundError:
        summary["churn"] = "no production model: fit one with `memberlens predict churn`"
    else:
        table, churn_drift = score_churn(warehouse, churn, moment, default_timezone)
        days = table.column("next_purchase_days").to_numpy()
        parts.append(
            pa.table(
                {
                    "member_id": table.column("member_id"),
                    "churn_risk": table.column("churn_risk"),
                    "churn_reasons": table.column("churn_reasons"),
                    "lapsed": table.column("lapsed"),
                    "next_purchase_date": pa.array(
                        [_day_after(snapshot, d) for d in days], pa.date32()
                    ),
                    "churn_model_version": pa.array([churn.version] * table.num_rows, pa.string()),
                }
            )
        )
        drift[(CHURN_MODEL, _number(churn.version))] = churn_drift
        summary["churn_model"] = churn.version
    members = _write(warehouse, snapshot, parts, settings)
    _write_drift(warehouse, snapshot, drift)
    summary["members"] = members
    flagged = {}
    for (name, version), values in drift.items():
        worst = _worst(values)
        if worst is not None and worst[1] > settings.drift_threshold:
            flagged[f"{name}:{version}"] = worst[0]
    if flagged:
        summary["drift_flagged"] = flagged  # model -> the input that shifted most
    return summary


def _day_after(snapshot: date, days: float) -> date | None:
    return None if np.isnan(days) else snapshot + timedelta(days=round(float(days)))


def _worst(values: Mapping[str, float | None]) -> tuple[str, float] | None:
    """The input (or score) that shifted most, clock inputs aside; None if none measured."""
    measured = [
        (k, float(v))
        for k, v in values.items()
        if k not in CLOCK_INPUTS and v is not None and not np.isnan(v)
    ]
    return max(measured, key=lambda kv: kv[1]) if measured else None


def _number(version: str | None) -> int:
    return int((version or "x:0").rsplit(":", 1)[1])


def _write(
    warehouse: Warehouse, snapshot: date, parts: list[pa.Table], settings: PredictSettings
) -> int:
    """Join the models' columns on member_id and replace the snapshot; rows written."""
    medium, high = settings.churn_bands
    names = [f"_pred_{i}" for i in range(len(parts))]
    with warehouse.transaction():
        warehouse.execute(f"DELETE FROM {PREDICTIONS_TABLE} WHERE snapshot_date = ?", [snapshot])
        if not parts:
            return 0
        for name, part in zip(names, parts, strict=True):
            warehouse.native.register(name, part)
        try:
            ids = " UNION ".join(f"SELECT member_id FROM {n}" for n in names)
            joins = " ".join(f"LEFT JOIN {n} USING (member_id)" for n in names)
            # A lapsed member is past risk: the band says so, whatever the score.
            band = (
                "CASE WHEN churn_risk IS NOT NULL AND lapsed THEN 'lapsed' "
                f"WHEN churn_risk >= {high!r} THEN 'high' "
                f"WHEN churn_risk >= {medium!r} THEN 'medium' "
                "WHEN churn_risk IS NOT NULL THEN 'low' END"
            )
            columns = {c for p in parts for c in p.column_names} - {"member_id"}
            select = ", ".join(sorted(columns))
            band_sql = f", {band} AS churn_band" if "churn_risk" in columns else ""
            warehouse.execute(
                f"INSERT INTO {PREDICTIONS_TABLE} BY NAME SELECT ?::DATE AS snapshot_date, "
                f"member_id, {select}{band_sql} FROM ({ids}) AS ids {joins}",
                [snapshot],
            )
        finally:
            for name in names:
                warehouse.native.unregister(name)
    return int(
        warehouse.scalar(
            f"SELECT count(*) FROM {PREDICTIONS_TABLE} WHERE snapshot_date = ?", [snapshot]
        )
    )


def _write_drift(
    warehouse: Warehouse, snapshot: date, drift: dict[tuple[str, int], dict[str, float]]
) -> None:
    rows = [
        (snapshot, name, version, key, None if np.isnan(value) else value)
        for (name, version), values in drift.items()
        for key, value in values.items()
    ]
    with warehouse.transaction():
        warehouse.execute(f"DELETE FROM {DRIFT_TABLE} WHERE snapshot_date = ?", [snapshot])
        if rows:
            warehouse.native.executemany(f"INSERT INTO {DRIFT_TABLE} VALUES (?, ?, ?, ?, ?)", rows)


def latest_drift(warehouse: Warehouse, name: str, version: int) -> dict[str, Any] | None:
    """The newest drift measurement of a model version: date, PSI per input, and the
    largest outside the clock inputs (``max_psi``, ``max_input``): what flags it."""
    if not warehouse.has_table(DRIFT_TABLE):
        return None
    rows = warehouse.fetch_all(
        f"SELECT snapshot_date, input, psi FROM {DRIFT_TABLE} WHERE model = ? AND version = ? "
        f"AND snapshot_date = (SELECT max(snapshot_date) FROM {DRIFT_TABLE} "
        "WHERE model = ? AND version = ?) ORDER BY psi DESC NULLS LAST",
        [name, version, name, version],
    )
    if not rows:
        return None
    values = {key: value for _, key, value in rows}
    worst = _worst(values)
    return {
        "snapshot_date": rows[0][0].isoformat(),
        "psi": values,
        "max_psi": None if worst is None else worst[1],
        "max_input": None if worst is None else worst[0],
    }


def _retrain_drifted(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    snapshot: date,
    settings: PredictSettings,
    default_timezone: str,
) -> list[str]:
    """Refit and promote each production model flagged by an earlier run's drift."""
    done = []
    for name in (CLV_MODEL, CHURN_MODEL):
        try:
            entry = get_model(state, name)
        except ModelNotFoundError:
            continue
        drift = latest_drift(warehouse, name, entry.version)
        if drift is None or drift["snapshot_date"] >= snapshot.isoformat():
            continue
        if (drift["max_psi"] or 0.0) <= settings.drift_threshold:
            continue
        fresh = _refit(warehouse, state, root, entry, snapshot, default_timezone)
        promote(state, name, fresh.version)
        done.append(
            f"{name}:{fresh.version} (PSI {drift['max_psi']:.2f} of {drift['max_input']} "
            f"on v{entry.version})"
        )
    return done


def _refit(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    entry: RegisteredModel,
    snapshot: date,
    default_timezone: str,
) -> RegisteredModel:
    """The same model fitted again on the data before ``snapshot``, with its options."""
    if entry.name == CLV_MODEL:
        options = ClvOptions(**entry.params.get("options", {}))
        report = fit_clv(
            warehouse,
            state,
            root,
            calibration_end=snapshot - timedelta(days=1),
            options=options,
        )
        return report.model
    options_c = ChurnOptions(
        horizon_days=int(entry.params["horizon_days"]),
        cutoffs=len(entry.params.get("cutoffs", [])) + 1,
        step_days=int(entry.params.get("step_days", 30)),
    )
    return fit_churn(
        warehouse,
        state,
        root,
        as_of=snapshot,
        default_timezone=default_timezone,
        options=options_c,
    ).model


def member_predictions(
    warehouse: Warehouse, member_id: str, *, locale: str = "en"
) -> dict[str, Any] | None:
    """The member's newest predictions, or None; each churn reason with its code,
    parameters and ``text`` in ``locale``."""
    import json

    if not warehouse.has_table(PREDICTIONS_TABLE):
        return None
    cursor = warehouse.execute(
        f"SELECT * FROM {PREDICTIONS_TABLE} WHERE member_id = ? "
        "ORDER BY snapshot_date DESC LIMIT 1",
        [member_id],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    names = [c[0] for c in cursor.description]
    found = dict(zip(names, row, strict=True))
    found["snapshot_date"] = found["snapshot_date"].isoformat()
    if found.get("next_purchase_date") is not None:
        found["next_purchase_date"] = found["next_purchase_date"].isoformat()
    found["churn_reasons"] = with_texts(json.loads(found["churn_reasons"] or "[]"), locale)
    return found

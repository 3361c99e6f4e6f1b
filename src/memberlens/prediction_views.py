"""What the console and its JSON twins show of the predictions: read models, no writes.

:func:`prediction_overview` summarises the newest ``member_predictions`` snapshot (the
CLV distribution, CLV per RFM segment, lapsed members, the churn bands of the others
and the active members most at risk);
:func:`churn_list` is the whole risk list, riskiest first (for the CSV export);
:func:`model_cards` describes every registered model with its headline metrics and its
latest drift. Aggregates run in the engine; Python only shapes the small answers.

It reads what two domains write (predict's scores and registry, segment's RFM table
and clusterings), so it sits above both and below the transports and the
composition modules that use it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from memberlens import predict, profile, registry, segment
from memberlens.store import StateStore, Warehouse

HISTOGRAM_BINS = 30
# The histogram spans the values up to this quantile; the long right tail of CLV
# would otherwise squeeze nearly every member into the first bar.
HISTOGRAM_CAP = 0.99
REASONS = 3  # the churn step keeps the three strongest reasons per member
_IMPORTANCE_SHOWN = 15
PREDICTIONS_TABLE = predict.PREDICTIONS_TABLE
_T = PREDICTIONS_TABLE
_CHURN_CLASSIFICATION = ("roc_auc", "pr_auc", "top_decile_lift", "brier", "rows", "positive_rate")


def _snapshot(warehouse: Warehouse) -> date | None:
    if not warehouse.has_table(_T):
        return None
    found = warehouse.scalar(f"SELECT max(snapshot_date) FROM {_T}")
    return found if isinstance(found, date) else None


def _column(warehouse: Warehouse, name: str) -> str:
    """``name``, or NULL when the table predates it (tables made before churn scoring
    lack the churn columns until the next refresh adds them)."""
    return name if name in warehouse.table(_T).columns else f"NULL AS {name}"


def _reasons(raw: str | None, locale: str, currency: str | None) -> list[dict[str, Any]]:
    """The stored reasons, strongest first, each with its ``text`` in ``locale``."""
    return predict.with_texts(json.loads(raw or "[]")[:REASONS], locale, currency=currency)


def churn_list(
    warehouse: Warehouse,
    *,
    limit: int | None = None,
    active_only: bool = False,
    locale: str = "en",
    currency: str | None = None,
) -> dict[str, Any]:
    """Members with a churn risk in the newest snapshot, riskiest first (ties by id);
    with ``active_only``, only those who have not lapsed: the members at risk of lapsing.

    Returns ``{"snapshot_date", "members": [{member_id, churn_risk, churn_band, lapsed,
    days_since_purchase, next_purchase_date, clv, reasons, reason_codes}]}`` with
    ``reasons`` the reasons' texts in ``locale`` (money after ``currency``'s sign when
    given), strongest first, ``reason_codes`` their codes and parameters, and
    ``days_since_purchase`` the snapshot's ``recency_days`` feature; no snapshot gives
    ``snapshot_date`` None and no members. A snapshot scored before lapsed members were
    told apart has ``lapsed`` null.
    """
    snapshot = _snapshot(warehouse)
    if snapshot is None:
        return {"snapshot_date": None, "members": []}
    if "churn_risk" not in warehouse.table(_T).columns:
        return {"snapshot_date": snapshot.isoformat(), "members": []}
    present = set(warehouse.table(_T).columns)
    cols = ", ".join(
        f"p.{c}" if c in present else f"NULL AS {c}"
        for c in ("churn_risk", "churn_band", "lapsed", "next_purchase_date", "clv")
    )
    reasons = "p.churn_reasons" if "churn_reasons" in present else "NULL"
    recency, join = "NULL", ""
    if warehouse.has_table(profile.FEATURES_TABLE):
        recency = "f.recency_days"
        join = (
            f"LEFT JOIN {profile.FEATURES_TABLE} f "
            "ON f.member_id = p.member_id AND f.snapshot_date = p.snapshot_date"
        )
    active = " AND NOT coalesce(p.lapsed, false)" if active_only and "lapsed" in present else ""
    rows = warehouse.fetch_all(
        f"SELECT p.member_id, {cols}, {recency}, {reasons} FROM {_T} p {join} "
        f"WHERE p.snapshot_date = ? AND p.churn_risk IS NOT NULL{active} "
        "ORDER BY p.churn_risk DESC, p.member_id"
        + ("" if limit is None else f" LIMIT {int(limit)}"),
        [snapshot],
    )
    members = []
    for member_id, risk, band, lapsed, next_day, clv, days, stored in rows:
        said = _reasons(stored, locale, currency)
        members.append(
            {
                "member_id": member_id,
                "churn_risk": risk,
                "churn_band": band,
                "lapsed": lapsed,
                "days_since_purchase": days,
                "next_purchase_date": next_day.isoformat() if next_day else None,
                "clv": clv,
                "reasons": [r["text"] for r in said],
                "reason_codes": [predict.reason_message(r).to_json() for r in said],
            }
        )
    return {"snapshot_date": snapshot.isoformat(), "members": members}


def _clv_distribution(warehouse: Warehouse, snapshot: date, bins: int) -> dict[str, Any] | None:
    scored = f"(SELECT clv FROM {_T} WHERE snapshot_date = ? AND clv IS NOT NULL)"
    n, total, mean, median, low, cap = warehouse.fetch_all(
        f"SELECT count(*), sum(clv), avg(clv), median(clv), min(clv), "
        f"quantile_cont(clv, {HISTOGRAM_CAP}) FROM {scored}",
        [snapshot],
    )[0]
    if not n:
        return None
    low = min(float(low), 0.0)
    cap = float(cap) if cap > low else low + 1.0
    width = (cap - low) / bins
    counts = [0] * bins
    for index, members in warehouse.fetch_all(
        f"SELECT least(CAST(floor((clv - ?) / ?) AS INTEGER), ?), count(*) FROM {scored} "
        "WHERE clv <= ? GROUP BY 1",
        [low, width, bins - 1, snapshot, cap],
    ):
        counts[int(index)] += int(members)
    return {
        "members": int(n),
        "total": float(total),
        "mean": float(mean),
        "median": float(median),
        "histogram": {
            "edges": [round(low + i * width, 6) for i in range(bins + 1)],
            "counts": counts,
            "above": int(n) - sum(counts),  # members above the cap, drawn as no bar
            "cap_quantile": HISTOGRAM_CAP,
        },
    }


def _by_segment(warehouse: Warehouse, snapshot: date) -> dict[str, Any] | None:
    """CLV and churn risk per RFM segment, from the RFM snapshot of the same refresh
    (or the newest one before it)."""
    if not warehouse.has_table(segment.RFM_TABLE):
        return None
    rfm_day = warehouse.scalar(
        f"SELECT max(snapshot_date) FROM {segment.RFM_TABLE} WHERE snapshot_date <= ?",
        [snapshot],
    )
    if rfm_day is None:
        return None
    risk = _column(warehouse, "churn_risk")
    rows = warehouse.fetch_all(
        f"SELECT r.rfm_segment, count(*), sum(p.clv), avg(p.clv), avg(p.churn_risk) "
        f"FROM (SELECT member_id, clv, {risk} FROM {_T} WHERE snapshot_date = ?) p "
        f"JOIN {segment.RFM_TABLE} r ON r.member_id = p.member_id AND r.snapshot_date = ? "
        "GROUP BY 1",
        [snapshot, rfm_day],
    )
    order = {s.name: i for i, s in enumerate(segment.RFM_SEGMENTS)}
    rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0]))
    return {
        "rfm_snapshot_date": rfm_day.isoformat(),
        "segments": [
            {"segment": name, "members": int(n), "clv_total": total, "clv_mean": mean,
             "churn_risk_mean": mean_risk}
            for name, n, total, mean, mean_risk in rows
        ],
    }  # fmt: skip


def _churn_bands(
    warehouse: Warehouse, snapshot: date, horizon_days: int | None
) -> dict[str, Any] | None:
    """Scored members, how many have lapsed, and the risk bands of the others (the
    active members: the ones a retention effort can still keep)."""
    if "churn_risk" not in warehouse.table(_T).columns:
        return None
    counts = dict(
        warehouse.fetch_all(
            f"SELECT churn_band, count(*) FROM {_T} WHERE snapshot_date = ? "
            "AND churn_risk IS NOT NULL GROUP BY 1",
            [snapshot],
        )
    )
    if not counts:
        return None
    bands = {band: int(counts.get(band, 0)) for band in ("high", "medium", "low")}
    lapsed = int(counts.get("lapsed", 0))
    return {
        "members": sum(int(v) for v in counts.values()),
        "active": sum(bands.values()),
        "lapsed": lapsed,
        "horizon_days": horizon_days,
        "bands": bands,
    }


def _horizon(state: StateStore | None, version: str | None) -> int | None:
    """The churn horizon of the model version that scored the snapshot, if known."""
    if state is None or not version:
        return None
    try:
        entry = registry.get_model(state, predict.CHURN_MODEL, int(version.rsplit(":", 1)[1]))
    except (registry.ModelNotFoundError, ValueError, IndexError):
        return None
    found = entry.params.get("horizon_days")
    return int(found) if found is not None else None


def _versions(warehouse: Warehouse, snapshot: date) -> dict[str, str | None]:
    clv_version, churn_version = warehouse.fetch_all(
        f"SELECT max(model_version), max({_column(warehouse, 'churn_model_version')}) "
        f"FROM {_T} WHERE snapshot_date = ?",
        [snapshot],
    )[0]
    return {"clv": clv_version, "churn": churn_version}


def prediction_overview(
    warehouse: Warehouse,
    *,
    top: int = 100,
    bins: int = HISTOGRAM_BINS,
    state: StateStore | None = None,
    locale: str = "en",
    currency: str | None = None,
) -> dict[str, Any]:
    """The newest predictions snapshot, summarised.

    ``clv`` (distribution and histogram) is None without a CLV model, ``churn`` (scored
    members, ``lapsed`` ones, and the risk bands of the ``active`` others; with
    ``state``, the scoring model's ``horizon_days``) without a churn model, and
    ``at_risk`` (the ``top`` riskiest members who have not lapsed, as :func:`churn_list`
    with ``active_only``, reasons in ``locale``) then empty; ``by_segment`` is None
    before the segments step ran. Before any refresh scored anyone, ``snapshot_date``
    is None too.
    """
    snapshot = _snapshot(warehouse)
    if snapshot is None:
        return {"snapshot_date": None, "members": 0, "models": {"clv": None, "churn": None},
                "clv": None, "by_segment": None, "churn": None, "at_risk": []}  # fmt: skip
    members = int(
        warehouse.scalar(f"SELECT count(*) FROM {_T} WHERE snapshot_date = ?", [snapshot])
    )
    versions = _versions(warehouse, snapshot)
    churn = _churn_bands(warehouse, snapshot, _horizon(state, versions["churn"]))
    at_risk: list[dict[str, Any]] = []
    if churn:
        listed = churn_list(
            warehouse, limit=top, active_only=True, locale=locale, currency=currency
        )
        at_risk = listed["members"]
    return {
        "snapshot_date": snapshot.isoformat(),
        "members": members,
        "models": versions,
        "clv": _clv_distribution(warehouse, snapshot, bins),
        "by_segment": _by_segment(warehouse, snapshot),
        "churn": churn,
        "at_risk": at_risk,
    }


def _cluster_label(cluster: dict[str, Any], locale: str) -> str:
    if "zscores" not in cluster:
        return str(cluster.get("name", ""))
    return segment.name_cluster(cluster["zscores"], cluster.get("top_category"), locale)


def _churn_card(metrics: dict[str, Any]) -> dict[str, Any]:
    test = metrics.get("test") or {}
    model, baseline = test.get("model") or {}, test.get("baseline") or {}
    importance = sorted((metrics.get("importance") or {}).items(), key=lambda kv: -kv[1])
    return {
        "horizon_days": metrics.get("horizon_days"),
        "test_cutoff": test.get("cutoff"),
        "overlap": bool(test.get("overlap")),
        "test": {k: model.get(k) for k in _CHURN_CLASSIFICATION},
        "baseline": {k: baseline.get(k) for k in ("roc_auc", "pr_auc", "top_decile_lift")},
        "baseline_score": baseline.get("score"),
        "validation": {k: (metrics.get("validation") or {}).get(k) for k in _CHURN_CLASSIFICATION},
        "next_purchase": test.get("next_purchase") or {},
        "calibration": list(model.get("calibration") or []),
        "importance": [{"feature": f, "share": s} for f, s in importance[:_IMPORTANCE_SHOWN]],
    }


def _clv_card(params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "members": metrics.get("members"),
        "repeat_members": metrics.get("repeat_members"),
        "bgnbd_loglik": metrics.get("bgnbd_loglik"),
        "gamma_gamma_loglik": metrics.get("gamma_gamma_loglik"),
        "holdout": metrics.get("holdout"),
        "time_unit": params.get("time_unit"),
        "bgnbd": params.get("bgnbd") or {},
        "gamma_gamma": params.get("gamma_gamma"),
    }


def model_cards(
    warehouse: Warehouse, state: StateStore, *, drift_threshold: float, locale: str = "en"
) -> list[dict[str, Any]]:
    """One card per registered model (by name, newest version first): the registry
    entry, the figures worth reading at a glance and the latest drift measurement,
    ``flagged`` when its largest PSI is above ``drift_threshold``. A clustering's
    clusters carry their ``label`` in ``locale`` (the name when it was registered
    without the z-scores that name it)."""
    cards = []
    for entry in registry.list_models(state):
        drift = predict.latest_drift(warehouse, entry.name, entry.version)
        if drift is not None:
            worst = drift["max_psi"]
            drift = {**drift, "flagged": worst is not None and worst > drift_threshold}
        shown = entry.to_json()
        del shown["artifact_path"]  # where the server keeps the file: not the reader's concern
        if entry.name == predict.CHURN_MODEL:
            card = _churn_card(entry.metrics)
        elif entry.name == predict.CLV_MODEL:
            card = _clv_card(entry.params, entry.metrics)
        elif entry.name == segment.CLUSTER_MODEL:
            card = {key: entry.metrics.get(key) for key in ("k", "silhouette", "members")}
            card["clusters"] = [
                {**c, "label": _cluster_label(c, locale)}
                for c in entry.metrics.get("clusters") or []
            ]
            card["features"] = entry.params.get("features") or []
        else:
            card = {}
        cards.append({**shown, "card": card, "drift": drift, "drift_threshold": drift_threshold})
    return cards

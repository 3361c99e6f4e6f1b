"""The refresh's text step: every feedback row read once per model (``feedback_insights``).

A row of ``feedback_insights`` per feedback: its language, P(positive) and sentiment
(``2·P − 1``, −1 … 1) with a label, the aspects it mentions with each one's sentiment,
and the complaint flag — kind ``complaint``, or another kind reading clearly negative
(``[text] complaint_below``). Feedback is a growing history, so the step scores only
what it has not scored with the production model yet (new rows, changed text, or all
rows after a new model is promoted); each row names the model that read it.

Rows describe feedback given before the cut-off, so features at any cut-off can read
them point in time by ``occurred_at``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from memberlens.core import progress
from memberlens.store import StateStore, Warehouse
from memberlens.text._models import production_model, production_model_name
from memberlens.text._script import language

TABLE = "feedback_insights"
_BATCH = 20_000
_SCHEMA = pa.schema(
    [
        ("feedback_id", pa.string()),
        ("text_sha", pa.string()),
        ("language", pa.string()),
        ("positive", pa.float64()),
        ("sentiment", pa.float64()),
        ("sentiment_label", pa.string()),
        ("aspects", pa.string()),
        ("complaint", pa.bool_()),
        ("model", pa.string()),
    ]
)
AspectReader = Callable[
    [Sequence[str], Callable[[Sequence[str]], np.ndarray]], list[dict[str, float]]
]


@dataclass(frozen=True)
class InsightOptions:
    """``[text]`` settings the step applies (see docs/configuration.md)."""

    neutral_band: float = 0.2
    complaint_below: float = -0.7


def ensure_table(warehouse: Warehouse) -> None:
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (feedback_id VARCHAR NOT NULL, "
        "text_sha VARCHAR, language VARCHAR, positive DOUBLE, sentiment DOUBLE, "
        "sentiment_label VARCHAR, aspects VARCHAR, complaint BOOLEAN NOT NULL, "
        "model VARCHAR NOT NULL, scored_at TIMESTAMP NOT NULL)"
    )


def label(sentiment: float | None, neutral_band: float) -> str | None:
    """``positive``, ``neutral`` or ``negative`` (None without a score)."""
    if sentiment is None:
        return None
    if abs(sentiment) < neutral_band:
        return "neutral"
    return "positive" if sentiment > 0 else "negative"


def compute_insights(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    cutoff: datetime,
    options: InsightOptions,
    aspects: AspectReader | None = None,
) -> dict[str, Any]:
    """Score the feedback given before ``cutoff`` that the production model has not read
    yet; the step summary."""
    ensure_table(warehouse)
    if not warehouse.has_table("feedback"):
        return {"scored": 0, "skipped": "no feedback loaded"}
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    # Loading the model costs seconds (the built-in one is fitted on first use): only
    # when there is something it has not read yet.
    name = production_model_name(state)
    todo = _unread(warehouse, name or "", moment)  # no model yet: every row is unread
    model = production_model(state, root) if todo else None
    if model is not None and name is None:
        todo = _unread(warehouse, model.name, moment)
    for start in range(0, len(todo), _BATCH):
        part = todo[start : start + _BATCH]
        assert model is not None
        table = _read(part, model.positive, options, aspects, model.name)
        with warehouse.transaction():
            warehouse.native.register("_insight_part", table)
            try:
                warehouse.execute(
                    f"DELETE FROM {TABLE} WHERE feedback_id IN "
                    "(SELECT feedback_id FROM _insight_part)"
                )
                warehouse.execute(
                    f"INSERT INTO {TABLE} BY NAME SELECT *, ?::TIMESTAMP AS scored_at "
                    "FROM _insight_part",
                    [moment],
                )
            finally:
                warehouse.native.unregister("_insight_part")
        progress.advance(min(start + _BATCH, len(todo)), len(todo), "feedback read")
    counts = dict(
        warehouse.fetch_all(
            f"SELECT coalesce(sentiment_label, 'no text'), count(*) FROM {TABLE} GROUP BY ALL"
        )
    )
    complaints = warehouse.fetch_all(f"SELECT count(*) FROM {TABLE} WHERE complaint")[0][0]
    return {
        "model": model.name if model else name,
        "scored": len(todo),
        "feedback": sum(counts.values()),
        "by_sentiment": {k: counts[k] for k in sorted(counts)},
        "complaints": int(complaints),
    }


def _unread(warehouse: Warehouse, model: str, moment: datetime) -> list[tuple[Any, ...]]:
    """Feedback before ``moment`` whose current text ``model`` has not read yet."""
    return warehouse.fetch_all(
        f"""
        SELECT f.feedback_id, f.kind, f.text, md5(coalesce(f.text, '')) AS sha
        FROM feedback f
        LEFT JOIN {TABLE} i
          ON i.feedback_id = f.feedback_id AND i.model = ?
          AND i.text_sha = md5(coalesce(f.text, ''))
        WHERE (f.occurred_at < ? OR f.occurred_at IS NULL) AND i.feedback_id IS NULL
        ORDER BY f.feedback_id
        """,
        [model, moment],
    )


def _read(
    rows: Sequence[tuple[Any, ...]],
    positive: Callable[[Sequence[str]], np.ndarray],
    options: InsightOptions,
    aspects: AspectReader | None,
    model: str,
) -> pa.Table:
    with_text = [i for i, r in enumerate(rows) if r[2] and str(r[2]).strip()]
    texts = [str(rows[i][2]) for i in with_text]
    p = np.full(len(rows), np.nan)
    if texts:
        p[with_text] = positive(texts)
    found: list[dict[str, float] | None] = [None] * len(rows)
    if aspects is not None and texts:
        for i, seen in zip(with_text, aspects(texts, positive), strict=True):
            found[i] = seen
    langs: list[str | None] = [None] * len(rows)
    for i, text in zip(with_text, texts, strict=True):
        langs[i] = language(text)
    sentiment = np.where(np.isnan(p), np.nan, 2.0 * p - 1.0)
    out: dict[str, list[Any]] = {name: [] for name in _SCHEMA.names}
    for i, (feedback_id, kind, _text, sha) in enumerate(rows):
        score = None if np.isnan(sentiment[i]) else round(float(sentiment[i]), 4)
        out["feedback_id"].append(feedback_id)
        out["text_sha"].append(sha)
        out["language"].append(langs[i])
        out["positive"].append(None if score is None else round(float(p[i]), 4))
        out["sentiment"].append(score)
        out["sentiment_label"].append(label(score, options.neutral_band))
        out["aspects"].append(json.dumps(found[i], ensure_ascii=False) if found[i] else None)
        out["complaint"].append(
            kind == "complaint" or (score is not None and score < options.complaint_below)
        )
        out["model"].append(model)
    return pa.table(out, schema=_SCHEMA)

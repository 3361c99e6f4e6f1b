"""Consent statements from applications: committed before the API answers, and
findable by member key at once.

Each accepted statement is written twice in one state transaction: as an
``ingest_buffer`` row (kind ``consents``), which the job runner flushes into the
warehouse ledger through the ordinary ingest path like any other row, and as a
``consent_buffer`` row indexed by (source, source_member_key), which the request path
reads so that a withdrawal takes effect for the very next decision, before any flush
or refresh. Rejected statements go to the ingest buffer only (and then to quarantine).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from memberlens.collect._buffer import _json_value, _stored
from memberlens.collect.contracts import AcceptResult, ItemResult
from memberlens.core.clock import utc_now
from memberlens.privacy import KeyRing
from memberlens.schema import RAW_TABLES, check_row
from memberlens.store import BufferRow, ConsentBufferRow, StateStore

CONSENT_FIELDS = ("purpose", "channel", "granted", "recorded_at", "policy_version")
# A statement may carry the time the member made it; a clock a little ahead is tolerated.
FUTURE_SLACK = timedelta(minutes=5)


def _statement(
    raw: dict[str, Any], *, source: str, source_member_key: str, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The canonical ledger row for one submitted statement, and what is wrong with it."""
    unknown = sorted(set(raw) - set(CONSENT_FIELDS))
    item = {
        "source": source,
        "source_member_key": source_member_key,
        "channel": "*",
        "recorded_at": now.isoformat() + "Z",
        **{k: v for k, v in raw.items() if k in CONSENT_FIELDS},
    }
    clean, problems = check_row(RAW_TABLES["consents"], item, today=now.date())
    reasons = [p.reason for p in problems]
    if unknown:
        reasons.append(
            f"unknown field {', '.join(unknown)}; a consent has {', '.join(CONSENT_FIELDS)}"
        )
    stamp = clean.get("recorded_at")
    if isinstance(stamp, datetime) and stamp > now + FUTURE_SLACK:
        reasons.append(
            f"recorded_at {stamp.isoformat()}Z is in the future; send the time the member "
            "said it (UTC), or leave it out to use the time of receipt"
        )
    return clean, reasons


def accept_consents(
    state: StateStore,
    keyring: KeyRing,
    items: Sequence[dict[str, Any]],
    *,
    source: str,
    source_member_key: str,
    token_id: str,
) -> AcceptResult:
    """Validate and commit consent statements of one member key; see the module docstring.

    ``channel`` defaults to ``*`` (the purpose as a whole) and ``recorded_at`` to the
    time of receipt.
    """
    now = utc_now().replace(tzinfo=None)
    results: list[ItemResult] = []
    with state.session() as s, s.begin():
        for index, raw in enumerate(items):
            clean, reasons = _statement(
                raw, source=source, source_member_key=source_member_key, now=now
            )
            data = raw if reasons else {k: _json_value(v) for k, v in clean.items()}
            payload, encrypted = _stored("consents", data, keyring)
            status = "rejected" if reasons else "pending"
            row = BufferRow(
                kind="consents",
                dedupe_key=None,
                received_at=now,
                token_id=token_id,
                payload=payload,
                encrypted=encrypted,
                status=status,
                reason="; ".join(reasons) or None,
            )
            s.add(row)
            if not reasons:
                s.flush()  # the buffer id links the two rows
                s.add(_indexed(clean, row.buffer_id, now))
            results.append(ItemResult(index, None, "rejected" if reasons else "accepted", reasons))
    accepted = sum(r.status == "accepted" for r in results)
    return AcceptResult(accepted, 0, len(results) - accepted, results)


def _indexed(clean: dict[str, Any], ingest_id: int, now: datetime) -> ConsentBufferRow:
    return ConsentBufferRow(
        ingest_id=ingest_id,
        source=clean["source"],
        source_member_key=clean["source_member_key"],
        purpose=clean["purpose"],
        channel=clean["channel"],
        granted=bool(clean["granted"]),
        recorded_at=clean["recorded_at"],
        policy_version=clean.get("policy_version"),
        received_at=now,
    )

"""The ingest buffer: accept on the request path, flush into the warehouse later.

``accept`` validates each item in Python against the canonical schema (the same
column specs the file path compiles to SQL) and commits accepted and rejected items
to the state database before the API answers, so a row acknowledged with 202 is
never lost. Items of tables with personal columns (members) are stored encrypted.
``flush`` (run by the job runner) writes pending rows to a private temporary JSON
Lines file per table and imports it through the ordinary ingest path — the same
identity, versioning, encryption and quarantine as files — and quarantines the
rejected items exactly as file imports do.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from memberlens.collect._points import flush_points_adjustments
from memberlens.collect.contracts import AcceptResult, FlushResult, ItemResult
from memberlens.core.clock import utc_now
from memberlens.core.settings import PointsSettings
from memberlens.ingest import IngestRequest, ingest_file, parse_mapping, quarantine_records
from memberlens.privacy import KeyRing
from memberlens.schema import RAW_TABLES, check_row
from memberlens.store import BufferRow, StateStore, Warehouse

MAX_BATCH = 1000
ACCEPTED_KINDS = ("products", "members", "orders", "order_items", "events", "consents")
_CONTEXT = "ingest_buffer.payload"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


def _stored(kind: str, data: dict[str, Any] | Any, keyring: KeyRing) -> tuple[str, bool]:
    text = json.dumps(data, ensure_ascii=False, default=str)
    if RAW_TABLES[kind].has_personal:
        return keyring.encrypt(text, context=_CONTEXT), True
    return text, False


def accept(
    state: StateStore,
    keyring: KeyRing,
    kind: str,
    items: Sequence[dict[str, Any]],
    *,
    token_id: str,
    source: str = "api",
) -> AcceptResult:
    """Validate and commit a batch of ``kind`` rows; events are idempotent by event_id.

    Only an accepted event holds its event_id: a rejected one (quarantined at the next
    flush) reserves nothing, so the client may send it again corrected.
    """
    table = RAW_TABLES[kind]
    now = utc_now().replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    results: list[ItemResult] = []
    for index, raw in enumerate(items):
        item = {"source": source, **raw}
        if kind == "events":
            item.setdefault("event_id", f"api-{uuid.uuid4().hex}")
        clean, problems = check_row(table, item, today=now.date())
        key = str(item["event_id"])[:128] if kind == "events" else None
        data = raw if problems else {k: _json_value(v) for k, v in clean.items()}
        payload, encrypted = _stored(kind, data, keyring)
        reasons = [p.reason for p in problems]
        rows.append(
            {
                "kind": kind,
                # A rejected item reserves no id: its corrected version must be accepted.
                "dedupe_key": f"{kind}:{key}" if key and not problems else None,
                "received_at": now,
                "token_id": token_id,
                "payload": payload,
                "encrypted": encrypted,
                "status": "rejected" if problems else "pending",
                "reason": "; ".join(reasons) or None,
            }
        )
        results.append(ItemResult(index, key, "rejected" if problems else "accepted", reasons))
    results = _insert(state, rows, results)
    count = {k: sum(r.status == k for r in results) for k in ("accepted", "duplicate", "rejected")}
    return AcceptResult(count["accepted"], count["duplicate"], count["rejected"], results)


def _insert(
    state: StateStore, rows: list[dict[str, Any]], results: list[ItemResult]
) -> list[ItemResult]:
    """One multi-row insert; rows whose event_id is already buffered are duplicates.

    A concurrent request may buffer the same event_id between the look-up and the
    insert; then the batch falls back to one savepoint per row.
    """
    keys = [r["dedupe_key"] for r in rows if r["dedupe_key"]]
    try:
        with state.session() as s, s.begin():
            _release_rejected(s, keys)
            seen = (
                set(s.scalars(select(BufferRow.dedupe_key).where(BufferRow.dedupe_key.in_(keys))))
                if keys
                else set()
            )
            fresh, out = [], []
            for row, result in zip(rows, results, strict=True):
                key = row["dedupe_key"]
                if key and key in seen:
                    out.append(ItemResult(result.index, result.event_id, "duplicate"))
                    continue
                if key:
                    seen.add(key)
                fresh.append(row)
                out.append(result)
            if fresh:
                s.execute(insert(BufferRow), fresh)
        return out
    except IntegrityError:
        return _insert_one_by_one(state, rows, results)


def _release_rejected(s: Session, keys: list[str]) -> None:
    """Free the ids that rejected rows of older versions still hold (only a rejected
    row has a ``reason``), so that their corrected versions are not taken for retries."""
    if keys:
        s.execute(
            update(BufferRow)
            .where(BufferRow.dedupe_key.in_(keys), BufferRow.reason.is_not(None))
            .values(dedupe_key=None)
        )


def _insert_one_by_one(
    state: StateStore, rows: list[dict[str, Any]], results: list[ItemResult]
) -> list[ItemResult]:
    out = []
    with state.session() as s, s.begin():
        _release_rejected(s, [r["dedupe_key"] for r in rows if r["dedupe_key"]])
        for row, result in zip(rows, results, strict=True):
            status = _add(s, BufferRow(**row), result.status)
            out.append(
                result
                if status == result.status
                else ItemResult(result.index, result.event_id, status)
            )
    return out


def _add(s: Session, row: BufferRow, status: str) -> str:
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:  # the same event_id again: the client retried
        return "duplicate"
    return status


def pending_count(state: StateStore) -> int:
    with state.session() as s:
        waiting = BufferRow.status.in_(("pending", "rejected"))
        return int(s.scalar(select(func.count()).select_from(BufferRow).where(waiting)) or 0)


def flush(
    state: StateStore,
    warehouse: Warehouse,
    keyring: KeyRing,
    *,
    limit: int = 200_000,
    points: PointsSettings | None = None,
) -> FlushResult:
    """Move waiting rows into the warehouse, parents first; safe to retry after a crash.

    Rows are marked flushed only after their import committed; if the process dies in
    between, the next flush imports them again and ingest's own idempotency counts
    them as duplicates. With ``points``, manual points adjustments go to the points
    ledger too (``collect._points``); they count in ``flushed``.
    """
    adjusted = flush_points_adjustments(state, warehouse, points) if points else 0
    with state.session() as s:
        rows = s.scalars(
            select(BufferRow)
            .where(
                BufferRow.status.in_(("pending", "rejected")), BufferRow.kind.in_(ACCEPTED_KINDS)
            )
            .order_by(BufferRow.buffer_id)
            .limit(limit)
        ).all()
    if not rows:
        return FlushResult(adjusted, 0, None)
    run_id, flushed, quarantined = None, adjusted, 0
    for kind in ACCEPTED_KINDS:
        mine = [r for r in rows if r.kind == kind]
        pending = [_clear(r, keyring) for r in mine if r.status == "pending"]
        if pending:
            run_id = _import(warehouse, keyring, kind, pending)
            flushed += len(pending)
        rejected = [r for r in mine if r.status == "rejected"]
        if rejected:
            quarantine_records(
                warehouse,
                keyring,
                table=kind,
                source_file="api",
                records=[(None, r.reason or "rejected", _clear(r, keyring)) for r in rejected],
            )
            quarantined += len(rejected)
    with state.session() as s, s.begin():
        s.execute(
            update(BufferRow)
            .where(BufferRow.buffer_id.in_([r.buffer_id for r in rows]))
            .values(status="flushed", flushed_at=utc_now().replace(tzinfo=None))
        )
    return FlushResult(flushed, quarantined, run_id)


def _clear(row: BufferRow, keyring: KeyRing) -> str:
    return keyring.decrypt(row.payload, context=_CONTEXT) if row.encrypted else row.payload


def _import(warehouse: Warehouse, keyring: KeyRing, kind: str, payloads: list[str]) -> str:
    """Import through the file path. The temporary file is private (0600), outside the
    workspace, and removed at once: it may hold personal data in clear for that time."""
    fd, name = tempfile.mkstemp(prefix=f"memberlens-{kind}-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for payload in payloads:
                fh.write(payload + "\n")
        mapping = parse_mapping('[read]\ntimezone = "UTC"\n', origin="api", name="api")
        result = ingest_file(
            warehouse, keyring, IngestRequest(kind=kind, path=Path(name), mapping=mapping)
        )
        return result.run_id
    finally:
        os.unlink(name)


def accept_orders(
    state: StateStore,
    keyring: KeyRing,
    orders: Sequence[dict[str, Any]],
    *,
    token_id: str,
    source: str = "api",
) -> AcceptResult:
    """Orders with their ``items``: an order and its lines are accepted or rejected whole."""
    now = utc_now().replace(tzinfo=None)
    results: list[ItemResult] = []
    with state.session() as s, s.begin():
        for index, raw in enumerate(orders):
            head = {"source": source, **{k: v for k, v in raw.items() if k != "items"}}
            clean, problems = check_row(RAW_TABLES["orders"], head, today=now.date())
            lines = []
            for n, line in enumerate(raw.get("items") or [], start=1):
                full = {
                    "source": head["source"],
                    "order_id": head.get("order_id"),
                    "line_no": n,
                    **line,
                }
                line_clean, line_problems = check_row(
                    RAW_TABLES["order_items"], full, today=now.date()
                )
                problems += [
                    type(p)(p.column, f"items[{n - 1}]: {p.reason}") for p in line_problems
                ]
                lines.append({k: _json_value(v) for k, v in line_clean.items()})
            reasons = [p.reason for p in problems]
            if problems:
                payload, encrypted = _stored("orders", raw, keyring)
                s.add(
                    BufferRow(
                        kind="orders",
                        dedupe_key=None,
                        received_at=now,
                        token_id=token_id,
                        payload=payload,
                        encrypted=encrypted,
                        status="rejected",
                        reason="; ".join(reasons),
                    )
                )
                results.append(ItemResult(index, str(raw.get("order_id")), "rejected", reasons))
                continue
            for kind, data in [("orders", {k: _json_value(v) for k, v in clean.items()})] + [
                ("order_items", line) for line in lines
            ]:
                payload, encrypted = _stored(kind, data, keyring)
                s.add(
                    BufferRow(
                        kind=kind,
                        dedupe_key=None,
                        received_at=now,
                        token_id=token_id,
                        payload=payload,
                        encrypted=encrypted,
                        status="pending",
                    )
                )
            results.append(ItemResult(index, str(clean["order_id"]), "accepted"))
    accepted = sum(r.status == "accepted" for r in results)
    return AcceptResult(accepted, 0, len(results) - accepted, results)

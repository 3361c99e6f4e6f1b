"""The event buffer: accept on the request path, flush into the warehouse later.

``accept_events`` validates each item in Python against the canonical schema and
commits accepted and rejected items to the state database before the API answers,
so an event acknowledged with 202 is never lost. ``flush`` (run by the job runner)
writes pending events to a private temporary JSON Lines file and imports it through
the ordinary ingest path (same validation, identity and quarantine as files), and
quarantines the rejected ones exactly as file imports do.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from memberlens.collect.contracts import AcceptResult, FlushResult, ItemResult
from memberlens.core.clock import utc_now
from memberlens.ingest import IngestRequest, ingest_file, parse_mapping, quarantine_records
from memberlens.privacy import KeyRing
from memberlens.schema import RAW_TABLES, check_row
from memberlens.store import EventBufferRow, StateStore, Warehouse

MAX_BATCH = 1000
EVENTS = RAW_TABLES["events"]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    return str(value) if value is not None and not isinstance(value, (int, str)) else value


def accept_events(
    state: StateStore, items: Sequence[dict[str, Any]], *, token_id: str, source: str = "api"
) -> AcceptResult:
    """Validate and commit a batch; idempotent by ``event_id``."""
    now = utc_now().replace(tzinfo=None)
    results: list[ItemResult] = []
    with state.session() as s, s.begin():
        for index, raw in enumerate(items):
            item = {"source": source, **raw}
            item.setdefault("event_id", f"api-{uuid.uuid4().hex}")
            clean, problems = check_row(EVENTS, item, today=now.date())
            event_id = str(item["event_id"])[:128]
            status = "rejected" if problems else "pending"
            payload = json.dumps(
                raw if problems else {k: _json_value(v) for k, v in clean.items()},
                ensure_ascii=False,
                default=str,
            )
            try:
                with s.begin_nested():
                    s.add(
                        EventBufferRow(
                            event_id=event_id,
                            received_at=now,
                            token_id=token_id,
                            payload=payload,
                            status=status,
                            reason="; ".join(p.reason for p in problems) or None,
                        )
                    )
            except IntegrityError:  # seen before: the client retried
                results.append(ItemResult(index, event_id, "duplicate"))
                continue
            results.append(
                ItemResult(
                    index,
                    event_id,
                    "rejected" if problems else "accepted",
                    [p.reason for p in problems],
                )
            )
    count = {k: sum(r.status == k for r in results) for k in ("accepted", "duplicate", "rejected")}
    return AcceptResult(count["accepted"], count["duplicate"], count["rejected"], results)


def pending_count(state: StateStore) -> int:
    with state.session() as s:
        return len(
            s.scalars(
                select(EventBufferRow.buffer_id).where(
                    EventBufferRow.status.in_(("pending", "rejected"))
                )
            ).all()
        )


def flush(
    state: StateStore, warehouse: Warehouse, keyring: KeyRing, *, limit: int = 200_000
) -> FlushResult:
    """Move pending events into the warehouse; safe to retry after a crash.

    Rows are marked flushed only after the warehouse import committed; if the process
    dies in between, the next flush imports them again and the warehouse's own
    idempotency (event_id) counts them as duplicates.
    """
    with state.session() as s:
        rows = s.execute(
            select(
                EventBufferRow.buffer_id,
                EventBufferRow.payload,
                EventBufferRow.status,
                EventBufferRow.reason,
            )
            .where(EventBufferRow.status.in_(("pending", "rejected")))
            .order_by(EventBufferRow.buffer_id)
            .limit(limit)
        ).all()
    if not rows:
        return FlushResult(0, 0, None)
    pending = [r for r in rows if r.status == "pending"]
    rejected = [r for r in rows if r.status == "rejected"]
    run_id = _import(warehouse, keyring, [r.payload for r in pending]) if pending else None
    if rejected:
        quarantine_records(
            warehouse,
            keyring,
            table="events",
            source_file="api",
            records=[(None, r.reason or "rejected", r.payload) for r in rejected],
        )
    with state.session() as s, s.begin():
        s.execute(
            update(EventBufferRow)
            .where(EventBufferRow.buffer_id.in_([r.buffer_id for r in rows]))
            .values(status="flushed", flushed_at=utc_now().replace(tzinfo=None))
        )
    return FlushResult(len(pending), len(rejected), run_id)


def _import(warehouse: Warehouse, keyring: KeyRing, payloads: list[str]) -> str:
    fd, name = tempfile.mkstemp(prefix="memberlens-events-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for payload in payloads:
                fh.write(payload + "\n")
        mapping = parse_mapping('[read]\ntimezone = "UTC"\n', origin="api", name="api")
        result = ingest_file(
            warehouse, keyring, IngestRequest(kind="events", path=Path(name), mapping=mapping)
        )
        return result.run_id
    finally:
        os.unlink(name)

"""Effective consent on the request path: published by refresh, updated by the API at once.

``publish_consent`` writes, in one state transaction, the effective consent rows that
a statement decided (rows at their purpose's default are not stored: the reader falls
back to the default, so a million silent members cost nothing), ``member_map`` as an
application-key look-up, and the instant the publication read the warehouse.

``consent_now`` answers one question without touching the warehouse: the published
decision, then every statement the API accepted that the publication did not include
(``consent_buffer``), applied by the ledger rule (``privacy.apply_newer``). So a
withdrawal posted a millisecond ago is honoured by the very next decision.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select

from memberlens.core.clock import utc_now
from memberlens.core.settings import ConsentSettings
from memberlens.privacy import (
    KEY_SEP,
    LIST_SEP,
    STATED_CODES,
    ConsentCode,
    ConsentDecision,
    ConsentRecord,
    apply_newer,
    consent_slot,
    default_decision,
    effective_consent,
    naive_utc,
)
from memberlens.store import (
    CONSENT_SNAPSHOT_KEY,
    BufferRow,
    ConsentBufferRow,
    OnlineConsentRow,
    OnlineMemberKeyRow,
    StateStore,
    Warehouse,
    WorkspaceMeta,
)

_CHUNK = 10_000


def publish_consent(
    state: StateStore, warehouse: Warehouse, *, as_of: datetime, defaults: ConsentSettings
) -> dict[str, int]:
    """Replace the online consent and member keys with those as of ``as_of``.

    Statements the API accepted are dropped from ``consent_buffer`` once this
    publication includes them: flushed into the ledger before it began and recorded at
    or before ``as_of``. Returns the numbers of consent rows and member keys published.
    """
    snapshot = utc_now().replace(tzinfo=None)  # before reading: flushed earlier = included
    stamp = naive_utc(as_of)
    table = effective_consent(warehouse, as_of=as_of, defaults=defaults, detail=True)
    table = table.filter(table.code.isin(list(STATED_CODES)))
    rows = [{**r, "as_of": stamp} for r in warehouse.to_pyarrow(table).to_pylist()]
    mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
    keys = warehouse.to_pyarrow(mm).to_pylist()
    published = json.dumps({"snapshot_at": snapshot.isoformat(), "as_of": stamp.isoformat()})
    included = select(BufferRow.buffer_id).where(
        BufferRow.kind == "consents", BufferRow.status == "flushed", BufferRow.flushed_at < snapshot
    )
    with state.session() as s, s.begin():
        s.execute(delete(OnlineConsentRow))
        s.execute(delete(OnlineMemberKeyRow))
        for start in range(0, len(rows), _CHUNK):
            s.execute(insert(OnlineConsentRow), rows[start : start + _CHUNK])
        for start in range(0, len(keys), _CHUNK):
            s.execute(insert(OnlineMemberKeyRow), keys[start : start + _CHUNK])
        s.execute(
            delete(ConsentBufferRow).where(
                ConsentBufferRow.ingest_id.in_(included), ConsentBufferRow.recorded_at <= stamp
            )
        )
        s.merge(WorkspaceMeta(key=CONSENT_SNAPSHOT_KEY, value=published))
    return {"consent_rows": len(rows), "member_keys": len(keys)}


def _published_as_of(state: StateStore) -> datetime | None:
    text = state.get_meta(CONSENT_SNAPSHOT_KEY)
    return datetime.fromisoformat(json.loads(text)["as_of"]) if text else None


def _withdrawn_by(text: str | None) -> list[tuple[str, str]]:
    pairs = [item.split(KEY_SEP, 1) for item in (text or "").split(LIST_SEP) if item]
    return [(p[0], p[1]) for p in pairs if len(p) == 2]


def consent_now(
    state: StateStore,
    *,
    source: str,
    source_member_key: str,
    purpose: str,
    channel: str,
    defaults: ConsentSettings,
) -> ConsentDecision:
    """May the member behind an application's own key be used for ``purpose`` on
    ``channel`` now? State DB only: safe on the request path.

    A key no refresh has published yet stands for itself (its own statements and the
    default); once published, statements of every source record of its member count.
    """
    purpose, channel = consent_slot(purpose, channel, defaults)
    as_of = _published_as_of(state)
    with state.session() as s:
        member_id = s.scalar(
            select(OnlineMemberKeyRow.member_id).where(
                OnlineMemberKeyRow.source == source,
                OnlineMemberKeyRow.source_member_key == source_member_key,
            )
        )
        keys = [(source, source_member_key)]
        row = None
        if member_id is not None:
            keys = [
                (k.source, k.source_member_key)
                for k in s.scalars(
                    select(OnlineMemberKeyRow).where(OnlineMemberKeyRow.member_id == member_id)
                )
            ]
            row = s.get(OnlineConsentRow, (member_id, purpose, channel))
        newer = [_record(r) for r in s.scalars(_newer_query(keys, purpose))]
    if row is None:
        base = default_decision(member_id, purpose, channel, defaults, as_of=as_of)
        withdrawn: list[tuple[str, str]] = []
    else:
        base = ConsentDecision(
            member_id, purpose, channel, row.allowed, ConsentCode(row.code), row.as_of
        )
        withdrawn = _withdrawn_by(row.withdrawn_by)
    return apply_newer(base, withdrawn, newer, defaults)


def _newer_query(keys: list[tuple[str, str]], purpose: str) -> Any:
    who = or_(
        *[
            and_(ConsentBufferRow.source == src, ConsentBufferRow.source_member_key == key)
            for src, key in keys
        ]
    )
    return select(ConsentBufferRow).where(who, ConsentBufferRow.purpose == purpose)


def _record(row: ConsentBufferRow) -> ConsentRecord:
    return ConsentRecord(
        source=row.source,
        source_member_key=row.source_member_key,
        purpose=row.purpose,
        channel=row.channel,
        granted=row.granted,
        recorded_at=row.recorded_at,
        policy_version=row.policy_version,
    )

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

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select

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


_KEYS = (
    OnlineMemberKeyRow.source,
    OnlineMemberKeyRow.source_member_key,
    OnlineMemberKeyRow.member_id,
)
# Every published key of the member behind one key (none when it is not published).
_KEYS_BY_KEY = select(*_KEYS).where(
    OnlineMemberKeyRow.member_id
    == select(OnlineMemberKeyRow.member_id)
    .where(
        OnlineMemberKeyRow.source == bindparam("source"),
        OnlineMemberKeyRow.source_member_key == bindparam("key"),
    )
    .scalar_subquery()
)
_KEYS_BY_ID = select(*_KEYS).where(OnlineMemberKeyRow.member_id == bindparam("member_id"))
_PUBLISHED = select(WorkspaceMeta.value).where(WorkspaceMeta.key == CONSENT_SNAPSHOT_KEY)
_DECIDED = select(
    OnlineConsentRow.allowed,
    OnlineConsentRow.code,
    OnlineConsentRow.as_of,
    OnlineConsentRow.withdrawn_by,
).where(
    OnlineConsentRow.member_id == bindparam("member_id"),
    OnlineConsentRow.purpose == bindparam("purpose"),
    OnlineConsentRow.channel == bindparam("channel"),
)
_BUFFERED = (
    ConsentBufferRow.source,
    ConsentBufferRow.source_member_key,
    ConsentBufferRow.purpose,
    ConsentBufferRow.channel,
    ConsentBufferRow.granted,
    ConsentBufferRow.recorded_at,
    ConsentBufferRow.policy_version,
)


def member_keys(
    conn: Connection,
    *,
    member_id: str | None = None,
    source: str | None = None,
    source_member_key: str | None = None,
) -> tuple[str | None, list[tuple[str, str]]]:
    """The member id and all their published (source, key) pairs, found by member id
    or by one application key. An unpublished key stands for itself: (None, [its key])."""
    if member_id is None and source is not None and source_member_key is not None:
        found = conn.execute(_KEYS_BY_KEY, {"source": source, "key": source_member_key}).all()
        if not found:
            return None, [(source, source_member_key)]
        member_id = found[0].member_id
    elif member_id is not None:
        found = conn.execute(_KEYS_BY_ID, {"member_id": member_id}).all()
    else:
        found = []
    return member_id, [(r.source, r.source_member_key) for r in found]


def decide(
    conn: Connection,
    member_id: str | None,
    keys: list[tuple[str, str]],
    *,
    purpose: str,
    channel: str,
    defaults: ConsentSettings,
    with_as_of: bool = True,
) -> ConsentDecision:
    """The decision now for a member known by ``member_keys``: the published row (or
    the default), then the statements accepted since. ``purpose`` and ``channel`` are
    a slot already (``consent_slot``). Without ``with_as_of`` a default decision leaves
    its ``as_of`` (the publication's cut-off) unread: one query less on a hot path."""
    row = None
    if member_id is not None:
        slot = {"member_id": member_id, "purpose": purpose, "channel": channel}
        row = conn.execute(_DECIDED, slot).first()
    newer = _newer(conn, keys, purpose) if keys else []
    if row is None:
        published = conn.execute(_PUBLISHED).scalar() if with_as_of else None
        as_of = datetime.fromisoformat(json.loads(published)["as_of"]) if published else None
        base = default_decision(member_id, purpose, channel, defaults, as_of=as_of)
        withdrawn: list[tuple[str, str]] = []
    else:
        base = ConsentDecision(
            member_id, purpose, channel, row.allowed, ConsentCode(row.code), row.as_of
        )
        withdrawn = _withdrawn_by(row.withdrawn_by)
    return apply_newer(base, withdrawn, newer, defaults)


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
    with state.engine.connect() as conn:
        member_id, keys = member_keys(conn, source=source, source_member_key=source_member_key)
        return decide(conn, member_id, keys, purpose=purpose, channel=channel, defaults=defaults)


def any_key(source: Any, key: Any, n_keys: int) -> Any:
    """``(source, key)`` equal to any of ``n_keys`` bound pairs ``source{i}``, ``key{i}``
    (:func:`key_values` binds them): one statement shape per number of keys, so
    SQLAlchemy compiles each once."""
    return or_(
        *[
            and_(source == bindparam(f"source{i}"), key == bindparam(f"key{i}"))
            for i in range(n_keys)
        ]
    )


def key_values(keys: list[tuple[str, str]]) -> dict[str, str]:
    """The bound values of :func:`any_key` for ``keys``."""
    values: dict[str, str] = {}
    for i, (source, key) in enumerate(keys):
        values[f"source{i}"], values[f"key{i}"] = source, key
    return values


@functools.cache
def _newer_query(n_keys: int) -> Any:
    """Statements in the buffer for a purpose by any of ``n_keys`` (source, key) pairs."""
    who = any_key(ConsentBufferRow.source, ConsentBufferRow.source_member_key, n_keys)
    return select(*_BUFFERED).where(who, ConsentBufferRow.purpose == bindparam("purpose"))


def _newer(conn: Connection, keys: list[tuple[str, str]], purpose: str) -> list[ConsentRecord]:
    values = {"purpose": purpose, **key_values(keys)}
    return [ConsentRecord(**r._mapping) for r in conn.execute(_newer_query(len(keys)), values)]

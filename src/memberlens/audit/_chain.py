"""An append-only audit log whose entries are chained by hash.

Each entry stores the hash of the one before it, and its own hash covers its fields
and that previous hash (like a blockchain without the consensus): editing an entry
breaks its own hash, deleting one breaks the sequence and the next entry's link.
Members are named only through a random per-member audit token kept in a separate
table, so erasing a member (deleting the token) leaves the chain intact and the
entries anonymous.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from memberlens.audit.contracts import AuditEntry, ChainReport
from memberlens.core.clock import utc_now
from memberlens.store import AuditMemberTokenRow, AuditRow, StateStore

GENESIS = "0" * 64
_RETRIES = 5


def _digest(
    prev: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    member_token: str | None,
    address: str | None,
    detail: str | None,
) -> str:
    body = json.dumps(
        [prev, seq, at.isoformat(), actor, action, target, member_token, address, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def member_token(session: Session, member_id: str) -> str:
    """The member's audit token, created on first use."""
    row = session.get(AuditMemberTokenRow, member_id)
    if row is None:
        row = AuditMemberTokenRow(member_id=member_id, token=f"mt_{secrets.token_hex(12)}")
        session.add(row)
        session.flush()
    return row.token


def record(
    state: StateStore,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    member_id: str | None = None,
    address: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Append one entry. ``detail`` must not hold personal data (it is never encrypted)."""
    for attempt in range(_RETRIES):
        try:
            with state.session() as s, s.begin():
                return _append(s, actor, action, target, member_id, address, detail)
        except IntegrityError:  # another writer took the same sequence number
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _append(
    s: Session,
    actor: str,
    action: str,
    target: str | None,
    member_id: str | None,
    address: str | None,
    detail: str | None,
) -> AuditEntry:
    last = s.execute(
        select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    token = member_token(s, member_id) if member_id else None
    at = utc_now().replace(tzinfo=None)
    digest = _digest(prev, seq, at, actor, action, target, token, address, detail)
    s.add(
        AuditRow(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            member_token=token,
            address=address,
            detail=detail,
            prev_hash=prev,
            hash=digest,
        )
    )
    s.flush()
    return AuditEntry(seq, at, actor, action, target, token, address, detail, digest)


def verify_chain(state: StateStore) -> ChainReport:
    """Walk the chain from the first entry; report the first edited or missing one."""
    prev, expected_seq, count = GENESIS, 1, 0
    with state.session() as s:
        for row in s.scalars(select(AuditRow).order_by(AuditRow.seq)):
            count += 1
            if row.seq != expected_seq or row.prev_hash != prev:
                return ChainReport(
                    False,
                    count,
                    "MISSING",
                    expected_seq,
                    f"entry {expected_seq} is missing or out of order",
                )
            digest = _digest(
                row.prev_hash,
                row.seq,
                row.at,
                row.actor,
                row.action,
                row.target,
                row.member_token,
                row.address,
                row.detail,
            )
            if digest != row.hash:
                return ChainReport(
                    False,
                    count,
                    "EDITED",
                    row.seq,
                    f"entry {row.seq} was changed after it was written",
                )
            prev, expected_seq = row.hash, expected_seq + 1
    return ChainReport(True, count, "OK")


def entries(state: StateStore, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
    """The newest entries first, optionally of one action."""
    with state.session() as s:
        query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
        if action:
            query = query.where(AuditRow.action == action)
        return [entry_of(r) for r in s.scalars(query)]


def entry_of(row: AuditRow) -> AuditEntry:
    """The public view of one stored audit row."""
    return AuditEntry(
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.target,
        row.member_token,
        row.address,
        row.detail,
        row.hash,
    )


def forget_member(state: StateStore, member_id: str) -> bool:
    """Erase a member's audit token: their entries stay, no longer linkable to them."""
    with state.session() as s, s.begin():
        row = s.get(AuditMemberTokenRow, member_id)
        if row is None:
            return False
        s.delete(row)
    return True


def count(state: StateStore) -> int:
    with state.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRow)) or 0)

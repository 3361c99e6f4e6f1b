"""The audit chain: append-only, tamper-evident, and anonymous after erasure."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from memberlens import audit
from memberlens.store import AuditMemberTokenRow, AuditRow, StateStore


def _fill(state: StateStore, n: int = 5) -> None:
    for i in range(n):
        audit.record(
            state,
            actor="u_admin",
            action="member.view_pii",
            target=f"t{i}",
            member_id=f"m_{i % 2}",
            address="127.0.0.1",
        )


def test_an_intact_chain_verifies(state: StateStore) -> None:
    _fill(state)
    report = audit.verify_chain(state)
    assert (report.ok, report.entries, report.code) == (True, 5, "OK")


def test_an_edited_entry_is_detected(state: StateStore) -> None:
    _fill(state)
    with state.session() as s, s.begin():
        s.execute(update(AuditRow).where(AuditRow.seq == 3).values(actor="someone_else"))
    report = audit.verify_chain(state)
    assert (report.ok, report.code, report.broken_at) == (False, "EDITED", 3)


def test_a_deleted_entry_is_detected(state: StateStore) -> None:
    _fill(state)
    with state.session() as s, s.begin():
        s.execute(delete(AuditRow).where(AuditRow.seq == 2))
    report = audit.verify_chain(state)
    assert (report.ok, report.code, report.broken_at) == (False, "MISSING", 2)


def test_a_rehashed_edit_still_breaks_the_next_link(state: StateStore) -> None:
    _fill(state)
    with state.session() as s, s.begin():
        s.execute(update(AuditRow).where(AuditRow.seq == 2).values(hash="f" * 64))
    assert audit.verify_chain(state).broken_at == 2


def test_members_appear_only_as_tokens_and_erasure_keeps_the_chain(state: StateStore) -> None:
    _fill(state)
    with state.session() as s:
        tokens = set(s.scalars(select(AuditRow.member_token)))
        stored = "".join(str(r.detail) + str(r.target) for r in s.scalars(select(AuditRow)))
    assert len(tokens) == 2 and all(t.startswith("mt_") for t in tokens)
    assert "m_0" not in stored
    assert audit.forget_member(state, "m_0")
    assert not audit.forget_member(state, "m_0")
    with state.session() as s:
        left = set(s.scalars(select(AuditMemberTokenRow.member_id)))
    assert left == {"m_1"}
    assert audit.verify_chain(state).ok  # entries untouched, now anonymous


def test_newest_entries_first_and_filtered(state: StateStore) -> None:
    _fill(state, 3)
    audit.record(state, actor="u1", action="user.create")
    got = audit.entries(state, limit=2)
    assert [e.seq for e in got] == [4, 3]
    assert [e.action for e in audit.entries(state, action="user.create")] == ["user.create"]

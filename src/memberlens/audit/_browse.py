"""Browsing the audit log: filters, pages, and the chain's state beside them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from memberlens.audit._chain import entry_of, verify_chain
from memberlens.audit.contracts import AuditPage
from memberlens.store import AuditRow, StateStore

PER_PAGE = 50


def browse(
    state: StateStore,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> AuditPage:
    """Entries newest first matching every given filter; ``since``/``until`` are UTC days,
    both included. The chain is verified on each call, so the page shows its state now.
    """
    where: list[Any] = []
    if actor:
        where.append(AuditRow.actor == actor)
    if action:
        where.append(AuditRow.action == action)
    if since:
        where.append(AuditRow.at >= datetime.combine(since, time.min))
    if until:
        where.append(AuditRow.at < datetime.combine(until + timedelta(days=1), time.min))
    page = max(1, page)
    with state.session() as s:
        total = int(s.scalar(select(func.count()).select_from(AuditRow).where(*where)) or 0)
        rows = s.scalars(
            select(AuditRow)
            .where(*where)
            .order_by(AuditRow.seq.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        found = tuple(entry_of(r) for r in rows)
        actors = tuple(s.scalars(select(AuditRow.actor).distinct().order_by(AuditRow.actor)))
        actions = tuple(s.scalars(select(AuditRow.action).distinct().order_by(AuditRow.action)))
    return AuditPage(found, total, page, per_page, verify_chain(state), actors, actions)

"""State rows for consent on the request path: the published effective consent, the
member keys it is looked up by, and statements the API accepted since.

The rules live in the ``privacy`` domain; these classes only say how rows are stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from memberlens.store._state import Base

# WorkspaceMeta key: when the last consent publication began reading the warehouse.
CONSENT_SNAPSHOT_KEY = "online_consent.snapshot_at"


class OnlineConsentRow(Base):
    """A member's effective consent that a statement decided (defaults are not stored)."""

    __tablename__ = "online_consent"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    code: Mapped[str] = mapped_column(String(32))
    # Source records whose current statement is a withdrawal (source\x1fkey, \x1e-joined).
    withdrawn_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    as_of: Mapped[datetime] = mapped_column(DateTime)


class OnlineMemberKeyRow(Base):
    """member_map as of the last refresh: an application's own key to the member id."""

    __tablename__ = "online_member_keys"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_member_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)


class ConsentBufferRow(Base):
    """A consent statement accepted by the API, findable by member key at once.

    The same statement travels to the warehouse ledger as ``ingest_buffer`` row
    ``ingest_id`` (written in the same transaction).
    """

    __tablename__ = "consent_buffer"
    __table_args__ = (Index("ix_consent_buffer_member", "source", "source_member_key"),)
    consent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ingest_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(64))
    source_member_key: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    policy_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)

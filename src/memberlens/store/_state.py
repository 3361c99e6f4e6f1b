"""The state port: small, transactional, operational data (SQLAlchemy 2).

SQLite by default (``data/state.db``), PostgreSQL in production; the schema is
owned by Alembic migrations shipped in this package.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


class Base(DeclarativeBase):
    pass


class WorkspaceMeta(Base):
    """Key/value facts about the workspace (id, created_at, schema notes)."""

    __tablename__ = "workspace_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class JobRun(Base):
    """One run of a job (ingest, refresh, demo stage), for history and the console."""

    __tablename__ = "job_runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON summary or error
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys so it behaves like a server DB."""
    engine = create_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _record: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the state schema to the newest migration (idempotent)."""
    from alembic import command  # here, not at import: `memberlens --help` starts without it
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class StateStore:
    """Sessions over the state database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> StateStore:
        engine = make_engine(url)
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    def session(self) -> Session:
        return self._sessions()

    @property
    def embedded(self) -> bool:
        """SQLite in a local file: a read takes microseconds, with no network round trip."""
        return self.engine.dialect.name == "sqlite"

    def get_meta(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(WorkspaceMeta, key)
            return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.session() as s, s.begin():
            s.merge(WorkspaceMeta(key=key, value=value))

    def close(self) -> None:
        self.engine.dispose()

"""Storage ports: the analytical warehouse (Ibis) and the operational state DB (SQLAlchemy)."""

from memberlens.store._accounts import (
    ApiTokenRow,
    AuditMemberTokenRow,
    AuditRow,
    BufferRow,
    SessionRow,
    UserRow,
)
from memberlens.store._ddl import META_COLUMNS, column_type, q, sql_type
from memberlens.store._state import Base, JobRun, StateStore, WorkspaceMeta, sqlite_url
from memberlens.store._warehouse import Warehouse

__all__ = [
    "META_COLUMNS",
    "ApiTokenRow",
    "AuditMemberTokenRow",
    "AuditRow",
    "Base",
    "BufferRow",
    "JobRun",
    "SessionRow",
    "StateStore",
    "UserRow",
    "Warehouse",
    "WorkspaceMeta",
    "column_type",
    "q",
    "sql_type",
    "sqlite_url",
]

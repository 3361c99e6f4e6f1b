"""Storage ports: the analytical warehouse (Ibis) and the operational state DB (SQLAlchemy)."""

from memberlens.store._accounts import (
    ApiTokenRow,
    AuditMemberTokenRow,
    AuditRow,
    BufferRow,
    SessionRow,
    UserRow,
)
from memberlens.store._consent import (
    CONSENT_SNAPSHOT_KEY,
    ConsentBufferRow,
    OnlineConsentRow,
    OnlineMemberKeyRow,
)
from memberlens.store._ddl import META_COLUMNS, column_type, q, sql_type
from memberlens.store._identity import IdentityChangeRow
from memberlens.store._jobs import (
    JobRecord,
    finish_job,
    interrupt_stale_runs,
    last_run,
    recent_jobs,
    start_job,
)
from memberlens.store._models import ModelRegistryRow
from memberlens.store._online import (
    MemberSummaryRow,
    ProductRow,
    RecentPurchaseRow,
    RecommendationFallbackRow,
    RecommendationRow,
)
from memberlens.store._segments import SegmentRow
from memberlens.store._state import Base, JobRun, StateStore, WorkspaceMeta, sqlite_url
from memberlens.store._usage import RuleUsageRow
from memberlens.store._warehouse import Warehouse

__all__ = [
    "CONSENT_SNAPSHOT_KEY",
    "META_COLUMNS",
    "ApiTokenRow",
    "AuditMemberTokenRow",
    "AuditRow",
    "Base",
    "BufferRow",
    "ConsentBufferRow",
    "IdentityChangeRow",
    "JobRecord",
    "JobRun",
    "MemberSummaryRow",
    "ModelRegistryRow",
    "OnlineConsentRow",
    "OnlineMemberKeyRow",
    "ProductRow",
    "RecentPurchaseRow",
    "RecommendationFallbackRow",
    "RecommendationRow",
    "RuleUsageRow",
    "SegmentRow",
    "SessionRow",
    "StateStore",
    "UserRow",
    "Warehouse",
    "WorkspaceMeta",
    "column_type",
    "finish_job",
    "interrupt_stale_runs",
    "last_run",
    "q",
    "recent_jobs",
    "sql_type",
    "sqlite_url",
    "start_job",
]

"""What crosses the accounts boundary: roles, permissions, scopes, public user views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    ANALYST = "analyst"
    MARKETER = "marketer"
    VIEWER = "viewer"


class Permission(StrEnum):
    """What a console user may do; every route declares the one it needs."""

    DATA_READ = "data:read"  # dashboards, members (masked), segments, reports
    DATA_WRITE = "data:write"  # ingest, refresh
    PII_READ = "pii:read"  # unmasked personal data (each view audited)
    SEGMENTS_WRITE = "segments:write"
    CAMPAIGNS_WRITE = "campaigns:write"
    MODELS_WRITE = "models:write"
    EXPORT_PSEUDONYMISED = "export:pseudonymised"
    PRIVACY_REQUESTS = "privacy:requests"  # data-subject export and erasure
    AUDIT_READ = "audit:read"
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    SETTINGS_MANAGE = "settings:manage"


class Scope(StrEnum):
    """What an application's API token may do."""

    EVENTS_WRITE = "events:write"
    MEMBERS_WRITE = "members:write"
    ORDERS_WRITE = "orders:write"
    PRODUCTS_WRITE = "products:write"
    RECOMMENDATIONS_READ = "recommendations:read"
    ASSIGNMENTS_READ = "assignments:read"
    CONSENT_READ = "consent:read"
    CONSENT_WRITE = "consent:write"
    POINTS_WRITE = "points:write"  # manual points adjustments
    SEGMENTS_READ = "segments:read"  # saved segments, previews and members
    ADMIN = "admin"  # the workspace's own CLI while a server holds the workspace


@dataclass(frozen=True)
class UserPublic:
    """A user as anyone may see it: never the password hash."""

    user_id: str
    email: str
    display_name: str
    role: Role
    disabled: bool
    locked_until: datetime | None
    locale: str
    created_at: datetime


@dataclass(frozen=True)
class NewSecret:
    """A password or token shown exactly once, to the person who created it."""

    subject: str
    secret: str


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    scopes: frozenset[Scope]
    expires_at: datetime | None

"""Roles as sets of permissions: one table, read by every check."""

from __future__ import annotations

from memberlens.accounts.contracts import Permission as P
from memberlens.accounts.contracts import Role

ROLE_PERMISSIONS: dict[Role, frozenset[P]] = {
    Role.ADMIN: frozenset(P),
    Role.PRIVACY_OFFICER: frozenset(
        {P.DATA_READ, P.PII_READ, P.PRIVACY_REQUESTS, P.AUDIT_READ, P.EXPORT_PSEUDONYMISED}
    ),
    Role.ANALYST: frozenset(
        {P.DATA_READ, P.DATA_WRITE, P.SEGMENTS_WRITE, P.MODELS_WRITE, P.EXPORT_PSEUDONYMISED}
    ),
    Role.MARKETER: frozenset({P.DATA_READ, P.SEGMENTS_WRITE, P.CAMPAIGNS_WRITE}),
    Role.VIEWER: frozenset({P.DATA_READ}),
}


def permissions(role: Role) -> frozenset[P]:
    return ROLE_PERMISSIONS[role]


def allows(role: Role, permission: P) -> bool:
    """Whether ``role`` holds ``permission``.

    Examples
    --------
    >>> allows(Role.MARKETER, P.PII_READ)
    False
    >>> allows(Role.PRIVACY_OFFICER, P.PII_READ)
    True
    """
    return permission in ROLE_PERMISSIONS[role]

"""Users, roles, lockout and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from memberlens import accounts, audit
from memberlens.accounts import AuthError, Permission, Role, Scope
from memberlens.core.errors import UsageError
from memberlens.store import StateStore, UserRow

# The table the service's route-by-role test will also read.
EXPECTED = {
    Role.ADMIN: set(Permission),
    Role.PRIVACY_OFFICER: {
        "data:read",
        "pii:read",
        "privacy:requests",
        "audit:read",
        "export:pseudonymised",
    },
    Role.ANALYST: {
        "data:read",
        "data:write",
        "segments:write",
        "models:write",
        "export:pseudonymised",
    },
    Role.MARKETER: {"data:read", "segments:write", "campaigns:write"},
    Role.VIEWER: {"data:read"},
}


def test_roles_hold_exactly_their_permissions() -> None:
    for role, expected in EXPECTED.items():
        assert {p.value for p in accounts.permissions(role)} == {str(p) for p in expected}
    assert not accounts.allows(Role.MARKETER, Permission.PII_READ)


def test_create_and_log_in(state: StateStore) -> None:
    user, secret = accounts.create_user(
        state, email="Ana@Shop.example", role="analyst", actor="cli"
    )
    assert secret is not None and len(secret.secret) >= 10
    assert user.email == "ana@shop.example" and user.role is Role.ANALYST
    with state.session() as s:
        stored = s.scalar(select(UserRow.password_hash))
    assert stored is not None and stored.startswith("$argon2") and secret.secret not in stored
    assert (
        accounts.authenticate(state, email="ANA@shop.example", password=secret.secret).user_id
        == user.user_id
    )
    assert [e.action for e in audit.entries(state)] == ["login", "user.create"]


def test_bad_input_is_refused_clearly(state: StateStore) -> None:
    with pytest.raises(UsageError, match="unknown role 'boss'"):
        accounts.create_user(state, email="a@b.cn", role="boss", actor="cli")
    with pytest.raises(UsageError, match="too short"):
        accounts.create_user(state, email="a@b.cn", role="viewer", actor="cli", password="x")
    accounts.create_user(state, email="a@b.cn", role="viewer", actor="cli")
    with pytest.raises(UsageError, match=r"a\*\*\*@b.cn already exists"):
        accounts.create_user(state, email="A@b.cn", role="viewer", actor="cli")


def test_lockout_after_five_failures(state: StateStore) -> None:
    _, secret = accounts.create_user(state, email="v@x.cn", role="viewer", actor="cli")
    assert secret is not None
    for _ in range(5):
        with pytest.raises(AuthError) as failed:
            accounts.authenticate(state, email="v@x.cn", password="wrong-password")
        assert failed.value.code == "BAD_CREDENTIALS"
    with pytest.raises(AuthError) as locked:
        accounts.authenticate(state, email="v@x.cn", password=secret.secret)
    assert locked.value.code == "LOCKED"
    new = accounts.reset_password(state, email="v@x.cn", actor="cli")
    assert accounts.authenticate(state, email="v@x.cn", password=new.secret).role is Role.VIEWER


def test_disabled_users_cannot_log_in(state: StateStore) -> None:
    _, secret = accounts.create_user(state, email="d@x.cn", role="viewer", actor="cli")
    assert secret is not None
    accounts.disable_user(state, email="d@x.cn", actor="cli")
    with pytest.raises(AuthError) as refused:
        accounts.authenticate(state, email="d@x.cn", password=secret.secret)
    assert refused.value.code == "DISABLED"


def test_tokens_are_scoped_expiring_and_revocable(state: StateStore) -> None:
    info, secret = accounts.create_token(
        state, name="app", scopes=["events:write"], actor="u_admin"
    )
    assert accounts.check_token(state, secret.secret, scope=Scope.EVENTS_WRITE) == info
    with pytest.raises(AuthError) as scoped:
        accounts.check_token(state, secret.secret, scope=Scope.MEMBERS_WRITE)
    assert scoped.value.code == "MISSING_SCOPE"
    accounts.revoke_token(state, token_id=info.token_id, actor="u_admin")
    with pytest.raises(AuthError) as revoked:
        accounts.check_token(state, secret.secret, scope=Scope.EVENTS_WRITE)
    assert revoked.value.code == "BAD_TOKEN"
    _, old = accounts.create_token(
        state, name="old", scopes=["events:write"], actor="u", valid_for=timedelta(seconds=-1)
    )
    with pytest.raises(AuthError) as expired:
        accounts.check_token(state, old.secret, scope=Scope.EVENTS_WRITE)
    assert expired.value.code == "TOKEN_EXPIRED"
    with pytest.raises(UsageError, match="unknown scope"):
        accounts.create_token(state, name="x", scopes=["root"], actor="u")

"""Console users: argon2-hashed passwords, roles, lockout after repeated failures."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from memberlens import audit
from memberlens.accounts.contracts import NewSecret, Role, UserPublic
from memberlens.core.clock import utc_now
from memberlens.core.errors import MemberlensError, UsageError
from memberlens.privacy import mask_email, normalise_email
from memberlens.store import StateStore, UserRow

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class AuthError(MemberlensError, PermissionError):
    """Login refused; ``code`` says why (BAD_CREDENTIALS, LOCKED, DISABLED)."""

    code = "BAD_CREDENTIALS"


def _now() -> datetime:
    return utc_now().replace(tzinfo=None)


def _public(row: UserRow) -> UserPublic:
    return UserPublic(
        row.user_id,
        row.email,
        row.display_name,
        Role(row.role),
        row.disabled,
        row.locked_until,
        row.locale,
        row.created_at,
    )


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: use at least {MIN_PASSWORD} characters")


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UsageError(
            f"unknown role '{role}'; choose one of: {', '.join(r.value for r in Role)}"
        ) from None


def create_user(
    state: StateStore,
    *,
    email: str,
    role: str,
    actor: str,
    password: str | None = None,
    display_name: str | None = None,
    locale: str = "en",
) -> tuple[UserPublic, NewSecret | None]:
    """Add a user; without ``password`` one is generated and returned once."""
    address = normalise_email(email)
    if "@" not in address:
        raise UsageError(f"'{email}' is not an e-mail address")
    chosen = _role(role)
    generated = password is None
    secret = generate_password() if password is None else password
    _check_password(secret)
    with state.session() as s, s.begin():
        if s.scalar(select(UserRow).where(UserRow.email == address)) is not None:
            raise UsageError(
                f"a user {mask_email(address)} already exists; "
                "use `memberlens user reset-password` to give them a new password"
            )
        row = UserRow(
            user_id=f"u_{secrets.token_hex(6)}",
            email=address,
            display_name=display_name or address.split("@")[0],
            role=chosen.value,
            password_hash=_hasher.hash(secret),
            disabled=False,
            failed_logins=0,
            locked_until=None,
            locale=locale,
            created_at=_now(),
        )
        s.add(row)
        user = _public(row)
    audit.record(
        state, actor=actor, action="user.create", target=user.user_id, detail=f"role={chosen.value}"
    )
    return user, NewSecret(address, secret) if generated else None


def list_users(state: StateStore) -> list[UserPublic]:
    with state.session() as s:
        return [_public(r) for r in s.scalars(select(UserRow).order_by(UserRow.created_at))]


def _by_email(state: StateStore, email: str) -> UserRow:
    with state.session() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == normalise_email(email)))
    if row is None:
        raise UsageError(
            f"no user {mask_email(normalise_email(email))}; see `memberlens user list`"
        )
    return row


def disable_user(state: StateStore, *, email: str, actor: str) -> UserPublic:
    row = _by_email(state, email)
    with state.session() as s, s.begin():
        stored = s.get(UserRow, row.user_id)
        assert stored is not None
        stored.disabled = True
        user = _public(stored)
    audit.record(state, actor=actor, action="user.disable", target=user.user_id)
    return user


def reset_password(
    state: StateStore, *, email: str, actor: str, password: str | None = None
) -> NewSecret:
    """Set a new password (generated unless given), unlock and re-enable nothing else."""
    row = _by_email(state, email)
    secret = generate_password() if password is None else password
    _check_password(secret)
    with state.session() as s, s.begin():
        stored = s.get(UserRow, row.user_id)
        assert stored is not None
        stored.password_hash = _hasher.hash(secret)
        stored.failed_logins = 0
        stored.locked_until = None
    audit.record(state, actor=actor, action="user.reset_password", target=row.user_id)
    return NewSecret(row.email, secret)


def authenticate(
    state: StateStore, *, email: str, password: str, address: str | None = None
) -> UserPublic:
    """Check a login; after ``MAX_FAILURES`` failures the account locks for ``LOCKOUT``."""
    now = _now()
    with state.session() as s, s.begin():
        row = s.scalar(select(UserRow).where(UserRow.email == normalise_email(email)))
        if row is None:
            _hasher.hash(password)  # same work as a real check: no timing oracle
            raise AuthError("wrong e-mail or password")
        if row.disabled:
            raise AuthError("this account is disabled; ask an admin", code="DISABLED")
        if row.locked_until is not None and row.locked_until > now:
            raise AuthError("too many failed logins: try again in 15 minutes", code="LOCKED")
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            row.failed_logins += 1
            if row.failed_logins >= MAX_FAILURES:
                row.locked_until = now + LOCKOUT
                row.failed_logins = 0
            failed = True
        else:
            row.failed_logins = 0
            failed = False
        user = _public(row)
    action = "login.failed" if failed else "login"
    audit.record(state, actor=user.user_id, action=action, address=address)
    if failed:
        raise AuthError("wrong e-mail or password")
    return user

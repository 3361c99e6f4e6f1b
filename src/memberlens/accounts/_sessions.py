"""Console sessions: a random cookie (only its hash stored), a CSRF token, an expiry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete

from memberlens.accounts._users import _public
from memberlens.accounts.contracts import UserPublic
from memberlens.core.clock import utc_now
from memberlens.store import SessionRow, StateStore, UserRow

SESSION_LIFETIME = timedelta(hours=12)
SUPPORTED_LOCALES = ("en", "zh-CN")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def start_session(state: StateStore, user: UserPublic) -> tuple[str, str]:
    """(cookie value, CSRF token) for a user who just logged in."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utc_now().replace(tzinfo=None)
    with state.session() as s, s.begin():
        s.add(
            SessionRow(
                session_hash=_hash(secret),
                user_id=user.user_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return secret, csrf


def session_user(state: StateStore, secret: str) -> tuple[UserPublic, str] | None:
    """The user and CSRF token of a live session, or ``None``."""
    now = utc_now().replace(tzinfo=None)
    with state.session() as s:
        row = s.get(SessionRow, _hash(secret))
        if row is None or row.expires_at <= now:
            return None
        user = s.get(UserRow, row.user_id)
        if user is None or user.disabled:
            return None
        return _public(user), row.csrf_token


def end_session(state: StateStore, secret: str) -> None:
    with state.session() as s, s.begin():
        s.execute(delete(SessionRow).where(SessionRow.session_hash == _hash(secret)))


def set_locale(state: StateStore, *, user_id: str, locale: str) -> None:
    """Remember a user's console language."""
    if locale not in SUPPORTED_LOCALES:
        locale = "en"
    with state.session() as s, s.begin():
        row = s.get(UserRow, user_id)
        if row is not None:
            row.locale = locale

"""API tokens for applications: shown once, stored hashed, scoped, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select

from memberlens import audit
from memberlens.accounts._users import AuthError
from memberlens.accounts.contracts import NewSecret, Scope, TokenInfo
from memberlens.core.clock import utc_now
from memberlens.core.errors import UsageError
from memberlens.store import ApiTokenRow, StateStore

PREFIX = "mlt_"


def _hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _scopes(names: list[str]) -> frozenset[Scope]:
    try:
        return frozenset(Scope(n) for n in names)
    except ValueError:
        valid = ", ".join(s.value for s in Scope)
        raise UsageError(f"unknown scope in {names}; valid scopes: {valid}") from None


def create_token(
    state: StateStore,
    *,
    name: str,
    scopes: list[str],
    actor: str,
    valid_for: timedelta | None = timedelta(days=365),
) -> tuple[TokenInfo, NewSecret]:
    """Create a token; its secret is returned once and only its hash is kept."""
    chosen = _scopes(scopes)
    if not chosen:
        raise UsageError("give the token at least one scope")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utc_now().replace(tzinfo=None)
    expires = now + valid_for if valid_for else None
    token_id = f"tok_{secrets.token_hex(6)}"
    with state.session() as s, s.begin():
        s.add(
            ApiTokenRow(
                token_id=token_id,
                name=name,
                token_hash=_hash(secret),
                scopes=" ".join(sorted(chosen)),
                expires_at=expires,
                created_by=actor,
                created_at=now,
                revoked_at=None,
            )
        )
    audit.record(
        state,
        actor=actor,
        action="token.create",
        target=token_id,
        detail="scopes=" + ",".join(sorted(chosen)),
    )
    return TokenInfo(token_id, name, chosen, expires), NewSecret(name, secret)


# On every API request: one prebuilt statement, no ORM session.
_BY_HASH = select(
    ApiTokenRow.token_id,
    ApiTokenRow.name,
    ApiTokenRow.scopes,
    ApiTokenRow.expires_at,
    ApiTokenRow.revoked_at,
).where(ApiTokenRow.token_hash == bindparam("token_hash"))


def check_token(state: StateStore, token: str, *, scope: Scope) -> TokenInfo:
    """The token's identity if it is valid, unexpired, unrevoked and holds ``scope``."""
    with state.engine.connect() as conn:
        row = conn.execute(_BY_HASH, {"token_hash": _hash(token)}).first()
    if row is None or row.revoked_at is not None:
        raise AuthError("unknown or revoked API token", code="BAD_TOKEN")
    if row.expires_at is not None and row.expires_at <= utc_now().replace(tzinfo=None):
        raise AuthError(
            f"the API token '{row.name}' has expired; create a new one", code="TOKEN_EXPIRED"
        )
    scopes = frozenset(Scope(x) for x in row.scopes.split())
    if scope not in scopes:
        raise AuthError(
            f"the API token '{row.name}' lacks the scope {scope.value}", code="MISSING_SCOPE"
        )
    return TokenInfo(row.token_id, row.name, scopes, row.expires_at)


def revoke_token(state: StateStore, *, token_id: str, actor: str) -> None:
    with state.session() as s, s.begin():
        row = s.get(ApiTokenRow, token_id)
        if row is None:
            raise UsageError(f"no token {token_id}")
        row.revoked_at = utc_now().replace(tzinfo=None)
    audit.record(state, actor=actor, action="token.revoke", target=token_id)

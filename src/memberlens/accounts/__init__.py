"""Accounts: console users with roles, and API tokens with scopes."""

from memberlens.accounts._roles import ROLE_PERMISSIONS, allows, permissions
from memberlens.accounts._sessions import (
    SUPPORTED_LOCALES,
    end_session,
    session_user,
    set_locale,
    start_session,
)
from memberlens.accounts._tokens import check_token, create_token, revoke_token
from memberlens.accounts._users import (
    AuthError,
    authenticate,
    create_user,
    disable_user,
    generate_password,
    list_users,
    reset_password,
)
from memberlens.accounts.contracts import (
    NewSecret,
    Permission,
    Role,
    Scope,
    TokenInfo,
    UserPublic,
)

__all__ = [
    "ROLE_PERMISSIONS",
    "SUPPORTED_LOCALES",
    "AuthError",
    "NewSecret",
    "Permission",
    "Role",
    "Scope",
    "TokenInfo",
    "UserPublic",
    "allows",
    "authenticate",
    "check_token",
    "create_token",
    "create_user",
    "disable_user",
    "end_session",
    "generate_password",
    "list_users",
    "permissions",
    "reset_password",
    "revoke_token",
    "session_user",
    "set_locale",
    "start_session",
]

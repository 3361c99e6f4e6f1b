"""Console sessions in cookies, CSRF tokens on every form, and per-route permissions."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from memberlens import accounts
from memberlens.accounts import Permission, UserPublic
from memberlens.service._deps import workspace_of

SESSION_COOKIE = "ml_session"
CSRF_COOKIE = "ml_csrf"


class LoginRequired(Exception):
    """No live session: the console answers with a redirect to the login page."""


class PageForbidden(Exception):
    """A live session whose role lacks the page's permission."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__("forbidden")
        self.viewer = viewer


class BadCsrf(Exception):
    """A form posted without the session's CSRF token."""


@dataclass(frozen=True)
class Viewer:
    user: UserPublic
    csrf: str
    secret: str


def viewer(request: Request) -> Viewer | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    found = accounts.session_user(workspace_of(request).state, secret)
    return Viewer(found[0], found[1], secret) if found else None


def need(permission: Permission) -> Callable[[Request], Viewer]:
    """Dependency: a logged-in user whose role holds ``permission``."""

    def dependency(request: Request) -> Viewer:
        who = viewer(request)
        if who is None:
            raise LoginRequired()
        if not accounts.allows(who.user.role, permission):
            raise PageForbidden(who)
        return who

    dependency.required_permission = permission  # type: ignore[attr-defined]
    return dependency


def check_csrf(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise BadCsrf()


def secure(request: Request) -> bool:
    """Mark cookies Secure when the browser reached us over HTTPS (directly or via a proxy)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded == "https"

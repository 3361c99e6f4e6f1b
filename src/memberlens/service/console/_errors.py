"""Errors on console pages: a page in the viewer's language that says what to do.

The API answers errors as problem documents (``service._problems``); a console page
that fails — a domain error such as ``NO_SNAPSHOT``, a bad or missing value in the
address, a page that does not exist, an expired form, a bug — answers with the same
status, as a page: a title and what to do in the viewer's language, the machine code,
and the problem's own detail where it is written in that language (English). Paths
under the API prefix keep their problem documents.

This wraps the problem handlers already installed, so the status, code and detail
are decided in one place and only their rendering differs.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from memberlens.accounts import AuthError
from memberlens.core.errors import MemberlensError, UsageError, WorkspaceError
from memberlens.service._problems import Problem, problem
from memberlens.service.console import _i18n
from memberlens.service.console._auth import BadCsrf, viewer
from memberlens.service.console._routes import render

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
# Every exception a problem handler answers; the console's own (login, forbidden, busy,
# unknown member) already render pages.
WRAPPED: tuple[type[Exception], ...] = (
    Problem,
    AuthError,
    UsageError,
    WorkspaceError,
    MemberlensError,
    RequestValidationError,
    HTTPException,
    BadCsrf,
    Exception,
)
# Codes with their own title and fix; the others read as a generic failure.
EXPLAINED = frozenset(
    {
        "NO_SNAPSHOT",
        "BAD_SEGMENT",
        "INVALID_REQUEST",
        "HTTP_404",
        "HTTP_405",
        "CSRF",
        "INTERNAL",
        "WORKSPACE",
    }
)
_SECTIONS = frozenset(
    {
        "members",
        "segments",
        "predictions",
        "models",
        "feedback",
        "recommendations",
        "audit",
        "dictionary",
    }
)


def install(app: FastAPI, api_prefix: str) -> None:
    """Wrap each problem handler of ``app``: pages for console paths, problems for the
    API. Call after ``service._problems.install`` and the console's own handlers."""
    for kind in WRAPPED:
        app.add_exception_handler(kind, _page_or(app.exception_handlers.get(kind), api_prefix))


def _page_or(answer: Handler | None, api_prefix: str) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        found = answer(request, exc) if answer else _bug()
        given = await found if inspect.isawaitable(found) else found
        if request.url.path.startswith(api_prefix):
            return given
        body = json.loads(bytes(given.body))
        page = error_page(request, given.status_code, body.get("code", "ERROR"), body.get("detail"))
        for name in ("retry-after", "www-authenticate"):
            if name in given.headers:
                page.headers[name] = given.headers[name]
        return page

    return handle


def _bug() -> Response:
    return problem(
        500,
        "Internal error",
        "memberlens hit a bug; the server log has the error type. Please report it.",
        "INTERNAL",
    )


def error_page(request: Request, status: int, code: str, detail: str | None) -> HTMLResponse:
    """The error page: title and fix by ``code`` in the viewer's language, the detail
    too where the viewer reads English, and a way back."""
    who = viewer(request)
    locale = who.user.locale if who else request.cookies.get("ml_locale", "en")
    key = code.lower() if code in EXPLAINED else "error"
    field = ""
    if code == "INVALID_REQUEST" and detail:
        field = detail.split(":", 1)[0].rsplit(".", 1)[-1]
    shown = detail if locale == "en" and code not in ("HTTP_404", "INTERNAL") else None
    section = request.url.path.strip("/").split("/", 1)[0]
    return render(
        request,
        "error.html",
        who,
        status=status,
        title=_i18n.translate(f"{key}_title", locale),
        heading=_i18n.translate(f"{key}_title", locale),
        fix=_i18n.translate(f"{key}_fix", locale).format(field=field),
        code=code,
        detail=shown,
        back=f"/{section}" if section in _SECTIONS else "/",
    )

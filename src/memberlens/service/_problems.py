"""Errors as ``application/problem+json`` (RFC 9457) with a message a person can act on."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from memberlens.accounts import AuthError
from memberlens.core.errors import MemberlensError, UsageError, WorkspaceError
from memberlens.service._gate import WarehouseBusy

log = logging.getLogger("memberlens.service")
PROBLEM = "application/problem+json"


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        code: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code
        self.headers = headers or {}


def problem(
    status: int, title: str, detail: str, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "type": f"https://memberlens.dev/problems/{code.lower()}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def busy_text(exc: WarehouseBusy) -> str:
    since = f" since {exc.since:%H:%M:%S} UTC" if exc.since else ""
    return (
        f"the warehouse is busy with {exc.holder}{since}; waited {exc.waited:g} s. "
        "Try again in a minute: pages that read it are back when the job ends."
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.code, exc.headers)

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        status = 403 if exc.code == "MISSING_SCOPE" else 401
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem(status, "Not allowed", exc.message, exc.code, headers)

    @app.exception_handler(UsageError)
    async def _usage(_: Request, exc: UsageError) -> JSONResponse:
        return problem(400, "Bad request", exc.message, exc.code)

    @app.exception_handler(WorkspaceError)
    async def _busy(_: Request, exc: WorkspaceError) -> JSONResponse:
        return problem(503, "Busy", exc.message, exc.code, {"Retry-After": "5"})

    @app.exception_handler(WarehouseBusy)
    async def _gate(_: Request, exc: WarehouseBusy) -> JSONResponse:
        return problem(503, "Busy", busy_text(exc), "WAREHOUSE_BUSY", {"Retry-After": "30"})

    @app.exception_handler(MemberlensError)
    async def _domain(_: Request, exc: MemberlensError) -> JSONResponse:
        return problem(422, "Cannot process", exc.message, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return problem(422, "Invalid request", f"{where}: {first.get('msg')}", "INVALID_REQUEST")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem(exc.status_code, title, str(exc.detail), f"HTTP_{exc.status_code}")

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        # Log the type only: an exception's text may quote personal data.
        log.error("internal error: %s", type(exc).__name__)
        return problem(
            500,
            "Internal error",
            "memberlens hit a bug; the server log has the error type. Please report it.",
            "INTERNAL",
        )

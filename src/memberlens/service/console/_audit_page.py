"""The audit log page (``audit:read``): newest first, filters, pages, chain state."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from memberlens import audit
from memberlens.accounts import Permission
from memberlens.core.errors import UsageError
from memberlens.service._deps import WorkspaceDep
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, need
from memberlens.service.console._routes import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Auditor = Annotated[Viewer, Depends(need(Permission.AUDIT_READ))]
Text = Annotated[str, Query(max_length=200)]
Day = Annotated[str, Query(max_length=10, description="A UTC day, YYYY-MM-DD; empty for none.")]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]


def _day(text: str, locale: str) -> date | None:
    """A form's date field: empty means no bound (browsers send ``since=`` when blank)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            _i18n.translate("bad_day", locale).format(value=text), code="BAD_DATE"
        ) from None


def _browse(
    ws: WorkspaceDep, who: Viewer, actor: str, action: str, since: str, until: str, page: int
) -> audit.AuditPage:
    locale = who.user.locale
    return audit.browse(
        ws.state,
        actor=actor or None,
        action=action or None,
        since=_day(since, locale),
        until=_day(until, locale),
        page=page,
    )


@pages.get("/audit")
def audit_page(
    request: Request,
    ws: WorkspaceDep,
    who: Auditor,
    actor: Text = "",
    action: Text = "",
    since: Day = "",
    until: Day = "",
    page: PageNo = 1,
) -> HTMLResponse:
    found = _browse(ws, who, actor, action, since, until, page)
    locale = who.user.locale
    filters = {"actor": actor, "action": action, "since": since, "until": until}
    return render(
        request,
        "audit.html",
        who,
        title=_i18n.translate("audit", locale),
        found=found,
        filters=filters,
    )


@api.get("/console/audit", summary="The audit log, newest first (console session with audit:read)")
def audit_json(
    ws: WorkspaceDep,
    who: Auditor,
    actor: Text = "",
    action: Text = "",
    since: Day = "",
    until: Day = "",
    page: PageNo = 1,
) -> dict[str, Any]:
    return _browse(ws, who, actor, action, since, until, page).to_json()


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix)

"""Console pages: login, logout, language, overview; and the overview as JSON."""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from memberlens import accounts, measure, protection
from memberlens.accounts import AuthError, Permission
from memberlens.core import i18n
from memberlens.service._deps import WorkspaceDep
from memberlens.service._gate import WarehouseBusy
from memberlens.service._problems import busy_text, problem
from memberlens.service.console import _i18n
from memberlens.service.console._auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    BadCsrf,
    LoginRequired,
    PageForbidden,
    Viewer,
    check_csrf,
    need,
    secure,
    viewer,
)
from memberlens.service.console._status import page_status

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def _code(text: str) -> Markup:
    """Text whose `back-quoted` spans (commands, file names, rules) show as code; the
    rest escaped."""
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


def _keep(text: str) -> Markup:
    """Data shown as it is in every language (a product's name, an id): marked
    ``translate="no"`` for browsers' translators and the pages' language checks."""
    return Markup('<span translate="no">{}</span>').format(text)


TEMPLATES.env.filters["code"] = _code
TEMPLATES.env.filters["keep"] = _keep
pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]
Contacts = Annotated[
    str | None,
    Query(pattern="^(none|masked|hashed)$", description="Default: by the role."),
]
Period = Annotated[int, Query(ge=1, le=3650, description="Days back from the last data day.")]


def render(
    request: Request,
    name: str,
    who: Viewer | None,
    status: int = 200,
    csrf: str | None = None,
    **context: Any,
) -> HTMLResponse:
    locale = i18n.locale_of(who.user.locale if who else request.cookies.get("ml_locale"))
    shown = request.app.state.workspace.settings.workspace
    tz, currency = shown.default_timezone, shown.currency
    helpers = {
        "t": lambda key: _i18n.translate(key, locale),
        "number": lambda v: _i18n.number(v, locale),
        "money": lambda v: i18n.money(v, currency),
        "percent": lambda v: _i18n.percent(v, locale),
        "day": lambda v: _i18n.day(v, locale),
        # times: stored in UTC, shown in the workspace's zone, which the page names —
        # in the column heading (zoned) or beside a time shown alone (when_zoned)
        "when": lambda v: _i18n.moment(v, locale, tz),
        "when_zoned": lambda v: _i18n.moment(v, locale, tz, named=True),
        "local_day": lambda v: _i18n.day(_i18n.local_day(v, tz), locale),
        "zoned": lambda text: _i18n.zoned(text, locale, tz),
        "label": lambda kind, v: i18n.label(kind, v, locale),
        "feature": lambda name: _i18n.feature_label(name, locale),
        "feature_value": lambda v, unit: _i18n.feature_value(v, unit, locale, currency),
        "algorithm": lambda v: _i18n.algorithm_label(v, locale),
        "step_label": lambda path: _i18n.step_label(path, locale),
        "message": lambda m: i18n.render(m, locale, currency=currency),
        "sign": i18n.currency_sign(currency),
        # navigation shows only what the role may open
        "may": lambda p: who is not None and accounts.allows(who.user.role, Permission(p)),
    }
    if who is not None and "status" not in context:
        context["status"] = page_status(request)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "user": who.user if who else None,
            "csrf": csrf if csrf is not None else (who.csrf if who else ""),
            "locale": locale,
            **helpers,
            **context,
        },
        status_code=status,
    )


def csv_export(
    request: Request,
    who: Viewer,
    contacts: str | None,
    stem: str,
    write: Callable[[Path, protection.ContactForm], dict[str, Any]],
) -> Response:
    """Run an audited export (``write(out, contact_form)``, returning its detail) under
    the warehouse gate and send the file as ``{stem}-{snapshot day}-{form}.csv``.

    Contact fields follow the role: pseudonymised (SHA-256) for roles that may export
    pseudonymised data, masked for the others, never clear; asking for ``hashed``
    without that permission is refused.
    """
    may_hash = accounts.allows(who.user.role, Permission.EXPORT_PSEUDONYMISED)
    form = contacts or ("hashed" if may_hash else "masked")
    if form == "hashed" and not may_hash:
        raise PageForbidden(who)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "export.csv"
        detail = write(out, cast(protection.ContactForm, form))
        body = out.read_bytes()
    day = detail.get("snapshot_date") or "none"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-{day}-{form}.csv"'},
    )


@pages.get("/login")
def login_page(request: Request) -> HTMLResponse:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    page = render(request, "login.html", None, csrf=token, error=None)
    page.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure(request))
    return page


@pages.post("/login")
def login(
    request: Request,
    ws: WorkspaceDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request.cookies.get(CSRF_COOKIE), csrf)
    address = request.client.host if request.client else None
    try:
        user = accounts.authenticate(ws.state, email=email, password=password, address=address)
    except AuthError as refused:
        key = {"LOCKED": "locked", "DISABLED": "disabled"}.get(refused.code, "bad_login")
        return render(
            request,
            "login.html",
            None,
            status=401,
            csrf=csrf,
            error=_i18n.translate(key, request.cookies.get("ml_locale", "en")),
        )
    secret, _ = accounts.start_session(ws.state, user)
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        max_age=12 * 3600,
    )
    return answer


@pages.post("/logout")
def logout(
    request: Request, ws: WorkspaceDep, who: Reader, csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(who.csrf, csrf)
    accounts.end_session(ws.state, who.secret)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer


@pages.post("/language")
def language(
    request: Request,
    ws: WorkspaceDep,
    who: Reader,
    locale: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(who.csrf, csrf)
    accounts.set_locale(ws.state, user_id=who.user.user_id, locale=locale)
    return RedirectResponse(request.headers.get("referer") or "/", status_code=303)


def _overview(request: Request, ws: WorkspaceDep, period: int) -> measure.Overview:
    cutoff = page_status(request).cutoff
    return measure.overview(ws.warehouse, period_days=period, cutoff=cutoff)


@pages.get("/")
def overview_page(
    request: Request, ws: WorkspaceDep, who: Reader, period: Period = 30
) -> HTMLResponse:
    o = _overview(request, ws, period)
    trend = {
        "months": [m for m, _, _ in o.trend],
        "orders": [n for _, n, _ in o.trend],
        "revenue": [float(r) for _, _, r in o.trend],
    }
    locale = i18n.locale_of(who.user.locale)
    channels = {
        "names": [i18n.label("channel", c, locale) for c, _ in o.channels],
        "counts": [n for _, n in o.channels],
    }
    return render(
        request,
        "overview.html",
        who,
        o=o,
        trend_json=json.dumps(trend),
        channels_json=json.dumps(channels, ensure_ascii=False),
    )


@api.get("/overview", summary="The overview figures (console session with data:read)")
def overview_json(
    request: Request, ws: WorkspaceDep, _: Reader, period: Period = 30
) -> dict[str, Any]:
    return _overview(request, ws, period).to_json()


@pages.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """Plotly's JavaScript from the installed plotly package: nothing from a CDN."""
    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    return FileResponse(
        str(path), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        if request.url.path.startswith(api_prefix):
            return problem(401, "Not logged in", "log in to the console first", "NO_SESSION")
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        if request.url.path.startswith(api_prefix):
            return problem(403, "Forbidden", "your role may not do this", "FORBIDDEN")
        return render(request, "forbidden.html", exc.viewer, status=403)

    @app.exception_handler(WarehouseBusy)
    async def _busy(request: Request, exc: WarehouseBusy) -> Response:
        headers = {"Retry-After": "30"}
        if request.url.path.startswith(api_prefix):
            return problem(503, "Busy", busy_text(exc), "WAREHOUSE_BUSY", headers)
        page = render(request, "busy.html", viewer(request), status=503, holder=exc.holder)
        page.headers.update(headers)
        return page

    @app.exception_handler(BadCsrf)
    async def _csrf(request: Request, _: BadCsrf) -> Response:
        return problem(
            403,
            "Form expired",
            "the form's security token is missing or stale; reload the page and try again",
            "CSRF",
        )

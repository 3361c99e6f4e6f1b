"""Console feedback: what members say — sentiment trend, top pain points with quotes,
keywords and topics of negative feedback, the products most complained about, NPS and
CSAT overall, by tier, channel and segment with their intervals; and its JSON twin
under the API. The numbers are :func:`memberlens.text.feedback_report`'s for the
``days`` up to the end of the newest feedback's day, or up to the last refresh's
cut-off when that is later (so tiers and segments are that refresh's snapshot). Like
the overview's period, which ends on its last data day, the window follows the data,
not the clock: an older data set (the demo) still shows its last months.

Who may read the quotes. ``feedback.text`` is not a personal column in the schema
(DESIGN: only ``*`` columns are encrypted and masked) and the member page already shows
it to every ``data:read`` role, so every such role reads the quotes here too. This page
names no member: a quote carries its feedback id, product and date, never a member id,
name or contact, and the page links quotes to products only. Free text can
still hold what a member typed about themselves, so the contacts found in it — e-mail
addresses, mainland mobile numbers, numbers written with a ``+`` country code — are
masked the way :mod:`memberlens.privacy` masks contact columns (``138****5678``,
``a***@example.com``) in quotes, keywords and topics, for every role: an aggregate page
has no reason to show a contact in clear, so there is no clear view to audit. The
member page masks them the same way unless the role has ``pii:read``, whose views it
audits (see ``_members.py``). Masking is best effort — a name written in the text is
not recognised — which is why the page stays behind ``data:read`` and shows clauses,
not whole texts.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from memberlens import privacy, registry, text
from memberlens.accounts import Permission
from memberlens.core.errors import ConfigError
from memberlens.service._deps import LocaleDep, WorkspaceDep
from memberlens.service._problems import Problem
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, need
from memberlens.service.console._routes import render
from memberlens.store import Warehouse
from memberlens.workspace import Workspace

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]
Days = Annotated[
    int, Query(ge=7, le=3650, description="Days of feedback, back from the window's end.")
]
Period = Literal["week", "month"]
PeriodArg = Annotated[Period, Query(description="Trend buckets: week or month.")]
Code = Literal["OK", "NO_FEEDBACK", "NOT_READ"]
DIMENSIONS = ("tier", "channel", "segment")


def _plain(value: Any) -> Any:
    """JSON-ready: days and times as ISO text, NaN and infinities as None, numpy
    scalars as Python numbers, in nested dicts and lists too."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _masked(report: dict[str, Any]) -> dict[str, Any]:
    """The report with the contacts in its free text masked (see the module doc)."""
    for point in report["pain_points"]:
        for quote in point["quotes"]:
            quote["clause"] = privacy.mask_contacts(quote["clause"])
    for word in report["keywords"]:
        word["term"] = privacy.mask_contacts(word["term"])
    for topic in report["topics"]:
        topic["terms"] = [privacy.mask_contacts(t) for t in topic["terms"]]
    return report


def _window_end(warehouse: Warehouse) -> datetime | None:
    """Where the window ends: midnight after the newest feedback's day, or the cut-off
    of the last refresh that read feedback when that is later (so tiers and segments
    come from that refresh's snapshot); None before any feedback. Two aggregates in
    the engine; times are UTC, naive as stored."""
    if not warehouse.has_table("feedback"):
        return None
    newest = _moment(warehouse.table("feedback").occurred_at.max().execute())
    if newest is None:
        return None
    end = datetime.combine(newest.date() + timedelta(days=1), datetime.min.time())
    if warehouse.has_table(text.INSIGHTS_TABLE):
        read = _moment(warehouse.table(text.INSIGHTS_TABLE).scored_at.max().execute())
        end = max(end, read or end)
    return end


def _moment(value: Any) -> datetime | None:
    """A scalar the engine returned as a plain datetime (None for null / NaT)."""
    if value is None or str(value) == "NaT":
        return None
    moment: datetime = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return moment


def _model(request: Request, ws: Workspace) -> text.SentimentModel | None:
    """The production sentiment model the text step read the feedback with; None
    before any refresh registered one (this page never fits the built-in model).
    Kept on the app per registry version: loading it takes about a second."""
    try:
        entry = registry.get_model(ws.state, text.SENTIMENT_MODEL)
    except registry.ModelNotFoundError:
        return None
    key = (str(ws.root), entry.version)
    kept = getattr(request.app.state, "feedback_model", None)
    if kept is not None and kept[0] == key:
        cached: text.SentimentModel = kept[1]
        return cached
    model = text.load_model(ws.state, ws.root, f"{text.SENTIMENT_MODEL}@{entry.version}")
    request.app.state.feedback_model = (key, model)
    return model


def _aspects(ws: Workspace) -> tuple[text.Aspect, ...]:
    try:
        return ws.aspects()
    except ConfigError as exc:
        raise Problem(422, "Cannot read the aspects", exc.message, code=exc.code) from exc


def _feedback(
    request: Request, ws: Workspace, days: int, period: Period, locale: str
) -> dict[str, Any]:
    """The page's data: ``code`` says whether there is a report (``OK``), no feedback
    at all (``NO_FEEDBACK``) or feedback no refresh has read yet (``NOT_READ``); the
    pain points' labels in ``locale``."""
    end = _window_end(ws.warehouse)
    read = ws.warehouse.has_table(text.INSIGHTS_TABLE)
    model = _model(request, ws) if end is not None and read else None
    code: Code = "NO_FEEDBACK" if end is None else "NOT_READ" if model is None else "OK"
    answer: dict[str, Any] = {"code": code, "days": days, "period": period, "model": None,
                              "report": None}  # fmt: skip
    if end is None or model is None:
        return answer
    aspects = _aspects(ws)
    found = text.feedback_report(
        ws.warehouse,
        since=end - timedelta(days=days),
        cutoff=end,
        aspects=aspects,
        positive=model.positive,
        period=period,
    )
    report = _masked(_plain(found))
    labels = {a.name: a.label_in(locale) for a in aspects}
    for point in report["pain_points"]:
        point["label"] = labels.get(point["name"], point["label"])
    return {**answer, "model": model.name, "report": report}


def _groups(report: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """NPS and CSAT side by side per group of each dimension (either may be None)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for dim in DIMENSIONS:
        if report is None:
            out[dim] = []
            continue
        nps = {g["group"]: g["result"] for g in report["nps"]["by"][dim]}
        csat = {g["group"]: g["result"] for g in report["csat"]["by"][dim]}
        names = dict.fromkeys([*nps, *csat])
        out[dim] = [{"group": n, "nps": nps.get(n), "csat": csat.get(n)} for n in names]
    return out


def _page(request: Request, who: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    report = context["data"]["report"]
    window_end = date.fromisoformat(report["cutoff"][:10]) if report else None
    return render(
        request,
        "feedback.html",
        who,
        status=status,
        title=_i18n.translate("feedback", who.user.locale),
        groups=_groups(report),
        window_end=window_end,
        **context,
    )


@pages.get("/feedback")
def feedback_page(
    request: Request, ws: WorkspaceDep, who: Reader, days: Days = 90, period: PeriodArg = "month"
) -> HTMLResponse:
    try:
        data = _feedback(request, ws, days, period, who.user.locale)
    except Problem as exc:
        empty = {"code": exc.code, "days": days, "period": period, "model": None, "report": None}
        return _page(request, who, exc.status, data=empty, problem=exc)
    return _page(request, who, data=data, problem=None)


@api.get(
    "/feedback",
    summary="The feedback report of the `days` up to the newest feedback's day (or the last "
    "refresh's cut-off when later): sentiment "
    "trend, pain points with quotes (contacts masked), keywords and topics of negative "
    "feedback, products, NPS and CSAT overall, by group and per period (console session); "
    "`report` null and `code` NO_FEEDBACK or NOT_READ (run a refresh) without one",
)
def feedback_json(
    request: Request,
    ws: WorkspaceDep,
    _: Reader,
    locale: LocaleDep,
    days: Days = 90,
    period: PeriodArg = "month",
) -> dict[str, Any]:
    return _feedback(request, ws, days, period, locale)


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix + "/console")

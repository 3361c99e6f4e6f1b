"""Console segments: builder with a live count, saved segments, RFM heat map, lifecycle
Sankey, clusters and a side-by-side comparison; and their JSON twins under the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi import Path as PathArg
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from memberlens import protection, segment
from memberlens.accounts import Permission
from memberlens.core.errors import MemberlensError
from memberlens.rules import RuleError
from memberlens.service._deps import LocaleDep, WorkspaceDep
from memberlens.service._gate import WarehouseBusy
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, check_csrf, need
from memberlens.service.console._routes import Contacts, csv_export, render
from memberlens.workspace import Workspace

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]
Writer = Annotated[Viewer, Depends(need(Permission.SEGMENTS_WRITE))]
SegmentName = Annotated[str, Query(max_length=64, description="A saved segment.")]


class PreviewBody(BaseModel):
    rule: str = Field(max_length=20_000, description="A rule in the rule language.")


def _or_none(read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """A report, or None before the refresh that makes it."""
    try:
        return read()
    except segment.NoSnapshot:
        return None


def _overview(request: Request, ws: Workspace, locale: str) -> dict[str, Any]:
    """Saved segments, RFM, lifecycle and clusters; labels in ``locale``."""
    return {
        "segments": [s.to_json() for s in segment.list_segments(ws.state, warehouse=ws.warehouse)],
        "rfm": _or_none(lambda: segment.rfm_summary(ws.warehouse, locale=locale)),
        "lifecycle": _or_none(
            lambda: segment.lifecycle_summary(ws.warehouse, ws.settings.segments, locale=locale)
        ),
        "clusters": _or_none(lambda: segment.cluster_summary(ws.warehouse, locale=locale)),
    }


@pages.get("/segments")
def segments_page(request: Request, ws: WorkspaceDep, who: Reader) -> HTMLResponse:
    data = _overview(request, ws, who.user.locale)
    return render(
        request,
        "segments.html",
        who,
        title=_i18n.translate("segments", who.user.locale),
        data=data,
        data_json=json.dumps(data, ensure_ascii=False),
        error=request.query_params.get("error"),
        saved=next((s for s in data["segments"] if s["name"] == request.query_params.get("saved")),
                   None),
        pending=request.query_params.get("pending") == "1",
    )  # fmt: skip


@pages.post("/segments")
def save_segment_form(
    request: Request,
    ws: WorkspaceDep,
    who: Writer,
    name: Annotated[str, Form(max_length=64)],
    rule: Annotated[str, Form(max_length=20_000)],
    csrf: Annotated[str, Form()],
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(who.csrf, csrf)
    book = ws.tag_book()
    try:
        segment.save_segment(
            ws.state,
            lambda names: segment.segment_catalogue(book, names),
            name=name,
            rule=rule,
            description=description,
            actor=who.user.user_id,
        )
    except MemberlensError as refused:
        data = _overview(request, ws, who.user.locale)
        return render(
            request,
            "segments.html",
            who,
            status=422,
            title=_i18n.translate("segments", who.user.locale),
            data=data,
            data_json=json.dumps(data, ensure_ascii=False),
            error=refused.message,
            draft={"name": name, "rule": rule, "description": description},
        )
    gate = request.app.state.gate
    try:  # a write: the gate's hold, as jobs take it, waiting no longer than a page does
        with gate.hold("segment save", wait=gate.wait_seconds):
            segment.compute_saved_segment(
                ws.warehouse, ws.state, name, settings=ws.settings.segments, book=book
            )
    except WarehouseBusy:  # saved; the refresh holding the warehouse will compute it
        return RedirectResponse(f"/segments?saved={name}&pending=1", status_code=303)
    return RedirectResponse(f"/segments?saved={name}", status_code=303)


@api.get("/segments", summary="Saved segments, RFM, lifecycle and clusters (console session)")
def segments_json(
    request: Request, ws: WorkspaceDep, _: Reader, locale: LocaleDep
) -> dict[str, Any]:
    return _overview(request, ws, locale)


@api.post(
    "/segments/preview",
    summary="Count and sample a rule's members, or say what is wrong with it (console session)",
)
def preview_json(
    request: Request, ws: WorkspaceDep, _: Reader, body: PreviewBody
) -> dict[str, Any]:
    """The builder asks on every keystroke: a rule being typed is not an error of the
    request, so a rule that does not check yet answers 200 with ``error``."""
    try:
        found = segment.preview_segment(
            ws.warehouse, ws.state, body.rule, settings=ws.settings.segments,
            book=ws.tag_book(),
        )  # fmt: skip
    except (RuleError, segment.NoSnapshot) as refused:
        where = {"line": getattr(refused, "line", None), "column": getattr(refused, "column", None)}
        return {"error": {"message": refused.message, "code": refused.code, **where}}
    return found.to_json()


def _compare(request: Request, ws: Workspace, a: str, b: str) -> dict[str, Any]:
    return segment.compare_segments(ws.warehouse, ws.state, a, b)


@pages.get("/segments/compare")
def compare_page(
    request: Request,
    ws: WorkspaceDep,
    who: Reader,
    a: SegmentName | None = None,
    b: SegmentName | None = None,
) -> HTMLResponse:
    """Two saved segments side by side; without both, a form to choose them."""
    return render(
        request,
        "segment_compare.html",
        who,
        title=_i18n.translate("compare", who.user.locale),
        found=_compare(request, ws, a, b) if a and b else None,
        saved=[s.name for s in segment.list_segments(ws.state, warehouse=None)],
        a=a,
        b=b,
        features=segment.COMPARED,
    )


@api.get("/segments/compare", summary="Two saved segments side by side (console session)")
def compare_json(
    request: Request, ws: WorkspaceDep, _: Reader, a: SegmentName, b: SegmentName
) -> dict[str, Any]:
    return _compare(request, ws, a, b)


@pages.get("/segments/{name}/export.csv")
def export_csv(
    request: Request,
    ws: WorkspaceDep,
    who: Reader,
    name: Annotated[str, PathArg(max_length=64)],
    contacts: Contacts = None,
) -> Response:
    """A saved segment's members in its newest snapshot as CSV; contact fields by role
    (see :func:`csv_export`), every export audited."""

    def write(out: Path, form: protection.ContactForm) -> dict[str, Any]:
        return protection.export_segment(ws, name, out, contacts=form, actor=who.user.user_id)

    return csv_export(request, who, contacts, name, write)


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix + "/console")

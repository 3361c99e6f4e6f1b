"""Console predictions: CLV distribution and value by segment, churn bands and the
members most at risk (with a CSV export), and a card per registered model; and their
JSON twins under the API. Member ids only: no personal data on these pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from memberlens import prediction_views, protection
from memberlens.accounts import Permission
from memberlens.core import i18n
from memberlens.service._deps import LocaleDep, WorkspaceDep
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, need
from memberlens.service.console._routes import Contacts, csv_export, render
from memberlens.workspace import Workspace

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]
AT_RISK_SHOWN = 100


def _overview(
    request: Request, ws: Workspace, locale: str, currency: str | None = None
) -> dict[str, Any]:
    """The page's data, the reasons of the members at risk in ``locale`` (money with
    ``currency``'s sign on the page; the JSON twin answers numbers)."""
    return prediction_views.prediction_overview(
        ws.warehouse, top=AT_RISK_SHOWN, state=ws.state, locale=locale, currency=currency
    )


def _cards(request: Request, ws: Workspace, locale: str) -> list[dict[str, Any]]:
    return prediction_views.model_cards(
        ws.warehouse,
        ws.state,
        drift_threshold=ws.settings.predict.drift_threshold,
        locale=locale,
    )


@pages.get("/predictions")
def predictions_page(request: Request, ws: WorkspaceDep, who: Reader) -> HTMLResponse:
    data = _overview(request, ws, who.user.locale, ws.settings.workspace.currency)
    return render(
        request,
        "predictions.html",
        who,
        title=_i18n.translate("predictions", who.user.locale),
        data=data,
    )


@api.get(
    "/predictions",
    summary="CLV distribution and by segment, churn bands, the riskiest members (console "
    "session); snapshot_date null before a refresh scored anyone",
)
def predictions_json(
    request: Request, ws: WorkspaceDep, _: Reader, locale: LocaleDep
) -> dict[str, Any]:
    return _overview(request, ws, locale)


@pages.get("/predictions/churn.csv")
def churn_csv(
    request: Request, ws: WorkspaceDep, who: Reader, contacts: Contacts = None
) -> Response:
    """The whole churn-risk list, riskiest first, as CSV; contact fields by role (see
    :func:`csv_export`), every export audited."""

    def write(out: Path, form: protection.ContactForm) -> dict[str, Any]:
        return protection.export_churn_list(
            ws, out, contacts=form, actor=who.user.user_id, locale=i18n.locale_of(who.user.locale)
        )

    return csv_export(request, who, contacts, "churn", write)


@pages.get("/models")
def models_page(request: Request, ws: WorkspaceDep, who: Reader) -> HTMLResponse:
    cards = _cards(request, ws, who.user.locale)
    return render(
        request,
        "models.html",
        who,
        title=_i18n.translate("models", who.user.locale),
        cards=cards,
    )


@api.get(
    "/models",
    summary="Every registered model: stage, window, key metrics, calibration, feature "
    "importance and drift (console session)",
)
def models_json(
    request: Request, ws: WorkspaceDep, _: Reader, locale: LocaleDep
) -> list[dict[str, Any]]:
    return _cards(request, ws, locale)


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix + "/console")

"""Console page: the data dictionary (every member feature as code defines it), and its twin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from memberlens import profile
from memberlens.accounts import Permission
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, need
from memberlens.service.console._routes import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]


@pages.get("/dictionary")
def dictionary_page(request: Request, who: Reader) -> HTMLResponse:
    return render(
        request,
        "dictionary.html",
        who,
        title=_i18n.translate("dictionary", who.user.locale),
        features=profile.feature_defs(),
        version=profile.feature_version(),
    )


@api.get("/dictionary", summary="The member features: name, type, unit, meaning, formula")
def dictionary_json(_: Reader) -> dict[str, Any]:
    return {
        "feature_version": profile.feature_version(),
        "features": [f.to_json() for f in profile.feature_defs()],
    }


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix)

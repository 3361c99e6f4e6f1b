"""Recommendations on the request path: a member's list, a product's similar items.

Answers read the online tables only (state DB, never the warehouse), so a running
refresh never slows them: the lists the last refresh published, with the request-time
rules applied on top — consent to personalisation, stock now, just bought. The reads
run on the event loop itself when the state DB is SQLite (``on_state``: a thread
hand-off costs more than they do).
Members are named by the application's own key (``{source}/{source_member_key}``) or
by memberlens's member id. Reasons come in the language of ``Accept-Language``
(``zh-CN`` or any ``zh``: Simplified Chinese; else English), beside their code and
parameters.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from memberlens import online
from memberlens.accounts import Scope, TokenInfo
from memberlens.core.errors import ConfigError
from memberlens.service._deps import LocaleDep, WorkspaceDep, on_state, token_with
from memberlens.service._problems import Problem

router = APIRouter(tags=["recommendations"])
Reader = Annotated[TokenInfo, Depends(token_with(Scope.RECOMMENDATIONS_READ))]
SourceArg = Annotated[
    str, Path(min_length=1, max_length=64, description="The application's source name.")
]
KeyArg = Annotated[
    str, Path(min_length=1, max_length=200, description="The application's own member key.")
]
ScenarioArg = Annotated[
    str, Query(min_length=1, max_length=64, description="A scenario of recommend.toml.")
]
KArg = Annotated[
    int | None,
    Query(ge=1, le=200, description="How many items (default: the scenario's k)."),
]


class ItemOut(BaseModel):
    rank: int
    product_id: str
    name: str
    category: str
    score: float
    reason: str
    reason_code: str
    reason_params: dict[str, Any]
    algorithm: str


class RecommendationsOut(BaseModel):
    """``personalised`` is false when the member refused personalisation or has no list
    of their own yet; ``lists`` names the lists the items came from (member id,
    ``@city:…``, ``@region:…``, ``@all``, ``@item:…``)."""

    scenario: str
    member_id: str | None
    personalised: bool
    consent_code: str
    lists: list[str]
    as_of: str | None
    items: list[ItemOut]


async def _served(ws: Any, call: Any, locale: str, **kwargs: Any) -> Response:
    """The answer, serialised here: ``online.Served`` is already the documented shape
    (``RecommendationsOut``; tests/recommend/test_serving.py holds every answer to it),
    so the request path skips FastAPI's second validation and serialisation of it."""
    try:
        served: online.Served = await on_state(ws, call, locale=locale, **kwargs)
    except ConfigError as exc:
        raise Problem(404, "Unknown scenario", str(exc), code="UNKNOWN_SCENARIO") from exc
    except ValueError as exc:
        raise Problem(422, "Wrong kind of scenario", str(exc), code="SCENARIO_KIND") from exc
    body = json.dumps(served.to_json(), ensure_ascii=False, separators=(",", ":"))
    return Response(
        body.encode(), media_type="application/json", headers={"Content-Language": locale}
    )


async def _for_member(ws: Any, scenario: str, k: int | None, locale: str, **who: str) -> Response:
    return await _served(
        ws,
        online.recommendations_now,
        locale,
        state=ws.state,
        scenarios=ws.scenarios(),
        scenario=scenario,
        k=k,
        consent=ws.settings.consent,
        **who,
    )


@router.get(
    "/members/{source}/{source_member_key}/recommendations",
    response_model=RecommendationsOut,
    summary="A member's recommendations for a scenario, by the application's own key",
)
async def member_recommendations(
    ws: WorkspaceDep,
    _: Reader,
    source: SourceArg,
    source_member_key: KeyArg,
    locale: LocaleDep,
    scenario: ScenarioArg = "home",
    k: KArg = None,
) -> Response:
    """The member's precomputed list with consent, stock and just-bought applied now."""
    return await _for_member(
        ws, scenario, k, locale, source=source, source_member_key=source_member_key
    )


@router.get(
    "/members/{member_id}/recommendations",
    response_model=RecommendationsOut,
    summary="A member's recommendations for a scenario, by member id",
)
async def member_recommendations_by_id(
    ws: WorkspaceDep,
    _: Reader,
    member_id: Annotated[str, Path(min_length=1, max_length=64)],
    locale: LocaleDep,
    scenario: ScenarioArg = "home",
    k: KArg = None,
) -> Response:
    """As the route by application key, for a memberlens member id."""
    return await _for_member(ws, scenario, k, locale, member_id=member_id)


@router.get(
    "/products/{product_id}/similar",
    response_model=RecommendationsOut,
    summary="Items similar to a product (an item scenario such as `similar`)",
)
async def similar_items(
    ws: WorkspaceDep,
    _: Reader,
    product_id: Annotated[str, Path(min_length=1, max_length=128)],
    locale: LocaleDep,
    scenario: ScenarioArg = "similar",
    k: KArg = None,
) -> Response:
    """The product's precomputed list, out-of-stock items left out."""
    return await _served(
        ws,
        online.similar_now,
        locale,
        state=ws.state,
        scenarios=ws.scenarios(),
        scenario=scenario,
        product_id=product_id,
        k=k,
    )

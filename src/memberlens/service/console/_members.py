"""Console member list, search and member page, and their JSON twins under the API prefix.

The member list (no search text) pages through the newest refresh's members, filtered
by saved segment, tier and lifecycle stage and sorted by value, risk or recency; like
search hits its personal values are masked for every role, so it reveals and audits
nothing (``segment.list_members``).

Handlers parse input, check the permission, call one profile function under the
warehouse lock and render. Whether the viewer sees clear personal data is their
role's ``pii:read``; the profile domain audits every such view. The member's feedback
(newest first, with what the refresh's text step read in it) is shown as written,
except the contacts typed into it, which follow the same rule: masked unless the
card was revealed, and so audited (see ``privacy.mask_contacts``).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from memberlens import accounts, predict, privacy, profile
from memberlens import segment as segment_domain
from memberlens.accounts import Permission
from memberlens.core.errors import ConfigError
from memberlens.segment import MemberSort, SortOrder
from memberlens.service._deps import LocaleDep, WorkspaceDep
from memberlens.service._problems import Problem, problem
from memberlens.service.console import _i18n
from memberlens.service.console._auth import Viewer, need, viewer
from memberlens.service.console._recommendations_page import member_lists
from memberlens.service.console._routes import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["console"])
Reader = Annotated[Viewer, Depends(need(Permission.DATA_READ))]
FEEDBACK_ON_PAGE = 20  # the member page's feedback rows; the JSON twin has the profile's
SearchText = Annotated[
    str, Query(max_length=320, description="A member id or source key, a phone or an e-mail.")
]


def _search(request: Request, ws: WorkspaceDep, q: str) -> profile.SearchResult:
    return profile.search_members(ws.warehouse, ws.keyring, query=q)


class ListArgs:
    """The member list's query string: filters (empty = any), sort, order, page, size."""

    def __init__(
        self,
        segment: Annotated[str | None, Query(max_length=64, description="A saved segment.")] = None,
        tier: Annotated[str | None, Query(max_length=100, description="A tier.")] = None,
        stage: Annotated[
            str | None, Query(max_length=100, description="A lifecycle stage.")
        ] = None,
        sort: Annotated[MemberSort, Query(description="value (CLV), risk or recency.")] = "value",
        order: Annotated[SortOrder | None, Query(description="Default: the key's own.")] = None,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        size: Annotated[int, Query(description="25, 50, 100 or 200 members a page.")] = 50,
    ) -> None:
        self.query = segment_domain.MemberQuery(
            segment=segment or None, tier=tier or None, stage=stage or None,
            sort=sort, order=order, page=page, size=size,
        )  # fmt: skip


ListQuery = Annotated[ListArgs, Depends()]


def _list(request: Request, ws: WorkspaceDep, args: ListArgs) -> segment_domain.MemberList:
    return segment_domain.list_members(
        ws.warehouse, ws.state, ws.keyring, args.query, settings=ws.settings.segments
    )


def _links(listing: segment_domain.MemberList) -> dict[str, Any]:
    """Where the column heads and the pager lead: a head sorts by its key (the other way
    when it is the current one), from the first page; the pager keeps the rest."""
    q = listing.query
    kept = {"segment": q.segment, "tier": q.tier, "stage": q.stage, "size": q.size}

    def url(**changed: Any) -> str:
        pairs = {**kept, "sort": q.sort, "order": q.direction, "page": q.page, **changed}
        return "/members?" + urlencode({k: v for k, v in pairs.items() if v is not None})

    flip = {"asc": "desc", "desc": "asc"}
    sort = {
        key: url(sort=key, order=flip[q.direction] if key == q.sort else None, page=1)
        for key in ("value", "risk", "recency")
    }
    previous = url(page=q.page - 1) if q.page > 1 else None
    following = url(page=q.page + 1) if q.page < listing.pages else None
    return {"sort": sort, "previous": previous, "next": following}


def _card(request: Request, ws: WorkspaceDep, who: Viewer, member_id: str) -> profile.MemberCard:
    reveal = None
    if accounts.allows(who.user.role, Permission.PII_READ):
        address = request.client.host if request.client else None
        reveal = profile.Reveal(actor=who.user.user_id, address=address)
    return profile.member_card(
        ws.warehouse, ws.keyring, ws.state, member_id=member_id, reveal=reveal
    )


def _consents(request: Request, ws: WorkspaceDep, member_id: str) -> list[privacy.ConsentRecord]:
    return privacy.consent_history(ws.warehouse, member_id)


def _profile(request: Request, ws: WorkspaceDep, card: profile.MemberCard) -> profile.MemberProfile:
    """The derived profile; contacts in feedback text masked unless ``card`` was revealed."""
    found = profile.member_profile(ws.warehouse, member_id=card.member_id)
    if card.revealed:
        return found
    rows = tuple({**r, "text": privacy.mask_contacts(r.get("text"))} for r in found.feedback)
    return replace(found, feedback=rows)


def _page(request: Request, name: str, who: Viewer | None, **context: Any) -> HTMLResponse:
    locale = who.user.locale if who else "en"
    status = context.pop("status", 200)
    title = _i18n.translate(context.pop("title"), locale)
    return render(
        request,
        name,
        who,
        status=status,
        title=title,
        **context,
    )


@pages.get("/members")
def members_page(
    request: Request, ws: WorkspaceDep, who: Reader, args: ListQuery, q: SearchText = ""
) -> HTMLResponse:
    """A search when ``q`` is given, else the member list (filtered, sorted, paged)."""
    found = _search(request, ws, q)
    listing = None
    if not q.strip():
        try:
            listing = _list(request, ws, args)
        except segment_domain.NoSnapshot:  # before the first refresh: the search alone
            listing = None
    return _page(
        request,
        "members.html",
        who,
        title="members",
        found=found,
        q=q,
        listing=listing,
        links=_links(listing) if listing else None,
    )


@pages.get("/members/{member_id}")
def member_page(request: Request, ws: WorkspaceDep, who: Reader, member_id: str) -> HTMLResponse:
    card = _card(request, ws, who, member_id)
    consents = _consents(request, ws, member_id)
    prof = _profile(request, ws, card)
    locale = who.user.locale
    return _page(
        request,
        "member.html",
        who,
        title="member",
        card=card,
        consents=consents,
        prof=prof,
        timeline=profile.timeline(card, prof),
        predictions=_predictions(request, ws, member_id, locale),
        recommendations=member_lists(ws, member_id, locale),
        feedback_shown=FEEDBACK_ON_PAGE,
        aspect_names=_aspect_names(ws, locale),
        tier_by_spend=ws.settings.tiers.metric == "spend_365d",
    )


def _aspect_names(ws: WorkspaceDep, locale: str) -> dict[str, str]:
    """Each aspect's label in ``locale`` (none when aspects.toml cannot be read: the
    page then names aspects by the catalogue)."""
    try:
        return {a.name: a.label_in(locale) for a in ws.aspects()}
    except ConfigError:
        return {}


@api.get(
    "/console/members",
    summary="Member search, masked (console session with data:read)",
)
def members_json(
    request: Request, ws: WorkspaceDep, _: Reader, q: SearchText = ""
) -> dict[str, Any]:
    return _search(request, ws, q).to_json()


@api.get(
    "/console/member-list",
    summary="The member list of the newest refresh: filtered by segment, tier and stage, "
    "sorted by value, risk or recency, paged; masked (console session with data:read)",
)
def member_list_json(
    request: Request, ws: WorkspaceDep, _: Reader, args: ListQuery
) -> dict[str, Any]:
    return _list(request, ws, args).to_json()


@api.get(
    "/members/{member_id}",
    summary="Member 360: records, orders, events, consents, features, tags, tiers, points",
    description=(
        "Personal values are masked unless the session's role has pii:read; each clear "
        "view is audited. `profile` holds what the latest refresh derived: features "
        "with their dictionary text, tags with weights, tier and points history, the "
        "points ledger, feedback and messages (newest first); `timeline` merges orders, "
        "events, feedback and messages, newest first; `recommendations` holds each member "
        "scenario's list as the recommendations API serves it now."
    ),
)
def member_360(
    request: Request, ws: WorkspaceDep, who: Reader, member_id: str, locale: LocaleDep
) -> dict[str, Any]:
    card = _card(request, ws, who, member_id)
    history = _consents(request, ws, member_id)
    derived = _profile(request, ws, card)
    return {
        **card.to_json(),
        "consents": [_consent_json(c) for c in history],
        "profile": derived.to_json(),
        "timeline": profile.timeline(card, derived),
        "predictions": _predictions(request, ws, member_id, locale),
        "recommendations": member_lists(ws, member_id, locale).lists,
    }


def _predictions(
    request: Request, ws: WorkspaceDep, member_id: str, locale: str
) -> dict[str, Any] | None:
    """The member's newest predictions, churn reasons in ``locale``."""
    return predict.member_predictions(ws.warehouse, member_id, locale=locale)


@api.get(
    "/members/{member_id}/predictions",
    summary="The member's newest predictions (P(alive), expected purchases, CLV, percentile)",
)
def member_predictions_json(
    request: Request, ws: WorkspaceDep, _: Reader, member_id: str, locale: LocaleDep
) -> dict[str, Any]:
    found = _predictions(request, ws, member_id, locale)
    if found is None:
        raise Problem(
            404,
            "No predictions",
            f"no predictions for {member_id}: fit a model (`memberlens predict clv`) and "
            "refresh, or the member has not bought yet",
            code="NO_PREDICTIONS",
        )
    return found


@api.get(
    "/console/members/{member_id}",
    summary="The member page's JSON twin (same answer as GET /members/{member_id})",
)
def member_json(
    request: Request, ws: WorkspaceDep, who: Reader, member_id: str, locale: LocaleDep
) -> dict[str, Any]:
    return member_360(request, ws, who, member_id, locale)


def _consent_json(record: privacy.ConsentRecord) -> dict[str, Any]:
    return {**asdict(record), "recorded_at": record.recorded_at.isoformat()}


def install(app: FastAPI, api_prefix: str) -> None:
    app.include_router(pages)
    app.include_router(api, prefix=api_prefix)

    @app.exception_handler(profile.MemberNotFound)
    async def _missing(request: Request, exc: profile.MemberNotFound) -> Response:
        if request.url.path.startswith(api_prefix):
            return problem(404, "No such member", exc.message, exc.code)
        member_id = request.path_params.get("member_id", "")
        return _page(
            request,
            "member_missing.html",
            viewer(request),
            status=404,
            title="member",
            member_id=member_id,
        )

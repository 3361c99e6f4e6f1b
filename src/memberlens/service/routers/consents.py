"""Consent from applications: record statements, ask for a decision on the request path.

Members are named by what an application knows, its own key: ``{source}`` (the
application's source name, e.g. ``app``) and ``{source_member_key}``; the member id
behind them may change when identity resolution merges records.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel

from memberlens import collect, online
from memberlens.accounts import Scope, TokenInfo
from memberlens.service._deps import WorkspaceDep, token_with
from memberlens.service._problems import Problem

router = APIRouter(tags=["consent"])
SourceArg = Annotated[
    str, Path(min_length=1, max_length=64, description="The application's source name.")
]
KeyArg = Annotated[
    str, Path(min_length=1, max_length=200, description="The application's own member key.")
]
Statements = Annotated[
    dict[str, Any] | list[dict[str, Any]],
    Body(
        description='One statement, a list, or {"consents": [...]}: purpose (marketing, '
        "personalisation, analytics, profiling), channel (email, sms, push, wechat, phone; "
        "default * = the purpose as a whole), granted (true = grant, false = withdrawal), "
        "recorded_at (ISO 8601 UTC; default = time of receipt), policy_version.",
        examples=[{"purpose": "marketing", "channel": "sms", "granted": False}],
    ),
]


class StatementOut(BaseModel):
    index: int
    status: str
    errors: list[str]


class ConsentsAccepted(BaseModel):
    """202: every statement was committed (or rejected, with reasons) before this answer."""

    accepted: int
    rejected: int
    items: list[StatementOut]


class ConsentOut(BaseModel):
    """A decision: ``code`` is one of GRANTED, WITHDRAWN, NO_OPT_IN, DEFAULT_ALLOW."""

    source: str
    source_member_key: str
    member_id: str | None
    purpose: str
    channel: str
    allowed: bool
    code: str
    reason: str
    as_of: str | None
    pending: bool


def _statements(body: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else body.get("consents", [body])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Problem(422, "Invalid request", "consents must be JSON objects", code="BAD_ITEMS")
    if not 1 <= len(items) <= collect.MAX_BATCH:
        raise Problem(
            413 if items else 422,
            "Batch size",
            f"send between 1 and {collect.MAX_BATCH} consents per request (got {len(items)})",
            code="BATCH_SIZE",
        )
    return items


@router.post(
    "/members/{source}/{source_member_key}/consents",
    status_code=202,
    response_model=ConsentsAccepted,
    summary="Record consent statements (grants and withdrawals) of one member",
)
def post_consents(
    ws: WorkspaceDep,
    token: Annotated[TokenInfo, Depends(token_with(Scope.CONSENT_WRITE))],
    source: SourceArg,
    source_member_key: KeyArg,
    body: Statements,
) -> ConsentsAccepted:
    """Validate each statement and commit it before answering 202. A withdrawal counts
    for the very next decision (`GET .../consent`); the ledger gets it at the next flush,
    batch decisions at the next refresh."""
    result = collect.accept_consents(
        ws.state,
        ws.keyring,
        _statements(body),
        source=source,
        source_member_key=source_member_key,
        token_id=token.token_id,
    )
    return ConsentsAccepted(
        accepted=result.accepted,
        rejected=result.rejected,
        items=[StatementOut(index=i.index, status=i.status, errors=i.errors) for i in result.items],
    )


@router.get(
    "/members/{source}/{source_member_key}/consent",
    response_model=ConsentOut,
    summary="May this member be used for a purpose on a channel, now?",
)
def get_consent(
    ws: WorkspaceDep,
    _token: Annotated[TokenInfo, Depends(token_with(Scope.CONSENT_READ))],
    source: SourceArg,
    source_member_key: KeyArg,
    purpose: Annotated[str, Query(description="marketing, personalisation, analytics, profiling")],
    channel: Annotated[str, Query(description="email, sms, push, wechat, phone or *")] = "*",
) -> ConsentOut:
    """The published effective consent with every newer statement applied; the state
    database only, never the warehouse."""
    decision = online.consent_now(
        ws.state,
        source=source,
        source_member_key=source_member_key,
        purpose=purpose,
        channel=channel,
        defaults=ws.settings.consent,
    )
    return ConsentOut(source=source, source_member_key=source_member_key, **decision.to_json())

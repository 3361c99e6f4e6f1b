"""``POST /api/v1/events``: the event collection API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from memberlens import collect
from memberlens.accounts import Scope, TokenInfo
from memberlens.service._deps import WorkspaceDep, token_with
from memberlens.service._problems import Problem

router = APIRouter(tags=["events"])
EventsToken = Annotated[TokenInfo, Depends(token_with(Scope.EVENTS_WRITE))]


class ItemOut(BaseModel):
    index: int
    event_id: str | None
    status: str
    errors: list[str]


class EventsAccepted(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemOut]


@router.post(
    "/events",
    status_code=202,
    response_model=EventsAccepted,
    summary="Send one event or a batch of up to 1,000",
)
def post_events(
    ws: WorkspaceDep,
    token: EventsToken,
    body: Annotated[
        dict[str, Any] | list[dict[str, Any]],
        Body(
            description='One event, a list of events, or {"events": [...]}, in the canonical '
            "events schema (see docs/data-model.md)."
        ),
    ],
) -> EventsAccepted:
    """Validate each event, commit it to the buffer, answer 202 with per-item results.

    Idempotent by ``event_id``: an event sent again is reported as ``duplicate``.
    Rejected items are quarantined like rejected file rows.
    """
    items = body if isinstance(body, list) else body.get("events", [body])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Problem(422, "Invalid request", "events must be JSON objects", code="BAD_EVENTS")
    if not 1 <= len(items) <= collect.MAX_BATCH:
        raise Problem(
            413 if items else 422,
            "Batch size",
            f"send between 1 and {collect.MAX_BATCH} events per request (got {len(items)})",
            code="BATCH_SIZE",
        )
    result = collect.accept_events(ws.state, items, token_id=token.token_id)
    return EventsAccepted(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        items=[
            ItemOut(index=i.index, event_id=i.event_id, status=i.status, errors=i.errors)
            for i in result.items
        ],
    )

"""``POST /api/v1/events`` and the upserts ``/members``, ``/orders``, ``/products``."""

# No `from __future__ import annotations` here: FastAPI must see the route signature
# built inside _upsert as real objects, not as names it cannot resolve.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from memberlens import collect, online
from memberlens.accounts import Scope, TokenInfo
from memberlens.service._deps import WorkspaceDep, token_with
from memberlens.service._problems import Problem

router = APIRouter(tags=["collect"])
Items = Annotated[
    dict[str, Any] | list[dict[str, Any]],
    Body(
        description='One item, a list, or {"<plural>": [...]}, in the canonical schema '
        "(docs/data-model.md); at most 1,000 per request."
    ),
]


class ItemOut(BaseModel):
    index: int
    key: str | None
    status: str
    errors: list[str]


class Accepted(BaseModel):
    """202: every item was committed to the buffer (or rejected, with reasons)."""

    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemOut]


def _items(body: dict[str, Any] | list[dict[str, Any]], plural: str) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else body.get(plural, [body])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Problem(422, "Invalid request", f"{plural} must be JSON objects", code="BAD_ITEMS")
    if not 1 <= len(items) <= collect.MAX_BATCH:
        raise Problem(
            413 if items else 422,
            "Batch size",
            f"send between 1 and {collect.MAX_BATCH} {plural} per request (got {len(items)})",
            code="BATCH_SIZE",
        )
    return items


def _answer(result: collect.AcceptResult) -> Accepted:
    return Accepted(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        items=[
            ItemOut(index=i.index, key=i.event_id, status=i.status, errors=i.errors)
            for i in result.items
        ],
    )


def _upsert(kind: str, scope: Scope) -> Callable[..., Accepted]:
    token_dep = Annotated[TokenInfo, Depends(token_with(scope))]

    def route(ws: WorkspaceDep, token: token_dep, body: Items) -> Accepted:
        items = _items(body, kind)
        if kind == "orders":
            result = collect.accept_orders(ws.state, ws.keyring, items, token_id=token.token_id)
        else:
            result = collect.accept(ws.state, ws.keyring, kind, items, token_id=token.token_id)
        # stock and "just bought" count on the request path at once, not after a refresh
        accepted = [False] * len(items)
        for item in result.items:
            accepted[item.index] = item.status == "accepted"
        online.note_accepted(ws.state, kind, items, accepted)
        return _answer(result)

    route.__name__ = f"post_{kind}"
    route.__doc__ = (
        f"Validate each of up to 1,000 {kind}, commit them to the buffer and "
        "answer 202 with per-item results; the job runner loads them with the "
        "same identity, versioning and encryption rules as file imports."
        + (" Events are idempotent by `event_id`." if kind == "events" else "")
        + (" An order carries its lines in `items`." if kind == "orders" else "")
    )
    return route


for _kind, _scope in (
    ("events", Scope.EVENTS_WRITE),
    ("members", Scope.MEMBERS_WRITE),
    ("orders", Scope.ORDERS_WRITE),
    ("products", Scope.PRODUCTS_WRITE),
):
    router.add_api_route(
        f"/{_kind}",
        _upsert(_kind, _scope),
        methods=["POST"],
        status_code=202,
        response_model=Accepted,
        summary=f"Send {_kind} (one or a batch of up to 1,000)",
    )

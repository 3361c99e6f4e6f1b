"""Saved segments for applications and integrations: list, preview, members, save.

Reading needs a token with ``segments:read``; saving and deleting the admin token (as
the CLI uses while the server owns the workspace). Every answer reads the warehouse
through the server's gate, so it waits briefly for a running refresh or answers 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from memberlens import segment
from memberlens.accounts import Scope, TokenInfo
from memberlens.service._deps import GateDep, WorkspaceDep, token_with

router = APIRouter(tags=["segments"])
Reader = Annotated[TokenInfo, Depends(token_with(Scope.SEGMENTS_READ))]
AdminToken = Annotated[TokenInfo, Depends(token_with(Scope.ADMIN))]
NameArg = Annotated[str, Path(min_length=1, max_length=64, description="A saved segment.")]


class RuleBody(BaseModel):
    rule: str = Field(max_length=20_000, description="A rule (docs/rules.md).")


class SegmentBody(RuleBody):
    description: str = Field("", max_length=500)
    owner: str = Field("", max_length=200)


@router.get("/segments", summary="Saved segments with size and trend (as `segment list`)")
def list_segments(ws: WorkspaceDep, gate: GateDep, _: Reader) -> list[dict[str, Any]]:
    with gate.hold("segments"):
        return [s.to_json() for s in segment.list_segments(ws.state, warehouse=ws.warehouse)]


@router.post("/segments/preview", summary="Count and sample a rule's members (as `preview`)")
def preview(body: RuleBody, ws: WorkspaceDep, gate: GateDep, _: Reader) -> dict[str, Any]:
    with gate.hold("segment preview"):
        found = segment.preview_segment(
            ws.warehouse, ws.state, body.rule, settings=ws.settings.segments, book=ws.tag_book()
        )
    return found.to_json()


@router.get(
    "/segments/{name}/members",
    summary="A segment's members in its newest snapshot, or its entries and exits",
)
def members(
    name: NameArg,
    ws: WorkspaceDep,
    gate: GateDep,
    _: Reader,
    changes: Annotated[bool, Query(description="Entries and exits instead.")] = False,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 1000,
) -> dict[str, Any]:
    with gate.hold("segment members"):
        return segment.segment_membership(
            ws.warehouse, ws.state, name, changes=changes, limit=limit
        )


@router.put(
    "/segments/{name}",
    summary="Save a segment and count its members now (as `memberlens segment save`)",
)
def save(
    name: NameArg, body: SegmentBody, ws: WorkspaceDep, gate: GateDep, token: AdminToken
) -> dict[str, Any]:
    book = ws.tag_book()
    segment.save_segment(
        ws.state,
        lambda names: segment.segment_catalogue(book, names),
        name=name,
        rule=body.rule,
        actor=f"token:{token.token_id}",
        description=body.description,
        owner=body.owner,
    )
    with gate.hold("segment save"):
        saved = segment.compute_saved_segment(
            ws.warehouse, ws.state, name, settings=ws.settings.segments, book=book
        )
    return saved.to_json()


@router.delete("/segments/{name}", summary="Forget a segment (as `memberlens segment delete`)")
def delete(name: NameArg, ws: WorkspaceDep, _: AdminToken) -> dict[str, str]:
    segment.delete_segment(ws.state, name)
    return {"deleted": name}

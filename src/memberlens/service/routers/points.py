"""Manual points adjustments: ``POST /api/v1/members/{source}/{source_member_key}/points``.

Members are named by the application's own key, as in the consent routes. The
adjustment is committed to the state database's buffer before the 202; the job
runner's flush (or the next refresh) appends it to the points ledger once.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from memberlens import collect
from memberlens.accounts import Scope, TokenInfo
from memberlens.service._deps import WorkspaceDep, token_with

router = APIRouter(tags=["points"])
SourceArg = Annotated[
    str, Path(min_length=1, max_length=64, description="The application's source name.")
]
KeyArg = Annotated[
    str, Path(min_length=1, max_length=200, description="The application's own member key.")
]


class AdjustmentIn(BaseModel):
    """One adjustment; ``adjustment_id`` makes retries safe (the same id counts once)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"points": 200, "note": "goodwill: late delivery"}]},
    )
    points: int = Field(description="Points granted (> 0) or taken away (< 0).")
    reason: str = Field("adjust_manual", description="adjust_manual or redeem (negative).")
    note: str | None = Field(None, description="Why, for the ledger (no personal data).")
    adjustment_id: str | None = Field(None, description="Your id; default: a new one.")
    expires_at: str | None = Field(
        None, description="ISO 8601 UTC expiry of granted points; default: [points] rule."
    )


class AdjustmentAccepted(BaseModel):
    """202: committed (``accepted``) or seen before (``duplicate``)."""

    adjustment_id: str
    status: str


@router.post(
    "/members/{source}/{source_member_key}/points",
    status_code=202,
    response_model=AdjustmentAccepted,
    summary="Adjust a member's points by hand (grant, take away, redeem)",
)
def post_points(
    ws: WorkspaceDep,
    token: Annotated[TokenInfo, Depends(token_with(Scope.POINTS_WRITE))],
    source: SourceArg,
    source_member_key: KeyArg,
    body: AdjustmentIn,
) -> AdjustmentAccepted:
    """Validate the adjustment and commit it before answering 202; invalid ones get 422
    with code BAD_POINTS_ADJUSTMENT and the reason."""
    adjustment_id, status = collect.accept_points_adjustment(
        ws.state,
        body.model_dump(exclude_none=True),
        source=source,
        source_member_key=source_member_key,
        token_id=token.token_id,
    )
    return AdjustmentAccepted(adjustment_id=adjustment_id, status=status)

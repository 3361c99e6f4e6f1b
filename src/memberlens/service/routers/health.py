"""``GET /api/v1/health``: is the server up, and is the buffer draining."""

from __future__ import annotations

from fastapi import APIRouter

from memberlens import __version__, collect
from memberlens.service._deps import WorkspaceDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Server health")
def health(ws: WorkspaceDep) -> dict[str, object]:
    """No authentication: for load balancers and monitors."""
    return {
        "status": "ok",
        "version": __version__,
        "pending_events": collect.pending_count(ws.state),
    }

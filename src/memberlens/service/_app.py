"""The FastAPI app factory: one workspace, its API, and its job runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from memberlens import __version__
from memberlens.core.settings import load_settings
from memberlens.service import _docs, _owner, _problems, console
from memberlens.service._deps import RateLimiter
from memberlens.service._gate import WarehouseGate
from memberlens.service._runner import JobRunner
from memberlens.service.routers import (
    admin,
    consents,
    events,
    health,
    points,
    recommendations,
    segments,
)
from memberlens.workspace import Workspace

API = "/api/v1"
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    events.router,
    consents.router,
    points.router,
    recommendations.router,
    segments.router,
    admin.router,
)


def create_app(
    root: Path,
    *,
    flush_interval: float | None = None,
    rate: float | None = None,
    burst: int | None = None,
    url: str | None = None,
    commands: admin.HostedCommands | None = None,
) -> FastAPI:
    """The server for the workspace at ``root``; it holds the workspace while it runs.

    With ``url`` (the address it listens on) the server also writes data/server.json so
    that CLI commands on the held workspace can go through its API; ``commands`` runs
    any command for them there (``POST /api/v1/cli``; `memberlens serve` passes the
    CLI's own).

    Rates and the flush interval default to the workspace's ``[server]`` settings.
    """
    server = load_settings(root.resolve()).server
    flush_every = server.flush_interval_seconds if flush_interval is None else flush_interval

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync handlers run on anyio's worker threads: a few, so a burst queues in order
        # instead of slowing every request in flight at once (one runs Python at a time).
        anyio.to_thread.current_default_thread_limiter().total_tokens = server.threads
        ws = Workspace.open(root)
        gate = WarehouseGate(wait_seconds=server.console_wait_seconds)
        runner = JobRunner(ws, gate, flush_every=flush_every)
        app.state.workspace, app.state.runner = ws, runner
        app.state.gate = gate
        owner = _owner.claim(ws, url) if url else None
        runner.start()
        try:
            yield
        finally:
            runner.stop()  # finish the running job, flush what was accepted
            if owner:
                _owner.release(ws, owner)
            ws.close()

    app = FastAPI(
        title="memberlens",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # served from an installed package: _docs
        redoc_url=None,
        description="Member data in; profiles, segments, predictions and campaigns out.",
    )
    app.state.commands = commands
    app.state.rate_limiter = RateLimiter(
        server.rate_per_token if rate is None else rate, server.burst if burst is None else burst
    )
    _problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API)
    _docs.install(app, API)
    console.install(app, API)
    return app

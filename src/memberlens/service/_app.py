"""The FastAPI app factory: one workspace, its API, and its job runner."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from memberlens import __version__
from memberlens.service import _problems
from memberlens.service._deps import RateLimiter
from memberlens.service._runner import JobRunner
from memberlens.service.routers import events, health
from memberlens.workspace import Workspace

API = "/api/v1"
ROUTERS: tuple[APIRouter, ...] = (health.router, events.router)


def create_app(
    root: Path, *, flush_interval: float = 2.0, rate: float = 100.0, burst: int = 200
) -> FastAPI:
    """The server for the workspace at ``root``; it holds the workspace while it runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ws = Workspace.open(root)
        lock = threading.Lock()
        runner = JobRunner(ws, lock, interval=flush_interval)
        app.state.workspace, app.state.warehouse_lock, app.state.runner = ws, lock, runner
        runner.start()
        try:
            yield
        finally:
            runner.stop()  # finish the running job, flush what was accepted
            ws.close()

    app = FastAPI(
        title="memberlens",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        description="Member data in; profiles, segments, predictions and campaigns out.",
    )
    app.state.rate_limiter = RateLimiter(rate, burst)
    _problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API)
    return app

"""Typed dependencies: the open workspace, API tokens with scopes, rate limits, the
language an answer's reasons and labels are written in."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from memberlens import accounts
from memberlens.accounts import AuthError, Scope, TokenInfo
from memberlens.core import i18n
from memberlens.service._gate import WarehouseGate
from memberlens.service._problems import Problem
from memberlens.service._runner import JobRunner
from memberlens.workspace import Workspace

T = TypeVar("T")


def workspace_of(request: Request) -> Workspace:
    """The workspace the app holds."""
    ws: Workspace = request.app.state.workspace
    return ws


# No I/O in these two: async, so FastAPI does not send them to a worker thread.
async def get_workspace(request: Request) -> Workspace:
    return workspace_of(request)


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]


async def get_gate(request: Request) -> WarehouseGate:
    gate: WarehouseGate = request.app.state.gate
    return gate


GateDep = Annotated[WarehouseGate, Depends(get_gate)]


async def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


RunnerDep = Annotated[JobRunner, Depends(get_runner)]


async def answer_locale(
    accept_language: Annotated[
        str | None,
        Header(
            description="The language of reasons and labels: zh-CN (or any zh) for "
            "Simplified Chinese, else English."
        ),
    ] = None,
) -> i18n.Locale:
    """The locale of an API answer's words, from ``Accept-Language`` (English by default)."""
    return i18n.negotiate(accept_language)


LocaleDep = Annotated[i18n.Locale, Depends(answer_locale)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError(
            "send an API token: Authorization: Bearer <token> "
            "(create one with `memberlens token create`)",
            code="NO_TOKEN",
        )
    return token.strip()


class RateLimiter:
    """A token bucket per API token: ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


async def on_state(ws: Workspace, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` — a few short reads of the state DB, the request path's
    work — on the event loop when the state DB is embedded SQLite, else on a worker
    thread.

    Handing work to a worker thread and back costs more than such reads: on the 2-core
    VM of the README's benchmarks each hand-off cost 1.5–2 ms of CPU (two thread wake-ups
    and the event loop's self-pipe), the reads of a recommendation 0.5 ms. A PostgreSQL
    round trip, though, must not hold the loop: it goes to a thread.
    """
    if ws.state.embedded:
        return fn(*args, **kwargs)
    return await run_in_threadpool(functools.partial(fn, *args, **kwargs))


def token_with(scope: Scope) -> Callable[[Request, Workspace], Awaitable[TokenInfo]]:
    """Dependency: a valid API token holding ``scope``, within its rate limit."""

    async def dependency(request: Request, ws: WorkspaceDep) -> TokenInfo:
        info = await on_state(ws, accounts.check_token, ws.state, _bearer(request), scope=scope)
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = limiter.take(info.token_id)
        if wait:
            seconds = max(1, round(wait + 0.5))
            raise Problem(
                429,
                "Too many requests",
                f"this token may send {limiter.rate:g} requests a second; retry in {seconds} s",
                code="RATE_LIMITED",
                headers={"Retry-After": str(seconds)},
            )
        return info

    dependency.required_scope = scope  # type: ignore[attr-defined]
    return dependency

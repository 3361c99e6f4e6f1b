"""Job runs in the state DB: what ran, when, how it ended (refreshes, scheduled imports).

A run is written ``running`` before the work starts and finished afterwards, so a
process killed mid-job leaves a ``running`` row behind; :func:`interrupt_stale_runs`
marks those ``interrupted`` when the next server starts, which then retries the work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from memberlens.core.clock import utc_now
from memberlens.core.ids import new_run_id
from memberlens.store._state import JobRun, StateStore

JobStatus = Literal["running", "succeeded", "failed", "interrupted"]


@dataclass(frozen=True)
class JobRecord:
    """One job run as the console and the CLI show it."""

    run_id: str
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    detail: dict[str, Any]


def _naive(moment: datetime) -> datetime:
    """State columns hold naive UTC (SQLite has no time zones)."""
    return moment.replace(tzinfo=None)


def start_job(state: StateStore, job: str, detail: dict[str, Any] | None = None) -> str:
    """Record that ``job`` starts now; return its run id."""
    run_id = new_run_id(job.split()[0])
    with state.session() as s, s.begin():
        s.add(
            JobRun(
                run_id=run_id,
                job=job,
                status="running",
                started_at=_naive(utc_now()),
                detail=json.dumps(detail or {}, default=str),
            )
        )
    return run_id


def finish_job(
    state: StateStore, run_id: str, *, status: JobStatus, detail: dict[str, Any]
) -> None:
    """Record how run ``run_id`` ended, with a JSON-able summary (or the error)."""
    now = _naive(utc_now())
    with state.session() as s, s.begin():
        row = s.get(JobRun, run_id)
        if row is None:
            raise LookupError(f"no job run {run_id}")
        row.status = status
        row.finished_at = now
        row.duration_ms = int((now - row.started_at).total_seconds() * 1000)
        row.detail = json.dumps(detail, default=str)


def interrupt_stale_runs(state: StateStore) -> list[str]:
    """Mark runs still ``running`` (their process died) as ``interrupted``.

    Returns the jobs they belonged to, so that the caller can run them again.
    """
    with state.session() as s, s.begin():
        stale = s.scalars(select(JobRun).where(JobRun.status == "running")).all()
        for row in stale:
            row.status = "interrupted"
            row.finished_at = _naive(utc_now())
        return [row.job for row in stale]


def last_run(state: StateStore, job: str, *, status: JobStatus = "succeeded") -> JobRecord | None:
    """The newest run of ``job`` that ended with ``status`` (by default: succeeded)."""
    query = (
        select(JobRun)
        .where(JobRun.job == job, JobRun.status == status)
        .order_by(JobRun.started_at.desc(), JobRun.run_id)
        .limit(1)
    )
    with state.session() as s:
        row = s.scalars(query).first()
    return _record(row) if row is not None else None


def recent_jobs(state: StateStore, *, job: str | None = None, limit: int = 20) -> list[JobRecord]:
    """The newest runs first, optionally of one job only."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.run_id).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    with state.session() as s:
        rows = s.scalars(query).all()
    return [_record(r) for r in rows]


def _record(r: JobRun) -> JobRecord:
    return JobRecord(
        run_id=r.run_id,
        job=r.job,
        status=r.status,
        started_at=r.started_at,
        finished_at=r.finished_at,
        duration_ms=r.duration_ms,
        detail=json.loads(r.detail or "{}"),
    )

"""The refresh pipeline: the order of the steps, nothing else.

DESIGN's order is ``identity → text insights → features → tiers & points → tags →
predictions → segments → recommendations → signals → online tables`` (tiers & points
run before features here: they read no feature); each step reads only raw tables,
earlier steps' outputs or its own previous snapshot. Steps join this list as the
domains that compute them land. Every run is recorded in ``job_runs`` with each
step's time and summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from memberlens import (
    collect,
    identity,
    measure,
    online,
    predict,
    profile,
    recommend,
    segment,
    signals,
    text,
)
from memberlens.core import progress
from memberlens.core.clock import utc_now
from memberlens.core.errors import UsageError
from memberlens.store import finish_job, start_job
from memberlens.workspace import Workspace

JOB = "refresh"


@dataclass(frozen=True)
class Step:
    name: str
    summary: str
    run: Callable[[Workspace, datetime], dict[str, Any]]


def _identity(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    # Matching reads every record loaded so far: member_map is current state, not a
    # snapshot, so the cut-off does not apply to it.
    result = identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
    return {
        "clusters_merged": result.clusters_merged,
        "records_affected": result.records_affected,
        "flagged_identifiers": len(result.flagged),
        "anonymous_linked": result.anonymous_linked,
    }


def _text(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    chosen, aspects = ws.settings.text, ws.aspects()
    return text.compute_insights(
        ws.warehouse,
        ws.state,
        ws.root,
        cutoff=as_of,
        options=text.InsightOptions(chosen.neutral_band, chosen.complaint_below),
        aspects=lambda texts, positive: text.per_text_aspects(texts, aspects, positive),
    )


def _features(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    snap = profile.compute_member_features(
        ws.warehouse, cutoff=as_of, default_timezone=ws.settings.workspace.default_timezone
    )
    return {"members": snap.members, "category_rows": snap.category_rows}


def _tiers(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    # Adjustments accepted by the API since the last flush count in this run, also
    # when no server (and so no job runner) is there to flush them.
    collect.flush_points_adjustments(ws.state, ws.warehouse, ws.settings.points)
    run = profile.refresh_loyalty(
        ws.warehouse, cutoff=as_of, tiers=ws.settings.tiers, points=ws.settings.points
    )
    return run.to_json()


def _tags(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    run = profile.compute_member_tags(
        ws.warehouse, ws.state, cutoff=as_of, book=ws.tag_book(), settings=ws.settings.tags
    )
    return run.to_json()


def _predictions(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    return predict.compute_predictions(
        ws.warehouse,
        ws.state,
        ws.root,
        cutoff=as_of,
        settings=ws.settings.predict,
        default_timezone=ws.settings.workspace.default_timezone,
    )


def _segments(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    run = segment.compute_segments(
        ws.warehouse,
        ws.state,
        cutoff=as_of,
        settings=ws.settings.segments,
        book=ws.tag_book(),
        models_root=ws.root,
    )
    return run.to_json()


def _recommendations(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    return recommend.compute_recommendations(
        ws.warehouse, ws.state, ws.root, cutoff=as_of, scenarios=ws.scenarios()
    )


def _sync(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    chosen = ws.settings.segments
    return segment.sync_segments(
        ws.warehouse,
        as_of.astimezone(UTC).date(),
        webhooks=chosen.webhooks,
        secret=chosen.webhook_secret.get_secret_value(),
        attempts=chosen.webhook_attempts,
        backoff=chosen.webhook_backoff_seconds,
    )


def signal_detectors(ws: Workspace) -> tuple[signals.Detector, ...]:
    """Every domain's signal detectors: a domain adds its own here (docs/extending.md)."""
    return (
        *profile.signal_detectors(ws.settings.points),
        *segment.signal_detectors(),
        *predict.signal_detectors(ws.settings.predict.churn_alert),
        *text.signal_detectors(ws.settings.text.complaint_signal_days),
    )


def _signals(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    return signals.emit(ws.warehouse, cutoff=as_of, detectors=signal_detectors(ws)).to_json()


def _online_tables(ws: Workspace, as_of: datetime) -> dict[str, Any]:
    progress.advance(0, 3, "member summaries")
    published = online.publish_member_summaries(ws.state, ws.warehouse, as_of=as_of)
    progress.advance(1, 3, "consent")
    consent = online.publish_consent(
        ws.state, ws.warehouse, as_of=as_of, defaults=ws.settings.consent
    )
    progress.advance(2, 3, "recommendation lists")
    lists = online.publish_recommendations(
        ws.state, recommend.read_lists(ws.warehouse, cutoff=as_of), as_of=as_of
    )
    return {"member_summaries": published, **consent, **lists}


STEPS: tuple[Step, ...] = (
    Step("identity", "match source records into members; stitch anonymous events", _identity),
    Step("text", "sentiment, aspects and complaints of new feedback (feedback_insights)", _text),
    # Tiers & points read only orders, events, feedback and the ledger, so they run
    # before features: points_balance and tier then describe the same cut-off.
    Step("tiers", "points ledger, member_points and member_tiers at the cut-off", _tiers),
    Step("features", "member features at the cut-off (member_features)", _features),
    Step("tags", "declared rule tags and interest tags at the cut-off (member_tags)", _tags),
    Step(
        "predictions", "score buyers with the production models (member_predictions)", _predictions
    ),
    Step(
        "segments",
        "RFM, lifecycle stages and saved segments at the cut-off (with entries and exits)",
        _segments,
    ),
    Step(
        "recommendations",
        "every scenario's lists per member and product (recommendations)",
        _recommendations,
    ),
    Step("signals", "record new member_signals (tier_changed, points_expiring, ...)", _signals),
    Step("sync", "POST saved segments' changes to their webhooks (signed, retried)", _sync),
    Step("online", "publish the online tables the request path reads", _online_tables),
)


@dataclass(frozen=True)
class Clock:
    """The as-of a refresh used and how it was chosen.

    ``source`` is ``given`` (``--as-of``), ``data`` (the day after the newest order or
    event), ``now`` or ``setting`` (a fixed date in ``[refresh] as_of``). ``newest``
    is the newest order or event time seen (naive UTC), ``stale_days`` how many days
    it lies before the as-of when that passes ``[refresh] stale_after_days``.
    """

    moment: datetime
    source: str
    newest: datetime | None
    stale_days: int | None = None

    def warnings(self) -> list[dict[str, str]]:
        if self.stale_days is None or self.newest is None:
            return []
        return [
            {
                "code": "DATA_STALE",
                "newest": f"{self.newest:%Y-%m-%d}",
                "as_of": f"{self.moment:%Y-%m-%d}",
                "days": str(self.stale_days),
                "message": (
                    f"the newest order or event ({self.newest:%Y-%m-%d}) is "
                    f"{self.stale_days} days before the as-of {self.moment:%Y-%m-%d}: "
                    "members will look lapsed. Refresh as of the data "
                    '(`--as-of`, or [refresh] as_of = "data" in memberlens.toml)'
                ),
            }
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "newest_data": self.newest.isoformat() if self.newest else None,
            "stale_days": self.stale_days,
        }


@dataclass
class RefreshResult:
    run_id: str
    as_of: datetime
    clock: Clock | None = None
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "clock": self.clock.to_json() if self.clock else None,
            "warnings": self.clock.warnings() if self.clock else [],
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
        }


def step_names() -> list[str]:
    return [s.name for s in STEPS]


# Windows such as "the last 365 days" must stay inside what dates can hold.
EARLIEST_AS_OF = date(1900, 1, 1)
LATEST_AS_OF = date(2199, 12, 31)


def cutoff(as_of: date) -> datetime:
    """The instant a refresh as of ``as_of`` sees data before: midnight UTC."""
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise UsageError(
            f"as-of {as_of.isoformat()} is outside {EARLIEST_AS_OF} … {LATEST_AS_OF}; "
            "give the day whose data the refresh should stop before (e.g. 2024-01-01)"
        )
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)


def clock(ws: Workspace, as_of: date | None = None) -> Clock:
    """The as-of of a refresh: ``as_of`` when given, else the workspace clock
    (``[refresh] as_of``: ``data``, ``now`` or a date), with the staleness check."""
    now = utc_now()
    newest = measure.newest_activity(ws.warehouse, until=now)
    chosen = ws.settings.refresh.as_of
    if as_of is not None:
        moment, source = cutoff(as_of), "given"
    elif chosen == "now":
        moment, source = now, "now"
    elif chosen == "data":
        # The day after the newest activity, so that all of it is seen; never later
        # than now (a live shop's data ends today). No data yet: now.
        day_after = cutoff(newest.date() + timedelta(days=1)) if newest else now
        moment, source = min(day_after, now), "data"
    else:
        moment, source = cutoff(date.fromisoformat(chosen)), "setting"
    if newest is not None and moment < now:  # what the refresh will see, not beyond
        newest = measure.newest_activity(ws.warehouse, until=moment)
    stale = None
    if newest is not None:
        gap = (moment.replace(tzinfo=None) - newest).days
        stale = gap if gap > ws.settings.refresh.stale_after_days else None
    return Clock(moment, source, newest, stale)


def refresh(
    ws: Workspace,
    *,
    as_of: date | None = None,
    only: list[str] | None = None,
) -> RefreshResult:
    """Run the pipeline's steps in order (or only the named ones) on data before ``as_of``
    (default: the workspace clock, :func:`clock`).

    The steps run in one warehouse transaction: other connections (the console's
    pages) see the last completed refresh until this one commits, and a failed run
    leaves the warehouse as it was. Progress goes to ``core.progress``: the stage
    ``refresh`` with one unit per step, each step a stage inside it.

    Examples
    --------
    >>> " ".join(step_names())
    'identity text tiers features tags predictions segments recommendations signals sync online'
    """
    unknown = sorted(set(only or []) - set(step_names()))
    if unknown:
        raise UsageError(
            f"unknown step {', '.join(unknown)}; the steps are: {', '.join(step_names())}"
        )
    when = clock(ws, as_of)
    moment = when.moment
    chosen = [s for s in STEPS if not only or s.name in only]
    if any(s.name in ("tags", "segments") for s in chosen):
        book = ws.tag_book()  # a typo stops the run before any step
        profile.check_tag_book(book)
        segment.check_lifecycle(ws.settings.segments, book)
    if any(s.name == "recommendations" for s in chosen):
        recommend.check_algorithms(ws.scenarios())
    run_id = start_job(ws.state, JOB, {"as_of": moment.isoformat(), "steps": step_names()})
    result = RefreshResult(run_id, moment, when)
    started = time.perf_counter()
    try:
        with progress.stage(JOB, total=len(chosen)), ws.warehouse.transaction():
            for done, step in enumerate(chosen):
                progress.advance(done, len(chosen), step.name)
                begun = time.perf_counter()
                with progress.stage(step.name):
                    detail = step.run(ws, moment)
                seconds = round(time.perf_counter() - begun, 3)
                result.steps[step.name] = {**detail, "seconds": seconds}
            progress.advance(len(chosen), len(chosen), "commit")
    except Exception as exc:
        finish_job(
            ws.state,
            run_id,
            status="failed",
            detail={"error": f"{type(exc).__name__}: {exc}", "steps": result.steps},
        )
        raise
    result.seconds = time.perf_counter() - started
    finish_job(ws.state, run_id, status="succeeded", detail=result.to_json())
    return result

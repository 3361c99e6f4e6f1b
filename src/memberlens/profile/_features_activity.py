"""Member attributes as they were, and behaviour, feedback, message and loyalty features.

Events come through :func:`memberlens.identity.events_with_members`, so anonymous
events stitched by a login count for the member; feedback and touches through
``member_map``. Member attributes are read as they stood at the cut-off: ingest keeps
each replaced version in ``members_history`` (valid from its ``_loaded_at`` until its
``_superseded_at``), and the version loaded last before the cut-off is the one a
refresh run then would have seen (formulas: ``_feature_defs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir

from memberlens import identity
from memberlens.profile._feature_defs import ACTIVE_WINDOWS, CART_WINDOW_DAYS
from memberlens.store import Warehouse

_KEY = ["source", "source_member_key"]
INSIGHTS = "feedback_insights"  # written by the refresh's text step, before features


def _member_map(warehouse: Warehouse) -> ir.Table:
    return warehouse.table("member_map").select("source", "source_member_key", "member_id")


def member_versions(warehouse: Warehouse, cutoff: datetime, extra: Sequence[str] = ()) -> ir.Table:
    """Each member record as of the cut-off: ``source, source_member_key, signup_at,
    timezone`` and the ``extra`` columns, only records that existed then.

    A version is current from its ``_loaded_at`` until its ``_superseded_at``; versions
    replaced within their own file were never current and are skipped. The version
    known at the cut-off is the latest one loaded by then (ordered by when it stopped
    being current, then when it started). A record first loaded after the cut-off (a
    back-filled history) counts with its first version, provided it had signed up
    before the cut-off: a back-fill must not hide members who existed then.
    """
    cols = [*_KEY, "signup_at", "timezone", *extra, "_loaded_at"]
    current = warehouse.table("members").select(*cols, _end=ibis.null("timestamp"))
    history = warehouse.table("members_history")
    history = history.filter(
        history._superseded_by_run.isnull() | (history._superseded_by_run != history._run_id)
    ).select(*cols, _end=history._superseded_at.cast("timestamp"))
    versions = current.union(history, distinct=False)
    known = versions._loaded_at <= cutoff
    end = versions._end.epoch_seconds().fill_null(2**62)
    start = versions._loaded_at.epoch_seconds()
    rank = ibis.row_number().over(
        group_by=_KEY,
        order_by=[
            ibis.desc(known),
            ibis.desc(ibis.ifelse(known, end, -end)),
            ibis.desc(ibis.ifelse(known, start, -start)),
        ],
    )
    chosen = versions.mutate(_known=known, _rank=rank)
    chosen = chosen.filter(chosen._rank == 0)
    existed = (chosen.signup_at < cutoff) | (chosen.signup_at.isnull() & chosen._known)
    return chosen.filter(existed).select(*_KEY, "signup_at", "timezone", *extra)


def member_attributes(warehouse: Warehouse, cutoff: datetime, *, default_timezone: str) -> ir.Table:
    """Per member: earliest signup before the cut-off and the time zone used for it.

    The zone is the one of the earliest-registered record that has a valid IANA name,
    else ``default_timezone``.
    """
    records = member_versions(warehouse, cutoff).inner_join(_member_map(warehouse), _KEY)
    valid = _valid_zones(warehouse, default_timezone)
    zone = ibis.ifelse(records.timezone.isin(valid), records.timezone, ibis.null("string"))
    order = records.signup_at.cast("string").fill_null("9999") + records.source + "\x1f"
    order = order + records.source_member_key
    per = records.group_by("member_id").aggregate(
        signup_at=records.signup_at.min(),
        zone=zone.argmin(order, where=zone.notnull()),
    )
    return per.mutate(zone=per.zone.fill_null(default_timezone))


def _valid_zones(warehouse: Warehouse, default_timezone: str) -> list[str]:
    """The members' time zone names that are real IANA names (a typo would stop the engine)."""
    # Over every version: a zone used only by a replaced version still counts.
    zones = warehouse.table("members").select(tz="timezone")
    zones = zones.union(warehouse.table("members_history").select(tz="timezone"))
    found = warehouse.to_pyarrow(zones.distinct())
    names = [n for n in found.column("tz").to_pylist() if n] + [default_timezone]
    valid = []
    for name in names:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        valid.append(name)
    return valid


def event_frame(warehouse: Warehouse, cutoff: datetime) -> ir.Table:
    """The members' events (stitched ones included) before the cut-off."""
    events = identity.events_with_members(warehouse)
    return events.filter(events.occurred_at < cutoff).select(
        "member_id", "event_type", "occurred_at", "product_id"
    )


def event_totals(events: ir.Table) -> ir.Table:
    return events.group_by("member_id").aggregate(
        last_event_at=events.occurred_at.max(),
        favourites=events.count(where=events.event_type == "favorite"),
    )


def conversion(events: ir.Table, bought: ir.Table) -> ir.Table:
    """Distinct products viewed, and how many were bought at or after their first view."""
    views = events.filter((events.event_type == "view") & events.product_id.notnull())
    views = views.group_by(["member_id", "product_id"]).aggregate(
        first_view=views.occurred_at.min()
    )
    last = bought.group_by(["member_id", "product_id"]).aggregate(last_buy=bought.at.max())
    joined = views.left_join(last, ["member_id", "product_id"])
    return joined.group_by("member_id").aggregate(
        product_views=joined.count(),
        converted=joined.count(where=joined.last_buy >= joined.first_view),
    )


def cart_abandonments(events: ir.Table, bought: ir.Table, cutoff: datetime) -> ir.Table:
    """Adds to cart whose window closed before the cut-off with no purchase of the product."""
    window = timedelta(days=CART_WINDOW_DAYS)
    adds = events.filter(
        (events.event_type == "add_to_cart")
        & events.product_id.notnull()
        & (events.occurred_at <= cutoff - window)
    ).select("member_id", "product_id", added=events.occurred_at)
    later = bought.select(b_member="member_id", b_product="product_id", b_at="at")
    left = adds.anti_join(
        later,
        [
            adds.member_id == later.b_member,
            adds.product_id == later.b_product,
            later.b_at >= adds.added,
            later.b_at < adds.added + ibis.interval(days=CART_WINDOW_DAYS),
        ],
    )
    return left.group_by("member_id").aggregate(cart_abandonments=left.count())


def active_days(events: ir.Table, kept: ir.Table, cutoff: datetime) -> ir.Table:
    """Distinct UTC days with an event or a kept order, per window."""
    since = cutoff - timedelta(days=max(ACTIVE_WINDOWS))
    moments = events.filter(events.occurred_at >= since).select("member_id", at=events.occurred_at)
    ordered = kept.filter(kept.ordered_at >= since).select("member_id", at=kept.ordered_at)
    days = moments.union(ordered, distinct=False)
    days = days.select("member_id", "at", day=days.at.date())
    return days.group_by("member_id").aggregate(
        **{
            f"active_days_{n}d": days.day.nunique(where=days.at >= cutoff - timedelta(days=n))
            for n in ACTIVE_WINDOWS
        }
    )


def feedback_totals(warehouse: Warehouse, cutoff: datetime) -> ir.Table:
    """Per member: reviews, ratings, complaints, NPS and sentiment of feedback before the
    cut-off. Sentiment and text-read complaints come from the text step's
    ``feedback_insights`` (a refresh runs it first); without it, complaints are the
    feedback of kind complaint and there is no sentiment."""
    fb = warehouse.table("feedback")
    fb = fb.filter(fb.occurred_at < cutoff).inner_join(_member_map(warehouse), _KEY)
    if warehouse.has_table(INSIGHTS):
        read = warehouse.table(INSIGHTS).select("feedback_id", "sentiment", "complaint")
        fb = fb.left_join(read, "feedback_id")
    else:
        fb = fb.mutate(sentiment=ibis.null("float64"), complaint=ibis.null("boolean"))
    flagged = (fb.kind == "complaint") | fb.complaint.fill_null(False)
    sentiment = fb.sentiment
    review = fb.kind == "review"
    latest = fb.occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f") + "\x1f" + fb.feedback_id
    return fb.group_by("member_id").aggregate(
        reviews=fb.count(where=review),
        avg_rating=fb.rating.mean(where=review & fb.rating.notnull()),
        complaints=fb.count(where=flagged),
        last_nps=fb.nps.argmax(latest, where=fb.nps.notnull()),
        last_sentiment=sentiment.argmax(latest, where=sentiment.notnull()),
    )


def touch_totals(warehouse: Warehouse, cutoff: datetime) -> ir.Table:
    t = warehouse.table("touches")
    t = t.filter((t.sent_at < cutoff) & ~t.bounced.fill_null(False))
    t = t.inner_join(_member_map(warehouse), _KEY)
    return t.group_by("member_id").aggregate(
        messages=t.count(),
        opened=t.count(where=t.opened_at < cutoff),
        clicked=t.count(where=t.clicked_at < cutoff),
    )


def points_balance(warehouse: Warehouse, cutoff: datetime) -> ir.Table:
    """The ledger's balance at the cut-off: the sum of every movement before it.

    The tiers & points step records each expiry as a movement (reason ``expire``) when
    it falls due, so expired points are already debited in the sum. Movements that name
    their source record follow ``member_map`` through merges.
    """
    ledger = warehouse.table("points_ledger")
    ledger = ledger.filter(ledger.occurred_at < cutoff)
    if {"source", "source_member_key"} <= set(ledger.columns):
        mm = _member_map(warehouse).rename(mapped="member_id")
        ledger = ledger.left_join(mm, _KEY).select(
            ledger.points, member_id=ibis.coalesce(mm.mapped, ledger.member_id)
        )
    return ledger.group_by("member_id").aggregate(points_balance=ledger.points.sum())


def latest_tiers(warehouse: Warehouse, snapshot: date) -> tuple[ir.Table | None, date | None]:
    """The tiers of the latest ``member_tiers`` snapshot on or before ``snapshot``.

    ``member_tiers`` is written by the tiers & points step, which a refresh runs just
    before this one, so the snapshot of the same day is normally there; a features step
    run alone falls back to the latest earlier one. Until that step has run once, there
    is none.
    """
    if not warehouse.has_table("member_tiers"):
        return None, None
    tiers = warehouse.table("member_tiers")
    earlier = tiers.filter(tiers.snapshot_date <= snapshot)
    found = warehouse.to_pyarrow(earlier.snapshot_date.max().name("d").as_table())
    latest = found.column("d")[0].as_py()
    if latest is None:
        return None, None
    chosen = earlier.filter(earlier.snapshot_date == latest)
    return chosen.select("member_id", tier=chosen.tier.cast("string")), latest

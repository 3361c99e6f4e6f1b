"""Tag statistics: coverage per snapshot, trend, and when a definition last read a tag."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from memberlens.core.clock import utc_now
from memberlens.profile._features import FEATURES_TABLE
from memberlens.profile._interest import PREFIX
from memberlens.profile._tag_book import TagBook
from memberlens.profile._tags import TAGS_TABLE, last_used
from memberlens.profile.contracts import TagStat
from memberlens.store import StateStore, Warehouse


def tag_stats(
    warehouse: Warehouse, state: StateStore, book: TagBook, *, snapshots: int = 8
) -> tuple[TagStat, ...]:
    """Every declared tag, then the interest tags of the latest snapshot (most members first).

    ``members`` and ``share`` are of the latest snapshot; ``trend`` covers the last
    ``snapshots`` snapshots of ``member_tags``.
    """
    dates = _snapshots(warehouse, snapshots)
    counts: dict[str, dict[date, int]] = {}
    if dates:
        marks = ", ".join("?" for _ in dates)
        for tag, day, n in warehouse.fetch_all(
            f"SELECT tag, snapshot_date, count(*) FROM {TAGS_TABLE} "
            f"WHERE snapshot_date IN ({marks}) GROUP BY ALL",
            dates,
        ):
            counts.setdefault(tag, {})[day] = int(n)
    latest = dates[-1] if dates else None
    population = _population(warehouse, latest)
    usage = last_used(state)

    def stat(name: str, kind: str, category: str, owner: str, description: str) -> TagStat:
        per = counts.get(name, {})
        members = per.get(latest, 0) if latest else 0
        when, users = usage.get(f"tag.{name}", (None, []))
        return TagStat(
            name=name,
            kind=kind,
            category=category,
            owner=owner,
            description=description,
            members=members,
            share=members / population if population else 0.0,
            trend=tuple((d, per.get(d, 0)) for d in dates),
            last_used_at=when,
            used_by=tuple(sorted(users)),
        )

    declared = [stat(t.name, "rule", t.category, t.owner, t.description) for t in book.tags]
    newest = {n: per[latest] for n, per in counts.items() if latest and latest in per}
    interests = sorted((n for n in newest if n.startswith(PREFIX)), key=lambda n: (-newest[n], n))
    shown = [
        stat(n, "interest", "interest", "", f"Interested in {n[len(PREFIX) :]}") for n in interests
    ]
    return (*declared, *shown)


def unused_tags(
    stats: tuple[TagStat, ...], *, days: int, now: datetime | None = None
) -> list[TagStat]:
    """Declared tags no segment, campaign, journey or tag has read in ``days`` days."""
    moment = (now or utc_now()).replace(tzinfo=None)
    since = moment - timedelta(days=days)
    return [
        s for s in stats if s.kind == "rule" and (s.last_used_at is None or s.last_used_at < since)
    ]


def _snapshots(warehouse: Warehouse, n: int) -> list[date]:
    if not warehouse.has_table(TAGS_TABLE):
        return []
    rows = warehouse.fetch_all(
        f"SELECT DISTINCT snapshot_date FROM {TAGS_TABLE} ORDER BY 1 DESC LIMIT ?", [n]
    )
    return sorted(r[0] for r in rows)


def _population(warehouse: Warehouse, snapshot: date | None) -> int:
    if snapshot is None or not warehouse.has_table(FEATURES_TABLE):
        return 0
    return int(
        warehouse.scalar(
            f"SELECT count(*) FROM {FEATURES_TABLE} WHERE snapshot_date = ?", [snapshot]
        )
    )

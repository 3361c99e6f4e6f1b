"""The tags step: declared rule tags and interest tags in ``member_tags`` per snapshot.

Rule tags are evaluated over one row per member: the snapshot's ``member_features``,
the member's attributes as they were at the cut-off (``members_history``), the tier
of the same snapshot (``member_tiers``; the tiers step runs first), the tags
evaluated before (``tag.<name>``, in dependency order) and ``interest("category")``.
Everything runs in the warehouse engine; a snapshot is replaced as a whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir
from sqlalchemy import select

from memberlens.core.clock import utc_now
from memberlens.core.errors import ConfigError, UsageError
from memberlens.core.settings import TagsSettings
from memberlens.profile import _features_activity as act
from memberlens.profile._feature_catalogue import FEATURES
from memberlens.profile._features import FEATURES_TABLE, ensure_feature_tables
from memberlens.profile._interest import interest_shares, interest_tags
from memberlens.profile._tag_book import TagBook
from memberlens.profile.contracts import FeatureType, TagRun
from memberlens.rules import (
    Catalogue,
    FunctionSpec,
    NameSpec,
    Param,
    RuleError,
    Value,
    check,
    column_of,
    compile_rule,
    evaluation_order,
    references,
)
from memberlens.store import RuleUsageRow, StateStore, Warehouse

TAGS_TABLE = "member_tags"
_MEMBERS = "_tags_members"
_INTEREST = "_tags_interest"
_NUMBER = {FeatureType.INTEGER, FeatureType.DECIMAL, FeatureType.FLOAT}

# Member attributes rules may read (never personal columns), as of the cut-off.
ATTRIBUTES: tuple[NameSpec, ...] = (
    NameSpec("gender", "string", "Gender as declared.", source="attribute"),
    NameSpec("age_band", "string", "Age band, e.g. 25-34.", source="attribute"),
    NameSpec("city", "string", "City.", source="attribute"),
    NameSpec("region", "string", "Region or province.", source="attribute"),
    NameSpec("occupation", "string", "Occupation.", source="attribute"),
    NameSpec("education", "string", "Highest education.", source="attribute"),
    NameSpec("signup_channel", "string", "Where the member registered.", source="attribute"),
    NameSpec("locale", "string", "Preferred language, e.g. zh-CN.", source="attribute"),
    NameSpec("signup_at", "timestamp", "Earliest registration (UTC).", source="attribute"),
)
_ATTRIBUTE_COLUMNS = [a.name for a in ATTRIBUTES if a.name != "signup_at"]


def tag_catalogue(book: TagBook, interest: ir.Table | None = None) -> Catalogue:
    """What tag rules may read: features, attributes, ``tag.<name>`` and ``interest()``.

    ``interest`` is the table of interest shares the function reads; without it the
    catalogue can check rules but not compile ``interest(...)``.
    """
    tags = [NameSpec(f"tag.{t.name}", "boolean", t.description, source="tag") for t in book.tags]
    return Catalogue.of([*member_names(), *tags], [_interest_function(interest)])


def member_names() -> list[NameSpec]:
    """Every feature and non-personal attribute, as rule names (the columns of
    :func:`rule_member_table`)."""
    features = [
        NameSpec(
            f.name,
            "number" if f.type in _NUMBER else "string",
            f.description,
            f.unit,
            source="tier" if f.name == "tier" else "feature",
        )
        for f in FEATURES
    ]
    return [*features, *ATTRIBUTES]


def _interest_function(interest: ir.Table | None) -> FunctionSpec:
    def compile_(members: ir.Table, args: Mapping[str, Value | None]) -> ir.Value:
        if interest is None:
            raise UsageError("interest() can be evaluated only inside the tags step")
        chosen = interest.filter(
            interest.category == args["category"], interest.share >= args["at_least"]
        )
        return members.member_id.isin(chosen.member_id)

    return FunctionSpec(
        "interest",
        (
            Param("category", "string", required=True, description="A product category."),
            Param("at_least", "number", default=0.2, description="Smallest share, 0-1."),
        ),
        "boolean",
        "The category's share of the member's time-decayed interest is at least at_least.",
        compile_,
    )


def check_tag_book(book: TagBook) -> None:
    """Check every rule against the catalogue, and that no tag reaches itself.

    Raises :class:`ConfigError` naming the file, the tag, the line and column in the
    rule and the nearest valid names.
    """
    catalogue = tag_catalogue(book)
    origin = str(book.path) if book.path else "tags.toml"
    for tag in book.tags:
        try:
            check(tag.rule, catalogue)
        except RuleError as error:
            raise ConfigError(f"{origin}: tag '{tag.name}': {error}") from None
    try:
        evaluation_order({f"tag.{t.name}": t.rule for t in book.tags})
    except RuleError as error:
        raise ConfigError(f"{origin}: {error}") from None


def rule_version(text: str) -> str:
    """A short fingerprint of what made a tag: its rule text or the interest settings."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def compute_member_tags(
    warehouse: Warehouse,
    state: StateStore,
    *,
    cutoff: datetime,
    book: TagBook,
    settings: TagsSettings,
) -> TagRun:
    """Compute and store the ``member_tags`` snapshot of ``cutoff``'s UTC day.

    Needs the same snapshot of ``member_features`` (run the features step first).
    """
    check_tag_book(book)
    cut = cutoff.astimezone(UTC).replace(tzinfo=None)
    snapshot = cut.date()
    ensure_tag_table(warehouse)
    ensure_feature_tables(warehouse)
    shares = interest_shares(warehouse, cut, settings)
    try:
        if shares is not None:
            warehouse.execute(f"CREATE OR REPLACE TEMP TABLE {_INTEREST} AS {_sql(shares)}")
        interest = warehouse.table(_INTEREST) if shares is not None else None
        warehouse.execute(
            f"CREATE OR REPLACE TEMP TABLE {_MEMBERS} AS "
            f"{_sql(rule_member_table(warehouse, cut, snapshot))}"
        )
        rows = _rule_rows(warehouse.table(_MEMBERS), book, tag_catalogue(book, interest))
        if interest is not None:
            version = rule_version(json.dumps(settings.model_dump(), sort_keys=True))
            tagged = interest_tags(interest, settings).mutate(
                kind=ibis.literal("interest"), rule_version=ibis.literal(version)
            )
            rows = tagged if rows is None else rows.union(tagged, distinct=False)
        with warehouse.transaction():
            warehouse.execute(f"DELETE FROM {TAGS_TABLE} WHERE snapshot_date = ?", [snapshot])
            if rows is not None:
                stamped = rows.mutate(snapshot_date=ibis.literal(snapshot))
                warehouse.execute(f"INSERT INTO {TAGS_TABLE} BY NAME {_sql(stamped)}")
    finally:
        warehouse.execute(f"DROP TABLE IF EXISTS {_MEMBERS}")
        warehouse.execute(f"DROP TABLE IF EXISTS {_INTEREST}")
    record_usage(state, "tag", {t.name: t.rule for t in book.tags})
    counts = dict(
        warehouse.fetch_all(
            f"SELECT tag, count(*) FROM {TAGS_TABLE} WHERE snapshot_date = ? AND kind = 'rule' "
            "GROUP BY tag",
            [snapshot],
        )
    )
    interest_rows = warehouse.scalar(
        f"SELECT count(*) FROM {TAGS_TABLE} WHERE snapshot_date = ? AND kind = 'interest'",
        [snapshot],
    )
    return TagRun(
        snapshot_date=snapshot,
        members_per_tag={t.name: int(counts.get(t.name, 0)) for t in book.tags},
        interest_rows=int(interest_rows),
    )


def ensure_tag_table(warehouse: Warehouse) -> None:
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {TAGS_TABLE} (snapshot_date DATE NOT NULL, "
        "member_id VARCHAR NOT NULL, tag VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
        "weight DOUBLE NOT NULL, rule_version VARCHAR NOT NULL)"
    )


def rule_member_table(warehouse: Warehouse, cut: datetime, snapshot: object) -> ir.Table:
    """One row per member of the features snapshot, with attributes and current tier:
    what rules over :func:`member_names` read. ``cut`` is naive UTC."""
    f = warehouse.table(FEATURES_TABLE)
    f = f.filter(f.snapshot_date == snapshot).drop("snapshot_date", "feature_version")
    records = act.member_versions(warehouse, cut, extra=_ATTRIBUTE_COLUMNS)
    records = records.inner_join(act._member_map(warehouse), ["source", "source_member_key"])
    order = records.signup_at.cast("string").fill_null("9999") + records.source + "\x1f"
    order = order + records.source_member_key
    attrs = records.group_by("member_id").aggregate(
        signup_at=records.signup_at.min(),
        **{c: records[c].argmin(order, where=records[c].notnull()) for c in _ATTRIBUTE_COLUMNS},
    )
    table = f.left_join(attrs, "member_id").drop("member_id_right")
    if warehouse.has_table("member_tiers"):
        t = warehouse.table("member_tiers")
        t = t.filter(t.snapshot_date == snapshot).select("member_id", current_tier="tier")
        table = table.left_join(t, "member_id").drop("member_id_right")
        table = table.mutate(tier=ibis.coalesce(table.current_tier, table.tier)).drop(
            "current_tier"
        )
    return table


def _rule_rows(members: ir.Table, book: TagBook, catalogue: Catalogue) -> ir.Table | None:
    """``member_id, tag, weight, kind, rule_version`` for every member each rule selects."""
    by_name = {f"tag.{t.name}": t for t in book.tags}
    table = members
    for name in evaluation_order({n: t.rule for n, t in by_name.items()}):
        tag = by_name[name]
        table = table.mutate(**{column_of(name): compile_rule(tag.rule, catalogue, table)})
    parts = [
        table.filter(table[column_of(name)].fill_null(False)).select(
            "member_id",
            tag=ibis.literal(tag.name),
            weight=ibis.literal(1.0),
            kind=ibis.literal("rule"),
            rule_version=ibis.literal(rule_version(tag.rule)),
        )
        for name, tag in by_name.items()
    ]
    if not parts:
        return None
    return parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]


def record_usage(state: StateStore, kind: str, rules: Mapping[str, str]) -> None:
    """Record that each definition in ``rules`` (name -> rule text) read its names now.

    Segments, campaigns and journeys call this when they evaluate their rules, so that
    ``memberlens tags unused`` knows which tags are still in use.
    """
    now = utc_now().replace(tzinfo=None)
    with state.session() as s, s.begin():
        for used_by, text in rules.items():
            for name in references(text):
                row = s.get(RuleUsageRow, (name, kind, used_by))
                if row is None:
                    s.add(RuleUsageRow(name=name, used_by_kind=kind, used_by=used_by,
                                       last_used_at=now))  # fmt: skip
                else:
                    row.last_used_at = now


def last_used(state: StateStore) -> dict[str, tuple[datetime, list[str]]]:
    """Catalogue name -> (last time any definition read it, ``kind:name`` of its users)."""
    found: dict[str, tuple[datetime, list[str]]] = {}
    with state.session() as s:
        for row in s.scalars(select(RuleUsageRow)):
            when, users = found.get(row.name, (row.last_used_at, []))
            users.append(f"{row.used_by_kind}:{row.used_by}")
            found[row.name] = (max(when, row.last_used_at), users)
    return found


def _sql(expr: ir.Table) -> str:
    return str(ibis.to_sql(expr, dialect="duckdb"))

"""The segments step and previews: RFM, lifecycle stages and saved segments per snapshot.

One member table is built for a snapshot — the features, attributes and tier the
profile offers (``profile.rule_member_table``), rule tags as ``tag.<name>``, the RFM
scores and segment, the lifecycle stage — and every rule runs over it, in the
warehouse engine. Saved segments are evaluated in dependency order, so one may read
another as ``segment.<name>``. Tables (replaced per snapshot date):

- ``member_rfm``: scores and the named RFM segment of members who bought;
- ``member_lifecycle``: the lifecycle stage of every member of the snapshot;
- ``segment_members``: the members of each saved segment;
- ``segment_changes``: who entered or exited each saved segment since its previous
  snapshot (a segment's first snapshot is its baseline: no changes);
- ``segment_member_table``: the member table itself, of the newest refresh only, so
  that a preview costs only its rule;
- the clusters' tables (see ``_clusters``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir

from memberlens import predict, profile
from memberlens.core.errors import ConfigError
from memberlens.core.settings import SegmentsSettings
from memberlens.rules import (
    Catalogue,
    FunctionSpec,
    NameSpec,
    Param,
    RuleError,
    Value,
    ValueType,
    check,
    column_of,
    compile_rule,
    evaluation_order,
)
from memberlens.segment import _saved
from memberlens.segment._clusters import CLUSTERS_TABLE, compute_clusters
from memberlens.segment._events import event_functions
from memberlens.segment._rfm import RFM_SEGMENTS, RFM_TABLE, rfm_scores
from memberlens.segment._saved import list_segments
from memberlens.segment.contracts import NoSnapshot, SavedSegment, SegmentRun
from memberlens.store import StateStore, Warehouse

LIFECYCLE_TABLE = "member_lifecycle"
MEMBERS_TABLE = "segment_members"
CHANGES_TABLE = "segment_changes"
RUNS_TABLE = _saved.RUNS_TABLE  # one row per segment and snapshot: its size, its rule
_BASE = "_segment_base"
STORED_TABLE = "segment_member_table"  # the newest refresh's member table, for previews
SAMPLE = 10

_RFM_NAMES = (
    NameSpec("rfm_segment", "string", "The member's named RFM segment.", source="segment"),
    NameSpec("r_score", "number", "RFM recency score, 1 (longest ago) .. bins.", source="segment"),
    NameSpec("f_score", "number", "RFM frequency score, 1 (fewest orders) .. bins.", "segment"),
    NameSpec("m_score", "number", "RFM monetary score, 1 (least money) .. bins.", source="segment"),
)
_PREDICTIONS = {
    "p_alive": "Probability the member is still a customer (BG/NBD).",
    "expected_purchases_30d": "Expected purchases in the next 30 days (BG/NBD).",
    "expected_purchases_90d": "Expected purchases in the next 90 days (BG/NBD).",
    "expected_purchases_365d": "Expected purchases in the next 365 days (BG/NBD).",
    "expected_order_value": "Expected value of the next order (Gamma-Gamma).",
    "clv": "Discounted customer lifetime value over the horizon.",
    "clv_percentile": "The member's CLV percentile among buyers, 0-100.",
    "churn_risk": "Probability of no purchase within the churn horizon (0-1).",
    "churn_band": "Churn risk band: low, medium or high; lapsed for a lapsed member.",
    "lapsed": "No purchase for longer than the churn horizon: lapsed, not at risk.",
    "next_purchase_date": "Likely date of the next purchase, if the member buys again "
    "(none for a lapsed member).",
}
_PREDICTION_TYPES: dict[str, ValueType] = {
    "churn_band": "string",
    "lapsed": "boolean",
    "next_purchase_date": "date",
}
_IBIS_NULLS = {"number": "float64", "string": "string", "date": "date", "boolean": "boolean"}
_PREDICTION_NAMES = tuple(
    NameSpec(f"prediction.{name}", _PREDICTION_TYPES.get(name, "number"), text, source="prediction")
    for name, text in _PREDICTIONS.items()
)
_STAGE = NameSpec("lifecycle_stage", "string", "The member's lifecycle stage.", source="segment")
_CLUSTER = NameSpec(
    "cluster_id", "number", "The member's K-Means cluster (buyers only).", source="segment"
)


def segment_catalogue(
    book: profile.TagBook,
    segments: Sequence[str] = (),
    *,
    warehouse: Warehouse | None = None,
    cutoff: datetime | None = None,
    with_stage: bool = True,
) -> Catalogue:
    """What segment rules may read; with a warehouse and cut-off the functions compile."""
    names = [*profile.member_names(), *_RFM_NAMES, _CLUSTER, *_PREDICTION_NAMES]
    if with_stage:
        names.append(_STAGE)
    names += [NameSpec(f"tag.{t.name}", "boolean", t.description, source="tag") for t in book.tags]
    names += [
        NameSpec(f"segment.{s}", "boolean", f"Member of {s}.", source="segment") for s in segments
    ]
    functions = [*event_functions(warehouse, cutoff), _interest(warehouse, cutoff)]
    return Catalogue.of(names, functions)


def _interest(warehouse: Warehouse | None, cutoff: datetime | None) -> FunctionSpec:
    def compile_(members: ir.Table, args: dict[str, Value | None]) -> ir.Value:
        if warehouse is None or cutoff is None:
            raise RuntimeError("interest() compiles only with a warehouse and a cut-off")
        t = warehouse.table(profile.TAGS_TABLE)
        chosen = t.filter(
            t.snapshot_date == cutoff.date(),
            t.kind == "interest",
            t.tag == f"interest:{args['category']}",
            t.weight >= args["at_least"],
        )
        return members.member_id.isin(chosen.member_id)

    return FunctionSpec(
        "interest",
        (
            Param("category", "string", required=True, description="A product category."),
            Param("at_least", "number", default=0.2, description="Smallest share, 0-1."),
        ),
        "boolean",
        "The member's interest tag for the category has at least this weight.",
        compile_,  # type: ignore[arg-type]
    )


def check_lifecycle(settings: SegmentsSettings, book: profile.TagBook) -> None:
    """Every stage rule against the catalogue (stages cannot read the stage itself), and
    the clustering features against the dictionary."""
    numbers = {n.name for n in profile.member_names() if n.type == "number"}
    for feature in settings.cluster_features:
        if feature not in numbers:
            near = difflib.get_close_matches(feature, sorted(numbers), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise ConfigError(
                f"[segments] cluster_features: {feature!r} is not a numeric feature{hint} "
                "(memberlens dictionary lists them)"
            )
    catalogue = segment_catalogue(book, with_stage=False)
    for stage, rule in settings.lifecycle.items():
        try:
            check(rule, catalogue)
        except RuleError as error:
            raise ConfigError(f"[segments.lifecycle] {stage}: {error}") from None


def latest_snapshot(warehouse: Warehouse) -> date:
    """The newest ``member_features`` snapshot, which previews evaluate on."""
    if not warehouse.has_table(profile.FEATURES_TABLE):
        raise NoSnapshot("no member features yet: run `memberlens refresh` first")
    found = warehouse.scalar(f"SELECT max(snapshot_date) FROM {profile.FEATURES_TABLE}")
    if found is None:
        raise NoSnapshot("no member features yet: run `memberlens refresh` first")
    return found  # type: ignore[no-any-return]


def member_table(
    warehouse: Warehouse,
    cut: datetime,
    snapshot: date,
    settings: SegmentsSettings,
    book: profile.TagBook,
) -> ir.Table:
    """The member table every segment rule reads, without the saved segments."""
    base = profile.rule_member_table(warehouse, cut, snapshot)
    if warehouse.has_table(profile.TAGS_TABLE) and book.tags:
        t = warehouse.table(profile.TAGS_TABLE)
        t = t.filter(t.snapshot_date == snapshot, t.kind == "rule")
        flags = t.group_by("member_id").aggregate(
            **{column_of(f"tag.{g.name}"): (t.tag == g.name).any() for g in book.tags}
        )
        base = base.left_join(flags, "member_id").drop("member_id_right")
        base = base.mutate(
            **{
                column_of(f"tag.{g.name}"): base[column_of(f"tag.{g.name}")].fill_null(False)
                for g in book.tags
            }
        )
    else:
        base = base.mutate(**{column_of(f"tag.{g.name}"): ibis.literal(False) for g in book.tags})
    rfm = rfm_scores(
        base.select("member_id", "recency_days", "frequency", "monetary"), settings.rfm_bins
    )
    rfm = rfm.select("member_id", "r_score", "f_score", "m_score", rfm_segment=rfm.segment)
    base = base.left_join(rfm, "member_id").drop("member_id_right")
    scored = {column_of(n.name): n for n in _PREDICTION_NAMES}
    if warehouse.has_table(predict.PREDICTIONS_TABLE):
        # Read only (previews run beside a refresh): columns an older table lacks
        # (churn's, lapsed) read as nulls until the next refresh adds them.
        p = warehouse.table(predict.PREDICTIONS_TABLE)
        p = p.filter(p.snapshot_date == snapshot).select(
            "member_id",
            **{
                column: p[name]
                if (name := n.name.removeprefix("prediction.")) in p.columns
                else ibis.literal(None, type=_IBIS_NULLS[n.type])
                for column, n in scored.items()
            },
        )
        base = base.left_join(p, "member_id").drop("member_id_right")
    else:
        base = base.mutate(
            **{c: ibis.literal(None, type=_IBIS_NULLS[n.type]) for c, n in scored.items()}
        )
    if warehouse.has_table(CLUSTERS_TABLE):
        c = warehouse.table(CLUSTERS_TABLE)
        c = c.filter(c.snapshot_date == snapshot).select("member_id", "cluster_id")
        base = base.left_join(c, "member_id").drop("member_id_right")
    else:
        base = base.mutate(cluster_id=ibis.literal(None, type="int32"))
    catalogue = segment_catalogue(book, warehouse=warehouse, cutoff=cut, with_stage=False)
    stages = [
        (compile_rule(rule, catalogue, base), ibis.literal(stage))
        for stage, rule in settings.lifecycle.items()
    ]
    stage = ibis.cases(*stages) if stages else ibis.literal(None, type="string")
    return base.mutate(lifecycle_stage=stage)


def compute_segments(
    warehouse: Warehouse,
    state: StateStore,
    *,
    cutoff: datetime,
    settings: SegmentsSettings,
    book: profile.TagBook,
    models_root: Path | None = None,
) -> SegmentRun:
    """Write the snapshot of ``cutoff``'s UTC day of every table this module owns.

    Needs the same snapshot of ``member_features`` (and of ``member_tags`` for tags).
    With ``models_root`` (the workspace root) the clustering enters the model registry.
    """
    check_lifecycle(settings, book)
    cut = cutoff.astimezone(UTC).replace(tzinfo=None)
    snapshot = cut.date()
    ensure_segment_tables(warehouse)
    clusters = compute_clusters(
        warehouse,
        snapshot,
        features=settings.cluster_features,
        k_min=settings.cluster_k_min,
        k_max=settings.cluster_k_max,
        seed=settings.cluster_seed,
        registry=None if models_root is None else (state, models_root),
    )
    saved = list_segments(state, warehouse=None)
    rules = {f"segment.{s.name}": s.rule for s in saved}
    order = [name.removeprefix("segment.") for name in evaluation_order(rules)]
    catalogue = segment_catalogue(book, [s.name for s in saved], warehouse=warehouse, cutoff=cut)
    try:
        warehouse.execute(
            f"CREATE OR REPLACE TEMP TABLE {_BASE} AS "
            f"{_sql(member_table(warehouse, cut, snapshot, settings, book))}"
        )
        with warehouse.transaction():
            for table in (RFM_TABLE, LIFECYCLE_TABLE, MEMBERS_TABLE, CHANGES_TABLE, RUNS_TABLE):
                warehouse.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [snapshot])
            warehouse.execute(
                f"INSERT INTO {RFM_TABLE} SELECT ?::DATE, member_id, recency_days, frequency, "
                f"monetary, r_score, f_score, m_score, rfm_segment FROM {_BASE} "
                "WHERE rfm_segment IS NOT NULL",
                [snapshot],
            )
            warehouse.execute(
                f"INSERT INTO {LIFECYCLE_TABLE} SELECT ?::DATE, member_id, lifecycle_stage "
                f"FROM {_BASE} WHERE lifecycle_stage IS NOT NULL",
                [snapshot],
            )
            by_name = {s.name: s for s in saved}
            for name in order:
                _evaluate(warehouse, catalogue, by_name[name], snapshot)
            entered, exited = _changes(warehouse, snapshot, order)
            # Kept for previews until the next refresh: a rule then costs only itself.
            warehouse.execute(
                f"CREATE OR REPLACE TABLE {STORED_TABLE} AS "
                f"SELECT ?::DATE AS snapshot_date, * FROM {_BASE}",
                [snapshot],
            )
    finally:
        warehouse.execute(f"DROP TABLE IF EXISTS {_BASE}")
    profile.record_usage(state, "segment", {s.name: s.rule for s in saved})
    sizes = _counts(warehouse, MEMBERS_TABLE, "segment", snapshot)
    return SegmentRun(
        snapshot_date=snapshot,
        rfm=_counts(warehouse, RFM_TABLE, "rfm_segment", snapshot),
        lifecycle=_counts(warehouse, LIFECYCLE_TABLE, "stage", snapshot),
        clusters=clusters,
        segments={n: sizes.get(n, 0) for n in order},
        entered=entered,
        exited=exited,
    )


def _evaluate(
    warehouse: Warehouse, catalogue: Catalogue, segment: SavedSegment, snapshot: date
) -> None:
    base = warehouse.table(_BASE)
    chosen = base.filter(compile_rule(segment.rule, catalogue, base)).select("member_id")
    warehouse.execute(
        f"INSERT INTO {MEMBERS_TABLE} SELECT ?::DATE, ?, member_id FROM ({_sql(chosen)})",
        [snapshot, segment.name],
    )
    warehouse.execute(
        f"INSERT INTO {RUNS_TABLE} SELECT ?::DATE, ?, ?, (SELECT count(*) FROM {MEMBERS_TABLE} "
        "WHERE snapshot_date = ? AND segment = ?)",
        [snapshot, segment.name, segment.rule, snapshot, segment.name],
    )
    column = column_of(f"segment.{segment.name}")
    warehouse.execute(
        f"CREATE OR REPLACE TEMP TABLE {_BASE} AS SELECT *, member_id IN (SELECT member_id "
        f'FROM {MEMBERS_TABLE} WHERE snapshot_date = ? AND segment = ?) AS "{column}" '
        f"FROM {_BASE}",
        [snapshot, segment.name],
    )


def _changes(warehouse: Warehouse, snapshot: date, names: Sequence[str]) -> tuple[int, int]:
    """Record entries and exits against each segment's previous snapshot."""
    entered = exited = 0
    for name in names:
        previous = warehouse.scalar(
            f"SELECT max(snapshot_date) FROM {RUNS_TABLE} WHERE segment = ? AND snapshot_date < ?",
            [name, snapshot],
        )
        if previous is None:
            continue  # the segment's first snapshot is its baseline
        for change, now, before in (
            ("entered", snapshot, previous),
            ("exited", previous, snapshot),
        ):
            warehouse.execute(
                f"INSERT INTO {CHANGES_TABLE} SELECT ?::DATE, ?, member_id, ? FROM "
                f"(SELECT member_id FROM {MEMBERS_TABLE} WHERE segment = ? AND snapshot_date = ? "
                f"EXCEPT SELECT member_id FROM {MEMBERS_TABLE} WHERE segment = ? "
                "AND snapshot_date = ?)",
                [snapshot, name, change, name, now, name, before],
            )
        counts = dict(
            warehouse.fetch_all(
                f"SELECT change, count(*) FROM {CHANGES_TABLE} WHERE snapshot_date = ? "
                "AND segment = ? GROUP BY change",
                [snapshot, name],
            )
        )
        entered += int(counts.get("entered", 0))
        exited += int(counts.get("exited", 0))
    return entered, exited


def _counts(warehouse: Warehouse, table: str, column: str, snapshot: date) -> dict[str, int]:
    rows = warehouse.fetch_all(
        f"SELECT {column}, count(*) FROM {table} WHERE snapshot_date = ? GROUP BY 1 ORDER BY 1",
        [snapshot],
    )
    return {str(k): int(n) for k, n in rows}


def rfm_definitions() -> list[dict[str, object]]:
    """The named RFM segments as shown to people: name, ranges, meaning."""
    return [s.to_json() for s in RFM_SEGMENTS]


def ensure_segment_tables(warehouse: Warehouse) -> None:
    for ddl in (
        f"CREATE TABLE IF NOT EXISTS {RFM_TABLE} (snapshot_date DATE NOT NULL, member_id VARCHAR "
        "NOT NULL, recency_days BIGINT, frequency BIGINT, monetary DECIMAL(18,2), r_score INTEGER, "
        "f_score INTEGER, m_score INTEGER, rfm_segment VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {LIFECYCLE_TABLE} (snapshot_date DATE NOT NULL, "
        "member_id VARCHAR NOT NULL, stage VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {MEMBERS_TABLE} (snapshot_date DATE NOT NULL, "
        "segment VARCHAR NOT NULL, member_id VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (snapshot_date DATE NOT NULL, "
        "segment VARCHAR NOT NULL, member_id VARCHAR NOT NULL, change VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (snapshot_date DATE NOT NULL, "
        "segment VARCHAR NOT NULL, rule VARCHAR NOT NULL, members BIGINT NOT NULL)",
    ):
        warehouse.execute(ddl)


def _sql(expr: ir.Table) -> str:
    return str(ibis.to_sql(expr, dialect="duckdb"))

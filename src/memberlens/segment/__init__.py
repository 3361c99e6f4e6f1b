"""Segment: who belongs together, and what is bought together.

RFM scores and the eleven named RFM segments, lifecycle stages by rules, saved
segments (rules over the member table, with membership history and entry/exit
signals) computed when saved and by every refresh's segments step; basket analysis:
frequent itemsets by FP-growth and association rules (docs/segments.md).
"""

from memberlens.segment._baskets import basket_rules, build_baskets
from memberlens.segment._clusters import CLUSTER_MODEL, name_cluster
from memberlens.segment._compute import (
    CHANGES_TABLE,
    LIFECYCLE_TABLE,
    MEMBERS_TABLE,
    RUNS_TABLE,
    check_lifecycle,
    compute_segments,
    ensure_segment_tables,
    latest_snapshot,
    member_table,
    rfm_definitions,
    segment_catalogue,
)
from memberlens.segment._events import EVENT_FUNCTIONS, event_functions
from memberlens.segment._listing import list_members
from memberlens.segment._now import compute_saved_segment, preview_segment
from memberlens.segment._reports import (
    COMPARED,
    cluster_summary,
    compare_segments,
    lifecycle_summary,
    rfm_summary,
    segment_membership,
)
from memberlens.segment._rfm import RFM_SEGMENTS, RFM_TABLE, RfmSegment, rfm_scores, segment_of
from memberlens.segment._rules import mine_rules
from memberlens.segment._saved import (
    CatalogueFor,
    delete_segment,
    get_segment,
    list_segments,
    save_segment,
)
from memberlens.segment._signals import signal_detectors
from memberlens.segment._webhooks import deliver, sign, sync_segments
from memberlens.segment.contracts import (
    AssociationRule,
    BasketItem,
    BasketKey,
    BasketParams,
    BasketRules,
    Baskets,
    FrequentItemset,
    MemberList,
    MemberQuery,
    MemberRow,
    MemberSort,
    NoBaskets,
    NoSnapshot,
    RankBy,
    RuleHit,
    SavedSegment,
    SegmentError,
    SegmentPreview,
    SegmentRun,
    SortOrder,
    TooManyItemsets,
)

__all__ = [
    "CHANGES_TABLE",
    "CLUSTER_MODEL",
    "COMPARED",
    "EVENT_FUNCTIONS",
    "LIFECYCLE_TABLE",
    "MEMBERS_TABLE",
    "RFM_SEGMENTS",
    "RFM_TABLE",
    "RUNS_TABLE",
    "AssociationRule",
    "BasketItem",
    "BasketKey",
    "BasketParams",
    "BasketRules",
    "Baskets",
    "CatalogueFor",
    "FrequentItemset",
    "MemberList",
    "MemberQuery",
    "MemberRow",
    "MemberSort",
    "NoBaskets",
    "NoSnapshot",
    "RankBy",
    "RfmSegment",
    "RuleHit",
    "SavedSegment",
    "SegmentError",
    "SegmentPreview",
    "SegmentRun",
    "SortOrder",
    "TooManyItemsets",
    "basket_rules",
    "build_baskets",
    "check_lifecycle",
    "cluster_summary",
    "compare_segments",
    "compute_saved_segment",
    "compute_segments",
    "delete_segment",
    "deliver",
    "ensure_segment_tables",
    "event_functions",
    "get_segment",
    "latest_snapshot",
    "lifecycle_summary",
    "list_members",
    "list_segments",
    "member_table",
    "mine_rules",
    "name_cluster",
    "preview_segment",
    "rfm_definitions",
    "rfm_scores",
    "rfm_summary",
    "save_segment",
    "segment_catalogue",
    "segment_membership",
    "segment_of",
    "sign",
    "signal_detectors",
    "sync_segments",
]

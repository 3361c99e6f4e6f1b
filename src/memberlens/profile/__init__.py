"""Profile: finding members and reading one member through member_map.

It serves the console's member search and member page, and computes the member
features (``member_features``, one row per member per snapshot) whose definitions are
the data dictionary, the tags declared in ``tags.toml`` and interest tags
(``member_tags``, docs/tags.md), tiers and points.
"""

from memberlens.profile._card import VIEW_ACTION, member_card
from memberlens.profile._feature_catalogue import (
    feature_defs,
    feature_names,
    feature_specs,
    feature_version,
)
from memberlens.profile._features import (
    FEATURES_TABLE,
    compute_member_features,
    feature_coverage,
    feature_frame,
)
from memberlens.profile._features_orders import order_frames
from memberlens.profile._lookup import member_summaries, search_members
from memberlens.profile._loyalty import record_points_adjustments, refresh_loyalty
from memberlens.profile._loyalty_signals import signal_detectors
from memberlens.profile._member_profile import member_profile, timeline
from memberlens.profile._tag_book import (
    TagBook,
    TagDef,
    default_tag_book_text,
    load_tag_book,
    parse_tag_book,
)
from memberlens.profile._tag_stats import tag_stats, unused_tags
from memberlens.profile._tags import (
    ATTRIBUTES,
    TAGS_TABLE,
    check_tag_book,
    compute_member_tags,
    member_names,
    record_usage,
    rule_member_table,
    tag_catalogue,
)
from memberlens.profile.contracts import (
    EVENTS_SHOWN,
    HITS_SHOWN,
    ORDERS_SHOWN,
    EventLine,
    FeatureCoverage,
    FeatureDef,
    FeatureSnapshot,
    FeatureType,
    FeatureValue,
    LoyaltyRun,
    MatchedBy,
    MemberCard,
    MemberNotFound,
    MemberProfile,
    MemberSummary,
    OrderLine,
    PointsAdjustment,
    PointsMovement,
    Reveal,
    SearchResult,
    SourceRecord,
    TagRun,
    TagStat,
    TagValue,
)

__all__ = [
    "ATTRIBUTES",
    "EVENTS_SHOWN",
    "FEATURES_TABLE",
    "HITS_SHOWN",
    "ORDERS_SHOWN",
    "TAGS_TABLE",
    "VIEW_ACTION",
    "EventLine",
    "FeatureCoverage",
    "FeatureDef",
    "FeatureSnapshot",
    "FeatureType",
    "FeatureValue",
    "LoyaltyRun",
    "MatchedBy",
    "MemberCard",
    "MemberNotFound",
    "MemberProfile",
    "MemberSummary",
    "OrderLine",
    "PointsAdjustment",
    "PointsMovement",
    "Reveal",
    "SearchResult",
    "SourceRecord",
    "TagBook",
    "TagDef",
    "TagRun",
    "TagStat",
    "TagValue",
    "check_tag_book",
    "compute_member_features",
    "compute_member_tags",
    "default_tag_book_text",
    "feature_coverage",
    "feature_defs",
    "feature_frame",
    "feature_names",
    "feature_specs",
    "feature_version",
    "load_tag_book",
    "member_card",
    "member_names",
    "member_profile",
    "member_summaries",
    "order_frames",
    "parse_tag_book",
    "record_points_adjustments",
    "record_usage",
    "refresh_loyalty",
    "rule_member_table",
    "search_members",
    "signal_detectors",
    "tag_catalogue",
    "tag_stats",
    "timeline",
    "unused_tags",
]

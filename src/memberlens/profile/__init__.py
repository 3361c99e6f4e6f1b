"""Profile: finding members and reading one member through member_map.

It serves the console's member search and member page, and computes the member
features (``member_features``, one row per member per snapshot) whose definitions are
the data dictionary; tags, tiers and points grow here too.
"""

from memberlens.profile._card import VIEW_ACTION, member_card
from memberlens.profile._feature_catalogue import (
    feature_defs,
    feature_names,
    feature_specs,
    feature_version,
)
from memberlens.profile._features import compute_member_features
from memberlens.profile._lookup import search_members
from memberlens.profile._loyalty import record_points_adjustments, refresh_loyalty
from memberlens.profile._loyalty_signals import signal_detectors
from memberlens.profile.contracts import (
    EVENTS_SHOWN,
    HITS_SHOWN,
    ORDERS_SHOWN,
    EventLine,
    FeatureDef,
    FeatureSnapshot,
    FeatureType,
    LoyaltyRun,
    MatchedBy,
    MemberCard,
    MemberNotFound,
    MemberSummary,
    OrderLine,
    PointsAdjustment,
    PointsMovement,
    Reveal,
    SearchResult,
    SourceRecord,
)

__all__ = [
    "EVENTS_SHOWN",
    "HITS_SHOWN",
    "ORDERS_SHOWN",
    "VIEW_ACTION",
    "EventLine",
    "FeatureDef",
    "FeatureSnapshot",
    "FeatureType",
    "LoyaltyRun",
    "MatchedBy",
    "MemberCard",
    "MemberNotFound",
    "MemberSummary",
    "OrderLine",
    "PointsAdjustment",
    "PointsMovement",
    "Reveal",
    "SearchResult",
    "SourceRecord",
    "compute_member_features",
    "feature_defs",
    "feature_names",
    "feature_specs",
    "feature_version",
    "member_card",
    "record_points_adjustments",
    "refresh_loyalty",
    "search_members",
    "signal_detectors",
]

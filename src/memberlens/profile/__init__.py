"""Profile: finding members and reading one member through member_map.

This first part serves the console's member search and member page; the member-360
profile (features, tags, tiers and points) grows here.
"""

from memberlens.profile._card import VIEW_ACTION, member_card
from memberlens.profile._lookup import search_members
from memberlens.profile.contracts import (
    EVENTS_SHOWN,
    HITS_SHOWN,
    ORDERS_SHOWN,
    EventLine,
    MatchedBy,
    MemberCard,
    MemberNotFound,
    MemberSummary,
    OrderLine,
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
    "MatchedBy",
    "MemberCard",
    "MemberNotFound",
    "MemberSummary",
    "OrderLine",
    "Reveal",
    "SearchResult",
    "SourceRecord",
    "member_card",
    "search_members",
]

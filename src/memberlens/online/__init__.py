"""Online tables: what the request path reads (member summaries, effective consent;
recommendations and experiment assignments join later), published by refresh."""

from memberlens.online._consent import consent_now, publish_consent
from memberlens.online._recommendations import (
    Served,
    note_accepted,
    publish_recommendations,
    recommendations_now,
    similar_now,
)
from memberlens.online._summary import member_summary, publish_member_summaries
from memberlens.online.contracts import MemberSummary

__all__ = [
    "MemberSummary",
    "Served",
    "consent_now",
    "member_summary",
    "note_accepted",
    "publish_consent",
    "publish_member_summaries",
    "publish_recommendations",
    "recommendations_now",
    "similar_now",
]

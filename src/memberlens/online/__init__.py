"""Online tables: what the request path reads (member summaries first; recommendations,
effective consent and experiment assignments join later), published by refresh."""

from memberlens.online._summary import member_summary, publish_member_summaries
from memberlens.online.contracts import MemberSummary

__all__ = ["MemberSummary", "member_summary", "publish_member_summaries"]

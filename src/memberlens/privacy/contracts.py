"""What crosses the privacy boundary: consent codes, records and decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConsentCode(StrEnum):
    """Why a consent decision came out as it did (stable, machine-readable)."""

    GRANTED = "GRANTED"  # the member's latest statement is a grant
    WITHDRAWN = "WITHDRAWN"  # a current withdrawal (one of the member's records is enough)
    NO_OPT_IN = "NO_OPT_IN"  # nothing said; the purpose needs an opt-in
    DEFAULT_ALLOW = "DEFAULT_ALLOW"  # nothing said; the purpose is allowed until refused
    REACHABLE = "REACHABLE"  # transactional message: the member has a contact there
    UNREACHABLE = "UNREACHABLE"  # no contact for the channel


CONSENT_WORDS: dict[ConsentCode, str] = {
    ConsentCode.GRANTED: "the member granted it",
    ConsentCode.WITHDRAWN: "the member withdrew it",
    ConsentCode.NO_OPT_IN: "the member has not opted in, and this purpose needs an opt-in",
    ConsentCode.DEFAULT_ALLOW: "allowed until the member refuses it (nothing refused)",
    ConsentCode.REACHABLE: "the member has a contact for this channel",
    ConsentCode.UNREACHABLE: "the member has no contact for this channel",
}

# Codes that come from a statement in the ledger rather than from a default.
STATED_CODES = (ConsentCode.GRANTED.value, ConsentCode.WITHDRAWN.value)


@dataclass(frozen=True)
class ConsentRecord:
    """One statement of a source record: a grant or a withdrawal, as the ledger holds it."""

    source: str
    source_member_key: str
    purpose: str
    channel: str
    granted: bool
    recorded_at: datetime
    policy_version: str | None = None


@dataclass(frozen=True)
class ConsentDecision:
    """May ``member_id`` be used for ``purpose`` on ``channel``, and why (``code``).

    ``as_of`` is the instant the decision describes; ``pending`` says it includes
    statements accepted by the API that no refresh has published yet.
    """

    member_id: str | None
    purpose: str
    channel: str
    allowed: bool
    code: ConsentCode
    as_of: datetime | None = None
    pending: bool = False

    @property
    def reason(self) -> str:
        return CONSENT_WORDS[self.code]

    def to_json(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "purpose": self.purpose,
            "channel": self.channel,
            "allowed": self.allowed,
            "code": self.code.value,
            "reason": self.reason,
            "as_of": self.as_of.isoformat() + "Z" if self.as_of else None,
            "pending": self.pending,
        }

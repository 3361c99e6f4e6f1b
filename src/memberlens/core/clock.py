"""The one place that asks what time it is, so tests can pin it."""

from __future__ import annotations

import os
from datetime import UTC, datetime


def utc_now() -> datetime:
    """Return the current UTC time, or ``MEMBERLENS_NOW`` (ISO 8601) when set.

    Examples
    --------
    >>> utc_now().tzinfo is not None
    True
    """
    pinned = os.environ.get("MEMBERLENS_NOW")
    if pinned:
        value = datetime.fromisoformat(pinned)
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)

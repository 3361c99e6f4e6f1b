"""A test tier whose service is missing: skipped with the reason, or failed where none may skip.

``make test`` run as root installs and starts what every tier needs
(scripts/test-services.sh, scripts/test-browser.sh) and sets
``MEMBERLENS_REQUIRE_TIERS=1``: there, a missing PostgreSQL or Chromium means a broken
set-up, so the tier's tests fail with the reason instead of passing the run on fewer
tests. Elsewhere (a non-root run, ``pytest`` alone) they skip with it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_TIERS = "MEMBERLENS_REQUIRE_TIERS"


def tier_unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when every tier must run."""
    if os.environ.get(REQUIRE_TIERS) == "1":
        pytest.fail(
            f"{reason} [{REQUIRE_TIERS}=1 (make test as root): no tier may be skipped; fix "
            f"the cause, or run `make test {REQUIRE_TIERS}=0` to let it skip]",
            pytrace=False,
        )
    pytest.skip(reason)

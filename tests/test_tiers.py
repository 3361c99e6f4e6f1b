"""A tier's missing service skips a test, except where every tier must run (root's make test)."""

from __future__ import annotations

import pytest

from tests.tiers import REQUIRE_TIERS, tier_unavailable

REASON = "no Chromium at /nowhere/chromium"


@pytest.mark.parametrize("value", [None, "0", ""])
def test_a_missing_service_skips_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(REQUIRE_TIERS, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_TIERS, value)
    with pytest.raises(pytest.skip.Exception) as skipped:
        tier_unavailable(REASON)
    assert skipped.value.msg == REASON


def test_a_missing_service_fails_when_every_tier_must_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_TIERS, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        tier_unavailable(REASON)
    assert failed.value.msg.startswith(REASON)
    assert "make test MEMBERLENS_REQUIRE_TIERS=0" in failed.value.msg

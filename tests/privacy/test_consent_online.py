"""The online consent table equals effective_consent; newer statements apply at once."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from memberlens import online, pipeline, privacy
from memberlens.core.settings import ConsentSettings
from memberlens.privacy import ConsentCode, ConsentDecision, ConsentRecord, apply_newer
from memberlens.store import OnlineConsentRow
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write
from tests.privacy.test_consent import LEDGER, MERGE

DEFAULTS = ConsentSettings()


def test_refresh_publishes_what_effective_consent_decides(
    workspace: Workspace, tmp_path: Path
) -> None:
    run(workspace, "consents", write(tmp_path / "c.csv", LEDGER + MERGE.split("\n", 1)[1]))
    workspace.warehouse.execute(  # a merge: p2's statements now count for p1's member
        "UPDATE member_map SET member_id = (SELECT member_id FROM member_map "
        "WHERE source_member_key = 'p1') WHERE source_member_key = 'p2'"
    )
    # Only the online step: identity resolution would undo a merge no identifier backs.
    result = pipeline.refresh(workspace, as_of=date(2025, 2, 15), only=["online"])
    moment = datetime(2025, 2, 15)
    table = privacy.effective_consent(workspace.warehouse, as_of=moment, defaults=DEFAULTS)
    expected = workspace.warehouse.to_pyarrow(table).to_pylist()
    stated = [r for r in expected if r["code"] in ("GRANTED", "WITHDRAWN")]
    assert result.steps["online"]["consent_rows"] == len(stated) > 0
    assert result.steps["online"]["member_keys"] == 6
    assert result.steps["online"]["member_summaries"] == 5  # kept: members, not keys
    with workspace.state.session() as s:
        assert s.query(OnlineConsentRow).count() == len(stated)
    keys = workspace.warehouse.fetch_all(
        "SELECT source, source_member_key, member_id FROM member_map"
    )
    for source, key, member_id in keys:
        for row in (r for r in expected if r["member_id"] == member_id):
            got = online.consent_now(
                workspace.state,
                source=source,
                source_member_key=key,
                purpose=row["purpose"],
                channel=row["channel"],
                defaults=DEFAULTS,
            )
            assert (got.member_id, got.allowed, got.code.value, got.pending) == (
                member_id,
                row["allowed"],
                row["code"],
                False,
            ), (source, key, row)
            assert got.as_of == moment


WHEN = datetime(2025, 1, 1)


def _said(key: str, granted: bool, channel: str = "*", minute: int = 0) -> ConsentRecord:
    return ConsentRecord("app", key, "marketing", channel, granted, WHEN.replace(minute=minute))


def _base(code: ConsentCode) -> ConsentDecision:
    allowed = code in (ConsentCode.GRANTED, ConsentCode.DEFAULT_ALLOW)
    return ConsentDecision("m1", "marketing", "email", allowed, code, WHEN)


@pytest.mark.parametrize(
    ("base", "withdrawn_by", "newer", "expected"),
    [
        (ConsentCode.GRANTED, [], [], ConsentCode.GRANTED),
        (ConsentCode.GRANTED, [], [_said("k1", False)], ConsentCode.WITHDRAWN),
        (ConsentCode.NO_OPT_IN, [], [_said("k1", True, "email")], ConsentCode.GRANTED),
        # another channel's statement says nothing about e-mail
        (ConsentCode.NO_OPT_IN, [], [_said("k1", True, "sms")], ConsentCode.NO_OPT_IN),
        # k1 withdrew (published) and grants again: nobody withdraws any more
        (ConsentCode.WITHDRAWN, [("app", "k1")], [_said("k1", True)], ConsentCode.GRANTED),
        # k2 still withdraws: the most restrictive source record wins
        (
            ConsentCode.WITHDRAWN,
            [("app", "k1"), ("app", "k2")],
            [_said("k1", True)],
            ConsentCode.WITHDRAWN,
        ),
        # per source record the latest newer statement counts
        (
            ConsentCode.GRANTED,
            [],
            [_said("k1", False, minute=1), _said("k1", True, "email", minute=2)],
            ConsentCode.GRANTED,
        ),
        (
            ConsentCode.GRANTED,
            [],
            [_said("k1", True, "email", minute=2), _said("k1", False, minute=2)],
            ConsentCode.WITHDRAWN,  # same instant: the withdrawal wins
        ),
    ],
)
def test_newer_statements_follow_the_ledger_rule(
    base: ConsentCode,
    withdrawn_by: list[tuple[str, str]],
    newer: list[ConsentRecord],
    expected: ConsentCode,
) -> None:
    got = apply_newer(_base(base), withdrawn_by, newer, DEFAULTS)
    assert got.code is expected
    assert got.allowed == (expected in (ConsentCode.GRANTED, ConsentCode.DEFAULT_ALLOW))
    assert got.pending == any(r.channel in ("*", "email") for r in newer)

"""Effective consent from a hand-written ledger: time, defaults, channel vs *, merges."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from memberlens import privacy
from memberlens.core.errors import UsageError
from memberlens.core.settings import ConsentSettings
from memberlens.privacy import ConsentCode, effective_consent, may_message, may_use
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

DEFAULTS = ConsentSettings()
# a1: grant, withdraw, grant again on email over time.
# b1: purpose-wide (*) and channel records interleaved.
# c1: a * grant and an email withdrawal at the same instant.
# d1: a purpose decided once (personalisation) refused "on email": counts for the purpose.
LEDGER = """source,source_member_key,purpose,channel,recorded_at,granted,policy_version
app,a1,marketing,email,2025-01-01T00:00:00Z,true,v1
app,a1,marketing,email,2025-02-01T00:00:00Z,false,v1
app,a1,marketing,email,2025-03-01T00:00:00Z,true,v2
app,b1,marketing,*,2025-01-01T00:00:00Z,true,v1
app,b1,marketing,sms,2025-02-01T00:00:00Z,false,v1
app,b1,marketing,*,2025-03-01T00:00:00Z,false,v1
app,b1,marketing,email,2025-04-01T00:00:00Z,true,v2
app,c1,marketing,*,2025-01-01T00:00:00Z,true,v1
app,c1,marketing,email,2025-01-01T00:00:00Z,false,v1
app,d1,personalisation,email,2025-01-01T00:00:00Z,false,v1
"""


@pytest.fixture
def ledger(workspace: Workspace, tmp_path: Path) -> Workspace:
    result = run(workspace, "consents", write(tmp_path / "consents.csv", LEDGER))
    assert (result.loaded, result.quarantined) == (10, 0)
    return workspace


def member(ws: Workspace, source: str, key: str) -> str:
    found = ws.warehouse.scalar(
        "SELECT member_id FROM member_map WHERE source = ? AND source_member_key = ?",
        [source, key],
    )
    assert found, f"{source}/{key} is not in member_map"
    return str(found)


def decided(
    ws: Workspace, as_of: datetime, defaults: ConsentSettings = DEFAULTS
) -> dict[tuple[str, str, str], tuple[bool, str]]:
    """effective_consent as {(member_id, purpose, channel): (allowed, code)}."""
    table = effective_consent(ws.warehouse, as_of=as_of, defaults=defaults)
    return {
        (r["member_id"], r["purpose"], r["channel"]): (r["allowed"], r["code"])
        for r in ws.warehouse.to_pyarrow(table).to_pylist()
    }


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (datetime(2024, 12, 31), (False, "NO_OPT_IN")),  # nothing said yet
        (datetime(2025, 1, 15), (True, "GRANTED")),
        (datetime(2025, 2, 1), (False, "WITHDRAWN")),  # at the instant: included
        (datetime(2025, 2, 15), (False, "WITHDRAWN")),
        (datetime(2025, 3, 2), (True, "GRANTED")),  # granted again
    ],
)
def test_the_latest_statement_at_or_before_as_of_decides(
    ledger: Workspace, as_of: datetime, expected: tuple[bool, str]
) -> None:
    a1 = member(ledger, "app", "a1")
    assert decided(ledger, as_of)[(a1, "marketing", "email")] == expected


def test_a_member_who_said_nothing_gets_each_purposes_default(ledger: Workspace) -> None:
    a1 = member(ledger, "app", "a1")
    table = decided(ledger, datetime(2025, 6, 1))
    assert table[(a1, "marketing", "sms")] == (False, "NO_OPT_IN")  # opt-in needed
    assert table[(a1, "personalisation", "*")] == (True, "DEFAULT_ALLOW")  # until refused
    assert table[(a1, "analytics", "*")] == (True, "DEFAULT_ALLOW")
    assert table[(a1, "profiling", "*")] == (False, "NO_OPT_IN")
    # Every member: 5 marketing channels + 3 purposes decided once on *.
    assert len(table) == 4 * 8
    assert {k[2] for k in table if k[1] == "marketing"} == {
        "email",
        "sms",
        "push",
        "wechat",
        "phone",
    }


def test_defaults_come_from_settings(ledger: Workspace) -> None:
    a1 = member(ledger, "app", "a1")
    loose = ConsentSettings(marketing="opt_out", personalisation="opt_in")
    table = decided(ledger, datetime(2025, 6, 1), loose)
    assert table[(a1, "marketing", "sms")] == (True, "DEFAULT_ALLOW")
    assert table[(a1, "personalisation", "*")] == (False, "NO_OPT_IN")
    # A statement beats any default.
    assert table[(a1, "marketing", "email")] == (True, "GRANTED")


@pytest.mark.parametrize(
    ("as_of", "email", "sms", "push"),
    [
        (datetime(2025, 1, 15), "GRANTED", "GRANTED", "GRANTED"),  # * grant covers all
        (datetime(2025, 2, 15), "GRANTED", "WITHDRAWN", "GRANTED"),  # sms's own, newer
        (datetime(2025, 3, 15), "WITHDRAWN", "WITHDRAWN", "WITHDRAWN"),  # newer * wins
        (datetime(2025, 4, 15), "GRANTED", "WITHDRAWN", "WITHDRAWN"),  # newer email wins
    ],
)
def test_the_newer_of_a_channels_own_and_the_purpose_wide_statement_wins(
    ledger: Workspace, as_of: datetime, email: str, sms: str, push: str
) -> None:
    b1 = member(ledger, "app", "b1")
    table = decided(ledger, as_of)
    got = [table[(b1, "marketing", ch)][1] for ch in ("email", "sms", "push")]
    assert got == [email, sms, push]


def test_at_the_same_instant_the_withdrawal_wins(ledger: Workspace) -> None:
    c1 = member(ledger, "app", "c1")
    table = decided(ledger, datetime(2025, 6, 1))
    assert table[(c1, "marketing", "email")] == (False, "WITHDRAWN")
    assert table[(c1, "marketing", "sms")] == (True, "GRANTED")


def test_a_purpose_decided_once_counts_a_refusal_on_any_channel(ledger: Workspace) -> None:
    d1 = member(ledger, "app", "d1")
    assert decided(ledger, datetime(2025, 6, 1))[(d1, "personalisation", "*")] == (
        False,
        "WITHDRAWN",
    )


MERGE = """source,source_member_key,purpose,channel,recorded_at,granted,policy_version
pos,p1,marketing,email,2025-01-01T00:00:00Z,true,v1
pos,p1,marketing,push,2025-01-01T00:00:00Z,true,v1
app,p2,marketing,email,2025-01-10T00:00:00Z,false,v1
app,p2,marketing,email,2025-03-01T00:00:00Z,true,v2
"""


def test_after_a_merge_the_most_restrictive_source_record_wins(
    workspace: Workspace, tmp_path: Path
) -> None:
    run(workspace, "consents", write(tmp_path / "merge.csv", MERGE))
    p1, p2 = member(workspace, "pos", "p1"), member(workspace, "app", "p2")
    before = decided(workspace, datetime(2025, 2, 1))
    assert before[(p1, "marketing", "email")] == (True, "GRANTED")
    assert before[(p2, "marketing", "email")] == (False, "WITHDRAWN")
    # Identity resolution rewrites member_map only; done here by hand.
    workspace.warehouse.execute(
        "UPDATE member_map SET member_id = ?, reason = 'merged' WHERE source_member_key = 'p2'",
        [p1],
    )
    after = decided(workspace, datetime(2025, 2, 1))
    assert after[(p1, "marketing", "email")] == (False, "WITHDRAWN")  # p2's withdrawal
    assert after[(p1, "marketing", "push")] == (True, "GRANTED")  # p2 never spoke of push
    assert after[(p1, "marketing", "sms")] == (False, "NO_OPT_IN")
    assert not any(k[0] == p2 for k in after)
    # Once p2 grants again, nobody withdraws any more.
    assert decided(workspace, datetime(2025, 3, 2))[(p1, "marketing", "email")] == (
        True,
        "GRANTED",
    )


def test_may_use_is_the_table_for_one_member(ledger: Workspace) -> None:
    b1 = member(ledger, "app", "b1")
    moment = datetime(2025, 2, 15)
    table = decided(ledger, moment)
    for purpose, channel, _ in privacy.consent_slots(DEFAULTS):
        got = may_use(ledger.warehouse, b1, purpose, channel, as_of=moment, defaults=DEFAULTS)
        assert (got.allowed, got.code.value) == table[(b1, purpose, channel)]
    # A purpose decided once answers on * whatever channel is asked.
    asked = may_use(ledger.warehouse, b1, "analytics", "email", as_of=moment, defaults=DEFAULTS)
    assert (asked.channel, asked.code) == ("*", ConsentCode.DEFAULT_ALLOW)
    unknown = may_use(
        ledger.warehouse, "m_nobody", "marketing", "sms", as_of=moment, defaults=DEFAULTS
    )
    assert (unknown.allowed, unknown.code) == (False, ConsentCode.NO_OPT_IN)


@pytest.mark.parametrize(
    ("purpose", "channel", "words"),
    [
        ("newsletters", "email", "unknown consent purpose 'newsletters'"),
        ("marketing", "fax", "unknown consent channel 'fax'"),
        ("marketing", "*", "marketing is decided per channel"),
    ],
)
def test_bad_questions_name_the_fix(
    ledger: Workspace, purpose: str, channel: str, words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        may_use(
            ledger.warehouse, "m", purpose, channel, as_of=datetime(2025, 1, 1), defaults=DEFAULTS
        )


MEMBERS = """source,source_member_key,email,phone
app,a1,a1@example.com,
"""


def test_transactional_messages_need_only_a_contact(ledger: Workspace, tmp_path: Path) -> None:
    run(ledger, "members", write(tmp_path / "members.csv", MEMBERS))
    a1 = member(ledger, "app", "a1")
    moment = datetime(2025, 2, 15)  # a1 has withdrawn marketing e-mail by then

    def ask(kind: str, channel: str) -> tuple[bool, str]:
        got = may_message(
            ledger.warehouse, a1, kind=kind, channel=channel, as_of=moment, defaults=DEFAULTS
        )  # type: ignore[arg-type]
        return got.allowed, got.code.value

    assert ask("transactional", "email") == (True, "REACHABLE")
    assert ask("marketing", "email") == (False, "WITHDRAWN")
    assert ask("transactional", "sms") == (False, "UNREACHABLE")  # no phone on record
    assert ask("marketing", "sms") == (False, "UNREACHABLE")
    reach = ledger.warehouse.to_pyarrow(privacy.reachability(ledger.warehouse)).to_pylist()
    assert reach == [{"member_id": a1, "channel": "email"}]

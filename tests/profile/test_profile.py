"""The profile domain without HTTP: blind-index search, the card, audited reveals."""

from __future__ import annotations

from pathlib import Path

import pytest

from memberlens import audit, profile
from memberlens.profile import MatchedBy, MemberNotFound, Reveal
from memberlens.workspace import Workspace
from tests.profile.helpers import CLEAR, load_members


@pytest.fixture
def ids(workspace: Workspace, tmp_path: Path) -> dict[str, str]:
    return load_members(workspace, tmp_path)


def _search(ws: Workspace, text: str) -> profile.SearchResult:
    return profile.search_members(ws.warehouse, ws.keyring, query=text)


def test_a_phone_in_any_format_hashes_like_ingest_did(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    for text in ("138 1234 5678", "+86 138 1234 5678", "008613812345678", "(138) 1234-5678"):
        found = _search(workspace, text)
        assert found.matched_by is MatchedBy.PHONE
        assert [m.member_id for m in found.members] == [ids["zhang"]]


def test_search_never_decrypts_to_compare(
    workspace: Workspace, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Matching is by blind index only: with decryption broken, the look-up still
    finds the member (decryption is needed only to mask the hit afterwards)."""
    calls: list[str] = []
    real = type(workspace.keyring).decrypt

    def counting(self: object, token: str, *, context: str) -> str:
        calls.append(context)
        return real(self, token, context=context)  # type: ignore[arg-type]

    monkeypatch.setattr(type(workspace.keyring), "decrypt", counting)
    found = _search(workspace, "lina@example.org")
    assert [m.member_id for m in found.members] == [ids["li"]]
    # One member, three personal columns on the hit: three decryptions, not one per row.
    assert sorted(calls) == ["members.email", "members.name", "members.phone"]


def test_the_card_is_masked_unless_revealed_and_a_reveal_is_audited(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    ws = workspace
    masked = profile.member_card(ws.warehouse, ws.keyring, ws.state, member_id=ids["zhang"])
    assert not masked.revealed and masked.audit_seq is None
    assert not [v for v in CLEAR if v in repr(masked)]
    assert audit.count(ws.state) == 0
    clear = profile.member_card(
        ws.warehouse, ws.keyring, ws.state, member_id=ids["zhang"], reveal=Reveal("u_1", "10.0.0.1")
    )
    assert clear.revealed and clear.records[1].address == "南京东路1号"
    (entry,) = audit.entries(ws.state)
    assert (entry.seq, entry.actor, entry.action, entry.address) == (
        clear.audit_seq,
        "u_1",
        profile.VIEW_ACTION,
        "10.0.0.1",
    )
    assert entry.member_token and ids["zhang"] not in repr(entry)
    assert audit.verify_chain(ws.state).ok


def test_an_unknown_member_names_the_fix(workspace: Workspace, ids: dict[str, str]) -> None:
    ws = workspace
    with pytest.raises(MemberNotFound, match="search by phone, e-mail or id"):
        profile.member_card(
            ws.warehouse, ws.keyring, ws.state, member_id="m_nobody", reveal=Reveal("u_1")
        )
    assert audit.count(ws.state) == 0  # nothing revealed, nothing audited

"""Merge history: unmerge restores the previous map exactly; orders follow; it stays undone."""

from __future__ import annotations

from pathlib import Path

import pytest

from memberlens import identity, pipeline
from memberlens.core.settings import IdentitySettings
from memberlens.workspace import Workspace
from tests.identity.helpers import load_fixture, member_of, the_map
from tests.ingest.helpers import run, write

ORDERS = """order_id,source,source_member_key,ordered_at,total_amount,status
o1,pos,C01,2025-05-01T10:00:00Z,10.00,completed
o2,app,C02,2025-05-02T10:00:00Z,20.00,completed
o3,web,C03,2025-05-03T10:00:00Z,5.00,completed
"""


def _resolve(ws: Workspace) -> identity.ResolveResult:
    return identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=IdentitySettings())


def _orders_by_member(ws: Workspace) -> dict[str, int]:
    rows = ws.warehouse.fetch_all(
        "SELECT m.member_id, count(*) FROM orders o "
        "JOIN member_map m USING (source, source_member_key) GROUP BY 1"
    )
    return {m: int(n) for m, n in rows}


@pytest.fixture
def chain(workspace: Workspace, tmp_path: Path) -> Workspace:
    load_fixture(workspace)
    run(workspace, "orders", write(tmp_path / "o.csv", ORDERS))
    return workspace


def test_unmerge_restores_the_map_exactly_and_orders_follow(chain: Workspace) -> None:
    before = the_map(chain)
    _resolve(chain)
    survivor = member_of(chain, "pos", "C01")
    assert _orders_by_member(chain)[survivor] == 3  # the chain's three orders are one member's
    result = identity.unmerge(chain.warehouse, chain.state, member_id=survivor)
    assert result.records_restored == 2 and result.members == (survivor,)
    after = {(s, k): (m, t, r) for s, k, m, t, r in the_map(chain)}
    for s, k, m, t, r in before:
        if (s, k) in {("pos", "C01"), ("app", "C02"), ("web", "C03")}:
            assert after[(s, k)] == (m, t, r)
    orders = _orders_by_member(chain)
    assert [orders[member_of(chain, s, k)] for s, k in [("pos", "C01"), ("app", "C02")]] == [1, 1]


def test_unmerging_a_whole_run_restores_the_whole_map(chain: Workspace) -> None:
    before = the_map(chain)
    merged = _resolve(chain)
    identity.unmerge(chain.warehouse, chain.state, run_id=merged.run_id)
    assert the_map(chain) == before


def test_an_unmerge_stays_undone_at_the_next_run(chain: Workspace) -> None:
    _resolve(chain)
    survivor = member_of(chain, "pos", "C01")
    identity.unmerge(chain.warehouse, chain.state, member_id=survivor)
    again = _resolve(chain)
    members = {member_of(chain, s, k) for s, k in [("pos", "C01"), ("app", "C02"), ("web", "C03")]}
    assert len(members) == 3
    assert not any(survivor in (c.survivor, c.absorbed) for c in again.changes)
    # Other clusters are not held apart by this split.
    assert member_of(chain, "pos", "P007") == member_of(chain, "web", "W007")


def test_unmerging_a_member_never_merged_names_the_fix(chain: Workspace) -> None:
    with pytest.raises(identity.NothingToUnmerge, match="identity show"):
        identity.unmerge(chain.warehouse, chain.state, member_id="m_nobody")


def test_subscribers_hear_each_merge_and_unmerge_once(chain: Workspace) -> None:
    heard: list[identity.IdentityChange] = []
    stop = identity.on_change(heard.extend)
    try:
        merged = _resolve(chain)
        survivor = member_of(chain, "pos", "C01")
        identity.unmerge(chain.warehouse, chain.state, member_id=survivor)
    finally:
        stop()
    merges = [c for c in heard if c.kind == "merge"]
    assert len(merges) == merged.records_affected  # each absorbed record was its own member
    unmerges = [c for c in heard if c.kind == "unmerge"]
    assert {c.survivor for c in unmerges} == {survivor} and len(unmerges) == 2
    assert [c.seq for c in identity.changes_since(chain.state)] == [c.seq for c in heard]
    assert identity.changes_since(chain.state, heard[-1].seq) == []


def test_show_lists_the_records_masked(chain: Workspace) -> None:
    _resolve(chain)
    records = identity.member_records(
        chain.warehouse, chain.keyring, member_of(chain, "pos", "C01")
    )
    assert [(r.source, r.source_member_key) for r in records] == [
        ("app", "C02"),
        ("pos", "C01"),
        ("web", "C03"),
    ]
    shown = str([r.to_json() for r in records])
    assert "sun.li@126.com" not in shown.lower() and "0000 2222" not in shown
    assert ("crm_id", "C***") in records[1].identifiers
    with pytest.raises(identity.UnknownMember):
        identity.member_records(chain.warehouse, chain.keyring, "m_nobody")


def test_golden_takes_source_priority_then_recency(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "source,source_member_key,city,occupation,email\n"
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-01-01T00:00:00Z")
    run(workspace, "members", write(tmp_path / "a.csv", header + "pos,p1,Beijing,,x@example.com\n"))
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-02-01T00:00:00Z")
    run(
        workspace,
        "members",
        write(tmp_path / "b.csv", header + "app,a1,Shanghai,nurse,x@example.com\n"),
    )
    settings = IdentitySettings(source_priority=["pos"])
    identity.resolve(workspace.warehouse, workspace.state, workspace.keyring, settings=settings)
    row = workspace.warehouse.fetch_all("SELECT records, city, occupation FROM member_golden")
    assert row == [(2, "Beijing", "nurse")]  # pos wins the city; only app knows the job
    identity.rebuild_golden(workspace.warehouse, [])
    row = workspace.warehouse.fetch_all("SELECT city FROM member_golden")
    assert row == [("Shanghai",)]  # no priority: the most recent record


@pytest.mark.slow
def test_refresh_runs_identity_first(chain: Workspace) -> None:
    assert pipeline.step_names()[0] == "identity"
    result = pipeline.refresh(chain)
    assert result.steps["identity"]["clusters_merged"] == 12

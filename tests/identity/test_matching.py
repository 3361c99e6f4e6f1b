"""Identity resolution on the hand-written adversarial fixture: exactly its clusters."""

from __future__ import annotations

from pathlib import Path

import pytest

from memberlens import identity
from memberlens.core.settings import IdentitySettings
from memberlens.workspace import Workspace
from tests.identity.helpers import clusters, load_fixture, member_of, the_map
from tests.ingest.helpers import run, write


def _resolve(ws: Workspace, **kw: object) -> identity.ResolveResult:
    settings = IdentitySettings(**kw)  # type: ignore[arg-type]
    return identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=settings)


def test_the_fixture_resolves_to_exactly_its_expected_clusters(workspace: Workspace) -> None:
    expected = load_fixture(workspace)
    before = clusters(workspace)
    result = _resolve(workspace, max_records_per_identifier=expected["max_records_per_identifier"])
    merged = {frozenset((s, k) for s, k in c) for c in expected["clusters"]}
    listed = set().union(*merged)
    singles = {r for c in before for r in c} - listed
    assert clusters(workspace) == merged | {frozenset([r]) for r in singles}
    assert result.clusters_merged == len(merged)
    assert result.records_affected == sum(len(c) - 1 for c in merged)
    assert result.members_after == expected["records"] - result.records_affected


def test_identifiers_above_the_guard_are_flagged_masked_and_unused(
    workspace: Workspace,
) -> None:
    expected = load_fixture(workspace)
    result = _resolve(workspace)
    got = sorted((f.id_type, f.records) for f in result.flagged)
    assert got == [(f["id_type"], f["records"]) for f in expected["flagged"]]
    phone = next(f for f in result.flagged if f.id_type == "phone")
    assert phone.masked.endswith("5678") and "1234" not in phone.masked  # masked, never clear
    stored = workspace.warehouse.fetch_all("SELECT id_type, records FROM identity_flags ORDER BY 1")
    assert stored == got
    # The 40 shop customers stay apart (S01 only joins W041 by its e-mail).
    shop = {member_of(workspace, s, f"S{i:02d}") for i, s in [(1, "pos"), (2, "pos"), (25, "app")]}
    assert len(shop) == 3


def test_the_guard_counts_records_and_a_change_of_it_splits_what_it_merged(
    workspace: Workspace,
) -> None:
    load_fixture(workspace)
    _resolve(workspace, max_records_per_identifier=2)  # the household is 2 records: merged
    assert member_of(workspace, "pos", "H01") == member_of(workspace, "app", "H02")
    _resolve(workspace, max_records_per_identifier=40)
    assert member_of(workspace, "pos", "S02") == member_of(workspace, "app", "S40")
    # Back under the guard: the shop's members split again, and the split is announced.
    result = _resolve(workspace, max_records_per_identifier=10)
    assert member_of(workspace, "pos", "S02") != member_of(workspace, "app", "S40")
    assert {c.kind for c in result.changes} == {"unmerge"}


def test_a_second_run_changes_nothing(workspace: Workspace) -> None:
    load_fixture(workspace)
    first = _resolve(workspace)
    snapshot = the_map(workspace)
    again = _resolve(workspace)
    assert first.records_affected > 0
    assert (again.records_affected, again.clusters_merged, again.changes) == (0, 0, ())
    assert the_map(workspace) == snapshot


def test_the_survivor_is_the_oldest_record_and_stays_when_the_cluster_grows(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "source,source_member_key,email,phone\n"
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-01-01T00:00:00Z")
    run(workspace, "members", write(tmp_path / "a.csv", header + "web,w9,a@example.com,\n"))
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-02-01T00:00:00Z")
    run(
        workspace,
        "members",
        write(tmp_path / "b.csv", header + "app,a1,A@example.com,13600001234\n"),
    )
    oldest = member_of(workspace, "web", "w9")
    result = _resolve(workspace)
    assert member_of(workspace, "app", "a1") == oldest  # web/w9 came first
    assert [(c.kind, c.survivor) for c in result.changes] == [("merge", oldest)]
    monkeypatch.setenv("MEMBERLENS_NOW", "2025-03-01T00:00:00Z")
    run(workspace, "members", write(tmp_path / "c.csv", header + "pos,p1,,136 0000 1234\n"))
    _resolve(workspace)
    assert {member_of(workspace, s, k) for s, k in [("web", "w9"), ("pos", "p1")]} == {oldest}


def test_matching_keys_follow_each_provider(workspace: Workspace) -> None:
    assert identity.email_match_key("L.I+a@GoogleMail.com") == "li@gmail.com"
    assert identity.email_match_key("l.i+a@hotmail.com") == "l.i@hotmail.com"
    assert identity.email_match_key("l.i+a@163.com") == "l.i+a@163.com"

"""``memberlens identity`` as a user runs it: JSON per docs/cli.md, exit codes, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import cli, json_of
from tests.identity.helpers import FIXTURES


@pytest.mark.slow
def test_resolve_show_unmerge_round_trip(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    json_of("init", ws, schema="init")
    cli("ingest", "members", str(FIXTURES / "members.csv"), "-w", ws, "--quiet", check=True)
    resolved = json_of("identity", "resolve", "-w", ws, schema="identity-resolve")
    assert (resolved["clusters_merged"], resolved["members_after"]) == (12, 61)
    assert sorted((f["id_type"], f["records"]) for f in resolved["flagged"]) == [
        ("device_id", 12),
        ("phone", 40),
    ]
    text = cli("identity", "resolve", "-w", ws, check=True).stdout
    assert "0 clusters merged" in text and "phone" in text and "1234" not in text
    members = json_of("identity", "resolve", "-w", ws, schema="identity-resolve")
    assert members["records_affected"] == 0
    # Find the chain's member through the records of a run-level unmerge, then show it.
    undone = json_of(
        "identity", "unmerge", "--run", resolved["run_id"], "-w", ws, schema="identity-unmerge"
    )
    assert undone["records_restored"] == 15 and len(undone["members"]) == 12
    shown = json_of("identity", "show", undone["members"][0], "-w", ws, schema="identity-show")
    assert len(shown["records"]) == 1 and "@" not in str(shown).replace("***@", "")


@pytest.mark.slow
def test_errors_name_the_fix_and_exit_codes_follow(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    json_of("init", ws, schema="init")
    missing = cli("identity", "show", "m_nobody", "-w", ws)
    assert missing.returncode == 1 and "MEMBER_NOT_FOUND" in missing.stderr
    nothing = cli("identity", "unmerge", "m_nobody", "-w", ws)
    assert nothing.returncode == 1 and "NOTHING_TO_UNMERGE" in nothing.stderr
    usage = cli("identity", "unmerge", "-w", ws)
    assert usage.returncode == 2 and "--run" in usage.stderr
    assert cli("identity", "--help").returncode == 0

"""Helpers for identity tests: load the adversarial fixture, read clusters back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memberlens.workspace import Workspace
from tests.ingest.helpers import run

FIXTURES = Path(__file__).with_name("fixtures")

Record = tuple[str, str]


def load_fixture(ws: Workspace) -> dict[str, Any]:
    """Ingest fixtures/members.csv; return fixtures/expected.json."""
    result = run(ws, "members", FIXTURES / "members.csv")
    assert result.quarantined == 0, "the fixture must load whole"
    expected: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
    assert result.loaded == expected["records"]
    return expected


def clusters(ws: Workspace) -> set[frozenset[Record]]:
    """Groups of records that share a member id in member_map (all sizes)."""
    by_member: dict[str, set[Record]] = {}
    for source, key, member in ws.warehouse.fetch_all(
        "SELECT source, source_member_key, member_id FROM member_map"
    ):
        by_member.setdefault(member, set()).add((source, key))
    return {frozenset(v) for v in by_member.values()}


def member_of(ws: Workspace, source: str, key: str) -> str:
    found = ws.warehouse.scalar(
        "SELECT member_id FROM member_map WHERE source = ? AND source_member_key = ?",
        [source, key],
    )
    assert found, f"{source}/{key} is not in member_map"
    return str(found)


def the_map(ws: Workspace) -> list[tuple[Any, ...]]:
    return ws.warehouse.fetch_all(
        "SELECT source, source_member_key, member_id, since, reason FROM member_map ORDER BY ALL"
    )

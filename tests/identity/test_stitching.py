"""Anonymous events stitched to members by identify/login events, with hand-counted totals."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from memberlens import identity, online, pipeline
from memberlens.core.settings import IdentitySettings
from memberlens.workspace import Workspace
from tests.identity.helpers import member_of
from tests.ingest.helpers import run, write

MEMBERS = """source,source_member_key,email
app,u1,u1@example.com
app,u2,u2@example.com
pos,p1,U1@example.com
"""
HEADER = "event_id,source,source_member_key,anonymous_id,event_type,occurred_at\n"
# Stored first: the device dev1 browses before anyone knows whose it is.
BEFORE = """e1,app,,dev1,view,2025-05-01T08:00:00Z
e2,app,,dev1,view,2025-05-02T08:00:00Z
"""
# Later: u1 logs in on dev1 (linking it), browses on as anonymous; dev2 never logs in;
# dev3 is a shared tablet (u2 identifies, then u1 logs in): not stitched.
AFTER = """e3,app,u1,dev1,login,2025-05-03T08:00:00Z
e4,app,,dev1,view,2025-05-04T08:00:00Z
e5,app,,dev2,view,2025-05-04T09:00:00Z
e6,app,,dev3,view,2025-05-01T09:00:00Z
e7,app,u2,dev3,identify,2025-05-02T09:00:00Z
e8,app,u1,dev3,login,2025-05-03T12:00:00Z
e9,app,u2,,view,2025-05-03T09:00:00Z
"""


def _counts(ws: Workspace) -> dict[str, tuple[int, int]]:
    """(all events, stitched events) per member id."""
    ev = identity.events_with_members(ws.warehouse)
    agg = ev.group_by("member_id").aggregate(n=ev.count(), s=ev.stitched.sum())
    frame = ws.warehouse.to_pyarrow(agg).to_pylist()
    return {r["member_id"]: (r["n"], r["s"]) for r in frame}


def test_identify_and_login_stitch_earlier_and_later_anonymous_events(
    workspace: Workspace, tmp_path: Path
) -> None:
    run(workspace, "members", write(tmp_path / "m.csv", MEMBERS))
    run(workspace, "events", write(tmp_path / "e1.csv", HEADER + BEFORE))
    run(workspace, "events", write(tmp_path / "e2.csv", HEADER + AFTER))
    raw_before = workspace.warehouse.fetch_all("SELECT * FROM events ORDER BY event_id")
    result = identity.resolve(
        workspace.warehouse, workspace.state, workspace.keyring, settings=IdentitySettings()
    )
    assert result.anonymous_linked == 1  # dev1 only: dev2 never identified, dev3 shared
    u1, u2 = member_of(workspace, "app", "u1"), member_of(workspace, "app", "u2")
    assert member_of(workspace, "pos", "p1") == u1  # merged by e-mail: stitching follows
    # u1: e3, e8 direct + e1, e2, e4 stitched; u2: e7, e9 direct. e5 and e6 belong to no one.
    assert _counts(workspace) == {u1: (5, 3), u2: (2, 0)}
    assert workspace.warehouse.fetch_all("SELECT * FROM events ORDER BY event_id") == raw_before


@pytest.mark.slow
def test_the_online_summary_counts_stitched_events(workspace: Workspace, tmp_path: Path) -> None:
    run(workspace, "members", write(tmp_path / "m.csv", MEMBERS))
    run(workspace, "events", write(tmp_path / "e.csv", HEADER + BEFORE + AFTER))
    pipeline.refresh(workspace, as_of=date(2025, 6, 1))
    summary = online.member_summary(workspace.state, member_of(workspace, "app", "u1"))
    assert summary is not None
    assert summary.last_event_at == datetime(2025, 5, 4, 8)  # e4: anonymous, stitched

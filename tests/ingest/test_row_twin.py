"""The request path (Python) and the file path (SQL) accept and reject the same rows."""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memberlens.ingest import IngestRequest, ingest_file, parse_mapping
from memberlens.schema import RAW_TABLES, check_row
from memberlens.workspace import Workspace, init_workspace

EVENTS = RAW_TABLES["events"]
values = {
    "event_type": st.sampled_from(["view", "VIEW", " purchase ", "teleport", "", "add_to_cart"]),
    "occurred_at": st.sampled_from(
        [
            "2025-01-02T03:04:05Z",
            "2025-01-02T03:04:05+08:00",
            "2025-02-30T00:00:00Z",
            "yesterday",
            "",
            "2025-01-02",
        ]
    ),
    "source_member_key": st.sampled_from(["u1", "", " u2 "]),
    "anonymous_id": st.sampled_from(["", "dev-1"]),
    "properties": st.sampled_from(["", '{"a": 1}', "[1, 2]", "{oops"]),
}
rows = st.lists(st.fixed_dictionaries(values), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
@pytest.mark.slow
def test_python_and_sql_validation_agree(batch: list[dict[str, Any]]) -> None:
    expected = [
        not check_row(EVENTS, {**r, "source": "t", "event_id": f"e{i}"}, today=date(2026, 1, 1))[1]
        for i, r in enumerate(batch)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root, path = Path(tmp) / "ws", Path(tmp) / "events.csv"
        init_workspace(root)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, ["event_id", "source", *values])
            writer.writeheader()
            writer.writerows({**r, "event_id": f"e{i}", "source": "t"} for i, r in enumerate(batch))
        with Workspace.open(root) as ws:
            request = IngestRequest(
                kind="events",
                path=path,
                mapping=parse_mapping('[read]\ntimezone = "UTC"\n', origin="t"),
            )
            ingest_file(ws.warehouse, ws.keyring, request)
            loaded = {r[0] for r in ws.warehouse.fetch_all("SELECT event_id FROM events")}
    assert [f"e{i}" in loaded for i in range(len(batch))] == expected

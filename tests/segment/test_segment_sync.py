"""Segment export to CSV and sync to a webhook: a real HTTP server that fails once.

Member base: tests/profile/feature_data.py. ``buyers`` = purchased(within: 90d): Zhang
and Li on 2025-06-01; on 2025-09-01 Li has left (last order 05-25).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from memberlens import audit, pipeline, protection, segment
from memberlens.core.errors import ConfigError
from memberlens.workspace import Workspace
from tests.profile.feature_data import CUTOFF, load_feature_base

LATER = date(2025, 9, 1)
SECRET = "a-long-random-shared-secret"


class Receiver:
    """A webhook endpoint that answers 500 to the first ``fail`` requests."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                code = 500 if len(outer.received) <= outer.fail else 204
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(fail=1)
    yield made
    made.server.shutdown()


@pytest.fixture
def ids(workspace: Workspace, tmp_path: Path) -> dict[str, str]:
    found = load_feature_base(workspace, tmp_path)
    segment.save_segment(
        workspace.state,
        lambda names: segment.segment_catalogue(workspace.tag_book(), names),
        name="buyers",
        rule="purchased(within: 90d)",
        actor="t",
    )
    return found


def _verify(headers: dict[str, str], body: bytes) -> bool:
    stamp, mac = headers["X-Memberlens-Signature"].split(",")
    t = stamp.removeprefix("t=")
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac.removeprefix("sha256="), expected)


@pytest.mark.slow
def test_changes_reach_the_webhook_signed_after_one_retry(
    workspace: Workspace, ids: dict[str, str], receiver: Receiver
) -> None:
    workspace.settings.segments = workspace.settings.segments.model_copy(
        update={
            "webhooks": {"buyers": receiver.url, "nobody": receiver.url},
            "webhook_secret": SecretStr(SECRET),
            "webhook_backoff_seconds": 0.01,
        }
    )
    first = pipeline.refresh(workspace, as_of=CUTOFF).steps["sync"]
    assert first["buyers"] == {"status": "delivered", "http": 204, "attempts": 2}
    assert first["nobody"]["status"] == "skipped"
    second = pipeline.refresh(workspace, as_of=LATER).steps["sync"]
    assert second["buyers"]["status"] == "delivered"
    assert len(receiver.received) == 3  # the failed try, its retry, the next refresh
    assert all(_verify(h, b) for h, b in receiver.received)
    tries = [json.loads(b) for _, b in receiver.received]
    assert tries[0] == tries[1]  # a retry sends the same delivery
    assert tries[0]["members"] == 2 and tries[0]["entered"] == tries[0]["exited"] == []
    assert tries[2] == {
        "delivery_id": "buyers:2025-09-01",
        "segment": "buyers",
        "snapshot_date": "2025-09-01",
        "members": 1,
        "entered": [],
        "exited": [ids["p2"]],
    }
    tampered = tries[2] | {"members": 99}
    assert not _verify(receiver.received[2][0], json.dumps(tampered, sort_keys=True).encode())


@pytest.mark.slow
def test_an_unreachable_webhook_is_reported_not_fatal(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    workspace.settings.segments = workspace.settings.segments.model_copy(
        update={
            "webhooks": {"buyers": "http://127.0.0.1:9/closed"},
            "webhook_secret": SecretStr(SECRET),
            "webhook_attempts": 2,
            "webhook_backoff_seconds": 0.01,
        }
    )
    result = pipeline.refresh(workspace, as_of=CUTOFF)
    assert result.steps["sync"]["buyers"]["status"] == "failed"
    assert result.steps["sync"]["buyers"]["attempts"] == 2
    assert result.steps["online"]["member_summaries"] >= 2  # the steps after it ran


@pytest.mark.slow
def test_webhooks_without_a_secret_are_refused(workspace: Workspace, ids: dict[str, str]) -> None:
    workspace.settings.segments = workspace.settings.segments.model_copy(
        update={"webhooks": {"buyers": "http://127.0.0.1:9/x"}}
    )
    with pytest.raises(ConfigError, match="MEMBERLENS_SEGMENTS__WEBHOOK_SECRET"):
        pipeline.refresh(workspace, as_of=CUTOFF)


@pytest.mark.slow
def test_export_writes_masked_or_hashed_contacts_never_clear_and_is_audited(
    workspace: Workspace, ids: dict[str, str], tmp_path: Path
) -> None:
    pipeline.refresh(workspace, as_of=CUTOFF)
    rows = {}
    for form in ("none", "masked", "hashed"):
        out = tmp_path / f"{form}.csv"
        report = protection.export_segment(workspace, "buyers", out, contacts=form, actor="t")
        assert report["rows"] == 2
        with out.open(encoding="utf-8") as handle:
            rows[form] = {r["member_id"]: r for r in csv.DictReader(handle)}
        assert "13812345678" not in out.read_text(encoding="utf-8")
    assert set(rows["none"]) == {ids["p1"], ids["p2"]}
    assert rows["masked"][ids["p1"]]["phone"] == "138****5678"
    assert rows["masked"][ids["p2"]]["phone"] == "139****9000"
    assert rows["hashed"][ids["p2"]]["phone"] == hashlib.sha256(b"+8613900139000").hexdigest()
    entries = [e for e in audit.entries(workspace.state) if e.action == "export.segment"]
    assert len(entries) == 3 and {json.loads(e.detail)["contacts"] for e in entries} == {
        "none",
        "masked",
        "hashed",
    }

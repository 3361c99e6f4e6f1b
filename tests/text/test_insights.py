"""The refresh's text step and the complaint_received signal, on a hand-made base.

Cut-off 2025-06-01. p1 praised (f1) and complained twice — recently (f2) and two
months ago in English (f5); p2 wrote a review in Traditional Chinese (f3) and
answered a survey with a score and no text (f4); f6 comes after the cut-off.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memberlens import identity, registry, signals, text
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

CUTOFF = datetime(2025, 6, 1, tzinfo=UTC)
MEMBERS = """source,source_member_key,name,phone
pos,p1,张伟,13812345678
pos,p2,李娜,13900139000
"""
FEEDBACK = """feedback_id,source,source_member_key,kind,occurred_at,rating,nps,text,channel
f1,pos,p1,review,2025-05-30T09:00:00Z,5,,味道很好，送餐也快,app
f2,pos,p1,complaint,2025-05-29T09:00:00Z,,,送餐太慢了，等了两个小时,app
f3,pos,p2,review,2025-05-31T09:00:00Z,1,,難吃死了，再也不買了,pos
f4,pos,p2,survey,2025-05-01T09:00:00Z,,3,,email
f5,pos,p1,complaint,2025-04-01T09:00:00Z,,,Cold coffee and rude staff,pos
f6,pos,p2,review,2025-06-05T09:00:00Z,4,,还不错,app
"""


@pytest.fixture
def base(workspace: Workspace, tmp_path: Path) -> Workspace:
    for kind, body in (("members", MEMBERS), ("feedback", FEEDBACK)):
        assert run(workspace, kind, write(tmp_path / f"{kind}.csv", body)).quarantined == 0
    identity.resolve(
        workspace.warehouse,
        workspace.state,
        workspace.keyring,
        settings=workspace.settings.identity,
    )
    return workspace


def _insights(ws: Workspace, cutoff: datetime = CUTOFF) -> dict[str, object]:
    aspects = ws.aspects()
    return text.compute_insights(
        ws.warehouse,
        ws.state,
        ws.root,
        cutoff=cutoff,
        options=text.InsightOptions(neutral_band=0.2, complaint_below=-0.7),
        aspects=lambda texts, positive: text.per_text_aspects(texts, aspects, positive),
    )


def _rows(ws: Workspace) -> dict[str, dict[str, object]]:
    cols = ("feedback_id", "language", "sentiment", "sentiment_label", "aspects", "complaint",
            "model")  # fmt: skip
    found = ws.warehouse.fetch_all(f"SELECT {', '.join(cols)} FROM {text.INSIGHTS_TABLE}")
    return {r[0]: dict(zip(cols, r, strict=True)) for r in found}


@pytest.mark.slow
def test_each_feedback_is_read_once_with_the_production_model(base: Workspace) -> None:
    summary = _insights(base)
    assert summary["model"] == "sentiment v1" and summary["scored"] == 5  # not f6
    entry = registry.get_model(base.state, text.SENTIMENT_MODEL)
    assert entry.version == 1 and entry.params["source"].startswith("SnowNLP")
    rows = _rows(base)
    assert set(rows) == {"f1", "f2", "f3", "f4", "f5"}
    builtin = text.builtin_model()
    for fid, words in (("f1", "味道很好，送餐也快"), ("f3", "难吃死了，再也不买了")):
        # Traditional f3 reads exactly as its Simplified form.
        expected = 2 * builtin.positive([words])[0] - 1
        assert rows[fid]["sentiment"] == pytest.approx(expected, abs=1e-4)
        assert rows[fid]["language"] == "zh"
    assert rows["f1"]["sentiment_label"] == "positive"
    assert rows["f3"]["sentiment_label"] == "negative"
    assert rows["f3"]["complaint"] == (rows["f3"]["sentiment"] < -0.7)  # type: ignore[operator]
    assert rows["f2"]["complaint"] and rows["f5"]["complaint"]  # kind complaint
    assert rows["f5"]["language"] == "en"
    assert rows["f4"]["sentiment"] is None and rows["f4"]["sentiment_label"] is None
    assert not rows["f4"]["complaint"]
    assert "delivery" in json.loads(str(rows["f2"]["aspects"]))
    assert {"taste", "delivery"} <= set(json.loads(str(rows["f1"]["aspects"])))
    assert "service" in json.loads(str(rows["f5"]["aspects"]))

    # Nothing new: nothing read again. A later cut-off reads only f6.
    assert _insights(base)["scored"] == 0
    assert _insights(base, datetime(2025, 6, 10, tzinfo=UTC))["scored"] == 1
    # A new production model reads everything again, and each row names it.
    good, bad = ["好吃", "很好", "不错"] * 20, ["难吃", "很差", "太慢"] * 20
    trained = text.train(good + bad, [1] * 60 + [0] * 60)
    text.register_trained(
        base.state, base.root, trained, texts=good + bad, labels=[1] * 60 + [0] * 60,
        metrics={}, params={},
    )  # fmt: skip
    again = _insights(base, datetime(2025, 6, 10, tzinfo=UTC))
    assert again["model"] == "sentiment v2" and again["scored"] == 6
    assert {r["model"] for r in _rows(base).values()} == {"sentiment v2"}


@pytest.mark.slow
def test_a_recent_complaint_emits_complaint_received_once(base: Workspace) -> None:
    _insights(base)
    member = dict(base.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map"))
    detectors = text.signal_detectors(7)
    first = signals.emit(base.warehouse, cutoff=CUTOFF, detectors=detectors)
    found = [s for s in signals.read_signals(base.warehouse) if s.signal == "complaint_received"]
    flagged = {r[0] for r in base.warehouse.fetch_all(
        f"SELECT feedback_id FROM {text.INSIGHTS_TABLE} WHERE complaint")}  # fmt: skip
    # f2 is recent; f5 (two months old) is not signalled; f3 only if it read as a complaint.
    expected = {"f2"} | ({"f3"} & flagged)
    assert {s.payload["feedback_id"] for s in found} == expected
    f2 = next(s for s in found if s.payload["feedback_id"] == "f2")
    assert f2.member_id == member["p1"] and f2.payload["kind"] == "complaint"
    assert f2.payload["aspects"] == ["delivery"] and "text" not in f2.payload
    assert first.emitted["complaint_received"] == len(expected)
    again = signals.emit(base.warehouse, cutoff=CUTOFF, detectors=detectors)
    assert again.emitted.get("complaint_received", 0) == 0


# The same kind of feedback as FEEDBACK, from an export without dates (as waimai's).
UNDATED = """feedback_id,source,source_member_key,kind,rating,nps,text,channel
u1,pos,p1,review,5,,味道很好，送餐也快,app
u2,pos,p2,complaint,,,送餐太慢了，等了两个小时，饭都凉了,app
u3,pos,p2,review,1,,难吃死了，再也不买了,pos
u4,pos,p1,survey,,10,,email
"""


def _report(ws: Workspace) -> dict[str, Any]:
    return text.feedback_report(
        ws.warehouse,
        since=CUTOFF - timedelta(days=90),
        cutoff=CUTOFF,
        aspects=ws.aspects(),
        positive=text.production_model(ws.state, ws.root).positive,
    )


def _check_undated(undated: dict[str, Any]) -> None:
    assert (undated["feedback"], undated["with_text"]) == (4, 3)
    assert undated["by_kind"] == {"complaint": 1, "review": 2, "survey": 1}
    assert undated["complaints"] >= 1  # u2 is a complaint by kind
    assert undated["sentiment"]["scored"] == 3 and undated["sentiment"]["negative"] >= 1
    assert undated["negative"] == undated["sentiment"]["negative"]
    assert "delivery" in {p["name"] for p in undated["pain_points"]}
    nps = undated["nps"]["overall"]
    assert (nps["n"], nps["promoters"]) == (1, 1) and undated["nps"]["trend"] == []
    assert undated["csat"]["overall"]["n"] == 2


@pytest.mark.slow
def test_feedback_without_dates_is_reported_as_undated(
    workspace: Workspace, tmp_path: Path
) -> None:
    for kind, body in (("members", MEMBERS), ("feedback", UNDATED)):
        assert run(workspace, kind, write(tmp_path / f"{kind}.csv", body)).quarantined == 0
    _insights(workspace)
    report = _report(workspace)
    assert report["feedback"] == 0 and report["sentiment_trend"] == []  # no window holds them
    _check_undated(report["undated"])


@pytest.mark.slow
def test_dated_and_undated_feedback_are_reported_apart(base: Workspace, tmp_path: Path) -> None:
    run(base, "feedback", write(tmp_path / "undated.csv", UNDATED))
    _insights(base)
    report = _report(base)
    assert (report["feedback"], report["with_text"]) == (5, 4)  # f1-f5, as without them
    assert report["by_kind"] == {"complaint": 2, "review": 2, "survey": 1}
    assert sum(p["count"] for p in report["sentiment_trend"]) == 4
    _check_undated(report["undated"])
    base.warehouse.execute("DELETE FROM feedback WHERE occurred_at IS NULL")
    assert _report(base)["undated"] is None

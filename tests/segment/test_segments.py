"""RFM, lifecycle stages, event functions and saved segments against hand-counted answers.

The member base is tests/profile/feature_data.py (cut-off 2025-06-01): Zhang (pos/p1
merged with app/a1) kept orders o1 01-10, o2 03-10, o3 and o4 05-20 (110.00 in all),
views of sku1 (dairy) 05-02, sku3 (dairy) 05-10 and 05-12, a stitched view of sku4
(snacks) 05-14, carts 05-01, 05-15, 05-28 and a favourite 04-01; Li (pos/p2) one
order o8 on 05-25 (5.50) and a view of sku1 on 05-24; Wang (pos/p3) signs up 07-01.
Zhang's o7 (2025-06-05, 500.00) lies after the cut-off.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import ibis
import pytest

from memberlens import pipeline, segment
from memberlens.core.errors import ConfigError
from memberlens.core.settings import SegmentsSettings
from memberlens.privacy import KeyRing
from memberlens.segment import RFM_SEGMENTS, SegmentError, segment_of
from memberlens.workspace import Workspace, init_workspace
from tests.profile.feature_data import CUTOFF, load_feature_base

LATER = date(2025, 9, 1)


@pytest.fixture
def ids(workspace: Workspace, tmp_path: Path) -> dict[str, str]:
    return load_feature_base(workspace, tmp_path)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """The feature base refreshed at the cut-off, once for the tests that only preview
    rules on it: (workspace, its key ring for ``MEMBERLENS_KEYS``, the members' ids)."""
    keys = KeyRing.generate().to_json()
    root = tmp_path_factory.mktemp("refreshed") / "ws"
    init_workspace(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        with Workspace.open(root) as ws:
            ids = load_feature_base(ws, root.parent)
            pipeline.refresh(ws, as_of=CUTOFF)
    return root, keys, ids


def _catalogue_for(ws: Workspace) -> segment.CatalogueFor:
    book = ws.tag_book()
    return lambda names: segment.segment_catalogue(book, names)


def _preview(ws: Workspace, rule: str) -> set[str]:
    found = segment.preview_segment(
        ws.warehouse, ws.state, rule, settings=ws.settings.segments, book=ws.tag_book(), sample=50
    )
    assert found.members == len(found.sample)
    return set(found.sample)


# -- RFM -----------------------------------------------------------------------------


def test_every_rfm_cell_has_exactly_one_named_segment_and_all_eleven_occur() -> None:
    cells = {(r, fm): segment_of(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert set(cells.values()) == {s.name for s in RFM_SEGMENTS}
    assert len(RFM_SEGMENTS) == 11
    # The corners and a few interior cells, read off the table in docs/segments.md.
    assert cells[(5, 5)] == cells[(4, 4)] == "Champions"
    assert cells[(3, 5)] == cells[(5, 3)] == "Loyal"
    assert cells[(1, 5)] == "Can't Lose Them" and cells[(2, 5)] == "At Risk"
    assert (cells[(5, 1)], cells[(4, 1)], cells[(4, 2)]) == (
        "New",
        "Promising",
        "Potential Loyalist",
    )
    assert (cells[(3, 2)], cells[(3, 1)]) == ("Need Attention", "About to Sleep")
    assert (cells[(2, 1)], cells[(1, 2)]) == ("Hibernating", "Lost")


def _ntile_reference(keys: list[tuple[object, str]], bins: int) -> dict[str, int]:
    """Equal-count bins over sorted keys, the first len % bins bins one larger (SQL ntile)."""
    ordered = [member for _, member in sorted(keys)]
    size, extra = divmod(len(ordered), bins)
    out, at = {}, 0
    for b in range(1, bins + 1):
        take = size + (1 if b <= extra else 0)
        for member in ordered[at : at + take]:
            out[member] = b
        at += take
    return out


def test_rfm_scores_break_ties_on_member_id() -> None:
    members = [f"m{i}" for i in range(10)]
    table = ibis.memtable(
        {
            "member_id": members,
            "recency_days": [5] * 10,  # all tied: member id decides
            "frequency": list(range(1, 11)),
            "monetary": [100.0 - 10 * i for i in range(10)],
        }
    )
    got = {
        r["member_id"]: r
        for r in ibis.duckdb.connect().to_pyarrow(segment.rfm_scores(table, 5)).to_pylist()
    }
    # R by member id (m0, m1 -> 1 ... m8, m9 -> 5); F rises with i; M falls with i.
    assert [got[m]["r_score"] for m in members] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [got[m]["f_score"] for m in members] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [got[m]["m_score"] for m in members] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # m0: R1, FM (1 + 5 + 1) // 2 = 3 -> At Risk; m9: R5, FM 3 -> Loyal.
    assert (got["m0"]["segment"], got["m9"]["segment"]) == ("At Risk", "Loyal")


@pytest.mark.parametrize("bins", [2, 3, 5, 7])
def test_rfm_scores_match_a_plain_python_reference(bins: int) -> None:
    rng = random.Random(bins)
    n = 97
    members = [f"m{i:03d}" for i in rng.sample(range(1000), n)]
    recency = [rng.randint(0, 30) for _ in range(n)]  # many ties
    frequency = [rng.randint(1, 6) for _ in range(n)]
    monetary = [None if rng.random() < 0.1 else round(rng.uniform(1, 50), 2) for _ in range(n)]
    table = ibis.memtable(
        {
            "member_id": members,
            "recency_days": recency,
            "frequency": frequency,
            "monetary": monetary,
        }
    )
    got = {
        r["member_id"]: r
        for r in ibis.duckdb.connect().to_pyarrow(segment.rfm_scores(table, bins)).to_pylist()
    }
    r_ref = _ntile_reference([(-d, m) for d, m in zip(recency, members, strict=True)], bins)
    f_ref = _ntile_reference(list(zip(frequency, members, strict=True)), bins)
    m_ref = _ntile_reference([(v or 0.0, m) for v, m in zip(monetary, members, strict=True)], bins)
    for m in members:
        assert (got[m]["r_score"], got[m]["f_score"], got[m]["m_score"]) == (
            r_ref[m],
            f_ref[m],
            m_ref[m],
        )
        five = [-(-s * 5 // bins) for s in (r_ref[m], (f_ref[m] + m_ref[m] + 1) // 2)]
        assert got[m]["segment"] == segment_of(*five)


# -- the refresh step ------------------------------------------------------------------


@pytest.mark.slow
def test_refresh_writes_rfm_and_lifecycle_counted_by_hand(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    run = pipeline.refresh(workspace, as_of=CUTOFF).steps["segments"]
    # Two buyers: R by recency (Zhang 11 days, Li 6), F (4 vs 1), M (110.00 vs 5.50):
    # Zhang R1, FM (2 + 2 + 1) // 2 = 2 -> Lost; Li R2, FM 1 -> Hibernating.
    assert run["rfm"] == {"Hibernating": 1, "Lost": 1}
    rows = dict(
        workspace.warehouse.fetch_all(
            "SELECT member_id, rfm_segment FROM member_rfm WHERE snapshot_date = ?", [CUTOFF]
        )
    )
    assert rows == {ids["p1"]: "Lost", ids["p2"]: "Hibernating"}
    # Zhang: 4 orders, 457 days a member -> mature; Li: 137 days, one order -> growing.
    assert run["lifecycle"] == {"growing": 1, "mature": 1}
    later = pipeline.refresh(workspace, as_of=LATER).steps["segments"]
    # Wang joined 07-01 (new); Li's last order is 99 days old with no interval (at_risk);
    # Zhang bought o7 on 06-05, 88 days before (still mature).
    assert later["lifecycle"] == {"at_risk": 1, "mature": 1, "new": 1}
    flow = segment.lifecycle_summary(workspace.warehouse, workspace.settings.segments)["flow"]
    assert {(f["from"], f["to"]): f["members"] for f in flow} == {
        (None, "new"): 1,
        ("growing", "at_risk"): 1,
        ("mature", "mature"): 1,
    }


def test_a_bad_lifecycle_rule_stops_the_refresh_before_any_step(workspace: Workspace) -> None:
    workspace.settings.segments = SegmentsSettings(lifecycle={"new": "tenure_dayz < 30"})
    with pytest.raises(
        ConfigError, match=r"\[segments.lifecycle\] new: unknown name 'tenure_dayz'"
    ):
        pipeline.refresh(workspace, as_of=CUTOFF)


# -- event functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "who"),
    [
        ("purchased(within: 30d, at_least: 2)", {"p1"}),  # o3, o4 on 05-20
        ("purchased(within: 30d, at_least: 3)", set()),
        ("purchased(within: 7d)", {"p2"}),  # o8 on 05-25
        ('purchased(category: "snacks")', {"p1"}),  # o4 holds sku4
        ('purchased(product: "sku2", within: 100d)', {"p1"}),  # o2 on 03-10 (83 days)
        ('purchased(product: "sku2", within: 80d)', set()),
        ("viewed(within: 30d, at_least: 4)", {"p1"}),  # e1, e2, e3 and the stitched e7
        ('viewed(category: "dairy", within: 30d, at_least: 3)', {"p1"}),
        ('viewed(category: "dairy", within: 30d)', {"p1", "p2"}),
        ("carted(within: 7d)", {"p1"}),  # e6 on 05-28
        ('did(event: "favorite", within: 90d)', {"p1"}),  # e9 on 04-01
        ('did(event: "favorite", within: 8w)', set()),
        ("not purchased(within: 10d) and frequency >= 1", {"p1"}),
        ("viewed(at_least: 0)", {"p1", "p2"}),
    ],
)
def test_event_functions_count_the_window_before_the_cut_off(
    refreshed: tuple[Path, str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    rule: str,
    who: set[str],
) -> None:
    root, keys, ids = refreshed
    monkeypatch.setenv("MEMBERLENS_KEYS", keys)
    with Workspace.open(root) as ws:
        assert _preview(ws, rule) == {ids[k] for k in who}


# -- saved segments --------------------------------------------------------------------


@pytest.mark.slow
def test_saved_segments_keep_history_and_signal_entries_and_exits_once(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    save = _catalogue_for(workspace)
    segment.save_segment(workspace.state, save, name="buyers", rule="purchased(within: 90d)",
                         actor="t")  # fmt: skip
    segment.save_segment(workspace.state, save, name="regulars",
                         rule="segment.buyers and frequency >= 2", actor="t")  # fmt: skip
    first = pipeline.refresh(workspace, as_of=CUTOFF)
    assert first.steps["segments"]["segments"] == {"buyers": 2, "regulars": 1}
    assert first.steps["segments"]["entered"] == 0  # a segment's first snapshot: baseline

    second = pipeline.refresh(workspace, as_of=LATER)
    # From 06-03: Zhang's o7 (06-05) keeps him in; Li's last order (05-25) is too old.
    assert second.steps["segments"]["segments"] == {"buyers": 1, "regulars": 1}
    assert (second.steps["segments"]["entered"], second.steps["segments"]["exited"]) == (0, 1)
    assert second.steps["signals"]["emitted"]["segment_exited"] == 1
    changes = segment.segment_membership(
        workspace.warehouse, workspace.state, "buyers", changes=True, limit=10
    )["changes"]
    assert changes == [{"snapshot_date": "2025-09-01", "change": "exited", "member_id": ids["p2"]}]

    again = pipeline.refresh(workspace, as_of=LATER)  # the same snapshot again
    assert again.steps["signals"]["emitted"]["segment_exited"] == 0
    listed = {
        s.name: s for s in segment.list_segments(workspace.state, warehouse=workspace.warehouse)
    }
    assert listed["buyers"].trend == ((CUTOFF, 2), (LATER, 1))
    members = segment.segment_membership(
        workspace.warehouse, workspace.state, "regulars", changes=False, limit=10
    )
    assert (members["members"], members["member_ids"]) == (1, [ids["p1"]])


def test_segments_refuse_cycles_bad_names_and_deleting_what_others_read(
    workspace: Workspace,
) -> None:
    save = _catalogue_for(workspace)
    segment.save_segment(workspace.state, save, name="a", rule="frequency >= 1", actor="t")
    segment.save_segment(workspace.state, save, name="b", rule="segment.a", actor="t")
    with pytest.raises(SegmentError, match=r"segment.a -> segment.b -> segment.a"):
        segment.save_segment(workspace.state, save, name="a", rule="segment.b", actor="t")
    with pytest.raises(SegmentError, match=r"unknown name 'frequncy'.*did you mean frequency"):
        segment.save_segment(workspace.state, save, name="c", rule="frequncy > 1", actor="t")
    with pytest.raises(SegmentError, match="is not a segment name"):
        segment.save_segment(workspace.state, save, name="Bad Name", rule="true", actor="t")
    with pytest.raises(SegmentError, match="read by b"):
        segment.delete_segment(workspace.state, "a")
    segment.delete_segment(workspace.state, "b")
    segment.delete_segment(workspace.state, "a")
    assert segment.list_segments(workspace.state, warehouse=None) == []


def test_preview_needs_a_refresh_first(workspace: Workspace) -> None:
    with pytest.raises(segment.NoSnapshot, match="run `memberlens refresh` first"):
        _preview(workspace, "frequency >= 1")


@pytest.mark.slow
def test_previews_read_the_kept_member_table_and_agree_with_a_fresh_one(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    pipeline.refresh(workspace, as_of=CUTOFF)
    rules = [
        'rfm_segment = "Lost" or lifecycle_stage = "growing"',
        "viewed(within: 30d, at_least: 2) and tier is null",
        "frequency >= 1 and not carted(within: 7d)",
    ]
    kept = {rule: _preview(workspace, rule) for rule in rules}
    assert workspace.warehouse.has_table("segment_member_table")
    workspace.warehouse.execute("DROP TABLE segment_member_table")  # force the slow path
    assert {rule: _preview(workspace, rule) for rule in rules} == kept
    assert kept[rules[0]] == {ids["p1"], ids["p2"]}  # Zhang Lost, Li growing
    # A segment saved after the refresh has no column there yet: still previewable.
    save = _catalogue_for(workspace)
    segment.save_segment(workspace.state, save, name="later", rule="frequency >= 2", actor="t")
    assert _preview(workspace, "segment.later or frequency >= 1") == {ids["p1"], ids["p2"]}


def _compute(ws: Workspace, name: str) -> segment.SavedSegment:
    return segment.compute_saved_segment(
        ws.warehouse, ws.state, name, settings=ws.settings.segments, book=ws.tag_book()
    )


@pytest.mark.slow
def test_a_saved_segment_is_computed_at_once_with_the_segments_reading_it(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    """Saved after the refresh of 2025-06-01, a segment gets its members of that snapshot
    at once (Zhang bought 4 times, Li once); changing its rule recomputes it and the
    segments that read it, and the next refresh of the same day agrees."""
    save = _catalogue_for(workspace)
    segment.save_segment(workspace.state, save, name="early", rule="frequency >= 1", actor="t")
    before = _compute(workspace, "early")  # no refresh yet: nothing to compute on
    assert (before.members, before.snapshot_date) == (None, None)
    pipeline.refresh(workspace, as_of=CUTOFF)

    segment.save_segment(workspace.state, save, name="repeaters", rule="frequency >= 2",
                         actor="t")  # fmt: skip
    found = _compute(workspace, "repeaters")
    assert (found.members, found.snapshot_date, found.trend) == (1, CUTOFF, ((CUTOFF, 1),))
    members = segment.segment_membership(
        workspace.warehouse, workspace.state, "repeaters", changes=False, limit=10
    )
    assert members["member_ids"] == [ids["p1"]]
    segment.save_segment(workspace.state, save, name="loyal", rule="segment.repeaters",
                         actor="t")  # fmt: skip
    assert _compute(workspace, "loyal").members == 1
    assert _preview(workspace, "segment.loyal") == {ids["p1"]}

    # A new rule for repeaters: it and loyal, which reads it, are recomputed.
    segment.save_segment(workspace.state, save, name="repeaters", rule="frequency >= 1",
                         actor="t")  # fmt: skip
    assert _compute(workspace, "repeaters").members == 2
    listed = {
        s.name: s.members
        for s in segment.list_segments(workspace.state, warehouse=workspace.warehouse)
    }
    assert listed == {"early": 2, "loyal": 2, "repeaters": 2}
    compared = segment.compare_segments(workspace.warehouse, workspace.state, "loyal", "early")
    assert (compared["snapshot_date"], compared["overlap"]) == ("2025-06-01", 2)
    again = pipeline.refresh(workspace, as_of=CUTOFF)
    assert again.steps["segments"]["segments"] == {"early": 2, "loyal": 2, "repeaters": 2}


@pytest.mark.slow
def test_a_preview_reads_an_older_predictions_table_without_altering_it(
    workspace: Workspace, ids: dict[str, str]
) -> None:
    """Previews run beside a refresh on their own connection: a predictions table made
    before lapsed members were told apart reads as nulls there, and stays as it was."""
    pipeline.refresh(workspace, as_of=CUTOFF)
    wh = workspace.warehouse
    wh.execute("ALTER TABLE member_predictions DROP COLUMN lapsed")
    wh.execute("DROP TABLE segment_member_table")  # the rebuilt member table, not the kept one
    assert _preview(workspace, "prediction.lapsed or frequency >= 2") == {ids["p1"]}
    assert "lapsed" not in wh.table("member_predictions").columns

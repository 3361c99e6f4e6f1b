"""``memberlens segment baskets`` as a user runs it: exit codes and JSON per docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import cli, json_of
from tests.conftest import DATASETS, requires_datasets
from tests.ingest.helpers import write

ORDERS = """order_id,source,source_member_key,ordered_at
o1,pos,m1,2024-05-01T09:00:00Z
o2,pos,m2,2024-05-01T10:00:00Z
o3,pos,m3,2024-05-02T10:00:00Z
"""
# eggs+milk in 2 of 3 baskets, eggs in 2, milk in 3: eggs -> milk has confidence 1 and
# lift 1 / (3/3) = 1; milk -> eggs confidence 2/3, lift (2/3) / (2/3) = 1.
ITEMS = """source,order_id,line_no,product_id
pos,o1,1,milk
pos,o1,2,eggs
pos,o2,1,milk
pos,o2,2,eggs
pos,o3,1,milk
"""


def _workspace(tmp_path: Path) -> str:
    ws = str(tmp_path / "ws")
    cli("init", ws, check=True)
    for kind, text in (("orders", ORDERS), ("order_items", ITEMS)):
        path = write(tmp_path / f"{kind}.csv", text)
        cli("ingest", kind, str(path), "-w", ws, "--quiet", check=True)
    return ws


@pytest.mark.slow
def test_segment_baskets_json_and_text(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    cli("init", ws, check=True)
    empty = cli("segment", "baskets", "-w", ws)
    assert empty.returncode == 1 and "NO_BASKETS" in empty.stderr
    ws = _workspace(tmp_path / "shop")
    data = json_of("segment", "baskets", "-w", ws, "--min-support", "0.5", schema="segment-baskets")
    assert (data["baskets"], data["items"], data["itemsets"], data["rules_total"]) == (3, 2, 3, 2)
    first, second = data["rules"]
    assert (first["antecedent"], first["consequent"], first["conviction"]) == (
        ["eggs"],
        ["milk"],
        None,
    )
    assert first["confidence"] == 1.0 and first["lift"] == pytest.approx(1.0)
    assert second["confidence"] == pytest.approx(2 / 3)
    top = json_of("segment", "baskets", "-w", ws, "--top", "1", schema="segment-baskets")
    assert len(top["rules"]) == 1 and top["rules_total"] == 2
    text = cli("segment", "baskets", "-w", ws, "--min-support", "0.5", check=True).stdout
    assert "3 baskets, 2 items, 3 frequent itemsets, 2 rules" in text
    bad = cli("segment", "baskets", "-w", ws, "--min-support", "2")
    assert bad.returncode == 2 and "share of baskets" in bad.stderr
    assert cli("segment", "baskets", "--by", "brand", "-w", ws).returncode == 2
    assert "--min-lift" in cli("segment", "baskets", "--help", check=True).stdout


@requires_datasets
@pytest.mark.slow
def test_segment_baskets_on_groceries(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    cli("init", ws, check=True)
    groceries = DATASETS / "groceries" / "Groceries_dataset.csv"
    cli("ingest", "order_items", str(groceries), "--preset", "groceries", "-w", ws, check=True)
    data = json_of("segment", "baskets", "-w", ws, "--top", "5", schema="segment-baskets")
    assert (data["baskets"], data["items"], data["itemsets"], data["rules_total"]) == (
        14_963,
        167,
        750,
        240,
    )
    best = data["rules"][0]
    assert (best["antecedent"], best["consequent"], best["count"]) == (
        ["whole milk", "yogurt"],
        ["sausage"],
        22,
    )


@pytest.mark.slow
def test_saved_segment_commands_as_documented(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    early = cli("segment", "preview", "frequency >= 1", "-w", ws)
    assert early.returncode == 1 and "NO_SNAPSHOT" in early.stderr
    cli("refresh", "--as-of", "2024-06-01", "-w", ws, "--quiet", check=True)
    # From 2024-05-02 00:00 only o3 (m3, 05-02 10:00) lies in the 30 days.
    found = json_of(
        "segment", "preview", "purchased(within: 30d)", "-w", ws, schema="segment-preview"
    )
    assert (found["members"], found["of"], found["snapshot_date"]) == (1, 3, "2024-06-01")
    saved = json_of(
        "segment", "save", "recent", "purchased(within: 30d)", "--owner", "crm", "-w", ws,
        schema="segment-save",
    )  # fmt: skip
    # Computed at once on the newest snapshot: the preview's member.
    assert (saved["name"], saved["owner"], saved["members"]) == ("recent", "crm", 1)
    assert saved["snapshot_date"] == "2024-06-01"
    shown = cli("segment", "save", "recent", "purchased(within: 30d)", "-w", ws, check=True)
    assert "saved segment recent: 1 members on 2024-06-01" in shown.stdout
    bad = cli("segment", "save", "oops", "purchasd(within: 30d)", "-w", ws)
    assert bad.returncode == 1 and "did you mean purchased" in bad.stderr
    assert cli("segment", "save", "x", "-w", ws).returncode == 2  # no rule given

    cli("refresh", "--as-of", "2024-06-01", "-w", ws, "--quiet", check=True)
    cli("refresh", "--as-of", "2024-07-01", "-w", ws, "--quiet", check=True)
    (listed,) = json_of("segment", "list", "-w", ws, schema="segment-list")
    assert [(t["snapshot_date"], t["members"]) for t in listed["trend"]] == [
        ("2024-06-01", 1),
        ("2024-07-01", 0),
    ]
    changes = json_of(
        "segment", "members", "recent", "--changes", "-w", ws, schema="segment-members"
    )
    assert [(c["snapshot_date"], c["change"]) for c in changes["changes"]] == [
        ("2024-07-01", "exited")
    ]
    rfm = json_of("segment", "rfm", "-w", ws, schema="segment-rfm")
    assert rfm["members"] == 3 and sum(s["members"] for s in rfm["segments"]) == 3
    stages = json_of("segment", "lifecycle", "-w", ws, schema="segment-lifecycle")
    assert stages["previous"] == "2024-06-01"
    assert sum(s["members"] for s in stages["stages"]) == 3
    out = tmp_path / "recent.csv"
    report = json_of(
        "segment", "export", "recent", "--out", str(out), "--contacts", "none", "-w", ws,
        schema="segment-export",
    )  # fmt: skip
    # m3 left on 07-01: nobody is in the newest snapshot.
    assert report["rows"] == 0 and out.read_text(encoding="utf-8").strip() == "member_id"
    deleted = cli("segment", "delete", "recent", "-w", ws, check=True)
    assert "deleted segment recent" in deleted.stdout


@pytest.mark.slow
def test_segment_clusters_finds_the_groups_of_a_made_up_shop(tmp_path: Path) -> None:
    # 20 members each: one order of 5.00 in January; eight orders of 400.00 until late
    # May; three orders of 60.00 in March. Three groups, plain to see.
    lines = ["order_id,source,source_member_key,ordered_at,total_amount"]
    groups = {"a": (1, 5.0, 1), "b": (8, 400.0, 5), "c": (3, 60.0, 3)}
    for group, (orders, amount, month) in groups.items():
        for m in range(20):
            for o in range(orders):
                day = 1 + (o * 3 + m) % 25
                lines.append(
                    f"{group}{m}-{o},pos,{group}{m},2024-{month:02d}-{day:02d}T10:00:00Z,{amount}"
                )
    ws = str(tmp_path / "ws")
    cli("init", ws, check=True)
    cli("ingest", "orders", str(write(tmp_path / "o.csv", "\n".join(lines) + "\n")), "-w", ws,
        "--quiet", check=True)  # fmt: skip
    early = cli("segment", "clusters", "-w", ws)
    assert early.returncode == 1 and "NO_SNAPSHOT" in early.stderr
    cli("refresh", "--as-of", "2024-06-01", "-w", ws, "--quiet", check=True)
    found = json_of("segment", "clusters", "-w", ws, schema="segment-clusters")
    assert found["k"] == 3
    assert sorted(c["size"] for c in found["clusters"]) == [20, 20, 20]
    big = max(found["clusters"], key=lambda c: c["value_share"])
    assert big["means"]["frequency"] == 8 and "high-spend" in big["name"]
    assert big["value_share"] == 20 * 8 * 400 / (20 * 8 * 400 + 20 * 3 * 60 + 20 * 5)

"""The synthetic member base: deterministic, consistent, and true to its parameters."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from memberlens.demo import DemoTruth, generate_sources

MEMBERS = 1_000


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoTruth]:
    folder = tmp_path_factory.mktemp("src")
    return folder, generate_sources(folder, members=MEMBERS, seed=11)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    generate_sources(tmp_path / "a", members=300, seed=5)
    generate_sources(tmp_path / "b", members=300, seed=5)
    generate_sources(tmp_path / "c", members=300, seed=6)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a")["orders.csv"] != _digests(tmp_path / "c")["orders.csv"]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_order_totals_equal_lines_minus_discount_exactly(sources: tuple[Path, DemoTruth]) -> None:
    folder, _ = sources
    gross: dict[str, Decimal] = defaultdict(Decimal)
    for line in _read_csv(folder / "order_items.csv"):
        if line["order_id"].startswith("X"):  # a dirty line on purpose
            continue
        assert Decimal(line["amount"]) == Decimal(line["unit_price"]) * int(line["quantity"])
        gross[line["order_id"]] += Decimal(line["amount"])
    orders = [
        o
        for o in _read_csv(folder / "orders.csv")
        if o["order_id"] and not o["order_id"].startswith("X")
    ]
    assert len(orders) == len(gross)
    for o in orders:
        assert Decimal(o["total_amount"]) == gross[o["order_id"]] - Decimal(o["discount_amount"])


def test_every_order_belongs_to_a_member_record(sources: tuple[Path, DemoTruth]) -> None:
    folder, _ = sources
    keys = {(m["source"], m["source_member_key"]) for m in _read_csv(folder / "members_pos.csv")}
    with (folder / "members_app.jsonl").open(encoding="utf-8") as fh:
        keys |= {(r["source"], r.get("source_member_key")) for r in map(json.loads, fh)}
    orders = _read_csv(folder / "orders.csv")
    assert all((o["source"], o["source_member_key"]) in keys for o in orders)


def test_dirty_rows_are_counted_and_in_every_file(sources: tuple[Path, DemoTruth]) -> None:
    folder, truth = sources
    files = truth.files
    assert files["products.csv"]["dirty"] == 0
    assert all(info["dirty"] >= 5 for name, info in files.items() if name != "products.csv")
    bad_email = [m for m in _read_csv(folder / "members_pos.csv") if m["email"] == "li.na@@example"]
    assert 1 <= len(bad_email) <= files["members_pos.csv"]["dirty"]


def test_two_source_members_share_identifiers_spelled_differently(
    sources: tuple[Path, DemoTruth],
) -> None:
    folder, truth = sources
    assert 0.10 * MEMBERS < len(truth.identity_clusters) < 0.20 * MEMBERS
    pos = {m["source_member_key"]: m for m in _read_csv(folder / "members_pos.csv")}
    with (folder / "members_app.jsonl").open(encoding="utf-8") as fh:
        app = {r["source_member_key"]: r for r in map(json.loads, fh) if "source_member_key" in r}
    (_, pk), (_, ak) = truth.identity_clusters[0]
    digits = "".join(ch for ch in app[ak]["phone"] if ch.isdigit())
    assert digits.endswith(pos[pk]["phone"]) and app[ak]["phone"] != pos[pk]["phone"]


def test_purchase_counts_follow_the_bgnbd_truth(sources: tuple[Path, DemoTruth]) -> None:
    """Mean repeat purchases match the BG/NBD expectation E[X(t)] for each person's t.

    Fader, Hardie & Lee (2005), eq. 9: E[X(t)] = (a+b-1)/(a-1) *
    [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]. Seasonality only bends calendar time,
    so over the whole window the expectation holds; the tolerance is four standard
    errors of the sample mean.
    """
    folder, truth = sources
    r, alpha, a, b = (truth.bgnbd[k] for k in ("r", "alpha", "a", "b"))
    end = np.datetime64(truth.window_end) + np.timedelta64(1, "D")
    first: dict[str, np.datetime64] = {}
    counts: dict[str, int] = defaultdict(int)
    person_of = _person_of(truth)
    for o in _read_csv(folder / "orders.csv"):
        if not o["order_id"] or o["order_id"].startswith("X"):
            continue
        who = person_of.get((o["source"], o["source_member_key"]), o["source_member_key"])
        at = np.datetime64(o["ordered_at"][:19])
        first[who] = min(first.get(who, at), at)
        counts[who] += 1
    t = np.array([(end - first[w]) / np.timedelta64(7, "D") for w in first])
    x = np.array([counts[w] - 1 for w in first])
    z = t / (alpha + t)
    expected = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
    )
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert abs(x.mean() - expected.mean()) < 4 * se, (x.mean(), expected.mean(), se)


def _person_of(truth: DemoTruth) -> dict[tuple[str, str], str]:
    """Records of one person map to one name (the till record's key)."""
    out: dict[tuple[str, str], str] = {}
    for cluster in truth.identity_clusters:
        name = cluster[0][1]
        for source, key in cluster:
            out[(source, key)] = name
    return out

"""Purchase features on the real CDNOW and Groceries data against answers worked out
from the raw files: a few named customers by hand, and every customer by a plain-Python
reading of the file that shares no code with memberlens.

CDNOW (cut-off 1998-01-01): every line is one order (the preset keeps two purchases on
one day as two orders). Groceries (cut-off 2016-01-01): a member's rows on one day are
one basket; the file carries no prices, so monetary is null.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from memberlens import pipeline
from memberlens.ingest import IngestRequest, ingest_file, load_preset
from memberlens.workspace import Workspace
from tests.conftest import DATASETS, requires_datasets

pytestmark = [requires_datasets, pytest.mark.slow]

CDNOW_CUTOFF = date(1998, 1, 1)
GROCERIES_CUTOFF = date(2016, 1, 1)


def _features(ws: Workspace, kind: str, preset: str, file: str, day: date) -> dict[str, Any]:
    """Features by the source's own customer key."""
    request = IngestRequest(kind=kind, path=DATASETS / file, mapping=load_preset(preset))
    ingest_file(ws.warehouse, ws.keyring, request)
    pipeline.refresh(ws, as_of=day, only=["identity", "features"])
    cursor = ws.warehouse.execute(
        "SELECT m.source_member_key AS key, f.* FROM member_features f "
        "JOIN member_map m USING (member_id) WHERE f.snapshot_date = ?",
        [day],
    )
    names = [column[0] for column in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _cdnow_by_hand(day: date) -> dict[str, tuple[int, Decimal, int]]:
    """customer -> (orders, spend, days since the last order) before ``day``."""
    orders: dict[str, int] = defaultdict(int)
    spend: dict[str, Decimal] = defaultdict(Decimal)
    last: dict[str, date] = {}
    with open(DATASETS / "cdnow/CDNOW_master.txt", encoding="ascii") as lines:
        next(lines)  # header
        for line in lines:
            customer, when, _cds, dollars = line.split()
            bought = datetime.strptime(when, "%Y%m%d").date()
            if bought >= day:
                continue
            orders[customer] += 1
            spend[customer] += Decimal(dollars)
            last[customer] = max(last.get(customer, bought), bought)
    return {c: (orders[c], spend[c], (day - last[c]).days) for c in orders}


def test_cdnow_named_customers_and_every_customer(workspace: Workspace) -> None:
    got = _features(workspace, "orders", "cdnow", "cdnow/CDNOW_master.txt", CDNOW_CUTOFF)

    # 00003: 1997-01-02 20.76, 03-30 20.76, 04-02 19.54, 11-15 57.45, 11-25 20.96
    # (and 1998-05-28, after the cut-off).
    c3 = got["00003"]
    assert (c3["frequency"], c3["monetary"], c3["recency_days"]) == (5, Decimal("139.47"), 37)
    assert c3["avg_order_value"] == Decimal("27.89")  # 139.47 / 5 = 27.894
    assert c3["interval_mean_days"] == pytest.approx(327 / 4)  # Jan 2 .. Nov 25, 5 days
    assert c3["spend_90d"] == Decimal("78.41")  # 57.45 + 20.96 (from 1997-10-03)
    assert (c3["orders_30d"], c3["orders_90d"], c3["orders_365d"]) == (0, 2, 5)
    # 00002: two purchases on 1997-01-12 are two orders but one purchase day.
    c2 = got["00002"]
    assert (c2["frequency"], c2["monetary"], c2["recency_days"]) == (2, Decimal("89.00"), 354)
    assert c2["interval_mean_days"] is None
    # 07592, CDNOW's heaviest buyer in 1997: 143 orders, last on 1997-12-12.
    heavy = got["07592"]
    assert (heavy["frequency"], heavy["monetary"], heavy["recency_days"]) == (
        143,
        Decimal("10417.05"),
        20,
    )

    expected = _cdnow_by_hand(CDNOW_CUTOFF)
    assert len(expected) == 23_570  # everyone bought first in the first quarter of 1997
    mismatched = [
        customer
        for customer, (orders, spend, recency) in expected.items()
        if (got[customer]["frequency"], got[customer]["monetary"], got[customer]["recency_days"])
        != (orders, spend, recency)
    ]
    assert mismatched == []


def test_groceries_named_member_and_every_member(workspace: Workspace) -> None:
    got = _features(
        workspace,
        "order_items",
        "groceries",
        "groceries/Groceries_dataset.csv",
        GROCERIES_CUTOFF,
    )

    # Member 1000 shopped on 2014-06-24, 2015-03-15, 05-27, 07-24 and 11-25.
    m = got["1000"]
    assert (m["frequency"], m["recency_days"]) == (5, 37)
    assert m["interval_mean_days"] == pytest.approx(519 / 4)
    assert m["monetary"] is None and m["avg_order_value"] is None  # the file has no prices
    assert m["orders_365d"] == 4  # 2015-03-15 .. 2015-11-25

    baskets: dict[str, set[str]] = defaultdict(set)
    with open(DATASETS / "groceries/Groceries_dataset.csv", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            member, day, _item = line.rstrip("\n").split(",", 2)
            baskets[member].add(day)
    assert len(baskets) == 3_898
    assert {k: got[k]["frequency"] for k in baskets} == {k: len(v) for k, v in baskets.items()}

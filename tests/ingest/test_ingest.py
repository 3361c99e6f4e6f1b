"""Ingest behaviour on small hand-made files whose right answer we know."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from memberlens.core.errors import ConfigError, InputError, Interrupted, UsageError
from memberlens.ingest import IngestRequest, ingest_file, parse_mapping
from memberlens.workspace import Workspace
from tests.ingest.helpers import balanced, rows, run, write

ORDERS = """order_id,source,source_member_key,ordered_at,total_amount,status
o1,pos,m1,2024-05-01T10:00:00+08:00,12.50,completed
o2,pos,m2,2024-05-02 09:30:00,3.00,completed
o3,pos,m1,20240503,7.00,completed
o4,pos,m3,2024-05-04T00:00:00Z,-5.00,completed
o5,pos,m3,2024-05-05T00:00:00Z,-5.00,refunded
o6,pos,,2024-05-06T00:00:00Z,abc,completed
"""


def test_counts_balance_and_bad_rows_are_quarantined_with_reasons(
    workspace: Workspace, tmp_path: Path
) -> None:
    r = run(workspace, "orders", write(tmp_path / "orders.csv", ORDERS))
    assert (r.read, r.loaded, r.quarantined, r.duplicates) == (6, 3, 3, 0)
    assert balanced(r)
    q = rows(workspace, "SELECT line, column_name, reason FROM quarantine ORDER BY line")
    assert [line for line, _, _ in q] == [4, 5, 7]
    assert q[0][1] == "ordered_at" and "'20240503' is not a valid timestamp" in q[0][2]
    assert "set `format` in the mapping" in q[0][2]
    assert q[1][1] == "total_amount" and "-5.00 is negative" in q[1][2]
    assert "'abc' is not a valid decimal" in q[2][2]
    loaded = dict(rows(workspace, "SELECT order_id, total_amount FROM orders"))
    # A refund may be negative; the same amount on a completed order may not.
    assert loaded == {"o1": Decimal("12.50"), "o2": Decimal("3.00"), "o5": Decimal("-5.00")}


def test_timestamps_are_stored_in_utc(workspace: Workspace, tmp_path: Path) -> None:
    run(workspace, "orders", write(tmp_path / "orders.csv", ORDERS))
    got = dict(rows(workspace, "SELECT order_id, ordered_at FROM orders"))
    assert got["o1"] == datetime(2024, 5, 1, 2, 0)  # +08:00 offset honoured
    assert got["o2"] == datetime(2024, 5, 2, 1, 30)  # naive: workspace zone Asia/Shanghai
    assert got["o5"] == datetime(2024, 5, 5, 0, 0)  # Z


def test_reimport_adds_nothing_and_identical_rows_stay_two(
    workspace: Workspace, tmp_path: Path
) -> None:
    # Two identical purchases on one day, no order id: two real orders.
    text = "source,source_member_key,ordered_at,total_amount\n" + (
        "pos,m1,2024-01-01T10:00:00Z,9.99\n" * 2
    )
    path = write(tmp_path / "twins.csv", text)
    first = run(workspace, "orders", path)
    assert (first.loaded, first.duplicates) == (2, 0)
    again = run(workspace, "orders", path)
    assert (again.read, again.loaded, again.duplicates) == (2, 0, 2)
    assert rows(workspace, "SELECT count(*), count(DISTINCT order_id) FROM orders") == [(2, 2)]


def test_same_key_new_content_updates_and_keeps_history(
    workspace: Workspace, tmp_path: Path
) -> None:
    run(workspace, "orders", write(tmp_path / "a.csv", ORDERS))
    changed = ORDERS.replace(
        "o2,pos,m2,2024-05-02 09:30:00,3.00", "o2,pos,m2,2024-05-02 09:30:00,4.00"
    )
    r = run(workspace, "orders", write(tmp_path / "b.csv", changed))
    assert (r.loaded, r.updated, r.duplicates, r.quarantined) == (1, 1, 2, 3)
    assert rows(workspace, "SELECT total_amount FROM orders WHERE order_id = 'o2'") == [
        (Decimal("4.00"),)
    ]
    assert rows(workspace, "SELECT total_amount FROM orders_history WHERE order_id = 'o2'") == [
        (Decimal("3.00"),)
    ]


def test_unknown_members_are_loaded_and_flagged_as_orphans(
    workspace: Workspace, tmp_path: Path
) -> None:
    members = "source,source_member_key,email\npos,m1,a@example.com\n"
    run(workspace, "members", write(tmp_path / "m.csv", members))
    r = run(workspace, "orders", write(tmp_path / "o.csv", ORDERS))
    assert r.orphans == 2  # m2 and m3 (o5); m1 is known
    flagged = rows(workspace, "SELECT order_id FROM orders WHERE _flags = 'orphan' ORDER BY 1")
    assert flagged == [("o2",), ("o5",)]
    # Every member key resolves through member_map, orphan or not.
    assert rows(workspace, "SELECT count(*) FROM member_map") == [(3,)]


def test_member_ids_are_deterministic(workspace: Workspace, tmp_path: Path) -> None:
    from memberlens.core.ids import stable_id

    run(workspace, "orders", write(tmp_path / "o.csv", ORDERS))
    got = rows(workspace, "SELECT member_id FROM member_map WHERE source_member_key = 'm1'")
    assert got == [(stable_id("m", "pos", "m1"),)]


def test_mapping_renames_maps_values_and_parses_unix_time(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = "uid,item,what,ts\nu1,i1,pv,1511544070\nu1,i2,buy,1511544071\nu2,i3,teleport,1\n"
    mapping = """
[tables.events]
source_member_key = "uid"
product_id = "item"
event_type = { column = "what", map = { pv = "view", buy = "purchase" } }
occurred_at = { column = "ts", format = "unix" }
"""
    r = run(workspace, "events", write(tmp_path / "e.csv", text), mapping, source="app")
    assert (r.loaded, r.quarantined) == (2, 1)
    got = rows(workspace, "SELECT event_type, occurred_at FROM events ORDER BY product_id")
    assert got == [
        ("view", datetime(2017, 11, 24, 17, 21, 10)),
        ("purchase", datetime(2017, 11, 24, 17, 21, 11)),
    ]
    reason = rows(workspace, "SELECT reason FROM quarantine")[0][0]
    assert "'teleport' is not one of" in reason and "`map`" in reason


def test_one_row_fills_two_tables(workspace: Workspace, tmp_path: Path) -> None:
    text = "cust,day,n,usd\n1,19970101,2,29.33\n1,19970101,2,29.33\n2,19970102,1,x\n"
    mapping = """
source = "shop"
kind = "orders"
[tables.orders]
order_id = { row_id = true }
source_member_key = "cust"
ordered_at = { column = "day", format = "%Y%m%d" }
total_amount = "usd"
[tables.order_items]
order_id = { row_id = true }
line_no = { const = "1" }
quantity = "n"
amount = "usd"
"""
    r = run(workspace, "orders", write(tmp_path / "p.csv", text), mapping)
    assert (r.read, r.loaded, r.quarantined) == (3, 2, 1)
    # The bad row is quarantined whole: neither its order nor its line is loaded.
    assert rows(workspace, "SELECT count(*) FROM orders") == [(2,)]
    assert rows(workspace, "SELECT count(*) FROM order_items o JOIN orders USING (order_id)") == [
        (2,)
    ]


def test_unused_columns_go_to_properties_or_are_named(workspace: Workspace, tmp_path: Path) -> None:
    text = "label,text,kind\n1,好吃,review\n"
    r = run(workspace, "feedback", write(tmp_path / "f.csv", text))
    assert r.loaded == 1 and r.warnings == []
    assert rows(workspace, "SELECT properties FROM feedback") == [('{"label":"1"}',)]
    r2 = run(workspace, "orders", write(tmp_path / "o.csv", ORDERS.replace("status", "note")))
    assert any("note" in w for w in r2.warnings)


@pytest.mark.parametrize(
    ("mapping", "error", "message"),
    [
        ("[tables.orders]\nordered_at = 'no_such_column'", ConfigError, "no_such_column"),
        ("[tables.orders]\nbogus = 'x'", ConfigError, "has no column 'bogus'"),
        ("[tables.nope]\nx = 'y'", ConfigError, "unknown table 'nope'"),
        ("[tables.events]\nevent_type = 'x'", UsageError, "fills events, not orders"),
        ("[read\n", ConfigError, "fix the TOML syntax"),
        ("[read]\nencoding = 'klingon'", ConfigError, "unknown encoding 'klingon'"),
    ],
)
def test_bad_mappings_say_what_to_fix(
    workspace: Workspace, tmp_path: Path, mapping: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        run(workspace, "orders", write(tmp_path / "o.csv", ORDERS), mapping)
    assert rows(workspace, "SELECT count(*) FROM ingest_runs") == [(0,)]


def test_missing_file_is_an_input_error(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        run(workspace, "orders", tmp_path / "absent.csv")


def test_empty_and_header_only_files(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is empty"):
        run(workspace, "orders", write(tmp_path / "zero.csv", ""))
    r = run(workspace, "orders", write(tmp_path / "header.csv", ORDERS.splitlines()[0] + "\n"))
    assert (r.read, r.loaded, r.quarantined) == (0, 0, 0)


def test_order_lines_without_their_order_are_loaded_and_flagged(
    workspace: Workspace, tmp_path: Path
) -> None:
    run(workspace, "orders", write(tmp_path / "o.csv", ORDERS))
    lines = (
        "source,order_id,line_no,product_id,quantity,amount\n"
        "pos,o1,1,sku1,1,12.50\npos,o404,1,sku2,1,3.00\n"
    )
    r = run(workspace, "order_items", write(tmp_path / "l.csv", lines))
    assert (r.loaded, r.orphans) == (2, 1)
    assert rows(workspace, "SELECT order_id FROM order_items WHERE _flags = 'orphan'") == [
        ("o404",)
    ]


def test_a_row_quarantined_in_one_import_loads_when_fixed_in_the_next(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Quarantine reserves no row identity: by natural key (events) or by content hash
    (orders without an id, where the fixed row equals an earlier one and is a second
    real purchase), the fixed row loads and only it."""
    events = (
        "event_id,source_member_key,event_type,occurred_at\n"
        "e1,u1,view,2025-01-01T00:00:00Z\ne2,u1,pageview,2025-01-01T00:00:00Z\n"
        "e3,u1,view,yesterday\n"
    )
    first = run(workspace, "events", write(tmp_path / "e.csv", events))
    assert (first.loaded, first.quarantined) == (1, 2)
    fixed = events.replace("pageview", "view").replace("yesterday", "2025-01-02T00:00:00Z")
    again = run(workspace, "events", write(tmp_path / "e.csv", fixed))
    assert (again.loaded, again.duplicates, again.quarantined) == (2, 1, 0)
    assert rows(workspace, "SELECT event_id, event_type FROM events ORDER BY 1") == [
        ("e1", "view"),
        ("e2", "view"),
        ("e3", "view"),
    ]
    orders = "source_member_key,ordered_at,total_amount\n" + (
        "m1,2024-01-01T10:00:00Z,abc\nm1,2024-01-01T10:00:00Z,9.99\n"
    )
    assert run(workspace, "orders", write(tmp_path / "o.csv", orders)).loaded == 1
    again = run(workspace, "orders", write(tmp_path / "o.csv", orders.replace("abc", "9.99")))
    assert (again.loaded, again.duplicates) == (1, 1)
    assert rows(workspace, "SELECT count(*), sum(total_amount) FROM orders") == [
        (2, Decimal("19.98"))
    ]
    assert rows(workspace, "SELECT count(*) FROM quarantine") == [(3,)]


def test_ctrl_c_is_an_interruption_that_loaded_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    def stop_at_load(stage: str) -> None:
        if stage == "load":
            raise KeyboardInterrupt

    spec = parse_mapping("", origin="test")
    request = IngestRequest(kind="orders", path=write(tmp_path / "o.csv", ORDERS), mapping=spec)
    with pytest.raises(Interrupted, match="import interrupted, nothing was loaded") as caught:
        ingest_file(workspace.warehouse, workspace.keyring, request, progress=stop_at_load)
    assert caught.value.exit_code == 130
    assert rows(workspace, "SELECT count(*) FROM orders") == [(0,)]
    assert rows(workspace, "SELECT count(*) FROM ingest_runs") == [(0,)]
    assert run(workspace, "orders", request.path).loaded == 3  # the connection still works


def test_a_file_without_a_required_column_is_refused_once_with_the_nearest_names(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = "id,customer,order_date,amount\n1,c1,2024-01-01,3.00\n2,c2,2024-01-02,4.00\n"
    path = write(tmp_path / "o.csv", text)
    with pytest.raises(InputError) as refused:
        run(workspace, "orders", path)
    message = str(refused.value)
    assert refused.value.code == "MISSING_COLUMNS"
    assert message.count("ordered_at") == 3  # missing; nearest name; the mapping example
    assert "orders need ordered_at" in message
    assert "the file has id, customer, order_date, amount" in message
    assert "order_date → ordered_at" in message and "amount → total_amount" in message
    assert '[tables.orders] ordered_at = "order_date"' in message
    assert rows(workspace, "SELECT count(*) FROM ingest_runs") == [(0,)]
    assert rows(workspace, "SELECT count(*) FROM quarantine") == [(0,)]
    # The mapping the message suggests loads the file.
    mapping = '[tables.orders]\nordered_at = "order_date"\ntotal_amount = "amount"\n'
    assert run(workspace, "orders", path, mapping).loaded == 2


def test_events_without_a_member_column_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    text = "event_id,user,event_type,occurred_at\ne1,u1,view,2025-01-01T00:00:00Z\n"
    with pytest.raises(InputError, match="events need source_member_key or anonymous_id"):
        run(workspace, "events", write(tmp_path / "e.csv", text))

"""A small member base whose answers are counted by hand.

Zhang Wei has two source records: ``pos/p1`` and ``app/a1``, which identity resolution
has merged (written here straight into member_map), so the member page must show both
records, both sources' orders and both sources' events. Li Na (``pos/p2``) is alone.
"""

from __future__ import annotations

from pathlib import Path

from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

MEMBERS = """source,source_member_key,name,birth_date,phone,email,address,city,signup_at
pos,p1,张伟,1990-02-14,138 1234 5678,Zhang.Wei@Example.com,南京东路1号,上海,2024-03-01T10:00:00Z
app,a1,张伟,,+86 138-1234-5678,zw.app@example.net,,上海,2024-06-01T10:00:00Z
pos,p2,李娜,1985-12-01,13900139000,lina@example.org,,北京,2024-01-15T08:00:00Z
"""
ORDERS = """order_id,source,source_member_key,ordered_at,total_amount,channel
o1,pos,p1,2025-05-01T10:00:00Z,10.00,store
o2,app,a1,2025-05-20T10:00:00Z,20.00,app
o3,pos,p2,2025-05-25T10:00:00Z,5.50,store
"""
ITEMS = """source,order_id,line_no,product_id,quantity,amount
pos,o1,1,sku1,1,4.00
pos,o1,2,sku2,2,6.00
app,o2,1,sku3,1,20.00
pos,o3,1,sku1,1,5.50
"""
EVENTS = """event_id,source,source_member_key,event_type,occurred_at,product_id
e1,pos,p1,view,2025-05-02T09:00:00Z,sku1
e2,app,a1,login,2025-05-21T09:00:00Z,
e3,app,a1,view,2025-05-21T09:05:00Z,sku3
e4,pos,p2,view,2025-05-24T09:00:00Z,sku1
"""
# Every clear personal value above, in the forms a page might print it.
CLEAR = (
    "张伟",
    "李娜",
    "1990-02-14",
    "13812345678",
    "1234 5678",
    "zhang.wei@example.com",
    "zw.app@example.net",
    "lina@example.org",
    "南京东路",
    "13900139000",
)


def load_members(ws: Workspace, folder: Path) -> dict[str, str]:
    """Import the base and merge ``app/a1`` into ``pos/p1``; return member ids by name."""
    for kind, text in (
        ("members", MEMBERS),
        ("orders", ORDERS),
        ("order_items", ITEMS),
        ("events", EVENTS),
    ):
        result = run(ws, kind, write(folder / f"{kind}.csv", text))
        assert result.quarantined == 0, result
    ids = dict(ws.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map"))
    ws.warehouse.execute(
        "UPDATE member_map SET member_id = ?, reason = 'merge' WHERE source_member_key = 'a1'",
        [ids["p1"]],
    )
    return {"zhang": ids["p1"], "li": ids["p2"]}

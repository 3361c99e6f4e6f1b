"""A small member base for the features, every answer counted by hand (cut-off 2025-06-01).

Zhang has two source records, ``pos/p1`` (Asia/Shanghai, signed up 2024-03-01 10:00)
and ``app/a1``, which share a phone, so identity resolution merges them; an anonymous
view on device ``dev1`` is stitched to Zhang by a login. Li (``pos/p2``,
America/New_York) is alone. ``pos/p3`` signs up after the cut-off. Rows dated after
the cut-off (o7, e10, f6, t5, and a points movement) must change nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from memberlens import identity
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

CUTOFF = date(2025, 6, 1)

PRODUCTS = """product_id,source,name,category,price
sku1,pos,Milk,dairy,10.00
sku2,pos,Bread,bakery,20.00
sku3,pos,Yoghurt,dairy,20.00
sku4,pos,Crisps,snacks,10.00
"""
MEMBERS = """source,source_member_key,name,phone,signup_at,timezone
pos,p1,张伟,13812345678,2024-03-01T10:00:00Z,Asia/Shanghai
app,a1,张伟,+86 138 1234 5678,2024-06-01T10:00:00Z,
pos,p2,李娜,13900139000,2025-01-15T08:00:00Z,America/New_York
pos,p3,王芳,13700137000,2025-07-01T08:00:00Z,Asia/Shanghai
"""
ORDERS = (
    "order_id,source,source_member_key,ordered_at,total_amount,discount_amount,coupon_code,"
    "channel,status\n"
    """o1,pos,p1,2025-01-10T02:00:00Z,30.00,,C1,store,completed
o2,pos,p1,2025-03-10T02:00:00Z,50.00,,,store,completed
o3,app,a1,2025-05-20T12:00:00Z,20.00,2.00,,app,completed
o4,app,a1,2025-05-20T13:00:00Z,10.00,,,app,
o5,pos,p1,2025-04-01T02:00:00Z,40.00,,,store,refunded
o6,pos,p1,2025-02-01T02:00:00Z,99.00,,,store,cancelled
o7,pos,p1,2025-06-05T02:00:00Z,500.00,,C2,web,completed
o8,pos,p2,2025-05-25T10:00:00Z,5.50,,,web,completed
"""
)
ITEMS = """source,order_id,line_no,product_id,quantity,amount
pos,o1,1,sku1,1,10.00
pos,o1,2,sku2,1,20.00
pos,o2,1,sku2,1,50.00
app,o3,1,sku3,1,20.00
app,o4,1,sku4,1,10.00
pos,o5,1,sku1,4,40.00
pos,o7,1,sku4,50,500.00
"""
EVENTS = """event_id,source,source_member_key,anonymous_id,event_type,occurred_at,product_id
e1,pos,p1,,view,2025-05-02T09:00:00Z,sku1
e2,pos,p1,,view,2025-05-10T09:00:00Z,sku3
e3,pos,p1,,view,2025-05-12T09:00:00Z,sku3
e4,app,a1,,add_to_cart,2025-05-15T09:00:00Z,sku4
e5,app,a1,,add_to_cart,2025-05-01T09:00:00Z,sku2
e6,app,a1,,add_to_cart,2025-05-28T09:00:00Z,sku1
e7,app,,dev1,view,2025-05-14T09:00:00Z,sku4
e8,app,a1,dev1,login,2025-05-14T09:05:00Z,
e9,pos,p1,,favorite,2025-04-01T09:00:00Z,sku2
e10,pos,p1,,view,2025-06-02T09:00:00Z,sku2
e11,pos,p2,,view,2025-05-24T09:00:00Z,sku1
"""
FEEDBACK = """feedback_id,source,source_member_key,kind,occurred_at,rating,nps
f1,pos,p1,review,2025-03-01T09:00:00Z,4,
f2,app,a1,review,2025-04-01T09:00:00Z,5,
f3,pos,p1,complaint,2025-04-02T09:00:00Z,,
f4,pos,p1,survey,2025-02-01T09:00:00Z,,9
f5,app,a1,survey,2025-05-01T09:00:00Z,,3
f6,pos,p1,survey,2025-06-03T09:00:00Z,,10
"""
TOUCHES = """touch_id,source,source_member_key,channel,sent_at,opened_at,clicked_at,bounced
t1,pos,p1,email,2025-05-01T08:00:00Z,2025-05-01T09:00:00Z,2025-05-01T09:01:00Z,false
t2,pos,p1,email,2025-05-05T08:00:00Z,2025-05-06T09:00:00Z,,false
t3,app,a1,push,2025-05-10T08:00:00Z,,,true
t4,pos,p1,email,2025-05-30T08:00:00Z,2025-06-02T09:00:00Z,,false
t5,pos,p1,email,2025-06-02T08:00:00Z,2025-06-02T09:00:00Z,,false
"""
# (id, member record, points, reason, occurred_at, expires_at, lot): the ledger as the
# tiers & points step keeps it, expiries recorded as movements. The -30 redemption
# consumes the oldest lot first (pt0), so all of pt1 expires on 05-31.
POINTS = (
    ("pt0", "p1", 100, "earn", "2025-01-10 02:00:00", None, None),
    ("pt1", "p1", 50, "earn", "2025-03-10 02:00:00", "2025-05-31 00:00:00", None),
    ("pt2", "p1", -30, "redeem", "2025-05-01 00:00:00", None, None),
    ("pt3", "p1", -50, "expire", "2025-05-31 00:00:00", None, "pt1"),
    ("pt4", "p1", 20, "earn", "2025-06-02 00:00:00", None, None),  # after the cut-off
)


def load_feature_base(ws: Workspace, folder: Path) -> dict[str, str]:
    """Import everything, resolve identities, write the points; return member ids by key."""
    for kind, text in (
        ("products", PRODUCTS),
        ("members", MEMBERS),
        ("orders", ORDERS),
        ("order_items", ITEMS),
        ("events", EVENTS),
        ("feedback", FEEDBACK),
        ("touches", TOUCHES),
    ):
        result = run(ws, kind, write(folder / f"{kind}.csv", text))
        assert result.quarantined == 0, (kind, result)
    identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
    ids = dict(ws.warehouse.fetch_all("SELECT source_member_key, member_id FROM member_map"))
    assert ids["p1"] == ids["a1"] != ids["p2"]  # the shared phone merged Zhang's records
    for movement, key, points, reason, at, expires, _lot in POINTS:
        ws.warehouse.execute(
            "INSERT INTO points_ledger BY NAME SELECT ? AS movement_id, ? AS member_id, "
            "? AS points, ? AS reason, ?::TIMESTAMP AS occurred_at, "
            "?::TIMESTAMP AS expires_at",
            [movement, ids[key], points, reason, at, expires],
        )
    return ids

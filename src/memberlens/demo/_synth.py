"""The deterministic synthetic member base: source files plus the truth behind them.

``generate_sources`` writes what a business would export — members from a till
system (CSV) and an app (JSON Lines), a catalogue, orders and lines, behaviour
events (Parquet), feedback, consents and campaign touches — with a few deliberately
dirty rows in each file, and ``truth.json`` with the true model parameters, the
records that are one person, and how many dirty rows each file holds. Same seed,
same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from memberlens.demo import _activity, _people, _purchases
from memberlens.demo._people import iso
from memberlens.demo._purchases import BGNBD, CHANNELS, GAMMA_GAMMA, cents
from memberlens.demo._texts import CITIES

DIRTY_SHARE = 0.001
DIRTY_MIN = 5


@dataclass(frozen=True)
class DemoTruth:
    """What the generator knows and models must rediscover."""

    seed: int
    persons: int
    window_start: str
    window_end: str
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    identity_clusters: list[list[list[str]]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, path: Path) -> DemoTruth:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


# One defect per dirty row, by file: (column, bad value). Each is a rule the
# validator must enforce; the truth counts them so tests can demand exact quarantine.
DEFECTS: dict[str, tuple[tuple[str, Any], ...]] = {
    "members": (
        ("email", "li.na@@example"),
        ("phone", "12345"),
        ("birth_date", "1990-13-01"),
        ("birth_date", "1850-01-01"),
        ("source_member_key", None),
    ),
    "orders": (
        ("total_amount", "-12.00"),
        ("ordered_at", "2025-02-30T10:00:00"),
        ("order_id", None),
        ("total_amount", "abc"),
    ),
    "order_items": (("quantity", "0"), ("amount", "-1.00"), ("unit_price", "x")),
    "events": (("event_type", "teleport"), ("source_member_key", None)),
    "feedback": (("rating", "9"), ("kind", "praise"), ("occurred_at", "2025-13-01T00:00:00")),
    "consents": (("purpose", "telepathy"), ("granted", "maybe"), ("channel", "pigeon")),
    "touches": (("sent_at", "yesterday"), ("bounced", "perhaps")),
}


def generate_sources(
    out_dir: Path,
    *,
    members: int = 20_000,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> DemoTruth:
    """Write the demo's source files into ``out_dir`` and return their truth."""
    say = progress or (lambda _step: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    files: dict[str, dict[str, Any]] = {}

    say("members")
    people = _people.make_people(rng, members)
    pos, app = _people.member_tables(rng, people)
    files["members_pos.csv"] = _write_csv(out_dir, "members_pos.csv", "members", pos, rng)
    files["members_app.jsonl"] = _write_jsonl(out_dir, "members_app.jsonl", "members", app, rng)
    files["products.csv"] = _write_csv(
        out_dir, "products.csv", "products", _purchases.products(rng), rng, dirty=False
    )

    say("orders")
    o = _purchases.orders(rng, people)
    lines = _purchases.order_lines(rng, people, o)
    order_ids = np.char.add("O", np.char.zfill(np.arange(len(o.person)).astype(str), 8))
    source = _activity.source_of(people, o.person, rng)
    files["orders.csv"] = _write_csv(
        out_dir, "orders.csv", "orders", _orders_table(people, o, order_ids, source, rng), rng
    )
    files["order_items.csv"] = _write_csv(
        out_dir, "order_items.csv", "order_items", _lines_table(lines, order_ids, source), rng
    )

    say("events")
    events = _activity.events(rng, people, o)
    files["events.parquet"] = _write_parquet(out_dir, "events.parquet", events, rng)

    say("feedback, consents, touches")
    first_product = lines["product"][lines["line_no"] == 1]
    fb = _activity.feedback(rng, people, o, first_product)
    fb_table = _strings(
        {
            "feedback_id": np.array([f"fb{i:07d}" for i in range(len(fb["kind"]))]),
            **{k: np.array(["" if v is None else str(v) for v in vals]) for k, vals in fb.items()},
        }
    )
    files["feedback.csv"] = _write_csv(out_dir, "feedback.csv", "feedback", fb_table, rng)
    files["consents.csv"] = _write_csv(
        out_dir, "consents.csv", "consents", _strings(_activity.consents(rng, people)), rng
    )
    files["touches.csv"] = _write_csv(
        out_dir, "touches.csv", "touches", _strings(_activity.touches(rng, people, 50_000)), rng
    )

    truth = DemoTruth(
        seed=seed,
        persons=members,
        window_start=str(_people.WINDOW_START.astype("M8[D]")),
        window_end=str((_people.WINDOW_END - np.timedelta64(1, "D")).astype("M8[D]")),
        bgnbd=dict(BGNBD),
        gamma_gamma=dict(GAMMA_GAMMA),
        files=files,
        identity_clusters=_people.identity_clusters(people),
    )
    (out_dir / "truth.json").write_text(truth.to_json(), encoding="utf-8")
    return truth


def _orders_table(
    people: _people.People,
    o: _purchases.Orders,
    order_ids: np.ndarray,
    source: np.ndarray,
    rng: np.random.Generator,
) -> pa.Table:
    n = len(o.person)
    status = np.where(rng.random(n) < 0.02, "refunded", "completed")
    local = o.at + np.timedelta64(8, "h")
    shipped = np.where(
        o.channel == 0,
        "",
        np.char.add(iso(o.at + np.timedelta64(1, "D")), "Z"),
    )
    return _strings(
        {
            "order_id": order_ids,
            "source": source,
            "source_member_key": _activity.member_key(people, o.person, source),
            "ordered_at": np.char.add(iso(local), "+08:00"),
            "channel": np.array(CHANNELS)[o.channel],
            "store": np.where(o.channel == 0, np.char.add("S", (o.person % 40).astype(str)), ""),
            "region": np.array([c[1] for c in CITIES])[people.city[o.person]],
            "total_amount": cents(o.total_cents),
            "discount_amount": cents(o.discount_cents),
            "coupon_code": np.where(o.coupon, "WELCOME10", ""),
            "status": status,
            "shipped_at": shipped,
        }
    )


def _lines_table(
    lines: dict[str, np.ndarray], order_ids: np.ndarray, source: np.ndarray
) -> pa.Table:
    return _strings(
        {
            "source": source[lines["order"]],
            "order_id": order_ids[lines["order"]],
            "line_no": lines["line_no"].astype(str),
            "product_id": np.char.add("SKU", np.char.zfill(lines["product"].astype(str), 5)),
            "quantity": lines["quantity"].astype(str),
            "unit_price": cents(lines["unit"]),
            "amount": cents(lines["amount"]),
        }
    )


def _strings(cols: dict[str, np.ndarray]) -> pa.Table:
    """All-text table; empty strings are missing values."""
    out = {}
    for name, values in cols.items():
        arr = pa.array(np.asarray(values).astype(str))
        out[name] = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pa.table(out)


def _with_dirty(table: pa.Table, kind: str, rng: np.random.Generator) -> tuple[pa.Table, int]:
    """Insert dirty copies of random rows, one defect each, at random positions."""
    n = table.num_rows
    k = max(DIRTY_MIN, round(n * DIRTY_SHARE))
    defects = DEFECTS[kind]
    picked = table.take(pa.array(rng.integers(0, n, k)))
    cols = {name: picked.column(name).to_pylist() for name in picked.column_names}
    for i in range(k):
        column, bad = defects[i % len(defects)]
        cols[column][i] = bad
        _make_unique(kind, cols, i)
    dirty = pa.table(
        {name: pa.array(values, table.schema.field(name).type) for name, values in cols.items()}
    )
    merged = pa.concat_tables([table, dirty])
    slots = np.sort(rng.choice(n + k, k, replace=False))
    order = np.insert(np.arange(n), slots - np.arange(k), np.arange(n, n + k))
    return merged.take(pa.array(order)), k


def _make_unique(kind: str, cols: dict[str, list[Any]], i: int) -> None:
    """Give a dirty row its own key, so it is never a duplicate of a clean one."""
    key = {
        "members": "source_member_key",
        "orders": "order_id",
        "events": "event_id",
        "feedback": "feedback_id",
        "touches": "touch_id",
    }.get(kind)
    if key and cols[key][i] is not None:
        cols[key][i] = f"X{i:05d}{cols[key][i]}"
    if kind == "orders":
        cols["status"][i] = "completed"  # a refund may be negative: this row may not
    if kind == "order_items":
        cols["line_no"][i] = str(90 + i % 10)
        cols["order_id"][i] = f"X{i:05d}{cols['order_id'][i]}"
    if kind == "consents":
        cols["recorded_at"][i] = f"2025-06-{1 + i % 28:02d}T00:00:{i % 60:02d}Z"
    if kind == "events" and cols["event_type"][i] != "teleport":
        cols["anonymous_id"][i] = None


def _write_csv(
    out: Path,
    name: str,
    kind: str,
    table: pa.Table,
    rng: np.random.Generator,
    *,
    dirty: bool = True,
) -> dict[str, Any]:
    k = 0
    if dirty:
        table, k = _with_dirty(table, kind, rng)
    pacsv.write_csv(table, out / name, pacsv.WriteOptions(quoting_style="needed"))
    return {"table": kind, "rows": table.num_rows, "dirty": k, "format": "csv"}


def _write_jsonl(
    out: Path, name: str, kind: str, table: pa.Table, rng: np.random.Generator
) -> dict[str, Any]:
    table, k = _with_dirty(table, kind, rng)
    with (out / name).open("w", encoding="utf-8") as fh:
        for row in table.to_pylist():
            clean = {key: value for key, value in row.items() if value is not None}
            fh.write(json.dumps(clean, ensure_ascii=False) + "\n")
    return {"table": kind, "rows": table.num_rows, "dirty": k, "format": "jsonl"}


def _write_parquet(
    out: Path, name: str, table: pa.Table, rng: np.random.Generator
) -> dict[str, Any]:
    table, k = _with_dirty(table, "events", rng)
    pq.write_table(table, out / name, compression="zstd")
    return {"table": "events", "rows": table.num_rows, "dirty": k, "format": "parquet"}

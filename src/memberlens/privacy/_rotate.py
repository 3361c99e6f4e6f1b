"""Key rotation: re-encrypt every personal value and re-key every blind index.

Where personal values live (docs/security.md, "Key rotation"):

- warehouse ``members`` and ``members_history``: the personal columns, their blind
  indexes (``email_bidx``, ``phone_bidx``) and the keyed content hash;
- warehouse ``member_identities``: ``id_value`` (ciphertext) and ``id_hash`` (blind
  index, part of the primary key);
- warehouse ``quarantine``: ``raw`` where ``raw_encrypted``;
- state ``ingest_buffer``: ``payload`` where ``encrypted``.

A value is done when its ciphertext carries the active key id; its row's blind indexes
are rewritten in the same statement, so the key id also says which index key they use.
Work goes in batches, each its own transaction, so an interrupted rotation keeps what
it finished and a second run skips it. ``member_identities`` is the exception: it is
re-indexed in one transaction, so identity matching, which compares ``id_hash``
values, never sees a table indexed under two keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import select, update

from memberlens.core.clock import utc_now
from memberlens.privacy._keyring import KeyRing
from memberlens.schema import RAW_TABLES
from memberlens.store import BufferRow, StateStore, Warehouse, q

ROTATION_META = "privacy.rotation"
BATCH_ROWS = 5_000
_MEMBERS = RAW_TABLES["members"]
_BLIND = {"email": "email", "phone": "phone"}
_BUFFER_CONTEXT = "ingest_buffer.payload"
# The ingest content hash (ingest/_load.py, _prepare_good): the same columns, in
# schema order, cast to text and joined. The rotation recomputes it from the
# decrypted row; tests/privacy/test_rotate.py proves a re-import still finds nothing new.
_SEP = "chr(31)"
_CONTENT_COLUMNS = tuple(
    c.name for c in _MEMBERS.columns if not c.derived or c.name in ("birth_md", "age_band")
)

Progress = Callable[[int], None]
Hold = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class KeyUsage:
    """How many stored values each key id encrypts, per place (``table.column``)."""

    by_key: dict[str, dict[str, int]]

    def count(self, key_id: str) -> int:
        return sum(self.by_key.get(key_id, {}).values())

    def to_json(self) -> dict[str, Any]:
        return {k: dict(sorted(v.items())) for k, v in sorted(self.by_key.items())}


@dataclass(frozen=True)
class RotationReport:
    key_id: str
    resumed: bool
    rewritten: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "resumed": self.resumed,
            "rewritten": self.rewritten,
            "values": sum(self.rewritten.values()),
            "seconds": round(self.seconds, 3),
        }


def _places() -> list[tuple[str, str, str]]:
    """(table, column, filter) of every encrypted warehouse column."""
    places = [(t, c, "TRUE") for t in ("members", "members_history") for c in _MEMBERS.personal]
    places.append(("member_identities", "id_value", "TRUE"))
    places.append(("quarantine", "raw", "raw_encrypted"))
    return places


def key_usage(warehouse: Warehouse, state: StateStore) -> KeyUsage:
    """Count stored values per key id, everywhere personal values live."""
    by_key: dict[str, dict[str, int]] = {}
    for table, column, where in _places():
        sql = (
            f"SELECT split_part({q(column)}, '.', 2) AS kid, count(*) FROM {q(table)} "
            f"WHERE {q(column)} IS NOT NULL AND {where} GROUP BY kid"
        )
        for kid, n in warehouse.fetch_all(sql):
            by_key.setdefault(kid, {})[f"{table}.{column}"] = int(n)
    with state.session() as s:
        heads = s.execute(select(BufferRow.payload).where(BufferRow.encrypted.is_(True))).scalars()
        for payload in heads:
            kid = KeyRing.key_id_of(payload)
            place = by_key.setdefault(kid, {})
            place["ingest_buffer.payload"] = place.get("ingest_buffer.payload", 0) + 1
    return KeyUsage(by_key)


def pending_values(warehouse: Warehouse, state: StateStore, keyring: KeyRing) -> int:
    """Values not yet under the active key: the work left for a rotation."""
    usage = key_usage(warehouse, state)
    return sum(usage.count(k) for k in usage.by_key if k != keyring.active)


# -- rotation state (in the state DB, so that a second run resumes) -----------------
def rotation_in_progress(state: StateStore) -> str | None:
    """The key id an unfinished rotation re-encrypts to, or ``None``."""
    raw = state.get_meta(ROTATION_META)
    return str(json.loads(raw)["key_id"]) if raw else None


def mark_rotation(state: StateStore, key_id: str | None) -> None:
    """Record that a rotation to ``key_id`` has begun, or (``None``) that it finished."""
    value = json.dumps({"key_id": key_id, "started_at": utc_now().isoformat()}) if key_id else ""
    state.set_meta(ROTATION_META, value)


def rotate(
    warehouse: Warehouse,
    state: StateStore,
    keyring: KeyRing,
    *,
    batch_rows: int = BATCH_ROWS,
    progress: Progress = lambda _n: None,
    hold: Hold = nullcontext,
) -> dict[str, int]:
    """Re-encrypt every value not under ``keyring.active``; return counts per place.

    ``hold`` wraps each batch (the server passes its warehouse gate, so imports and
    console pages interleave with a long rotation); ``progress`` receives the number
    of values each batch finished.
    """
    done: dict[str, int] = {}
    with hold():
        done["member_identities"] = _rekey_identities(warehouse, keyring, progress)
    for table in ("members", "members_history"):
        done[table] = _rekey_members(warehouse, keyring, table, batch_rows, progress, hold)
    done["quarantine"] = _reseal_quarantine(warehouse, keyring, batch_rows, progress, hold)
    done["ingest_buffer"] = _reseal_buffer(state, keyring, batch_rows, progress)
    return done


# -- member_identities: one transaction ----------------------------------------------
def _rekey_identities(warehouse: Warehouse, keyring: KeyRing, progress: Progress) -> int:
    prefix = f"v1.{keyring.active}."
    with warehouse.transaction():
        rows = warehouse.execute(
            "SELECT rowid AS rid, id_type, source, source_member_key, id_value, first_seen "
            "FROM member_identities WHERE id_value IS NOT NULL "
            "AND NOT starts_with(id_value, ?)",
            [prefix],
        ).to_arrow_table()
        if rows.num_rows == 0:
            return 0
        data = rows.to_pydict()
        hashes, values = [], []
        for id_type, token in zip(data["id_type"], data["id_value"], strict=True):
            context = f"member_identities.{id_type}"
            clear = keyring.decrypt(token, context=context)
            hashes.append(keyring.blind_index(clear, kind=id_type))
            values.append(keyring.encrypt(clear, context=context))
        fresh = pa.table(
            {
                "rid": data["rid"],
                "id_type": data["id_type"],
                "id_hash": hashes,
                "source": data["source"],
                "source_member_key": data["source_member_key"],
                "id_value": values,
                "first_seen": data["first_seen"],
            }
        )
        warehouse.native.register("rot_identities", fresh)
        # The key changes (new id_hash), so delete-then-insert, keeping one row per key
        # when an import under the new key already wrote the same identifier.
        warehouse.execute(
            "DELETE FROM member_identities WHERE rowid IN (SELECT rid FROM rot_identities)"
        )
        warehouse.execute(
            "INSERT INTO member_identities SELECT id_type, id_hash, source, source_member_key, "
            "id_value, first_seen FROM rot_identities "
            "ANTI JOIN member_identities USING (id_type, id_hash, source, source_member_key)"
        )
        warehouse.native.unregister("rot_identities")
        _drop_stale_match_keys(warehouse)
    progress(rows.num_rows)
    return int(rows.num_rows)


def _drop_stale_match_keys(warehouse: Warehouse) -> None:
    """Identity matching caches a key per blind index; entries for blind indexes that
    no longer exist are keyed under the old index key and are rebuilt on demand."""
    if warehouse.has_table("identity_match_keys"):
        warehouse.execute(
            "DELETE FROM identity_match_keys WHERE (id_type, id_hash) NOT IN "
            "(SELECT (id_type, id_hash) FROM member_identities)"
        )


# -- members and members_history: batches --------------------------------------------
def _rekey_members(
    warehouse: Warehouse,
    keyring: KeyRing,
    table: str,
    batch_rows: int,
    progress: Progress,
    hold: Hold,
) -> int:
    prefix = f"v1.{keyring.active}."
    personal = _MEMBERS.personal
    stale = " OR ".join(
        f"({q(c)} IS NOT NULL AND NOT starts_with({q(c)}, '{prefix}'))" for c in personal
    )
    no_personal = " AND ".join(f"{q(c)} IS NULL" for c in personal)
    total = 0
    for where in (stale, no_personal):
        # Rows without any personal value carry no key id to skip on; a watermark on
        # rowid walks them once per run (their keyed content hash is cheap to redo).
        after = -1
        while True:
            with hold():
                n, after = _member_batch(warehouse, keyring, table, where, after, batch_rows)
            if not n:
                break
            total += n
            progress(n)
    return total


def _member_batch(
    warehouse: Warehouse, keyring: KeyRing, table: str, where: str, after: int, batch_rows: int
) -> tuple[int, int]:
    """Rewrite the next batch after rowid ``after`` in one transaction: (rows, last rowid)."""
    cols = ", ".join(q(c) for c in _MEMBERS.personal)
    with warehouse.transaction():
        batch = warehouse.execute(
            f"SELECT rowid AS _rid, {cols} FROM {q(table)} WHERE ({where}) "
            f"AND rowid > ? ORDER BY rowid LIMIT {int(batch_rows)}",
            [after],
        ).to_arrow_table()
        if batch.num_rows == 0:
            return 0, after
        return batch.num_rows, _rewrite_member_rows(warehouse, keyring, table, batch)


def _rewrite_member_rows(
    warehouse: Warehouse, keyring: KeyRing, table: str, batch: pa.Table
) -> int:
    """Re-encrypt one batch, re-key its blind indexes and content hashes; return the
    last rowid done."""
    data = batch.to_pydict()
    clear: dict[str, list[Any]] = {"_rid": data["_rid"]}
    for col in _MEMBERS.personal:
        context = f"members.{col}"
        clear[col] = [keyring.decrypt(v, context=context) if v else None for v in data[col]]
    warehouse.native.register("rot_clear", pa.table(clear))
    content = ", ".join(
        f"coalesce(CAST({'r.' if c in clear else 'm.'}{q(c)} AS VARCHAR), chr(0))"
        for c in _CONTENT_COLUMNS
    )
    hashes = dict(
        warehouse.fetch_all(
            f"SELECT r._rid, md5(concat_ws({_SEP}, {content})) FROM {q(table)} m "
            "JOIN rot_clear r ON m.rowid = r._rid"
        )
    )
    warehouse.native.unregister("rot_clear")
    fresh: dict[str, list[Any]] = {"_rid": data["_rid"]}
    for col in _MEMBERS.personal:
        fresh[col] = keyring.encrypt_many(clear[col], context=f"members.{col}")
    for col, kind in _BLIND.items():
        fresh[f"{col}_bidx"] = keyring.blind_index_many(clear[col], kind=kind)
    fresh["_content_hash"] = [keyring.blind_index(hashes[r], kind="row") for r in data["_rid"]]
    warehouse.native.register("rot_members", pa.table(fresh))
    sets = ", ".join(f"{q(c)} = n.{q(c)}" for c in fresh if c != "_rid")
    warehouse.execute(
        f"UPDATE {q(table)} SET {sets} FROM rot_members n WHERE {q(table)}.rowid = n._rid"
    )
    warehouse.native.unregister("rot_members")
    return int(data["_rid"][-1])


# -- quarantine and the ingest buffer -------------------------------------------------
def _reseal_quarantine(
    warehouse: Warehouse, keyring: KeyRing, batch_rows: int, progress: Progress, hold: Hold
) -> int:
    prefix = f"v1.{keyring.active}."
    total = 0
    while True:
        with hold(), warehouse.transaction():
            rows = warehouse.fetch_all(
                "SELECT rowid, raw FROM quarantine WHERE raw_encrypted AND raw IS NOT NULL "
                f"AND NOT starts_with(raw, ?) LIMIT {int(batch_rows)}",
                [prefix],
            )
            if not rows:
                return total
            sealed = [
                keyring.encrypt(
                    keyring.decrypt(raw, context="quarantine.raw"), context="quarantine.raw"
                )
                for _, raw in rows
            ]
            fresh = pa.table({"rid": [r for r, _ in rows], "raw": sealed})
            warehouse.native.register("rot_quarantine", fresh)
            warehouse.execute(
                "UPDATE quarantine SET raw = n.raw FROM rot_quarantine n "
                "WHERE quarantine.rowid = n.rid"
            )
            warehouse.native.unregister("rot_quarantine")
        total += len(rows)
        progress(len(rows))


def _reseal_buffer(state: StateStore, keyring: KeyRing, batch_rows: int, progress: Progress) -> int:
    prefix = f"v1.{keyring.active}."
    total = 0
    while True:
        with state.session() as s, s.begin():
            rows = s.execute(
                select(BufferRow.buffer_id, BufferRow.payload)
                .where(BufferRow.encrypted.is_(True), ~BufferRow.payload.startswith(prefix))
                .limit(batch_rows)
            ).all()
            if not rows:
                return total
            changes = [
                {
                    "buffer_id": bid,
                    "payload": keyring.encrypt(
                        keyring.decrypt(payload, context=_BUFFER_CONTEXT), context=_BUFFER_CONTEXT
                    ),
                }
                for bid, payload in rows
            ]
            s.execute(update(BufferRow), changes)
        total += len(rows)
        progress(len(rows))

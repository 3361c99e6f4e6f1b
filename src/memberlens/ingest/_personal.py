"""Personal columns: encrypted before they reach any store (DESIGN, privacy).

Validation runs on clear values in temporary, in-memory tables; this module then
replaces each personal value with its ciphertext, fills the blind indexes, keys the
content hash (a plain hash of a short row could be brute-forced back to a phone
number), and records each identifier in ``member_identities``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from memberlens.core.clock import utc_now
from memberlens.privacy import KeyRing
from memberlens.schema import Table
from memberlens.store import Warehouse, q

_BLIND = {"email": "email", "phone": "phone"}


def encrypt_members(warehouse: Warehouse, keyring: KeyRing, table: Table) -> None:
    """Encrypt the personal columns of ``g_<table>`` in place and record identities."""
    g = f"g_{table.name}"
    present = {r[0] for r in warehouse.fetch_all(f"DESCRIBE {g}")}
    idents = [i for i in table.identifier_columns if f"_ident_{i}" in present]
    personal = list(table.personal)
    select = ", ".join(
        ["_src_key", "_content_hash", "source", "source_member_key"]
        + [f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in personal]
        + [q(f"_ident_{i}") for i in idents]
    )
    data = warehouse.execute(f"SELECT {select} FROM {g}").to_arrow_table().to_pydict()
    if not data["_src_key"]:
        return
    out: dict[str, list[Any]] = {"_src_key": data["_src_key"]}
    out["_content_hash"] = [keyring.blind_index(h, kind="row") for h in data["_content_hash"]]
    for col in personal:
        out[col] = keyring.encrypt_many(data[col], context=f"{table.name}.{col}")
    for col, kind in _BLIND.items():
        if col in data:
            out[f"{col}_bidx"] = keyring.blind_index_many(data[col], kind=kind)
    warehouse.native.register("enc_members_arrow", pa.table(out))
    replaced = ", ".join(f"e.{q(c)} AS {q(c)}" for c in out if c != "_src_key")
    warehouse.execute(
        f"CREATE OR REPLACE TEMP TABLE {g} AS SELECT g.* REPLACE ({replaced}) "
        f"FROM {g} g JOIN enc_members_arrow e USING (_src_key)"
    )
    warehouse.native.unregister("enc_members_arrow")
    _record_identities(warehouse, keyring, data, idents)


def _record_identities(
    warehouse: Warehouse, keyring: KeyRing, data: dict[str, list[Any]], idents: list[str]
) -> None:
    """One row per (identifier, record); the clear value is kept only encrypted."""
    now = utc_now().replace(tzinfo=None, microsecond=0)
    rows: dict[str, list[Any]] = {
        k: []
        for k in ("id_type", "id_hash", "source", "source_member_key", "id_value", "first_seen")
    }
    kinds = [(c, c, data[c]) for c in _BLIND if c in data]
    kinds += [(i, i, data[f"_ident_{i}"]) for i in idents]
    for id_type, _col, values in kinds:
        for src, key, value in zip(data["source"], data["source_member_key"], values, strict=True):
            if not value or not value.strip():
                continue
            clear = value.strip()
            rows["id_type"].append(id_type)
            rows["id_hash"].append(keyring.blind_index(clear, kind=id_type))
            rows["source"].append(src)
            rows["source_member_key"].append(key)
            rows["id_value"].append(keyring.encrypt(clear, context=f"member_identities.{id_type}"))
            rows["first_seen"].append(now)
    if not rows["id_type"]:
        return
    warehouse.native.register("ident_arrow", pa.table(rows))
    warehouse.execute(
        "INSERT INTO member_identities SELECT DISTINCT ON (id_type, id_hash, source, "
        "source_member_key) * FROM ident_arrow "
        "ANTI JOIN member_identities USING (id_type, id_hash, source, source_member_key)"
    )
    warehouse.native.unregister("ident_arrow")


def encrypt_quarantine(warehouse: Warehouse, keyring: KeyRing) -> None:
    """Encrypt the raw text of quarantined rows (temp table ``q_rows``) in place."""
    data = warehouse.execute("SELECT rowid AS rid, raw FROM q_rows").to_arrow_table().to_pydict()
    sealed = keyring.encrypt_many(data["raw"], context="quarantine.raw")
    warehouse.native.register("q_sealed", pa.table({"rid": data["rid"], "raw": sealed}))
    warehouse.execute(
        "CREATE OR REPLACE TEMP TABLE q_rows AS SELECT q.* REPLACE (s.raw AS raw) "
        "FROM q_rows q JOIN q_sealed s ON q.rowid = s.rid"
    )
    warehouse.native.unregister("q_sealed")

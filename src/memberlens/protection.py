"""Key custody and analytics extracts, composed with the workspace, job runs and audit.

The privacy domain does the work (re-encryption, pseudonymised extracts) on the
pieces it is given; this module adds what needs the whole workspace: the key file
(outside the workspace), the running server's key ring, the job run record and the
audit log. The CLI and the server's admin routes both call these functions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from memberlens import audit, prediction_views, segment
from memberlens.core.errors import KeyRingError, MemberlensError
from memberlens.privacy import (
    ExportReport,
    ExportRequest,
    KeyRing,
    RotationReport,
    export_table,
    key_usage,
    mark_rotation,
    mask,
    pending_values,
    rotate,
    rotation_in_progress,
)
from memberlens.store import Warehouse, finish_job, start_job
from memberlens.workspace import Workspace, key_file_for

ROTATE_JOB = "privacy rotate-key"
ENV_KEYS = "MEMBERLENS_KEYS"


def key_status(ws: Workspace) -> dict[str, Any]:
    """The ring's keys, how many stored values each encrypts, and any rotation left."""
    usage = key_usage(ws.warehouse, ws.state)
    ring = ws.keyring
    keys = [
        {
            "key_id": kid,
            "active": kid == ring.active,
            "values": usage.count(kid),
            "places": usage.to_json().get(kid, {}),
        }
        for kid in ring.keys
    ]
    unknown = sorted(set(usage.by_key) - set(ring.keys))
    return {
        "active": ring.active,
        "keys": keys,
        "rotation_in_progress": rotation_in_progress(ws.state),
        "key_source": "environment" if os.environ.get(ENV_KEYS) else str(key_file_for(ws.settings)),
        "unknown_keys": unknown,
    }


def _writable_ring(ws: Workspace) -> None:
    if os.environ.get(ENV_KEYS):
        raise KeyRingError(
            f"the key ring comes from {ENV_KEYS}, which memberlens cannot rewrite: save it "
            "to a file (privacy.key_file), unset the variable, run the command, then put "
            "the file's new content back into the variable",
            code="KEYS_FROM_ENVIRONMENT",
        )


def _install(ws: Workspace, ring: KeyRing) -> None:
    """Save the ring (atomically) and use it at once for every later read and write."""
    ring.save(key_file_for(ws.settings))
    ws.keyring = ring


def rotate_key(
    ws: Workspace,
    *,
    actor: str,
    batch_rows: int = 5_000,
    on_total: Callable[[int], None] = lambda _n: None,
    progress: Callable[[int], None] = lambda _n: None,
    hold: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> RotationReport:
    """Make a new key active and re-encrypt every stored value under it.

    A rotation left unfinished (interrupted, crashed) is resumed instead of starting
    another key: the state DB remembers its target key, and values already under it
    are skipped.
    """
    _writable_ring(ws)
    resumed = rotation_in_progress(ws.state) == ws.keyring.active
    if not resumed:
        ring = ws.keyring.with_new_key()
        mark_rotation(ws.state, ring.active)  # before the file: a crash between is harmless
        _install(ws, ring)
        audit.record(ws.state, actor=actor, action="privacy.key_added", target=ring.active)
    key_id = ws.keyring.active
    on_total(pending_values(ws.warehouse, ws.state, ws.keyring))
    run_id = start_job(ws.state, ROTATE_JOB, {"key_id": key_id, "resumed": resumed})
    started = time.perf_counter()
    try:
        done = rotate(
            ws.warehouse, ws.state, ws.keyring, batch_rows=batch_rows, progress=progress, hold=hold
        )
    except BaseException as exc:
        status: Literal["failed", "interrupted"] = (
            "failed" if isinstance(exc, Exception) else "interrupted"
        )
        finish_job(ws.state, run_id, status=status, detail={"error": str(exc)})
        raise
    with hold():
        compact(ws)
    report = RotationReport(key_id, resumed, done, time.perf_counter() - started)
    mark_rotation(ws.state, None)
    finish_job(ws.state, run_id, status="succeeded", detail=report.to_json())
    audit.record(
        ws.state,
        actor=actor,
        action="privacy.rotate_key",
        target=key_id,
        detail=json.dumps(report.to_json(), sort_keys=True),
    )
    return report


def compact(ws: Workspace) -> None:
    """Rewrite the stores so that freed blocks keep no old ciphertext.

    DuckDB and SQLite reuse the space an update frees but do not wipe it, so the old
    ciphertexts would stay readable in the files (to anyone holding the old key) until
    overwritten. DuckDB copies the database into a fresh file that replaces the old one
    (the old file is intact until the rename); SQLite runs ``VACUUM`` and empties its
    write-ahead log.
    """
    path = Path(ws.warehouse.location)
    fresh = path.with_name(f".{path.name}.compact")
    fresh.unlink(missing_ok=True)
    name = ws.warehouse.scalar("SELECT current_database()")
    ws.warehouse.execute(f"ATTACH {_literal(str(fresh))} AS memberlens_compact")
    ws.warehouse.execute(f'COPY FROM DATABASE "{name}" TO memberlens_compact')
    ws.warehouse.execute("DETACH memberlens_compact")
    ws.warehouse.close()
    os.replace(fresh, path)
    ws.warehouse = Warehouse.open_duckdb(
        path, memory_limit=ws.settings.warehouse.memory_limit, threads=ws.settings.warehouse.threads
    )
    ws.warehouse.execute("SET autoinstall_known_extensions = false")
    if ws.state.engine.dialect.name == "sqlite":
        with ws.state.engine.connect() as con:
            con.exec_driver_sql("VACUUM")
            # The write-ahead log still holds the old pages until it is checkpointed.
            con.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def retire_key(ws: Workspace, key_id: str, *, actor: str) -> dict[str, Any]:
    """Remove an old key from the ring once no stored value uses it."""
    _writable_ring(ws)
    if key_id not in ws.keyring.keys:
        raise KeyRingError(
            f"the key ring holds no key '{key_id}'; see `memberlens privacy keys`",
            code="NO_SUCH_KEY",
        )
    if key_id == ws.keyring.active:
        raise KeyRingError(
            f"key '{key_id}' is the active key; run `memberlens privacy rotate-key` first",
            code="KEY_ACTIVE",
        )
    target = rotation_in_progress(ws.state)
    if target:
        raise KeyRingError(
            f"a rotation to key '{target}' has not finished, so blind indexes may still use "
            f"key '{key_id}'; run `memberlens privacy rotate-key` to finish it",
            code="ROTATION_UNFINISHED",
        )
    usage = key_usage(ws.warehouse, ws.state).by_key.get(key_id, {})
    count = sum(usage.values())
    if count:
        where = ", ".join(f"{place} {n:,}" for place, n in sorted(usage.items()))
        raise KeyRingError(
            f"{count:,} stored values still use key '{key_id}' ({where}); run "
            "`memberlens privacy rotate-key` to re-encrypt them, then retire it",
            code="KEY_IN_USE",
        )
    _install(ws, ws.keyring.without_key(key_id))
    audit.record(ws.state, actor=actor, action="privacy.retire_key", target=key_id)
    return {"key_id": key_id, "active": ws.keyring.active, "keys": sorted(ws.keyring.keys)}


def export(ws: Workspace, request: ExportRequest, *, actor: str) -> ExportReport:
    """Write an extract of a raw table (see :func:`memberlens.privacy.export_table`),
    audited whether it succeeds or fails."""
    action = "export.pseudonymised" if request.pseudonymize else "export.table"
    try:
        report = export_table(ws.warehouse, ws.keyring, request)
    except MemberlensError as exc:
        _audit_export(
            ws, actor, action, request.table, {"file": str(request.out), "error": exc.code}
        )
        raise
    detail: dict[str, Any] = {
        "file": report.file,
        "rows": report.rows,
        "k": report.k,
        "quasi": list(report.quasi),
        "salt": report.salt,
    }
    _audit_export(ws, actor, action, request.table, detail)
    return report


ContactForm = Literal["none", "masked", "hashed"]


def export_segment(
    ws: Workspace, name: str, out: Path, *, contacts: ContactForm, actor: str
) -> dict[str, Any]:
    """Write a saved segment's members in its newest snapshot to CSV, audited.

    ``contacts``: ``none`` (member ids only), ``masked`` (``a***@example.com``,
    ``138****5678``: for people to read) or ``hashed`` (SHA-256 of the trimmed,
    lower-cased e-mail and of the phone as stored, E.164: what advertising platforms
    match audiences on). Clear contact data is never written.
    """
    found = segment.segment_membership(ws.warehouse, ws.state, name, changes=False, limit=10**9)
    ids: list[str] = found["member_ids"]
    _write_member_csv(ws, out, ["member_id"], [[i] for i in ids], contacts)
    detail = {"file": str(out), "rows": len(ids), "contacts": contacts,
              "snapshot_date": found["snapshot_date"]}  # fmt: skip
    _audit_export(ws, actor, "export.segment", name, detail)
    return {"segment": name, **detail}


def export_churn_list(
    ws: Workspace, out: Path, *, contacts: ContactForm, actor: str, locale: str = "en"
) -> dict[str, Any]:
    """Write the newest churn-risk list to CSV, riskiest first, audited.

    Columns: member_id, churn_risk, churn_band, next_purchase_date, clv and
    reason_1..reason_3 (the reasons' texts in ``locale``, strongest first), then e-mail
    and phone in the ``contacts`` form of :func:`export_segment` (never clear).
    """
    found = prediction_views.churn_list(ws.warehouse, locale=locale)
    members: list[dict[str, Any]] = found["members"]
    reasons = [f"reason_{i + 1}" for i in range(prediction_views.REASONS)]
    rows = [
        [m["member_id"], m["churn_risk"], m["churn_band"], m["next_purchase_date"], m["clv"],
         *m["reasons"], *[""] * (len(reasons) - len(m["reasons"]))]
        for m in members
    ]  # fmt: skip
    header = ["member_id", "churn_risk", "churn_band", "next_purchase_date", "clv", *reasons]
    _write_member_csv(ws, out, header, rows, contacts)
    detail = {"file": str(out), "rows": len(members), "contacts": contacts,
              "snapshot_date": found["snapshot_date"]}  # fmt: skip
    _audit_export(ws, actor, "export.churn", prediction_views.PREDICTIONS_TABLE, detail)
    return detail


def _write_member_csv(
    ws: Workspace, out: Path, header: list[str], rows: list[list[Any]], contacts: ContactForm
) -> None:
    """Write ``rows`` (each starting with a member id) to CSV, followed unless
    ``contacts`` is ``none`` by the member's e-mail and phone, masked or hashed."""
    emails: dict[str, str] = {}
    phones: dict[str, str] = {}
    if contacts != "none" and rows:
        emails, phones = _contacts(ws, [row[0] for row in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header if contacts == "none" else [*header, "email", "phone"])
        for row in rows:
            email, phone = emails.get(row[0]), phones.get(row[0])
            if contacts == "masked":
                row = [*row, mask(email, kind="email"), mask(phone, kind="phone")]
            elif contacts == "hashed":
                row = [*row, _sha256(email and email.strip().lower()), _sha256(phone)]
            writer.writerow(row)


def _audit_export(
    ws: Workspace, actor: str, action: str, target: str, detail: dict[str, Any]
) -> None:
    audit.record(
        ws.state, actor=actor, action=action, target=target,
        detail=json.dumps(detail, sort_keys=True),
    )  # fmt: skip


def _sha256(value: str | None) -> str | None:
    return hashlib.sha256(value.encode("utf-8")).hexdigest() if value else None


def _contacts(ws: Workspace, ids: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The newest e-mail and phone per member across their source records, in clear
    (in memory only, to be masked or hashed by the caller)."""
    ws.warehouse.native.register("_export_ids", pa.table({"member_id": ids}))
    try:
        rows = ws.warehouse.fetch_all(
            "SELECT m.member_id, r.email, r.phone FROM members r JOIN member_map m "
            "USING (source, source_member_key) JOIN _export_ids e ON e.member_id = m.member_id "
            "ORDER BY m.member_id, r._loaded_at DESC, r.source, r.source_member_key"
        )
    finally:
        ws.warehouse.native.unregister("_export_ids")
    emails: dict[str, str] = {}
    phones: dict[str, str] = {}
    for member_id, email, phone in rows:
        if email and member_id not in emails:
            emails[member_id] = ws.keyring.decrypt(email, context="members.email")
        if phone and member_id not in phones:
            phones[member_id] = ws.keyring.decrypt(phone, context="members.phone")
    return emails, phones

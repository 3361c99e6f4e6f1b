"""Key rotation: every personal value and blind index moves to the new key, searches
keep working before, during and after, an interrupted rotation resumes, and an old key
is retired only once nothing uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from memberlens import audit, collect, profile, protection
from memberlens.core.errors import KeyRingError
from memberlens.privacy import KeyRing, key_usage, load_key_ring, rotation_in_progress
from memberlens.store import recent_jobs
from memberlens.workspace import Workspace, key_file_for
from tests.cli.test_cli import cli, json_of
from tests.ingest.helpers import rows, run, write

MEMBERS = """source,source_member_key,name,gender,birth_date,phone,email,address,city,crm_id
pos,p1,张伟,male,1990-02-14,138 0013 8000,Zhang.Wei@Example.com,上海市淮海中路1号,上海,CRM-001
pos,p2,Li Na,female,1985-12-01,+86 139-0013-9000,lina@example.org,,北京,CRM-002
pos,p3,Bad Mail,female,1980-01-01,13700137000,li.na@@example,,北京,
pos,p4,Wang Fang,female,1992-05-05,13500135000,wang.fang@example.com,,杭州,CRM-004
pos,p5,,,,,,,杭州,
app,a1,Chen Jie,male,1988-08-08,13300133000,chen.jie@example.net,,深圳,
"""
# p1 moves to Beijing: its previous version goes to members_history.
UPDATE = """source,source_member_key,name,gender,birth_date,phone,email,address,city,crm_id
pos,p1,张伟,male,1990-02-14,138 0013 8000,Zhang.Wei@Example.com,上海市淮海中路1号,北京,CRM-001
"""
SEARCHES = {
    "zhang.wei@example.com": "pos:p1",
    "+86 138 0013 8000": "pos:p1",
    "lina@example.org": "pos:p2",
    "13300133000": "app:a1",
}


class Interrupted(Exception):
    """Stands in for a crash or Ctrl-C between two batches."""


@pytest.fixture
def loaded(workspace: Workspace, tmp_path: Path) -> Workspace:
    run(workspace, "members", write(tmp_path / "m.csv", MEMBERS))
    run(workspace, "members", write(tmp_path / "m2.csv", UPDATE))
    item = {"source_member_key": "api1", "name": "Api Person", "email": "api@example.com"}
    collect.accept(workspace.state, workspace.keyring, "members", [item], token_id="t1")
    return workspace


def _encrypted_values(ws: Workspace) -> list[tuple[str, str]]:
    """Every stored ciphertext with its context, warehouse and state DB."""
    found: list[tuple[str, str]] = []
    for table in ("members", "members_history"):
        for col in ("name", "birth_date", "phone", "email", "address"):
            sql = f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL"
            found += [(v, f"members.{col}") for (v,) in rows(ws, sql)]
    sql = "SELECT id_value, id_type FROM member_identities"
    found += [(v, f"member_identities.{t}") for v, t in rows(ws, sql)]
    found += [(v, "quarantine.raw") for (v,) in rows(ws, "SELECT raw FROM quarantine")]
    with ws.state.engine.connect() as con:
        payloads = con.exec_driver_sql("SELECT payload FROM ingest_buffer WHERE encrypted")
        found += [(p, "ingest_buffer.payload") for (p,) in payloads]
    return found


def _hits(ws: Workspace) -> dict[str, list[str]]:
    return {
        q: [m.member_id for m in profile.search_members(ws.warehouse, ws.keyring, query=q).members]
        for q in SEARCHES
    }


def _member_ids(ws: Workspace) -> dict[str, str]:
    got = rows(ws, "SELECT source || ':' || source_member_key, member_id FROM member_map")
    return dict(got)


def _expected_hits(ws: Workspace) -> dict[str, list[str]]:
    ids = _member_ids(ws)
    return {q: [ids[key]] for q, key in SEARCHES.items()}


def _interrupt_after(batches: int) -> Any:
    seen = {"n": 0}

    def progress(_n: int) -> None:
        seen["n"] += 1
        if seen["n"] >= batches:
            raise Interrupted

    return progress


def test_rotation_reencrypts_everything_and_the_old_key_can_go(loaded: Workspace) -> None:
    ws = loaded
    old = ws.keyring.active
    before = _encrypted_values(ws)
    assert len(before) >= 25 and {KeyRing.key_id_of(v) for v, _ in before} == {old}
    report = protection.rotate_key(ws, actor="test", batch_rows=2)
    new = ws.keyring.active
    assert new != old and not report.resumed and report.key_id == new
    after = _encrypted_values(ws)
    assert len(after) == len(before)
    assert report.to_json()["values"] >= 5  # rows, not values: every table was visited
    assert {KeyRing.key_id_of(v) for v, _ in after} == {new}
    assert set(key_usage(ws.warehouse, ws.state).by_key) == {new}
    protection.retire_key(ws, old, actor="test")
    ring = load_key_ring(key_file_for(ws.settings))  # as saved: the old key is gone
    assert set(ring.keys) == {new} and not ring.old_index_keys
    clear = {ctx: ring.decrypt(v, context=ctx) for v, ctx in after}  # all decrypt
    assert clear["members.email"] and "api@example.com" in clear["ingest_buffer.payload"]
    # Blind indexes are under the new index key only.
    for email, bidx in rows(ws, "SELECT email, email_bidx FROM members WHERE email IS NOT NULL"):
        assert bidx == ring.blind_index(ring.decrypt(email, context="members.email"), kind="email")
    for kind, hashed, value in rows(ws, "SELECT id_type, id_hash, id_value FROM member_identities"):
        clear_id = ring.decrypt(value, context=f"member_identities.{kind}")
        assert hashed == ring.blind_index(clear_id, kind=kind)


def test_no_old_ciphertext_is_left_in_the_files(loaded: Workspace, workspace_dir: Path) -> None:
    ws = loaded
    old = ws.keyring.active
    protection.rotate_key(ws, actor="test")
    protection.retire_key(ws, old, actor="test")
    ws.warehouse.execute("CHECKPOINT")
    marker = re.compile(rf"v1\.{old}\.".encode())
    files = [p for p in (workspace_dir / "data").iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"warehouse.duckdb", "state.db"}
    for path in files:  # WAL files included
        assert not marker.search(path.read_bytes()), f"old ciphertext left in {path.name}"


def test_search_works_before_during_and_after_rotation(loaded: Workspace) -> None:
    ws = loaded
    expected = _expected_hits(ws)
    assert _hits(ws) == expected
    old = ws.keyring.active
    with pytest.raises(Interrupted):
        protection.rotate_key(ws, actor="test", batch_rows=1, progress=_interrupt_after(3))
    usage = key_usage(ws.warehouse, ws.state)
    assert usage.count(old) > 0 and usage.count(ws.keyring.active) > 0  # truly halfway
    members = rows(ws, "SELECT DISTINCT split_part(email, '.', 2) FROM members WHERE email > ''")
    assert len(members) == 2  # members rows under both keys: search must try both
    assert _hits(ws) == expected
    protection.rotate_key(ws, actor="test")
    assert _hits(ws) == expected
    protection.retire_key(ws, old, actor="test")
    assert _hits(ws) == expected


def test_an_interrupted_rotation_resumes_and_skips_what_is_done(loaded: Workspace) -> None:
    ws = loaded
    old = ws.keyring.active
    total = sum(key_usage(ws.warehouse, ws.state).by_key[old].values())
    with pytest.raises(Interrupted):
        protection.rotate_key(ws, actor="test", batch_rows=1, progress=_interrupt_after(4))
    target = ws.keyring.active
    assert rotation_in_progress(ws.state) == target
    assert recent_jobs(ws.state, job=protection.ROTATE_JOB)[0].status == "failed"
    left = key_usage(ws.warehouse, ws.state).count(old)
    assert 0 < left < total
    # A fresh process: the saved ring and the state DB tell it where to resume.
    reopened = Workspace.open(ws.root)
    ws.close()
    with reopened:
        report = protection.rotate_key(reopened, actor="test")
        assert report.resumed and report.key_id == target == reopened.keyring.active
        assert key_usage(reopened.warehouse, reopened.state).count(old) == 0
        assert rotation_in_progress(reopened.state) is None
        assert recent_jobs(reopened.state, job=protection.ROTATE_JOB)[0].status == "succeeded"
        actions = [e.action for e in audit.entries(reopened.state)]
        assert actions.count("privacy.key_added") == 1
        assert actions.count("privacy.rotate_key") == 1


def test_retire_refuses_while_the_key_is_in_use(loaded: Workspace) -> None:
    ws = loaded
    old = ws.keyring.active
    with pytest.raises(KeyRingError) as active:
        protection.retire_key(ws, old, actor="test")
    assert active.value.code == "KEY_ACTIVE"
    with pytest.raises(Interrupted):
        protection.rotate_key(ws, actor="test", batch_rows=1, progress=_interrupt_after(2))
    with pytest.raises(KeyRingError) as unfinished:
        protection.retire_key(ws, old, actor="test")
    assert unfinished.value.code == "ROTATION_UNFINISHED"
    protection.rotate_key(ws, actor="test")
    # A value written under the old key after all (e.g. restored from a backup).
    stale = KeyRing(keys={old: ws.keyring.keys[old]}, active=old, index_key=b"\0" * 32)
    ws.warehouse.execute(
        "UPDATE quarantine SET raw = ? WHERE rowid = (SELECT min(rowid) FROM quarantine)",
        [stale.encrypt("x", context="quarantine.raw")],
    )
    with pytest.raises(KeyRingError, match=r"1 stored values still use key") as in_use:
        protection.retire_key(ws, old, actor="test")
    assert in_use.value.code == "KEY_IN_USE" and "quarantine.raw 1" in in_use.value.message
    assert old in load_key_ring(key_file_for(ws.settings)).keys  # nothing removed


def test_reimport_after_rotation_finds_nothing_new(loaded: Workspace, tmp_path: Path) -> None:
    """The keyed content hash was recomputed from the decrypted row, as ingest makes it."""
    protection.rotate_key(loaded, actor="test")
    again = run(loaded, "members", write(tmp_path / "m3.csv", UPDATE))
    assert (again.loaded, again.duplicates) == (0, 1)
    assert again.tables["members"].unchanged == 1


def test_rotation_refuses_keys_from_the_environment(
    loaded: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBERLENS_KEYS", loaded.keyring.to_json())
    with pytest.raises(KeyRingError) as refused:
        protection.rotate_key(loaded, actor="test")
    assert refused.value.code == "KEYS_FROM_ENVIRONMENT"


def test_key_status_counts_values_per_key(loaded: Workspace) -> None:
    status = protection.key_status(loaded)
    (only,) = status["keys"]
    assert only["active"] and only["values"] == len(_encrypted_values(loaded))
    assert json.dumps(status)  # JSON-able as the CLI prints it


@pytest.mark.slow
def test_cli_keys_rotate_retire_as_documented(workspace_dir: Path, tmp_path: Path) -> None:
    csv_file = write(tmp_path / "m.csv", MEMBERS)
    w = str(workspace_dir)
    cli("ingest", "members", str(csv_file), "-w", w, "--quiet", check=True)
    before = json_of("privacy", "keys", "-w", w, schema="privacy-keys")
    old = before["active"]
    rotated = json_of("privacy", "rotate-key", "-w", w, "--quiet", schema="privacy-rotate-key")
    assert rotated["key_id"] != old and not rotated["resumed"] and rotated["values"] > 0
    in_use = cli("privacy", "retire-key", rotated["key_id"], "-w", w)
    assert in_use.returncode == 1 and "KEY_ACTIVE" in in_use.stderr
    retired = json_of("privacy", "retire-key", old, "-w", w, schema="privacy-retire-key")
    assert retired["keys"] == [rotated["key_id"]]
    after = json_of("privacy", "keys", "-w", w, schema="privacy-keys")
    assert [k["key_id"] for k in after["keys"]] == [rotated["key_id"]]
    assert after["keys"][0]["values"] == before["keys"][0]["values"]

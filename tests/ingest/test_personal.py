"""Personal data never reaches a store in clear: members, identities, quarantine."""

from __future__ import annotations

from pathlib import Path

from memberlens.privacy import KeyRing
from memberlens.workspace import Workspace
from tests.ingest.helpers import rows, run, write

MEMBERS = """source,source_member_key,name,gender,birth_date,phone,email,city,crm_id
pos,p1,张伟,male,1990-02-14,138 0013 8000,Zhang.Wei@Example.com,上海,CRM-001
pos,p2,Li Na,female,1985-12-01,+86 139-0013-9000,lina@example.org,北京,CRM-002
pos,p3,Bad Mail,female,1980-01-01,13700137000,li.na@@example,北京,
pos,p4,Bad Phone,male,1980-01-01,12345,ok@example.com,北京,
pos,p5,Too Old,male,1850-01-01,13600136000,old@example.com,北京,
"""


def _decrypt(ring: KeyRing, token: str, context: str) -> str:
    return ring.decrypt(token, context=context)


def test_members_are_encrypted_indexed_and_derived(workspace: Workspace, tmp_path: Path) -> None:
    r = run(workspace, "members", write(tmp_path / "m.csv", MEMBERS))
    assert (r.loaded, r.quarantined) == (2, 3)
    got = rows(
        workspace,
        "SELECT source_member_key, name, phone, email, birth_date, birth_md, "
        "age_band, email_bidx, phone_bidx FROM members ORDER BY 1",
    )
    ring = workspace.keyring
    key, name, phone, email, birth, md, band, ebidx, pbidx = got[0]
    assert key == "p1" and "张伟" not in name and "138" not in phone
    assert _decrypt(ring, name, "members.name") == "张伟"
    assert _decrypt(ring, phone, "members.phone") == "+8613800138000"  # stored as E.164
    assert _decrypt(ring, email, "members.email") == "zhang.wei@example.com"
    assert _decrypt(ring, birth, "members.birth_date") == "1990-02-14"
    assert md == "02-14" and band in ("25-34", "35-44")
    assert ebidx == ring.blind_index("zhang.wei@example.com", kind="email")
    assert pbidx == ring.blind_index("+8613800138000", kind="phone")


def test_identities_are_recorded_encrypted(workspace: Workspace, tmp_path: Path) -> None:
    run(workspace, "members", write(tmp_path / "m.csv", MEMBERS))
    got = rows(workspace, "SELECT id_type, count(*) FROM member_identities GROUP BY 1 ORDER BY 1")
    assert got == [("crm_id", 2), ("email", 2), ("phone", 2)]
    values = rows(workspace, "SELECT id_value FROM member_identities WHERE id_type = 'crm_id'")
    assert all("CRM-" not in v for (v,) in values)


def test_quarantine_masks_reasons_and_encrypts_raw_rows(
    workspace: Workspace, tmp_path: Path
) -> None:
    run(workspace, "members", write(tmp_path / "m.csv", MEMBERS))
    q = rows(
        workspace,
        "SELECT line, column_name, reason, raw, raw_encrypted FROM quarantine ORDER BY line",
    )
    assert [(line, col) for line, col, *_ in q] == [(4, "email"), (5, "phone"), (6, "birth_date")]
    assert "l***@example" in q[0][2] and "li.na@@example" not in q[0][2]
    assert "123**" not in q[1][2] and "*****" in q[1][2]
    for _, _, _reason, raw, encrypted in q:
        # The ciphertext is base64 text, whose letters may spell "Bad" by chance (they
        # once did): each clear row holds a space and an "@", which base64 never does.
        assert encrypted and " " not in raw and "@" not in raw
        assert "@" in workspace.keyring.decrypt(raw, context="quarantine.raw")
    clear = workspace.keyring.decrypt(q[0][3], context="quarantine.raw")
    assert "li.na@@example" in clear  # nothing lost: the privacy officer can still read it


def test_reimported_members_are_duplicates_despite_random_nonces(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = write(tmp_path / "m.csv", MEMBERS)
    run(workspace, "members", path)
    again = run(workspace, "members", path)
    assert (again.loaded, again.duplicates, again.quarantined) == (0, 2, 3)
    assert rows(workspace, "SELECT count(*) FROM member_identities") == [(6,)]


def test_no_clear_personal_value_in_the_files(workspace_dir: Path, tmp_path: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        run(ws, "members", write(tmp_path / "m.csv", MEMBERS))
        ws.warehouse.execute("CHECKPOINT")
    blob = b"".join(p.read_bytes() for p in (workspace_dir / "data").iterdir() if p.is_file())
    for needle in (
        "Zhang.Wei@Example.com",
        "zhang.wei@example.com",
        "13800138000",
        "+8613800138000",
        "li.na@@example",
        "张伟",
        "CRM-001",
    ):
        assert needle.encode() not in blob, needle

"""Pseudonymised extracts: a hand-computed k, consistent pseudonyms, no identifiers."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from memberlens import audit, protection
from memberlens.core.errors import UsageError
from memberlens.privacy import ExportRequest
from memberlens.workspace import Workspace
from tests.cli.test_cli import cli, json_of
from tests.ingest.helpers import rows, run, write

# Same birth year and month for all: one age band whatever the day the test runs.
# Groups over (age_band, gender, city, region), hand-computed for a target of 5:
#   female 杭州/浙江 3, female 宁波/浙江 2, male 上海/上海 2   -> all below 5
#   city -> region: female 浙江/浙江 5 (ok), male 上海/上海 2  -> male still below
#   location suppressed: male */* 2                           -> k = 2, a warning
MEMBERS = """source,source_member_key,name,gender,birth_date,phone,email,city,region
pos,f1,Amy Li,female,1990-03-10,13800000001,amy@example.com,杭州,浙江
pos,f2,Bo Wang,female,1990-03-11,13800000002,bo@example.com,杭州,浙江
pos,f3,Cui Zhao,female,1990-03-12,13800000003,cui@example.com,杭州,浙江
pos,f4,Dan Sun,female,1990-03-13,13800000004,dan@example.com,宁波,浙江
pos,f5,Eva Zhou,female,1990-03-14,13800000005,eva@example.com,宁波,浙江
pos,m1,Fan Wu,male,1990-03-15,13800000006,fan@example.com,上海,上海
pos,m2,Gao Xu,male,1990-03-16,13800000007,gao@example.com,上海,上海
"""
ORDERS = """order_id,source,source_member_key,ordered_at,total_amount
o1,pos,f1,2024-05-01T10:00:00Z,10.00
o2,pos,f1,2024-05-02T10:00:00Z,20.00
o3,pos,m2,2024-05-03T10:00:00Z,30.00
"""
CLEAR = ["amy@example.com", "13800000001", "+8613800000001", "Amy Li", "Gao Xu", "1990-03-10"]


@pytest.fixture
def members(workspace: Workspace, tmp_path: Path) -> Workspace:
    assert run(workspace, "members", write(tmp_path / "m.csv", MEMBERS)).loaded == 7
    assert run(workspace, "orders", write(tmp_path / "o.csv", ORDERS)).loaded == 3
    return workspace


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_k_generalisation_and_warning_match_the_hand_computation(
    members: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "x" / "members.csv"
    report = protection.export(members, ExportRequest("members", out), actor="test")
    assert report.quasi == ("age_band", "gender", "city", "region")
    assert report.k == 2 and report.rows == 7
    assert report.generalised == {"city_to_region": 7, "location_suppressed": 2}
    assert report.warning and "holds 2 member(s), below 5" in report.warning
    got = sorted((r["gender"], r["city"], r["region"]) for r in _read(out))
    assert got == [("female", "浙江", "浙江")] * 5 + [("male", "*", "*")] * 2


def test_a_coarser_quasi_set_reaches_k_without_warning(members: Workspace, tmp_path: Path) -> None:
    request = ExportRequest("members", tmp_path / "m.parquet", quasi=("age_band",))
    report = protection.export(members, request, actor="test")
    assert (report.k, report.warning, report.format) == (7, None, "parquet")
    table = pq.read_table(tmp_path / "m.parquet")
    assert table.num_rows == 7 and "member_pseudonym" in table.column_names
    gender = ExportRequest("members", tmp_path / "g.csv", quasi=("gender",))
    assert protection.export(members, gender, actor="test").k == 2  # 5 women, 2 men


def test_no_identifier_reaches_the_file(members: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "members.csv"
    report = protection.export(members, ExportRequest("members", out), actor="test")
    text = out.read_text(encoding="utf-8")
    for value in CLEAR:
        assert value not in text
    for column in ("name", "phone", "email", "birth_date", "address", "email_bidx", "birth_md"):
        assert column not in report.columns
    raw_ids = [
        v for r in rows(members, "SELECT member_id, source_member_key FROM member_map") for v in r
    ]
    pseudonyms = {r["member_pseudonym"] for r in _read(out)}
    assert len(pseudonyms) == 7 and not pseudonyms & set(raw_ids)
    assert all(raw not in text for raw in raw_ids if len(raw) > 3)
    assert "source_member_key" not in report.columns and "_row_key" not in report.columns


def test_pseudonyms_are_consistent_within_an_export_only(
    members: Workspace, tmp_path: Path
) -> None:
    first = protection.export(members, ExportRequest("orders", tmp_path / "a.csv"), actor="t")
    assert first.quasi == ("region",) and first.k == 2  # 2 members in the (empty) region
    by_order = {r["order_id"]: r["member_pseudonym"] for r in _read(tmp_path / "a.csv")}
    assert by_order["o1"] == by_order["o2"] != by_order["o3"]  # f1 twice, m2 once
    protection.export(members, ExportRequest("orders", tmp_path / "b.csv"), actor="t")
    again = {r["order_id"]: r["member_pseudonym"] for r in _read(tmp_path / "b.csv")}
    assert again["o1"] != by_order["o1"]  # a fresh salt per export: not joinable
    stable = []
    for name in ("s1.csv", "s2.csv"):
        request = ExportRequest("orders", tmp_path / name, salt="workspace")
        protection.export(members, request, actor="t")
        stable.append({r["order_id"]: r["member_pseudonym"] for r in _read(tmp_path / name)})
    assert stable[0] == stable[1]


def test_tables_with_personal_columns_need_pseudonymize(members: Workspace, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--pseudonymize"):
        protection.export(
            members, ExportRequest("members", tmp_path / "m.csv", pseudonymize=False), actor="t"
        )
    plain = ExportRequest("orders", tmp_path / "o.csv", pseudonymize=False)
    report = protection.export(members, plain, actor="t")
    assert report.k is None and report.rows == 3 and "_row_key" not in report.columns
    actions = [e.action for e in audit.entries(members.state)]
    assert actions == ["export.table", "export.table"]  # the refusal is audited too


def test_bad_requests_name_the_fix(members: Workspace, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.csv or \.parquet"):
        protection.export(members, ExportRequest("members", tmp_path / "m.xlsx"), actor="t")
    with pytest.raises(UsageError, match="not in the extract"):
        request = ExportRequest("members", tmp_path / "m.csv", quasi=("email",))
        protection.export(members, request, actor="t")


@pytest.mark.slow
def test_cli_export_as_documented(workspace_dir: Path, tmp_path: Path) -> None:
    w = str(workspace_dir)
    cli("ingest", "members", str(write(tmp_path / "m.csv", MEMBERS)), "-w", w, "-q", check=True)
    out = tmp_path / "members.parquet"
    args = ("export", "members", "--pseudonymize", "--out", str(out), "-w", w)
    report = json_of(*args, schema="export")
    assert (report["k"], report["rows"], report["file"]) == (2, 7, str(out))
    assert "below 5" in cli(*args).stderr  # the warning, on stderr
    refused = cli("export", "members", "--out", str(tmp_path / "x.csv"), "-w", w)
    assert refused.returncode == 2 and "--pseudonymize" in refused.stderr

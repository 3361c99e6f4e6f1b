"""Reading files: encodings, delimiters, formats, and line numbers that stay true."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from memberlens.workspace import Workspace
from tests.ingest.helpers import balanced, rows, run, write

FEEDBACK = "kind,text,rating\nreview,好吃，下次还来,5\ncomplaint,送餐太慢,1\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_encodings_are_detected(workspace: Workspace, tmp_path: Path, encoding: str) -> None:
    r = run(workspace, "feedback", write(tmp_path / "f.csv", FEEDBACK, encoding))
    assert r.loaded == 2
    assert rows(workspace, "SELECT text FROM feedback ORDER BY rating") == [
        ("送餐太慢",),
        ("好吃，下次还来",),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiters_are_detected(workspace: Workspace, tmp_path: Path, delimiter: str) -> None:
    text = FEEDBACK.replace(",", delimiter).replace("好吃" + delimiter, "好吃,")
    r = run(workspace, "feedback", write(tmp_path / "f.txt", text))
    assert r.loaded == 2 and r.quarantined == 0


def test_broken_lines_are_quarantined_with_their_line(workspace: Workspace, tmp_path: Path) -> None:
    text = FEEDBACK + "review,too,many,fields\nreview,fine,4\n"
    r = run(workspace, "feedback", write(tmp_path / "f.csv", text))
    assert (r.read, r.loaded, r.quarantined) == (4, 3, 1) and balanced(r)
    assert rows(workspace, "SELECT line FROM quarantine") == [(4,)]
    # Rows after the broken line keep their true line numbers.
    assert rows(workspace, "SELECT _line FROM feedback WHERE text = 'fine'") == [(5,)]


def test_quoted_fields_with_commas_and_quotes(workspace: Workspace, tmp_path: Path) -> None:
    text = 'kind,text\nreview,"good, ""really"" good"\n'
    run(workspace, "feedback", write(tmp_path / "f.csv", text))
    assert rows(workspace, "SELECT text FROM feedback") == [('good, "really" good',)]


def test_json_lines_with_a_bad_line(workspace: Workspace, tmp_path: Path) -> None:
    lines = [
        json.dumps({"kind": "review", "text": "好", "rating": 5}, ensure_ascii=False),
        "{not json",
        json.dumps({"kind": "survey", "nps": 9}),
    ]
    r = run(workspace, "feedback", write(tmp_path / "f.jsonl", "\n".join(lines) + "\n"))
    assert (r.read, r.loaded, r.quarantined) == (3, 2, 1)
    assert rows(workspace, "SELECT line, reason FROM quarantine") == [
        (2, "the line is not a JSON object")
    ]


def test_parquet(workspace: Workspace, tmp_path: Path) -> None:
    table = pa.table({"kind": ["review", "bogus"], "text": ["ok", "x"], "rating": [4, 2]})
    pq.write_table(table, tmp_path / "f.parquet")
    r = run(workspace, "feedback", tmp_path / "f.parquet")
    assert (r.loaded, r.quarantined) == (1, 1)
    assert rows(workspace, "SELECT line FROM quarantine") == [(2,)]


def test_whitespace_format_with_declared_columns(workspace: Workspace, tmp_path: Path) -> None:
    text = " 00001 19970101  1   11.77\n 00002 19970112  1   12.00  extra\n"
    mapping = """
[read]
format = "whitespace"
header = false
columns = ["customer_id", "date", "n", "usd"]
[tables.orders]
source_member_key = "customer_id"
ordered_at = { column = "date", format = "%Y%m%d" }
total_amount = "usd"
"""
    r = run(workspace, "orders", write(tmp_path / "c.txt", text), mapping, source="cdnow")
    assert (r.loaded, r.quarantined) == (1, 1)
    assert "has 5 fields, expected 4" in rows(workspace, "SELECT reason FROM quarantine")[0][0]

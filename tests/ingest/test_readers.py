"""Reading files: encodings, delimiters, formats, and line numbers that stay true."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from memberlens.core.errors import InputError
from memberlens.workspace import Workspace
from tests.ingest.helpers import balanced, rows, run, write

FEEDBACK = "kind,text,rating\nreview,好吃，下次还来,5\ncomplaint,送餐太慢,1\n"


# The same feedback in both scripts; the city is the example (臺北 read as GBK
# came out as 籓\ue665).
SIMPLIFIED = ["好吃，下次还来", "送餐太慢了，等了两个小时", "台北的店环境不错"]
TRADITIONAL = ["好吃，下次還來", "送餐太慢了，等了兩個小時", "臺北的店環境不錯"]


def _feedback(texts: list[str]) -> str:
    lines = [f"review,{t},{5 - i}" for i, t in enumerate(texts)]
    return "kind,text,rating\n" + "\n".join(lines) + "\n"


def _bytes(text: str, encoding: str) -> bytes:
    boms = {"utf-16-le+bom": codecs.BOM_UTF16_LE, "utf-16-be+bom": codecs.BOM_UTF16_BE}
    return boms.get(encoding, b"") + text.encode(encoding.removesuffix("+bom"))


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16-le+bom", "utf-16"),
        ("utf-16-be+bom", "utf-16"),
        ("utf-16-le", "utf-16-le"),
    ],
)
@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_encodings_are_detected_in_both_scripts(
    workspace: Workspace, tmp_path: Path, encoding: str, detected: str, script: str
) -> None:
    texts = SIMPLIFIED if script == "simplified" else TRADITIONAL
    path = tmp_path / "f.csv"
    path.write_bytes(_bytes(_feedback(texts), encoding))
    r = run(workspace, "feedback", path)
    assert (r.loaded, r.quarantined, r.encoding) == (3, 0, detected)
    assert [
        t for (t,) in rows(workspace, "SELECT text FROM feedback ORDER BY rating DESC")
    ] == texts


def test_big5_is_detected_and_not_read_as_gbk(workspace: Workspace, tmp_path: Path) -> None:
    # Big5 holds Traditional characters only: there is no Simplified Big5 file to read.
    with pytest.raises(UnicodeEncodeError):
        _feedback(SIMPLIFIED).encode("big5")
    path = tmp_path / "f.csv"
    path.write_bytes(_feedback(TRADITIONAL).encode("big5"))
    assert _feedback(TRADITIONAL).encode("big5").decode("gb18030") != _feedback(TRADITIONAL)
    r = run(workspace, "feedback", path)
    assert (r.loaded, r.encoding) == (3, "cp950")
    assert [t for (t,) in rows(workspace, "SELECT text FROM feedback ORDER BY rating DESC")] == (
        TRADITIONAL
    )


def test_an_encoding_it_cannot_tell_is_refused_with_the_candidates(
    workspace: Workspace, tmp_path: Path
) -> None:
    # Two characters whose GBK bytes are common characters in Big5 too: 好吃 or 疑勛?
    path = write(tmp_path / "f.csv", "kind,text\nreview,好吃\n", "gbk")
    with pytest.raises(InputError) as refused:
        run(workspace, "feedback", path)
    message = str(refused.value)
    assert "cannot tell" in message and "GBK/GB18030" in message and "Big5" in message
    assert "--encoding gb18030" in message and "--encoding big5" in message
    assert "read.encoding" in message
    assert rows(workspace, "SELECT count(*) FROM feedback") == [(0,)]
    r = run(workspace, "feedback", path, encoding="gbk")  # the flag decides
    assert (r.encoding, rows(workspace, "SELECT text FROM feedback")) == ("gbk", [("好吃",)])


def test_text_in_no_known_encoding_is_refused_with_guesses(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = write(tmp_path / "f.csv", "kind,text\nreview,très bon café à refaire\n", "cp1252")
    with pytest.raises(InputError, match="not UTF-8, GBK/GB18030, Big5 or UTF-16") as refused:
        run(workspace, "feedback", path)
    assert "--encoding" in str(refused.value)
    r = run(workspace, "feedback", path, encoding="cp1252")
    assert rows(workspace, "SELECT text FROM feedback") == [("très bon café à refaire",)]
    assert r.encoding == "cp1252"


def test_a_wrong_encoding_says_where_the_file_breaks_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = write(tmp_path / "f.csv", _feedback(SIMPLIFIED), "gbk")
    with pytest.raises(InputError, match=r"is not utf-8 text \(line 2\).*--encoding"):
        run(workspace, "feedback", path, encoding="utf-8")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        run(workspace, "feedback", path, encoding="klingon")
    assert rows(workspace, "SELECT count(*) FROM ingest_runs") == [(0,)]


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

"""The SQL validators must agree with their Python twins on any input (hypothesis).

Validation runs in the engine for speed; the Python functions are what the rest of
memberlens (identity resolution, masking on screen) uses. They must never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberlens.ingest._compile import EMAIL_RE, mask_sql, phone_sql
from memberlens.privacy import mask, normalise_phone


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


phone_like = st.one_of(
    st.from_regex(r"(\+86|0086|86)?[ -]?1[3-9]\d[ -]?\d{4}[ -]?\d{4}", fullmatch=True),
    st.from_regex(r"\+[1-9]\d{5,15}", fullmatch=True),
    st.text(alphabet="0123456789+- ()\t\u00a0\u0660", max_size=20),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(phone_like)
def test_phone_sql_matches_python(con: duckdb.DuckDBPyConnection, raw: str) -> None:
    got = con.execute(f"SELECT {phone_sql('x')} FROM (SELECT ?::VARCHAR AS x)", [raw]).fetchone()
    assert got is not None
    assert got[0] == normalise_phone(raw)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.emails(), st.text(max_size=30)))
def test_email_rule_matches_python_regex(con: duckdb.DuckDBPyConnection, raw: str) -> None:
    got = con.execute(f"SELECT regexp_full_match(lower(?), '{EMAIL_RE}')", [raw]).fetchone()
    assert got is not None
    assert bool(got[0]) == bool(re.fullmatch(EMAIL_RE, raw.lower()))


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30), st.sampled_from(["email", "phone", "text"]))
def test_masking_sql_matches_python(con: duckdb.DuckDBPyConnection, raw: str, kind: str) -> None:
    got = con.execute(
        f"SELECT {mask_sql('x', kind)} FROM (SELECT ?::VARCHAR AS x)", [raw]
    ).fetchone()
    assert got is not None
    assert got[0] == mask(raw, kind=kind)


def test_known_phone_spellings() -> None:
    assert normalise_phone("138 0013 8000") == "+8613800138000"
    assert normalise_phone("+86 138-0013-8000") == "+8613800138000"
    assert normalise_phone("0086 13800138000") == "+8613800138000"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("12345") is None
    assert normalise_phone("23800138000") is None

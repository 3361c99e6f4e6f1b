"""State-store fixtures: one URL per implementation, each test on an empty database.

SQLite gets a file in ``tmp_path``. PostgreSQL is the server that ``make test``
starts (scripts/test-services.sh) or the one ``MEMBERLENS_TEST_PG_URL`` names; each
test gets its own schema, dropped afterwards, so tests never share state.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from memberlens.store import StateStore, sqlite_url
from tests.tiers import tier_unavailable

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:55432/memberlens_test"
START_HINT = (
    "make test starts PostgreSQL when run as root (scripts/test-services.sh); "
    "otherwise set MEMBERLENS_TEST_PG_URL"
)


def pg_base_url() -> URL:
    url = make_url(os.environ.get("MEMBERLENS_TEST_PG_URL") or DEFAULT_PG_URL)
    # A bare postgresql:// would pick psycopg2, which the test extra does not install.
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


@pytest.fixture(scope="session")
def pg_admin_url() -> URL:
    """The PostgreSQL URL, or a skip saying why it cannot be used (checked once; a failure
    instead when every tier must run, see tests/tiers.py)."""
    url = pg_base_url()
    shown = url.render_as_string(hide_password=True)
    # The reasons are given outside the handlers: the reason alone, not the driver's chain.
    if importlib.util.find_spec("psycopg") is None:
        tier_unavailable("psycopg is not installed: pip install -c constraints.txt -e '.[test]'")
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    problem = None
    try:
        with engine.connect() as con:
            con.execute(text("SELECT 1"))
    except Exception as exc:  # any driver or network error means: not reachable
        problem = str(exc).strip().splitlines()[0]
    finally:
        engine.dispose()
    if problem is not None:
        tier_unavailable(
            f"PostgreSQL at {shown} is not reachable within 2 s ({problem}); {START_HINT}"
        )
    return url


@pytest.fixture
def pg_schema_url(pg_admin_url: URL) -> Iterator[str]:
    """A URL whose search_path is a fresh schema; the schema is dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_admin_url, connect_args={"connect_timeout": 2})
    with admin.begin() as con:
        con.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_admin_url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as con:
            con.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty state database, once per implementation."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "state.db")
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def state(state_url: str) -> Iterator[StateStore]:
    """A migrated state store, closed after the test (before its schema is dropped)."""
    store = StateStore.open(state_url)
    try:
        yield store
    finally:
        store.close()

"""Run these tests on every state database (SQLite and PostgreSQL), like the store's."""

from tests.store.conftest import pg_admin_url, pg_schema_url, state, state_url  # noqa: F401

"""The state-port contract: every implementation (SQLite, PostgreSQL) passes the same tests.

What the rest of memberlens relies on: migrations build the schema the ORM models
describe and can run again harmlessly; workspace facts round-trip; job runs are
rows one can query; a transaction that fails leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from memberlens.store import JobRun, StateStore, WorkspaceMeta
from memberlens.store._state import MIGRATIONS, Base

T0 = datetime(2024, 5, 1, 2, 0, 0, 123456)  # naive UTC, as the state DB stores times


def _head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _versions(store: StateStore) -> list[str]:
    with store.engine.connect() as con:
        return [row[0] for row in con.execute(text("SELECT version_num FROM alembic_version"))]


def _run(run_id: str, job: str, status: str, minutes: int, **kw: object) -> JobRun:
    return JobRun(
        run_id=run_id, job=job, status=status, started_at=T0 + timedelta(minutes=minutes), **kw
    )


def _counts(store: StateStore) -> tuple[int, int]:
    with store.session() as s:
        runs = s.scalar(select(func.count()).select_from(JobRun))
        facts = s.scalar(select(func.count()).select_from(WorkspaceMeta))
    return int(runs or 0), int(facts or 0)


# -- migrations -------------------------------------------------------------------
def test_migrations_build_the_schema_the_models_describe(state: StateStore) -> None:
    inspector = inspect(state.engine)
    assert {"workspace_meta", "job_runs", "alembic_version"} <= set(inspector.get_table_names())
    for table in Base.metadata.sorted_tables:
        in_db = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(in_db) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            assert in_db[column.name]["nullable"] == column.nullable, (table.name, column.name)
        primary = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert primary == [c.name for c in table.primary_key.columns], table.name
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("job_runs")}
    assert ("job",) in indexed
    assert _versions(state) == [_head_revision()]


def test_a_fresh_store_is_empty(state: StateStore) -> None:
    # Also proves isolation: earlier tests wrote rows into their own database.
    assert _counts(state) == (0, 0)
    assert state.get_meta("workspace_id") is None


def test_migrating_twice_changes_nothing(state: StateStore, state_url: str) -> None:
    state.set_meta("workspace_id", "ws_1")
    with state.session() as s, s.begin():
        s.add(_run("r1", "ingest", "succeeded", 0))
    again = StateStore.open(state_url)  # migrates again on the same database
    try:
        assert _versions(again) == [_head_revision()]
        assert again.get_meta("workspace_id") == "ws_1"
        assert _counts(again) == (1, 1)
    finally:
        again.close()


# -- workspace facts --------------------------------------------------------------
def test_meta_round_trips_and_overwrites(state: StateStore) -> None:
    assert state.get_meta("created_at") is None
    state.set_meta("created_at", "2024-05-01T02:00:00+00:00")
    state.set_meta("name", "会员 demo — ünïcode")
    assert state.get_meta("created_at") == "2024-05-01T02:00:00+00:00"
    assert state.get_meta("name") == "会员 demo — ünïcode"

    state.set_meta("created_at", "2025-01-01T00:00:00+00:00")
    assert state.get_meta("created_at") == "2025-01-01T00:00:00+00:00"
    assert _counts(state) == (0, 2)  # overwritten in place, not a second row


def test_meta_holds_long_text(state: StateStore) -> None:
    value = "x" * 100_000  # Text column: JSON notes can be large
    state.set_meta("notes", value)
    assert state.get_meta("notes") == value


# -- job runs ---------------------------------------------------------------------
def test_job_runs_insert_and_query(state: StateStore) -> None:
    with state.session() as s, s.begin():
        s.add_all(
            [
                _run("r2", "refresh", "failed", 5, detail='{"error": "boom"}'),
                _run(
                    "r1",
                    "ingest",
                    "succeeded",
                    0,
                    finished_at=T0 + timedelta(seconds=90),
                    duration_ms=90_000,
                    detail='{"read": 10}',
                ),
                _run("r3", "ingest", "running", 10),
            ]
        )
    with state.session() as s:
        ingest = s.scalars(
            select(JobRun).where(JobRun.job == "ingest").order_by(JobRun.started_at)
        ).all()
        assert [r.run_id for r in ingest] == ["r1", "r3"]
        first, running = ingest
        assert first.started_at == T0  # microseconds survive the round trip
        assert first.finished_at == T0 + timedelta(seconds=90)
        assert (first.status, first.duration_ms, first.detail) == (
            "succeeded",
            90_000,
            '{"read": 10}',
        )
        assert (running.finished_at, running.duration_ms, running.detail) == (None, None, None)

        failed = s.scalars(select(JobRun.run_id).where(JobRun.status == "failed")).all()
        assert failed == ["r2"]
        latest = s.scalars(select(JobRun.run_id).order_by(JobRun.started_at.desc())).first()
        assert latest == "r3"


def test_job_run_status_can_be_updated(state: StateStore) -> None:
    with state.session() as s, s.begin():
        s.add(_run("r1", "refresh", "running", 0))
    with state.session() as s, s.begin():
        run = s.get(JobRun, "r1")
        assert run is not None
        run.status, run.finished_at, run.duration_ms = (
            "succeeded",
            T0 + timedelta(minutes=1),
            60_000,
        )
    with state.session() as s:
        assert s.execute(select(JobRun.status, JobRun.duration_ms)).one() == ("succeeded", 60_000)


def test_a_run_id_is_unique(state: StateStore) -> None:
    with state.session() as s, s.begin():
        s.add(_run("r1", "ingest", "succeeded", 0))
    with pytest.raises(IntegrityError), state.session() as s, s.begin():
        s.add(_run("r1", "refresh", "running", 1))
    with state.session() as s:
        assert s.execute(select(JobRun.job)).scalars().all() == ["ingest"]


# -- transactions -----------------------------------------------------------------
def test_an_error_inside_a_transaction_leaves_nothing(state: StateStore) -> None:
    with pytest.raises(RuntimeError, match="half way"), state.session() as s, s.begin():
        s.add(_run("r1", "ingest", "running", 0))
        s.merge(WorkspaceMeta(key="workspace_id", value="ws_1"))
        s.flush()  # the rows reach the database before the failure
        raise RuntimeError("half way")
    assert _counts(state) == (0, 0)


def test_a_failing_statement_rolls_back_the_whole_transaction(state: StateStore) -> None:
    state.set_meta("workspace_id", "ws_1")
    with pytest.raises(IntegrityError), state.session() as s, s.begin():
        s.merge(WorkspaceMeta(key="workspace_id", value="ws_2"))
        s.add(_run("r1", "ingest", "succeeded", 0))
        s.flush()
        # Same key again, past the session's identity map: the database refuses it.
        s.execute(insert(JobRun).values(run_id="r1", job="x", status="running", started_at=T0))
    assert _counts(state) == (0, 1)
    assert state.get_meta("workspace_id") == "ws_1"  # the earlier write in it is undone too
    # The store stays usable after a failed transaction.
    state.set_meta("workspace_id", "ws_3")
    assert state.get_meta("workspace_id") == "ws_3"

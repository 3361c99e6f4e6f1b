"""DDL for the warehouse, generated from the canonical schema.

Each raw table gets bookkeeping columns and a ``<table>_history`` twin that keeps
every previous version of a row (same key, new content = update; DESIGN).
"""

from __future__ import annotations

from memberlens.schema import RAW_TABLES, ColumnType, Table

DUCKDB_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DECIMAL: "DECIMAL(18,2)",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",  # naive, always UTC
    ColumnType.JSON: "VARCHAR",
}

# Bookkeeping columns every raw row carries.
META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_row_key", "VARCHAR"),  # the row's identity: natural key, or content hash + occurrence
    ("_content_hash", "VARCHAR"),  # what "same content" means on re-import
    ("_run_id", "VARCHAR"),  # the ingest run that wrote this version
    ("_line", "BIGINT"),  # line of the source file (1-based, header counted)
    ("_loaded_at", "TIMESTAMP"),
    ("_flags", "VARCHAR"),  # comma-separated: orphan, out_of_window
)


def sql_type(kind: ColumnType) -> str:
    """The DuckDB type of a logical column type."""
    return DUCKDB_TYPES[kind]


def q(name: str) -> str:
    """Quote an identifier for SQL."""
    return '"' + name.replace('"', '""') + '"'


def column_type(table: Table, name: str) -> str:
    col = table.column(name)
    # Personal columns hold ciphertext, whatever their logical type.
    return "VARCHAR" if col.personal else DUCKDB_TYPES[col.type]


def raw_table_ddl(table: Table) -> list[str]:
    """Current table and history twin. No PRIMARY KEY on ``_row_key``: ingest keeps
    keys unique itself (anti-join), and DuckDB's index would refuse a delete and
    re-insert of one key inside one transaction, which an update is."""
    cols = [f"{q(c.name)} {column_type(table, c.name)}" for c in table.columns]
    cols += [f"{q(n)} {t}" for n, t in META_COLUMNS]
    body = ", ".join(cols)
    return [
        f"CREATE TABLE IF NOT EXISTS {q(table.name)} ({body})",
        f"CREATE TABLE IF NOT EXISTS {q(table.name + '_history')} ({body}, "
        "_superseded_at TIMESTAMP, _superseded_by_run VARCHAR)",
    ]


SUPPORT_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS member_map (
        source VARCHAR NOT NULL, source_member_key VARCHAR NOT NULL,
        member_id VARCHAR NOT NULL, since TIMESTAMP NOT NULL, reason VARCHAR NOT NULL,
        PRIMARY KEY (source, source_member_key))""",
    """CREATE TABLE IF NOT EXISTS member_identities (
        id_type VARCHAR NOT NULL, id_hash VARCHAR NOT NULL,
        source VARCHAR NOT NULL, source_member_key VARCHAR NOT NULL,
        id_value VARCHAR, first_seen TIMESTAMP NOT NULL,
        PRIMARY KEY (id_type, id_hash, source, source_member_key))""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        run_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL, source_file VARCHAR,
        line BIGINT, column_name VARCHAR, reason VARCHAR NOT NULL,
        raw VARCHAR, raw_encrypted BOOLEAN NOT NULL, quarantined_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ingest_runs (
        run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, source_file VARCHAR,
        file_sha256 VARCHAR, mapping VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        "read" BIGINT, loaded BIGINT, updated BIGINT, quarantined BIGINT,
        duplicates BIGINT, orphans BIGINT, tables VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS points_ledger (
        movement_id VARCHAR PRIMARY KEY, member_id VARCHAR NOT NULL, points BIGINT NOT NULL,
        reason VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL, expires_at TIMESTAMP)""",
    # Tiers & points (docs/tiers-and-points.md): the ledger names the source record a
    # movement belongs to (balances follow member_map through merges), the row it came
    # from and, for expiry and reversals, the earning lot it debits.
    "ALTER TABLE points_ledger ADD COLUMN IF NOT EXISTS source VARCHAR",
    "ALTER TABLE points_ledger ADD COLUMN IF NOT EXISTS source_member_key VARCHAR",
    "ALTER TABLE points_ledger ADD COLUMN IF NOT EXISTS source_ref VARCHAR",
    "ALTER TABLE points_ledger ADD COLUMN IF NOT EXISTS lot_id VARCHAR",
    "ALTER TABLE points_ledger ADD COLUMN IF NOT EXISTS note VARCHAR",
    "ALTER TABLE points_ledger ADD COLUMN IF NOT EXISTS recorded_at TIMESTAMP",
    # No primary keys on snapshot tables: a re-run deletes and re-inserts a snapshot in
    # one transaction, which DuckDB's index would refuse (see raw_table_ddl).
    """CREATE TABLE IF NOT EXISTS member_tiers (
        snapshot_date DATE NOT NULL, member_id VARCHAR NOT NULL, tier VARCHAR,
        qualifying_value DECIMAL(18,2) NOT NULL, since DATE, previous_tier VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS member_points (
        snapshot_date DATE NOT NULL, member_id VARCHAR NOT NULL, balance BIGINT NOT NULL,
        earned_365d BIGINT NOT NULL, expiring_points BIGINT NOT NULL,
        next_expiry_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS member_signals (
        signal_id VARCHAR NOT NULL, member_id VARCHAR NOT NULL, signal VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL, snapshot_date DATE NOT NULL, payload VARCHAR NOT NULL)""",
    # Identity resolution (docs/identity.md): matching keys cached per blind index,
    # every map version it wrote, identifiers it refused, unmerge splits, stitching.
    """CREATE TABLE IF NOT EXISTS identity_match_keys (
        id_type VARCHAR NOT NULL, id_hash VARCHAR NOT NULL, match_hash VARCHAR NOT NULL,
        PRIMARY KEY (id_type, id_hash))""",
    """CREATE TABLE IF NOT EXISTS identity_merges (
        run_id VARCHAR NOT NULL, merged_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
        source VARCHAR NOT NULL, source_member_key VARCHAR NOT NULL,
        previous_member_id VARCHAR NOT NULL, previous_reason VARCHAR NOT NULL,
        member_id VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS identity_flags (
        id_type VARCHAR NOT NULL, match_hash VARCHAR NOT NULL, records BIGINT NOT NULL,
        run_id VARCHAR NOT NULL, flagged_at TIMESTAMP NOT NULL,
        PRIMARY KEY (id_type, match_hash))""",
    """CREATE TABLE IF NOT EXISTS identity_splits (
        split_id VARCHAR NOT NULL, source VARCHAR NOT NULL,
        source_member_key VARCHAR NOT NULL, grp VARCHAR NOT NULL,
        PRIMARY KEY (split_id, source, source_member_key))""",
    """CREATE TABLE IF NOT EXISTS anonymous_map (
        anonymous_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL,
        source_member_key VARCHAR NOT NULL, linked_at TIMESTAMP NOT NULL,
        event_id VARCHAR, run_id VARCHAR NOT NULL)""",
)


def warehouse_ddl() -> list[str]:
    """Every statement that creates the warehouse's tables (idempotent)."""
    statements: list[str] = []
    for table in RAW_TABLES.values():
        statements += raw_table_ddl(table)
    statements += SUPPORT_DDL
    return statements

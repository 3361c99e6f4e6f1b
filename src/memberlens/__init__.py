"""memberlens: an open-source member personalisation platform."""

import os

__version__ = "0.1.0"

# DuckDB writes the unused tail of a storage block as it found it in memory
# (duckdb/duckdb#23382, still open in 1.5), so fragments of whatever DuckDB held before
# — clear personal values being validated during an import — can land in the database
# file. Its allocator (jemalloc, read from this variable when DuckDB first allocates)
# then zero-fills every allocation, so the tail holds zeros. Set before any memberlens
# module imports DuckDB; an explicit ``zero:`` setting of an operator's is kept.
_DUCKDB_MALLOC = "DUCKDB_JE_MALLOC_CONF"
if "zero:" not in os.environ.get(_DUCKDB_MALLOC, ""):
    os.environ[_DUCKDB_MALLOC] = ",".join(
        part for part in (os.environ.get(_DUCKDB_MALLOC), "zero:true") if part
    )

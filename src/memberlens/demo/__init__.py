"""The demo: a deterministic synthetic member base, ingested and refreshed, with accounts."""

from memberlens.demo._run import (
    DEMO_TODAY,
    LOAD_ORDER,
    DemoReport,
    demo_accounts,
    ingest_source,
    run_demo,
)
from memberlens.demo._synth import DemoTruth, generate_sources

__all__ = [
    "DEMO_TODAY",
    "LOAD_ORDER",
    "DemoReport",
    "DemoTruth",
    "demo_accounts",
    "generate_sources",
    "ingest_source",
    "run_demo",
]

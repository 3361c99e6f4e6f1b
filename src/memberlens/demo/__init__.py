"""The demo: a deterministic synthetic member base, ingested and summarised."""

from memberlens.demo._run import LOAD_ORDER, DemoReport, run_demo
from memberlens.demo._synth import DemoTruth, generate_sources

__all__ = ["LOAD_ORDER", "DemoReport", "DemoTruth", "generate_sources", "run_demo"]

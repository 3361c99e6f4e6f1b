"""Measure: KPIs, funnels, cohorts, ROI and reports (the overview first)."""

from memberlens.measure._clock import newest_activity
from memberlens.measure._overview import overview
from memberlens.measure.contracts import Overview

__all__ = ["Overview", "newest_activity", "overview"]

"""Canonical tables: column specs, keys, checks; the data dictionary's source."""

from memberlens.schema._check import RowProblem, check_row
from memberlens.schema._markdown import data_model_markdown
from memberlens.schema._normalise import PHONE_NOISE, normalise_email, normalise_phone
from memberlens.schema._tables import (
    AGE_BANDS,
    CONSENT_CHANNELS,
    CONSENT_PURPOSES,
    EVENT_TYPES,
    FEEDBACK_KINDS,
    GENDERS,
    ORDER_STATUSES,
    RAW_TABLES,
    REFUND_STATUSES,
)
from memberlens.schema.contracts import Check, Column, ColumnType, Table

__all__ = [
    "AGE_BANDS",
    "CONSENT_CHANNELS",
    "CONSENT_PURPOSES",
    "EVENT_TYPES",
    "FEEDBACK_KINDS",
    "GENDERS",
    "ORDER_STATUSES",
    "PHONE_NOISE",
    "RAW_TABLES",
    "REFUND_STATUSES",
    "Check",
    "Column",
    "ColumnType",
    "RowProblem",
    "Table",
    "check_row",
    "data_model_markdown",
    "normalise_email",
    "normalise_phone",
]

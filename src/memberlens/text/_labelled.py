"""Labelled feedback files for ``memberlens text train`` and ``text evaluate``.

CSV or TSV (UTF-8, with or without a byte-order mark) or JSON Lines; one text column
and one label column, named by the caller. Labels are two classes, written as
``1``/``0``, ``true``/``false``, ``positive``/``negative``, ``pos``/``neg`` or
``正面``/``负面`` (``好评``/``差评``). A row without text or with another label is not
used: it is counted and its row number (1 = the first data row) reported — never its
text, which may be personal data.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memberlens.core.errors import InputError

POSITIVE = frozenset({"1", "true", "positive", "pos", "正面", "好评", "积极"})
NEGATIVE = frozenset({"0", "false", "negative", "neg", "负面", "差评", "消极"})
_SHOWN_ROWS = 20


@dataclass
class Labelled:
    """The usable rows (texts and 0/1 labels) and what was left out, by row number."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    rejected: dict[str, list[int]] = field(default_factory=dict)

    def reject(self, reason: str, row: int) -> None:
        self.rejected.setdefault(reason, []).append(row)

    def report(self) -> dict[str, Any]:
        """``{"count", "reasons": {REASON: {"count", "rows"}}}`` (the first 20 rows of each)."""
        return {
            "count": sum(len(v) for v in self.rejected.values()),
            "reasons": {
                k: {"count": len(v), "rows": v[:_SHOWN_ROWS]} for k, v in self.rejected.items()
            },
        }


def label_of(value: object) -> int | None:
    """1, 0, or None when ``value`` is not one of the two classes' spellings."""
    text = str(value).strip().lower() if value is not None else ""
    if text.endswith(".0"):  # 1.0 / 0.0 from a spreadsheet export
        text = text[:-2]
    return 1 if text in POSITIVE else 0 if text in NEGATIVE else None


def read_labelled(path: Path, *, text_column: str, label_column: str) -> Labelled:
    """Read ``path``; raise InputError when it cannot be read or lacks a column."""
    if not path.is_file():
        raise InputError(f"no file {path}; give the path of a CSV, TSV or JSON Lines file")
    rows = _rows(path)
    out = Labelled()
    for number, row in enumerate(rows, start=1):
        if number == 1:
            missing = [c for c in (text_column, label_column) if c not in row]
            if missing:
                raise InputError(
                    f"{path.name} has no column {', '.join(map(repr, missing))}; its columns "
                    f"are {', '.join(map(repr, row))} — name them with --text-column and "
                    "--label-column"
                )
        text = row.get(text_column)
        label = label_of(row.get(label_column))
        if not isinstance(text, str) or not text.strip():
            out.reject("no text", number)
        elif label is None:
            out.reject("label is not one of 1/0, positive/negative", number)
        else:
            out.texts.append(text)
            out.labels.append(label)
    if not out.texts:
        raise InputError(
            f"{path.name} has no usable row ({out.report()['count']} rejected): each row "
            f"needs text in {text_column!r} and a label in {label_column!r} such as 1 or 0"
        )
    return out


def _rows(path: Path) -> list[dict[str, object]]:
    """The data rows as dicts."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 ({exc.reason}); save it as UTF-8") from None
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows: list[dict[str, object]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path.name} line {number} is not JSON: {exc.msg}") from None
            rows.append(record if isinstance(record, dict) else {})
        return rows
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    return list(csv.DictReader(io.StringIO(text, newline=""), dialect=dialect))

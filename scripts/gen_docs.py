"""Regenerate the generated parts of README.md and docs/ from the code.

Run ``make docs`` after changing the schema; ``tests/test_docs.py`` fails when a
generated block is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from memberlens.schema import RAW_TABLES, data_model_markdown

ROOT = Path(__file__).resolve().parents[1]
TARGETS = (ROOT / "README.md", ROOT / "docs" / "data-model.md")
BLOCK = re.compile(r"(<!-- data-model:start -->\n).*?(<!-- data-model:end -->)", re.S)


def render() -> str:
    return data_model_markdown(RAW_TABLES.values())


def updated(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render() + m.group(2), text)


def main() -> int:
    for path in TARGETS:
        text = path.read_text(encoding="utf-8")
        new = updated(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

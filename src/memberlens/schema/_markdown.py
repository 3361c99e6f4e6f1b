"""The data model reference as Markdown, generated from the table specs."""

from __future__ import annotations

from collections.abc import Iterable

from memberlens.schema.contracts import Table


def data_model_markdown(tables: Iterable[Table]) -> str:
    """Render tables as Markdown (README and docs/data-model.md embed this output)."""
    parts: list[str] = []
    for t in tables:
        parts.append(f"### `{t.name}`\n\n{t.description} Key: `({', '.join(t.key)})`.\n")
        parts.append("| column | type | notes | description |\n|---|---|---|---|")
        for c in t.columns:
            notes = []
            if c.required:
                notes.append("required")
            if c.personal:
                notes.append("personal, encrypted")
            if c.derived:
                notes.append("derived")
            if c.allowed:
                notes.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
            if c.check is not None:
                notes.append(f"check: {c.check.value}")
            parts.append(f"| `{c.name}` | {c.type.value} | {'; '.join(notes)} | {c.description} |")
        if t.identifier_columns:
            ids = ", ".join(f"`{i}`" for i in t.identifier_columns)
            parts.append(
                f"\nIdentifier columns {ids} may also be given; they are encrypted into "
                "`member_identities`, not stored here."
            )
        parts.append("")
    return "\n".join(parts)

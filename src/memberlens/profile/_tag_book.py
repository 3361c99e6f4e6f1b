"""The tag book: the workspace's ``tags.toml``, read and checked.

Each top-level table is one tag::

    [high_value]
    description = "Spent 2,000 or more over at least 3 orders in the last year"
    category = "value"
    owner = "crm-team"
    rule = "spend_365d >= 2000 and orders_365d >= 3"

A tag's name is how rules read it (``tag.high_value``). Rules are checked against the
tag catalogue (features, attributes, tier, other tags, ``interest(...)``) when the
book is loaded, so a typo fails before any refresh with its line and column.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from memberlens.core.errors import ConfigError

TEMPLATE = "tags.toml.template"
_FIELDS = {"description", "category", "owner", "rule"}


@dataclass(frozen=True)
class TagDef:
    """One declared tag: a rule over the tag catalogue and what it is for."""

    name: str
    rule: str
    description: str
    category: str = "general"
    owner: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "rule",
            "rule": self.rule,
            "description": self.description,
            "category": self.category,
            "owner": self.owner,
        }


@dataclass(frozen=True)
class TagBook:
    """Every declared tag, in file order, and the file they came from."""

    tags: tuple[TagDef, ...]
    path: Path | None = None

    def names(self) -> list[str]:
        return [t.name for t in self.tags]

    def get(self, name: str) -> TagDef | None:
        return next((t for t in self.tags if t.name == name), None)


def default_tag_book_text() -> str:
    """The commented ``tags.toml`` that ``memberlens init`` writes."""
    return resources.files("memberlens.profile").joinpath(TEMPLATE).read_text(encoding="utf-8")


def parse_tag_book(text: str, *, origin: str = "tags.toml") -> TagBook:
    """Read tag definitions from TOML text; every mistake is a :class:`ConfigError`.

    Examples
    --------
    >>> book = parse_tag_book('[vip]\\ndescription = "Big spender"\\nrule = "monetary > 1000"\\n')
    >>> book.tags[0].name, book.tags[0].category
    ('vip', 'general')
    >>> parse_tag_book('[vip]\\nrule = "x"\\n')
    Traceback (most recent call last):
    ...
    memberlens.core.errors.ConfigError: tags.toml: tag 'vip' needs a description ...
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}; fix the TOML syntax") from exc
    tags = []
    for name, body in data.items():
        where = f"{origin}: tag '{name}'"
        if not isinstance(body, dict):
            raise ConfigError(f"{where} must be a table: write [{name}] and its fields under it")
        if not name.isidentifier() or name.startswith("_"):
            raise ConfigError(
                f"{where}: a tag name is letters, digits and underscores, not starting with "
                "a digit or underscore (rules read it as tag.<name>)"
            )
        unknown = sorted(set(body) - _FIELDS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown field {', '.join(unknown)}; "
                f"a tag has {', '.join(sorted(_FIELDS))}"
            )
        for field in ("rule", "description"):
            if not isinstance(body.get(field), str) or not body[field].strip():
                raise ConfigError(f"{where} needs a {field} (a non-empty string); see docs/tags.md")
        for field in ("category", "owner"):
            if field in body and not isinstance(body[field], str):
                raise ConfigError(f"{where}: {field} must be a string")
        tags.append(
            TagDef(
                name=name,
                rule=body["rule"],
                description=body["description"].strip(),
                category=body.get("category", "general").strip() or "general",
                owner=body.get("owner", "").strip(),
            )
        )
    return TagBook(tuple(tags))


def load_tag_book(path: Path) -> TagBook:
    """The tag book at ``path``; no file means no declared tags."""
    if not path.is_file():
        return TagBook((), path)
    book = parse_tag_book(path.read_text(encoding="utf-8"), origin=str(path))
    return TagBook(book.tags, path)

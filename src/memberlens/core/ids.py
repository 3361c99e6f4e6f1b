"""Identifiers: strings, deterministic where they are derived from content."""

from __future__ import annotations

import hashlib
import secrets

_SEP = "\x1f"  # unit separator: never appears in keys, so ("a","bc") != ("ab","c")


def stable_id(prefix: str, *parts: str) -> str:
    """Return a deterministic id for ``parts``: same parts, same id on every engine.

    Examples
    --------
    >>> stable_id("m", "pos", "00042")
    'm_293da044a9800898'
    """
    digest = hashlib.sha256(_SEP.join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{digest[:16]}"


def new_run_id(prefix: str = "run") -> str:
    """Return a fresh random id for a run (import, job)."""
    return f"{prefix}_{secrets.token_hex(8)}"

"""One error hierarchy: every error names the problem and the fix.

Subclasses also subclass the matching built-in (``ValueError``, ``LookupError``, ...)
so that callers who do not know memberlens can still catch them sensibly. Each error
carries a stable machine ``code`` beside its words, and the exit code the CLI uses.
"""

from __future__ import annotations

from pathlib import Path


class MemberlensError(Exception):
    """Base of every error memberlens raises on purpose."""

    code: str = "ERROR"
    exit_code: int = 1

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class UsageError(MemberlensError, ValueError):
    """The command was called wrongly (bad flag combination, unknown kind)."""

    code = "BAD_USAGE"
    exit_code = 2


class ConfigError(MemberlensError, ValueError):
    """A setting, mapping or preset is invalid."""

    code = "BAD_CONFIG"


class WorkspaceError(MemberlensError, LookupError):
    """The workspace is missing, incomplete or held by another process (``root``: the
    workspace's folder, where known — a held one may be reached through its server)."""

    code = "WORKSPACE"
    root: Path | None = None


class InputError(MemberlensError, ValueError):
    """An input file cannot be read at all (as opposed to single bad rows)."""

    code = "BAD_INPUT"


class KeyRingError(MemberlensError, LookupError):
    """Encryption keys are missing or do not match the data."""

    code = "KEY_RING"


class Interrupted(MemberlensError):
    """The user stopped the work (Ctrl-C); the message says what was kept."""

    code = "INTERRUPTED"
    exit_code = 130  # 128 + SIGINT, as shells report a process stopped by Ctrl-C

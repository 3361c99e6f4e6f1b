"""While a server runs, it owns the workspace; this file tells the CLI where to reach it.

``data/server.json`` (mode 0600, readable by its owner only) holds the server's
process id, address and an admin token created for this run; the token is revoked
and the file removed when the server stops.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from memberlens import accounts
from memberlens.workspace import Workspace

FILE = Path("data") / "server.json"


def claim(ws: Workspace, url: str) -> str:
    """Write the owner file; return the token id to revoke on release."""
    info, secret = accounts.create_token(
        ws.state,
        name="cli via server",
        actor="server",
        scopes=[accounts.Scope.ADMIN.value],
        valid_for=timedelta(days=7),
    )
    path = ws.root / FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": os.getpid(), "url": url, "token": secret.secret}, fh)
    return info.token_id


def release(ws: Workspace, token_id: str) -> None:
    (ws.root / FILE).unlink(missing_ok=True)
    accounts.revoke_token(ws.state, token_id=token_id, actor="server")

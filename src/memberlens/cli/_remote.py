"""When a server holds the workspace, commands go through its API instead.

The server writes ``data/server.json`` (mode 0600) with its address and an admin token
for this run; a command that finds the warehouse locked by it calls the API with that
token. Without that file the command stops with the lock's own clear message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from memberlens.core.errors import MemberlensError, UsageError, WorkspaceError

OWNER_FILE = Path("data") / "server.json"


class Remote:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=3600) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            problem = json.loads(exc.read() or b"{}")
            detail = problem.get("detail", str(exc))
            error = UsageError if exc.code in (400, 422) else MemberlensError
            raise error(f"the server refused: {detail}", code=problem.get("code")) from exc
        except urllib.error.URLError as exc:
            raise WorkspaceError(
                f"the server at {self.url} does not answer ({exc.reason}); "
                "if it crashed, delete data/server.json",
                code="SERVER_DOWN",
            ) from exc


def remote_for(workspace: Path, locked: WorkspaceError) -> Remote:
    """The server holding ``workspace``, or ``locked`` re-raised when there is none."""
    owner = workspace.resolve() / OWNER_FILE
    if locked.code != "WORKSPACE_LOCKED" or not owner.is_file():
        raise locked
    info = json.loads(owner.read_text(encoding="utf-8"))
    return Remote(str(info["url"]), str(info["token"]))

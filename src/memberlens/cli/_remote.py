"""When a server holds the workspace, commands go through its API instead.

The server writes ``data/server.json`` (mode 0600) with its address and an admin token
for this run; a command that finds the warehouse locked by it calls the API with that
token. Without that file the command stops with the lock's own clear message.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import typer

from memberlens.cli._common import err
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

    def stream(self, path: str, body: dict[str, Any]) -> int:
        """POST ``body`` and copy the streamed output (JSON lines ``{"out": text}``,
        ``{"err": text}``, then ``{"exit": code}``) to this process's stdout and stderr;
        the exit code."""
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=3600) as answer:
                for raw in answer:
                    line = json.loads(raw)
                    if "exit" in line:
                        return int(line["exit"])
                    stream = sys.stdout if "out" in line else sys.stderr
                    stream.write(line.get("out", line.get("err", "")))
                    stream.flush()
        except urllib.error.HTTPError as exc:
            problem = json.loads(exc.read() or b"{}")
            err.print(
                f"[red]error[/red] [{problem.get('code', exc.code)}]: the server refused: "
                f"{problem.get('detail', exc)}",
                soft_wrap=True,
            )
            return 1
        except urllib.error.URLError as exc:
            err.print(
                f"[red]error[/red] [SERVER_DOWN]: the server at {self.url} does not "
                f"answer ({exc.reason}); if it crashed, delete data/server.json",
                soft_wrap=True,
            )
            return 1
        err.print(
            "[red]error[/red] [SERVER_CUT]: the server stopped answering before the "
            "command ended; see its log",
            soft_wrap=True,
        )
        return 1


def remote_for(workspace: Path, locked: WorkspaceError) -> Remote:
    """The server holding ``workspace``, or ``locked`` re-raised when there is none."""
    owner = workspace.resolve() / OWNER_FILE
    if locked.code != "WORKSPACE_LOCKED" or not owner.is_file():
        raise locked
    info = json.loads(owner.read_text(encoding="utf-8"))
    return Remote(str(info["url"]), str(info["token"]))


# -- any command, run by the server that holds the workspace -------------------------
# `ingest`, `quality`, `refresh` and a few more have API routes of their own; every
# other command that finds the workspace held is sent whole to POST /api/v1/cli and
# runs inside the server (which lends it the open workspace), its output streamed back.
NOT_FORWARDED = frozenset({"serve", "demo", "init"})  # cli._hosted refuses them too


def forward_to_server(app: typer.Typer, argv: list[str], locked: WorkspaceError) -> int:
    """Run ``argv`` on the server holding ``locked.root``; its exit code."""
    assert locked.root is not None
    found = _leaf(typer.main.get_command(app), argv)
    if found is None or found[0][0] in NOT_FORWARDED:
        return _refused(locked)
    names, command, rest = found
    try:
        remote = remote_for(locked.root, locked)
    except WorkspaceError as exc:
        return _refused(exc)
    line = names + absolute_argv(command, rest, cwd=Path.cwd(), workspace=locked.root)
    return remote.stream("/cli", {"argv": line})


def _refused(exc: WorkspaceError) -> int:
    err.print(f"[red]error[/red] [{exc.code}]: {exc.message}", soft_wrap=True)
    return exc.exit_code


def _leaf(root: Any, argv: list[str]) -> tuple[list[str], Any, list[str]] | None:
    """(the command's names, the command, the arguments after them) for ``argv``; None
    when it names no command."""
    names: list[str] = []
    node = root
    for index, token in enumerate(argv):
        commands = getattr(node, "commands", None)
        if not commands:
            return names, node, argv[index:]
        if token.startswith("-"):
            continue
        if token not in commands:
            return None
        names.append(token)
        node = commands[token]
    return None if getattr(node, "commands", None) else (names, node, [])


def absolute_argv(command: Any, argv: list[str], *, cwd: Path, workspace: Path) -> list[str]:
    """A command's arguments with every path made absolute against ``cwd`` (the server
    runs in another folder) and ``--workspace`` naming ``workspace`` (it may have come
    from the current folder or MEMBERLENS_WORKSPACE, which the server does not share).

    Examples
    --------
    >>> app = typer.Typer()
    >>> @app.command()
    ... def train(file: Path, out: Path = Path("m.json"), n: int = 1, quiet: bool = False,
    ...           workspace: Path = typer.Option(Path("."), "--workspace", "-w")) -> None: ...
    >>> absolute_argv(typer.main.get_command(app), ["a.csv", "--out", "x.json", "--quiet"],
    ...               cwd=Path("/h"), workspace=Path("/ws"))
    ['/h/a.csv', '--out', '/h/x.json', '--quiet', '--workspace', '/ws']
    >>> absolute_argv(typer.main.get_command(app), ["-w", "shop", "--n=2", "/a.csv"],
    ...               cwd=Path("/h"), workspace=Path("/h/shop"))
    ['-w', '/h/shop', '--n=2', '/a.csv']
    """
    options, flags, arguments = _parameters(command)
    out: list[str] = []
    pending: bool | None = None  # the next token is an option's value: is it a path?
    position, given_workspace = 0, False
    for token in argv:
        name, eq, value = token.partition("=")
        if pending is not None:
            out.append(_absolute(token, cwd) if pending else token)
            pending = None
        elif token.startswith("-") and name in options:
            given_workspace |= name in ("--workspace", "-w")
            if eq:
                out.append(f"{name}={_absolute(value, cwd) if options[name] else value}")
            else:
                out.append(token)
                pending = options[name]
        elif token.startswith("-") or token in flags:
            out.append(token)
        else:
            is_path = arguments[min(position, len(arguments) - 1)] if arguments else False
            out.append(_absolute(token, cwd) if is_path else token)
            position += 1
    if not given_workspace and "--workspace" in options:
        out += ["--workspace", str(workspace)]
    return out


def _parameters(command: Any) -> tuple[dict[str, bool], set[str], list[bool]]:
    """(option name → takes a path, flag names, for each argument: is it a path)."""
    options: dict[str, bool] = {}
    flags: set[str] = set()
    arguments: list[bool] = []
    for param in command.params:
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        is_path = annotation is Path
        if getattr(param, "opts", None) and param.opts[0].startswith("-"):
            takes_value = annotation is not bool
            for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
                if takes_value:
                    options[opt] = is_path
                else:
                    flags.add(opt)
        else:
            arguments.append(is_path)
    return options, flags, arguments


def _absolute(value: str, cwd: Path) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else cwd / path)

"""Every route × every role (and every token scope) against the one role table.

The expected answer is computed from what the route declares and from
``accounts.ROLE_PERMISSIONS``, so a route added later is covered the day it lands:
a console route answers 401/login without a session, 403 to a role without its
permission and gets past the check (anything but 401/403) for a role with it; an API
route answers 401 without a token, 403 to a token lacking its scope and gets past the
check with it. A console session never opens a token route.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts
from memberlens.accounts import Permission, Role, Scope
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.conftest import built_once, copy_of
from tests.service.test_console import PUBLIC, _routes, add_role_accounts, login

DENIED = {401, 403}


def _needs(route: object) -> tuple[str, str] | None:
    """('permission' | 'scope', value) that ``route`` declares, if any."""
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while stack:
        dep = stack.pop()
        if hasattr(dep.call, "required_permission"):
            return "permission", str(dep.call.required_permission)
        if hasattr(dep.call, "required_scope"):
            return "scope", str(dep.call.required_scope)
        stack += dep.dependencies
    return None


def _calls(client: TestClient) -> list[tuple[str, str, tuple[str, str]]]:
    """(method, concrete path, need) for every guarded route; path parameters filled in."""
    found = []
    for path, route in _routes(client.app.routes):  # type: ignore[attr-defined]
        need = _needs(route)
        if path in PUBLIC or need is None:
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            found.append((method, concrete, need))
    return found


@pytest.fixture(scope="module")
def _base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workspace with an account per role, built once for the module: (workspace,
    key ring). Each test works on its own copy, as if it had built it (five password
    hashes each, otherwise)."""
    root = tmp_path_factory.mktemp("permissions") / "ws"
    keys, _ = built_once(root, add_role_accounts)
    return root, keys


@pytest.fixture
def workspace_dir(_base: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_of(*_base, tmp_path / "ws", monkeypatch)


@pytest.fixture
def client(workspace_dir: Path) -> Iterator[TestClient]:
    app = create_app(workspace_dir, flush_interval=3600, rate=1e6, burst=10**6)
    with TestClient(app) as c:
        yield c


def _send(client: TestClient, method: str, path: str, **kw: object) -> int:
    if method != "GET":
        kw.setdefault("json", {})
    answer = client.request(method, path, follow_redirects=False, **kw)  # type: ignore[arg-type]
    return answer.status_code


def test_the_walk_reaches_console_and_token_routes(client: TestClient) -> None:
    calls = _calls(client)
    assert {kind for _, _, (kind, _) in calls} == {"permission", "scope"} and len(calls) >= 15


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.slow
def test_each_console_route_answers_each_role_as_the_table_says(
    client: TestClient, role: Role
) -> None:
    login(client, f"{role.value}@shop.cn")
    wrong = []
    for method, path, (kind, value) in _calls(client):
        status = _send(client, method, path)
        if kind == "scope":  # a console session is no API token
            ok = status == 401
        elif accounts.allows(role, Permission(value)):
            ok = status not in DENIED
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{role.value} {method} {path} -> {status}")
    assert wrong == []


def test_console_routes_without_a_session_send_to_login(client: TestClient) -> None:
    wrong = []
    for method, path, (kind, _) in _calls(client):
        if kind != "permission":
            continue
        status = _send(client, method, path)
        if status != (401 if path.startswith("/api/") else 303):
            wrong.append(f"{method} {path} -> {status}")
    assert wrong == []


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.slow
def test_each_token_route_answers_each_scope_as_declared(client: TestClient, scope: Scope) -> None:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    _, secret = accounts.create_token(ws.state, name=f"t-{scope}", scopes=[scope.value], actor="t")
    headers = {"Authorization": f"Bearer {secret.secret}"}
    wrong = []
    for method, path, (kind, value) in _calls(client):
        if kind != "scope":
            continue
        if (anonymous := _send(client, method, path)) != 401:
            wrong.append(f"no token {method} {path} -> {anonymous}")
        status = _send(client, method, path, headers=headers)
        if (status in DENIED) != (value != scope.value):
            wrong.append(f"{scope.value} {method} {path} -> {status}")
    assert wrong == []

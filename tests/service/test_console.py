"""The console shell: login with CSRF, lockout, language, overview figures, permissions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts
from memberlens.accounts import Role
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.conftest import built_once, copy_of
from tests.ingest.helpers import run, write

ORDERS = """order_id,source,source_member_key,ordered_at,total_amount,channel
o1,pos,m1,2025-05-01T10:00:00Z,10.00,store
o2,pos,m1,2025-05-20T10:00:00Z,20.00,app
o3,pos,m2,2025-05-25T10:00:00Z,5.50,app
o4,pos,m3,2025-01-01T10:00:00Z,99.00,web
"""
PASSWORD = "a-long-enough-password"


def add_role_accounts(ws: Workspace) -> None:
    """An account per role, ``<role>@shop.cn`` with ``PASSWORD``."""
    for role in Role:
        accounts.create_user(
            ws.state, email=f"{role.value}@shop.cn", role=role.value, actor="t", password=PASSWORD
        )


@pytest.fixture(scope="module")
def _base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The orders and an account per role, built once for the module: (workspace, key
    ring). Each test's console serves its own copy (``console``)."""
    root = tmp_path_factory.mktemp("console")

    def fill(ws: Workspace) -> None:
        run(ws, "orders", write(root / "o.csv", ORDERS))
        add_role_accounts(ws)

    keys, _ = built_once(root / "ws", fill)
    return root / "ws", keys


@pytest.fixture
def console(
    _base: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The console on a copy of the module's workspace (lockouts, sessions and audit
    entries a test makes stay its own)."""
    workspace = copy_of(*_base, tmp_path / "ws", monkeypatch)
    with TestClient(create_app(workspace, flush_interval=3600)) as client:
        yield client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    return answer.headers.get("location", str(answer.status_code))


@pytest.mark.slow
def test_pages_need_a_login_and_the_cookie_is_safe(console: TestClient) -> None:
    assert console.get("/", follow_redirects=False).headers["location"] == "/login"
    assert console.get("/api/v1/overview").json()["code"] == "NO_SESSION"
    assert login(console, "viewer@shop.cn") == "/"
    cookie = next(c for c in console.cookies.jar if c.name == "ml_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    page = console.get("/")
    assert page.status_code == 200 and 'id="orders"' in page.text


def test_login_without_the_form_token_is_refused(console: TestClient) -> None:
    console.get("/login")
    answer = console.post(
        "/login", data={"email": "viewer@shop.cn", "password": PASSWORD, "csrf": "forged"}
    )
    # A console page, not a problem document: it says to reload and try again.
    assert answer.status_code == 403 and 'data-code="CSRF"' in answer.text
    assert "Reload the page and send the form again." in answer.text


@pytest.mark.slow
def test_repeated_failures_lock_the_account(console: TestClient) -> None:
    for _ in range(5):
        assert login(console, "analyst@shop.cn", "wrong-password!") == "401"
    page = console.get("/login")
    answer = console.post(
        "/login", data={"email": "analyst@shop.cn", "password": PASSWORD, "csrf": _csrf(page.text)}
    )
    assert answer.status_code == 401 and "15 minutes" in answer.text


@pytest.mark.slow
def test_overview_figures_match_the_api_and_hand_counts(console: TestClient) -> None:
    login(console, "marketer@shop.cn")
    data = console.get("/api/v1/overview", params={"period": 30}).json()
    # As of 2025-05-25 (the last order), the 30 days hold o1..o3: 3 orders, 35.50,
    # buyers m1 (two orders) and m2 -> repurchase 1/2.
    assert (data["as_of"], data["orders"], data["revenue"], data["buyers"]) == (
        "2025-05-25",
        3,
        "35.50",
        2,
    )
    assert data["repurchase_rate"] == 0.5 and data["members"] == 3
    assert data["channels"] == [["app", 2], ["store", 1]]
    page = console.get("/", params={"period": 30}).text
    assert re.search(r'id="orders">3<', page) and re.search(r'id="revenue">¥35.50<', page)
    assert '<script src="/static/plotly.min.js">' in page
    js = console.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


@pytest.mark.slow
def test_language_switch_is_remembered(console: TestClient) -> None:
    login(console, "admin@shop.cn")
    page = console.get("/")
    assert "Orders" in page.text
    console.post("/language", data={"locale": "zh-CN", "csrf": _csrf(page.text)})
    assert "订单" in console.get("/").text
    console.post("/logout", data={"csrf": _csrf(console.get("/").text)})
    login(console, "admin@shop.cn")
    assert "订单" in console.get("/").text  # remembered per user


def _member_of(client: TestClient, key: str) -> str:
    found = client.get("/api/v1/console/members", params={"q": key}).json()["members"]
    assert len(found) == 1
    return str(found[0]["member_id"])


@pytest.mark.slow
def test_times_show_in_the_workspace_zone_with_the_zone_named(console: TestClient) -> None:
    """o1 was ordered at 2025-05-01 10:00 UTC: 18:00 in Shanghai, the zone `init` writes."""
    login(console, "admin@shop.cn")
    page = console.get(f"/members/{_member_of(console, 'm1')}")
    html = page.text
    assert "<td>2025-05-01 18:00</td>" in html and "Ordered (Asia/Shanghai)" in html
    assert "10:00" not in html and "(UTC)" not in html
    console.post("/language", data={"locale": "zh-CN", "csrf": _csrf(html)})
    html = console.get(page.url).text
    assert "<td>2025年5月1日 18:00</td>" in html and "下单时间（北京时间）" in html


def test_another_zone_and_currency_from_the_workspace_settings(
    workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace.open(workspace_dir) as ws:
        run(ws, "orders", write(tmp_path / "o.csv", ORDERS))
        accounts.create_user(ws.state, email="a@shop.cn", role="admin", actor="t",
                             password=PASSWORD)  # fmt: skip
    monkeypatch.setenv("MEMBERLENS_WORKSPACE__DEFAULT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("MEMBERLENS_WORKSPACE__CURRENCY", "USD")
    with TestClient(create_app(workspace_dir, flush_interval=3600)) as client:
        login(client, "a@shop.cn")
        assert re.search(r'id="revenue">\$35.50<', client.get("/", params={"period": 30}).text)
        html = client.get(f"/members/{_member_of(client, 'm1')}").text
    # 10:00 UTC on 1 May is 06:00 in New York (daylight saving time)
    assert "<td>2025-05-01 06:00</td>" in html and "Ordered (America/New_York)" in html
    assert "$30.00" in html  # m1's two orders, 10.00 and 20.00


@pytest.mark.slow
def test_logout_ends_the_session(console: TestClient) -> None:
    login(console, "viewer@shop.cn")
    html = console.get("/").text
    assert console.post("/logout", data={"csrf": "stale"}).status_code == 403
    console.post("/logout", data={"csrf": _csrf(html)})
    assert console.get("/", follow_redirects=False).status_code == 303


PUBLIC = {
    "/api/v1/health",
    "/login",
    "/static/plotly.min.js",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/assets/{name}",
    "/docs/oauth2-redirect",
}


def _routes(routes: list[object], prefix: str = "") -> list[tuple[str, object]]:
    """Every route with its full path, through included routers."""
    out: list[tuple[str, object]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            out += _routes(inner.routes, prefix + getattr(context, "prefix", ""))
        else:
            out.append((prefix + getattr(route, "path", ""), route))
    return out


def _declared(route: object) -> set[str]:
    """Permissions and scopes a route's dependencies declare."""
    found: set[str] = set()
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while stack:
        dep = stack.pop()
        for attr in ("required_permission", "required_scope"):
            if hasattr(dep.call, attr):
                found.add(str(getattr(dep.call, attr)))
        stack += dep.dependencies
    return found


def test_every_route_declares_its_permission(console: TestClient) -> None:
    """A route without a declared permission or scope must be one we chose to make public."""
    routes = _routes(console.app.routes)  # type: ignore[attr-defined]
    assert len(routes) >= 12  # the walk reached the included routers
    undeclared = [path for path, route in routes if path not in PUBLIC and not _declared(route)]
    assert undeclared == []


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.slow
def test_each_role_gets_what_the_role_table_says(console: TestClient, role: Role) -> None:
    login(console, f"{role.value}@shop.cn")
    expected = 200 if accounts.allows(role, accounts.Permission.DATA_READ) else 403
    assert console.get("/").status_code == expected
    assert console.get("/api/v1/overview").status_code == expected
    # Application endpoints take API tokens, never a console session.
    assert console.post("/api/v1/events", json={}).status_code == 401

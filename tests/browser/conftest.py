"""Browser tier: a real server process and Debian's headless Chromium driven by Playwright.

One server per session (a small known data set, one user per role); a fresh browser
context per test. Chromium comes from Debian (`scripts/test-browser.sh`, which
`make test` runs, installs it as root); Playwright's own browser download is never used.
Set MEMBERLENS_CHROMIUM to use another Chromium binary.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from memberlens import accounts, pipeline
from memberlens.accounts import Role
from memberlens.workspace import Workspace, init_workspace
from tests.browser.helpers import (
    PASSWORD,
    ConsolePage,
    email_of,
    file_stem,
    forget,
    log_in,
    save_screenshot,
    served_environment,
    watch,
    watched,
)
from tests.ingest.helpers import run, write
from tests.servers import start_server, stop_server
from tests.tiers import tier_unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = os.environ.get("MEMBERLENS_CHROMIUM", "/usr/bin/chromium")
# Quiet and offline: nothing but the server under test is contacted.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = (
    "run `make test` as root on Debian/Ubuntu (scripts/test-browser.sh installs "
    "chromium, chromium-driver and fonts-wqy-microhei) or set MEMBERLENS_CHROMIUM"
)

# As of 2025-05-25 (the last order): 30 days hold o1..o3 (3 orders, 35.50; buyers m1
# twice and m2), 90 days add o5; o4 is older. One channel name is Chinese.
ORDERS = """order_id,source,source_member_key,ordered_at,total_amount,channel
o1,pos,m1,2025-05-01T10:00:00Z,10.00,store
o2,pos,m1,2025-05-20T10:00:00Z,20.00,app
o3,pos,m2,2025-05-25T10:00:00Z,5.50,小程序
o4,pos,m3,2025-01-01T10:00:00Z,99.00,web
o5,pos,m4,2025-04-10T10:00:00Z,12.00,app
"""

# Contact data for the member pages: m1 is found by phone or e-mail, masked unless the
# role may see personal data.
MEMBERS = """source,source_member_key,name,phone,email,city
pos,m1,张伟,13812345678,zhang.wei@example.com,上海
pos,m2,Li Na,13900001111,li.na@example.com,Beijing
"""

# A tag of the known data set: m1 bought twice by the cut-off, so m1 alone carries it.
REPEAT_BUYER = """
[repeat_buyer]
description = "Bought at least twice"
rule = "frequency >= 2"
"""
AS_OF = date(2025, 5, 26)  # the day after the last order

_PAGES = pytest.StashKey[list["Page"]]()


@dataclass(frozen=True)
class LiveConsole:
    origin: str  # http://127.0.0.1:<port>
    api: str  # <origin>/api/v1
    log: Path  # the server's output


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if importlib.util.find_spec("playwright") is None:
        tier_unavailable(
            "the playwright package is missing: pip install -c constraints.txt '.[test]'"
        )
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        tier_unavailable(f"no Chromium at {CHROMIUM}: {INSTALL_HINT}")
    return CHROMIUM


@pytest.fixture(scope="session")
def live_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    """A real `memberlens serve` over the known data set, with one user per role."""
    root = tmp_path_factory.mktemp("browser")
    workspace = root / "ws"
    with served_environment(root) as env:
        init_workspace(workspace)
        with Workspace.open(workspace) as ws:
            run(ws, "members", write(root / "members.csv", MEMBERS))
            run(ws, "orders", write(root / "orders.csv", ORDERS))
            with (workspace / ws.settings.tags.file).open("a", encoding="utf-8") as book:
                book.write(REPEAT_BUYER)
            pipeline.refresh(ws, as_of=AS_OF)
            for role in Role:
                accounts.create_user(
                    ws.state,
                    email=email_of(role.value),
                    role=role.value,
                    actor="t",
                    password=PASSWORD,
                )
    log = root / "server.log"
    proc, api = start_server(workspace, env, capture=False, log=log)
    try:
        yield LiveConsole(origin=api.removesuffix("/api/v1"), api=api, log=log)
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A fresh context (no cookies, no storage) per test; every page in it is watched."""
    stem = file_stem(request.node.name)
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    ctx.set_default_timeout(15_000)
    opened: list[Page] = []

    def on_page(page: Page) -> None:
        opened.append(page)
        watch(page, stem if len(opened) == 1 else f"{stem}-{len(opened)}")

    ctx.on("page", on_page)
    request.node.stash[_PAGES] = opened
    try:
        yield ctx
    finally:
        ctx.close()
        for page in opened:
            forget(page)


@pytest.fixture
def new_page(context: BrowserContext) -> Page:
    """A watched blank page in the test's fresh context."""
    return context.new_page()


@pytest.fixture
def console_page(context: BrowserContext, live_console: LiveConsole) -> ConsolePage:
    """``console_page(role="viewer", path="/")``: a page logged in as ``role``, at ``path``."""

    def open_page(role: str = "viewer", path: str = "/") -> Page:
        page = context.new_page()
        log_in(page, live_console.origin, email_of(role))
        if path != "/":
            page.goto(live_console.origin + path)
        return page

    return open_page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """After the test body: keep each page's last state; on failure, show its errors."""
    report = yield
    pages = item.stash.get(_PAGES, [])
    if report.when == "call" and pages:
        _keep_evidence(item, report, pages)
    return report


def _keep_evidence(item: pytest.Item, report: pytest.TestReport, pages: list[Page]) -> None:
    for page in pages:
        if page.is_closed():
            continue
        try:
            shot = save_screenshot(page)
        except Exception as failed:  # a screenshot must never hide the real failure
            shot = Path(f"(no screenshot: {failed})")
        if report.failed:
            errors = "\n".join(watched(page).errors) or "(none)"
            report.sections.append(
                ("browser", f"page {page.url}\nscreenshot {shot}\nJavaScript errors:\n{errors}")
            )
    server_log = getattr(item, "funcargs", {}).get("live_console")
    if report.failed and isinstance(server_log, LiveConsole):
        tail = server_log.log.read_text(errors="replace").splitlines()[-30:]
        report.sections.append(("server log (last 30 lines)", "\n".join(tail)))

"""What a browser test of a console page needs: log in, watch for JavaScript errors, shoot.

A later page gets its test in a few lines, in ``tests/browser/test_browser_<page>.py``
(test files need unique basenames: ``tests/`` has no ``__init__.py``)::

    pytestmark = pytest.mark.browser

    def test_members_page(console_page: ConsolePage) -> None:
        page = console_page("analyst", "/members")
        expect_charts(page, "#segments")  # if the page has Plotly charts
        assert_clean(page)

Every page opened through the fixtures is watched from its first request: uncaught
exceptions (``pageerror``) and console errors are recorded, shown in the report of a
failing test, and its last state is saved to ``test-artifacts/browser/<test>.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from memberlens.privacy import KeyRing

if TYPE_CHECKING:  # playwright may be missing: the fixtures then skip with a reason
    from playwright.sync_api import ConsoleMessage, Error, Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
PASSWORD = "a-long-enough-password"


@contextmanager
def served_environment(root: Path) -> Iterator[dict[str, str]]:
    """The environment of a workspace a test serves from ``root``: its own HOME and a
    fresh key ring, set in this process while the block builds the workspace; the
    yielded mapping is what the server process gets."""
    home = root / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "MEMBERLENS_KEYS": KeyRing.generate().to_json(),
        "PYTHONUNBUFFERED": "1",  # the log is current when a failing test shows it
    }
    with pytest.MonkeyPatch.context() as mp:
        for name in ("HOME", "XDG_CONFIG_HOME", "MEMBERLENS_KEYS"):
            mp.setenv(name, env[name])
        yield env


def email_of(role: str) -> str:
    """The e-mail of the data set's user with ``role`` (one user per role)."""
    return f"{role}@shop.cn"


@dataclass
class Watch:
    """One page under test: what went wrong in it and where its screenshots go."""

    page: Page
    stem: str
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        where = message.location.get("url", "")
        if message.type == "error":
            self.errors.append(f"console error: {message.text}" + (f" ({where})" if where else ""))

    def on_page_error(self, error: Error) -> None:
        self.errors.append("uncaught " + (error.stack or f"{error.name}: {error.message}"))


_WATCHED: dict[int, Watch] = {}


def watch(page: Page, stem: str) -> Watch:
    """Record ``page``'s JavaScript errors from now on; screenshots named after ``stem``."""
    found = Watch(page, stem)
    page.on("console", found.on_console)
    page.on("pageerror", found.on_page_error)
    _WATCHED[id(page)] = found
    return found


def forget(page: Page) -> None:
    _WATCHED.pop(id(page), None)


def watched(page: Page) -> Watch:
    try:
        return _WATCHED[id(page)]
    except KeyError:
        raise AssertionError("open pages through the console_page / new_page fixtures") from None


def assert_clean(page: Page) -> None:
    """No uncaught exception and no console error on ``page`` so far."""
    errors = watched(page).errors
    assert not errors, "JavaScript errors on " + page.url + ":\n" + "\n".join(errors)


def save_screenshot(page: Page, label: str = "") -> Path:
    """Full-page PNG at ``test-artifacts/browser/<test>[-label].png``; returns the path."""
    stem = watched(page).stem + (f"-{label}" if label else "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{stem}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def file_stem(test_name: str) -> str:
    """A test's name as a file name: ``test_x[admin]`` -> ``test_x-admin``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")


def log_in(page: Page, origin: str, email: str, password: str = PASSWORD) -> None:
    """Through the real login form, as a person would; ends on the overview."""
    page.goto(f"{origin}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")
    assert page.url == f"{origin}/", f"login as {email} ended on {page.url}"


def expect_charts(page: Page, *containers: str) -> None:
    """Each container (a CSS selector) holds a Plotly chart that has drawn its SVG."""
    for selector in containers:
        chart = page.locator(f"{selector}.js-plotly-plot .main-svg").first
        chart.wait_for(state="visible")
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, f"{selector}: {box}"


def glyphs_render(page: Page, text: str) -> bool:
    """True when the page's font draws distinct glyphs for ``text``'s characters.

    A missing font draws every character as the same empty box ("tofu"), so two
    different characters rendering to identical pixels means nothing is readable.
    """
    script = """(chars) => {
        const family = getComputedStyle(document.body).fontFamily;
        const draw = (ch) => {
            const c = document.createElement("canvas");
            c.width = c.height = 48;
            const g = c.getContext("2d");
            g.font = "32px " + family;
            g.fillText(ch, 4, 36);
            return c.toDataURL();
        };
        const seen = new Set(Array.from(chars).map(draw));
        return seen.size === Array.from(chars).length;
    }"""
    return bool(page.evaluate(script, text))


ConsolePage = Callable[..., "Page"]
"""``console_page(role="viewer", path="/") -> Page``: a fresh browser context, logged in."""

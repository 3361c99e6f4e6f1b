"""The web console: server-rendered pages (Jinja2), English and Simplified Chinese."""

from fastapi import FastAPI

from memberlens.service.console import (
    _audit_page,
    _dictionary,
    _errors,
    _feedback_page,
    _members,
    _predictions_page,
    _recommendations_page,
    _routes,
    _segments_page,
)
from memberlens.service.console._auth import LoginRequired, PageForbidden

__all__ = ["LoginRequired", "PageForbidden", "install"]


def install(app: FastAPI, api_prefix: str) -> None:
    """Every console page and its JSON twin; the shell's handlers first, and last the
    pages that console errors render as (after the problem handlers they wrap)."""
    _routes.install(app, api_prefix)
    _members.install(app, api_prefix)
    _audit_page.install(app, api_prefix)
    _dictionary.install(app, api_prefix)
    _segments_page.install(app, api_prefix)
    _predictions_page.install(app, api_prefix)
    _recommendations_page.install(app, api_prefix)
    _feedback_page.install(app, api_prefix)
    _errors.install(app, api_prefix)

"""The web console: server-rendered pages (Jinja2), English and Simplified Chinese."""

from memberlens.service.console._auth import LoginRequired, PageForbidden
from memberlens.service.console._routes import install

__all__ = ["LoginRequired", "PageForbidden", "install"]

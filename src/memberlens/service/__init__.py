"""The server: REST API under /api/v1 and the job runner (the console joins later)."""

from memberlens.service._app import API, create_app

__all__ = ["API", "create_app"]

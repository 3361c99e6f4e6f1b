"""The command line: thin commands over the domains' front doors."""

from memberlens.cli._app import app, main

__all__ = ["app", "main"]

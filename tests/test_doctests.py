"""The runnable examples in docstrings run: documentation that cannot go stale."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import memberlens

# Alembic's environment runs only inside a migration; __main__ runs the CLI.
SKIP = ("memberlens.store.migrations", "memberlens.__main__")
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(memberlens.__path__, "memberlens.")
    if not info.name.startswith(SKIP)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"

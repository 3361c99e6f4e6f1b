"""Docs that are generated from code stay in step with it."""

from __future__ import annotations

import importlib.util
import re

from memberlens.core.settings import Settings
from tests.conftest import REPO


def _gen_docs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_data_model_blocks_are_current() -> None:
    gen = _gen_docs()
    for path in gen.TARGETS:
        text = path.read_text(encoding="utf-8")
        assert gen.updated(text) == text, f"{path.name} is stale: run `make docs`"
        assert "| `source_member_key` |" in text


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, model in Settings.model_fields.items():
        assert model.annotation is not None
        for name in model.annotation.model_fields:  # type: ignore[union-attr]
            assert f"`{section}.{name}`" in doc, f"{section}.{name} missing"


def test_ci_runs_what_the_readme_says() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")

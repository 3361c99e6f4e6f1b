"""Every command README shows exists and takes the flags README gives it.

Issue 17: `memberlens dictionary --workspace demo` (README) answered `No such option:
--workspace`. This reads README's code blocks as a newcomer would copy them and asks
each command's --help for every flag on the line.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from memberlens.cli._app import app
from memberlens.cli._remote import _leaf

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands(text: str) -> list[str]:
    """The `memberlens …` lines of README's shell blocks, continuations joined and
    comments dropped."""
    found: list[str] = []
    for block in re.findall(r"```(?:bash|sh|shell|console)\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        # a quoted rule may run over two lines
        joined = re.sub(r"'([^']*)\n\s*([^']*)'", r"'\1 \2'", joined)
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ")
            if "memberlens " not in line or line.startswith("#"):
                continue
            line = line[line.index("memberlens ") :]
            words = shlex.split(line, comments=True)
            if words and words[0] == "memberlens":
                found.append(shlex.join(words[1:]))
    return found


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def test_readme_has_the_tour() -> None:
    assert len(COMMANDS) >= 30, COMMANDS  # the parser found the tour, not a stray line


@pytest.mark.parametrize("line", COMMANDS)
def test_each_readme_command_takes_the_flags_it_shows(line: str) -> None:
    argv = shlex.split(line)
    found = _leaf(typer.main.get_command(app), argv)
    assert found is not None, f"README names a command that does not exist: memberlens {line}"
    names, command, rest = found
    help_text = CliRunner().invoke(app, [*names, "--help"], terminal_width=200).output
    flags = {token.split("=")[0] for token in rest if token.startswith("-")}
    declared = {opt for p in command.params for opt in [*p.opts, *p.secondary_opts]}
    missing = sorted(flags - declared)
    assert not missing, f"`memberlens {' '.join(names)}` has no {missing}:\n{help_text}"
    workspace_read = any(w in line for w in ("--workspace", " -w "))
    if "--workspace" in declared or workspace_read:
        assert "--workspace" in help_text and "-w" in help_text

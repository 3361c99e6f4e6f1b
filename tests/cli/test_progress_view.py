"""What the CLI shows of long work: the step, the share inside it, a line per step in a log."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from memberlens.cli import _common
from memberlens.core import progress


def _work() -> None:
    with progress.stage("refresh", total=2):
        progress.advance(0, 2, "text")
        with progress.stage("text"):
            progress.advance(50, 200, "feedback read")
        progress.advance(1, 2, "online")
        with progress.stage("online"):
            progress.advance(2, 3, "recommendation lists")


def test_a_log_gets_a_line_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(_common, "err", Console(file=buffer, force_terminal=False))
    with _common.stages("refresh", quiet=False):
        _work()
    assert buffer.getvalue().splitlines() == ["refresh: text", "refresh: online"]


def test_a_terminal_bar_shows_the_step_and_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(_common, "err", Console(file=io.StringIO(), force_terminal=True, width=200))
    view = _common._TerminalView("refresh", None)
    real = view._bar.update

    def update(task: object, **kw: object) -> None:
        if "description" in kw:
            shown.append(str(kw["description"]))
        real(task, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(view._bar, "update", update)
    with view, progress.listen(view.update):
        _work()
    assert "refresh: text 25% · feedback read" in shown
    assert "refresh: online 67% · recommendation lists" in shown
    assert view._bar.tasks[0].total == 2


def test_quiet_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with _common.stages("refresh", quiet=True):
        _work()
    assert capsys.readouterr().err == ""

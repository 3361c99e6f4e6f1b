"""Progress of long work: which stage runs and how far inside it, for whoever shows it.

Long work (a refresh, the demo, an evaluation) is a tree of stages; the work says
where it is and the caller decides how to show it — a progress bar in the CLI, the
job's progress in the console, nothing in a test. Domains never take a callback
argument for this: they open a :func:`stage` and call :func:`advance`, and a
:func:`listen`-er up the call stack (same thread, or a context copied into a worker)
receives each :class:`Update`.

Examples
--------
>>> seen = []
>>> with listen(seen.append):
...     with stage("refresh"):
...         with stage("recommendations"):
...             advance(1, 4, "home")
>>> [(u.path, u.share) for u in seen]
[('refresh', 0.0), ('refresh › recommendations', 0.0), ('refresh › recommendations', 0.25)]
>>> seen[-1].note
'home'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

SEPARATOR = " › "


@dataclass(frozen=True)
class Update:
    """Where long work is: its stage path and the share done of the innermost stage."""

    stages: tuple[str, ...]
    done: float = 0.0
    total: float | None = None
    note: str = ""

    @property
    def path(self) -> str:
        return SEPARATOR.join(self.stages)

    @property
    def share(self) -> float | None:
        """Done / total, clipped to [0, 1]; None when the total is unknown."""
        if self.total is None:
            return None
        if self.total <= 0:
            return 1.0
        return min(1.0, max(0.0, self.done / self.total))


Sink = Callable[[Update], object]

_SINK: ContextVar[Sink | None] = ContextVar("memberlens_progress_sink", default=None)
_STAGES: ContextVar[tuple[str, ...]] = ContextVar("memberlens_progress_stages", default=())


@contextmanager
def listen(sink: Sink) -> Iterator[None]:
    """Send every update of the work inside to ``sink`` (nested listeners replace outer)."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


@contextmanager
def stage(name: str, *, total: float | None = None) -> Iterator[None]:
    """Mark the work inside as the stage ``name`` (nested in the current stage)."""
    token = _STAGES.set((*_STAGES.get(), name))
    try:
        _send(Update(_STAGES.get(), 0.0, 1.0 if total is None else float(total)))
        yield
    finally:
        _STAGES.reset(token)


def advance(done: float, total: float | None = None, note: str = "") -> None:
    """Say that ``done`` of ``total`` units of the current stage are finished."""
    _send(Update(_STAGES.get(), float(done), None if total is None else float(total), note))


def active() -> bool:
    """Whether anyone listens: skip building costly notes when nobody does."""
    return _SINK.get() is not None


def _send(update: Update) -> None:
    sink = _SINK.get()
    if sink is not None:
        sink(update)

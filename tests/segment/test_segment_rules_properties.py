"""Hostile input against the segment catalogue: event functions, RFM and segment names.

Every generated text is a rule that checks, compiles and runs on a real warehouse — or a
clean RuleError with its position. Nothing else is raised and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from memberlens import pipeline, segment
from memberlens.privacy import KeyRing
from memberlens.rules import RuleError, check
from memberlens.workspace import Workspace, init_workspace
from tests.profile.feature_data import CUTOFF, load_feature_base

pytestmark = pytest.mark.slow

FUNCTIONS = [*segment.EVENT_FUNCTIONS, "did", "interest"]
HOSTILE = [
    "baby",
    "dairy",
    "sku1",
    "'; DROP TABLE orders; --",
    'x" OR "1"="1',
    "上海",
    "\\u0000",
    "",
    " " * 3,
]
FRAGMENTS = [
    *FUNCTIONS,
    "(",
    ")",
    ",",
    ":",
    " ",
    "within",
    "at_least",
    "category",
    "product",
    "event",
    "7d",
    "0d",
    "-3d",
    "24h",
    "100001d",
    "1y",
    "2",
    "-1",
    "1e308",
    "0.5",
    '"dairy"',
    "'x'",
    '"',
    "and",
    "or",
    "not",
    "rfm_segment",
    '"Champions"',
    "=",
    "segment.nobody",
    "lifecycle_stage",
    "--",
    ";",
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("segment-rules")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", KeyRing.generate().to_json())
        mp.setenv("HOME", str(root / "home"))
        init_workspace(root / "ws")
        with Workspace.open(root / "ws") as ws:
            load_feature_base(ws, Path(root))
            pipeline.refresh(ws, as_of=CUTOFF)
            yield ws


def _run(ws: Workspace, text: str) -> None:
    catalogue = segment.segment_catalogue(ws.tag_book())
    orders = ws.warehouse.scalar("SELECT count(*) FROM orders")
    try:
        check(text, catalogue)
    except RuleError as error:
        assert error.line is not None and error.column is not None
        assert f"line {error.line}, column {error.column}" in str(error) or error.code == "TOO_LONG"
        return
    found = segment.preview_segment(
        ws.warehouse, ws.state, text, settings=ws.settings.segments, book=ws.tag_book()
    )
    assert 0 <= found.members <= found.of == 2
    assert ws.warehouse.scalar("SELECT count(*) FROM orders") == orders


def _value(kind: str) -> st.SearchStrategy[str]:
    if kind == "duration":
        return st.builds(lambda n, u: f"{n}{u}", st.integers(0, 200_000), st.sampled_from("hdwy"))
    if kind == "number":
        return st.one_of(st.integers(-5, 10).map(str), st.sampled_from(["0.5", "1e6", "-0"]))
    return st.sampled_from(HOSTILE).map(lambda v: '"' + v.replace('"', '\\"') + '"')


@st.composite
def calls(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(FUNCTIONS))
    params = {
        "within": "duration",
        "at_least": "number",
        "category": "string",
        "product": "string",
        "event": "string",
    }
    chosen = draw(st.lists(st.sampled_from(sorted(params)), unique=True, max_size=4))
    args = [f"{p}: {draw(_value(params[p]))}" for p in chosen]
    if name in ("did", "interest") and draw(st.booleans()):
        args.insert(0, draw(_value("string")))
    call = f"{name}({', '.join(args)})"
    return draw(st.sampled_from([call, f"not {call}", f"{call} and frequency >= 1"]))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=calls())
@example('viewed(category: "dairy", within: 30d, at_least: 3)')
@example('purchased(category: "\'; DROP TABLE orders; --")')
@example("did(within: 7d)")
@example("purchased(within: 100000y)")
@example("viewed(within: 99999w, at_least: 1e6)")
@example('did("share", within: 100001d)')
def test_event_calls_check_and_run_or_fail_cleanly(shop: Workspace, text: str) -> None:
    _run(shop, text)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
@example("purchased(within: 7d) -- and false")
@example("viewed(within: 7d;) ")
@example("segment.nobody")
def test_fragments_of_segment_rules_never_crash(shop: Workspace, text: str) -> None:
    _run(shop, text)

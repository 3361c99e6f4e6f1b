"""The demo's two-source members: pairwise precision and recall against the generator's truth.

The demo's files for 1,500 persons are generated and loaded as ``memberlens demo`` loads
them, and then only the refresh's first step, identity resolution, runs: that step reads
the loaded members and nothing any later step writes, so its ``member_map`` is the one a
whole demo run would leave (tests/demo/test_demo_run.py runs the whole demo).
"""

from __future__ import annotations

import itertools

import pytest

from memberlens import pipeline
from memberlens.demo import DEMO_TODAY, LOAD_ORDER, generate_sources, ingest_source
from memberlens.privacy import KeyRing
from memberlens.workspace import Workspace, init_workspace

pytestmark = pytest.mark.slow

MEMBERS = 1_500

Record = tuple[str, str]


@pytest.fixture(scope="module")
def demo_identity(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[set[frozenset[Record]], set[frozenset[Record]]]:
    """(true pairs, found pairs) after the demo's files are loaded and identity runs."""
    folder = tmp_path_factory.mktemp("demo_identity")
    root, sources = folder / "ws", folder / "sources"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", KeyRing.generate().to_json())
        truth_of_run = generate_sources(sources, members=MEMBERS, seed=7)
        init_workspace(root, name="identity")
        with Workspace.open(root) as ws:
            for kind, name in LOAD_ORDER:
                ingest_source(ws, sources, kind, name)
            pipeline.refresh(ws, as_of=DEMO_TODAY, only=["identity"])
            rows = ws.warehouse.fetch_all(
                "SELECT member_id, source, source_member_key FROM member_map"
            )
    by_member: dict[str, list[Record]] = {}
    for member, source, key in rows:
        by_member.setdefault(member, []).append((source, key))
    found = {
        frozenset(pair)
        for records in by_member.values()
        for pair in itertools.combinations(sorted(records), 2)
    }
    truth = {
        frozenset((source, key) for source, key in cluster)
        for cluster in truth_of_run.identity_clusters
    }
    return truth, found


def test_demo_pairwise_precision_and_recall(
    demo_identity: tuple[set[frozenset[Record]], set[frozenset[Record]]],
) -> None:
    truth, found = demo_identity
    hits = len(truth & found)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth)
    print(
        f"\nidentity on the demo ({MEMBERS} persons, {len(truth)} true pairs, "
        f"{len(found)} found): pairwise precision {precision:.4f}, recall {recall:.4f}"
    )
    assert len(truth) > 100  # the demo really has two-source members
    assert precision >= 0.99
    assert recall >= 0.95

"""The demo's two-source members: pairwise precision and recall against the generator's truth."""

from __future__ import annotations

import itertools

import pytest

from memberlens.demo import run_demo
from memberlens.privacy import KeyRing
from memberlens.workspace import Workspace

pytestmark = pytest.mark.slow

MEMBERS = 1_500

Record = tuple[str, str]


@pytest.fixture(scope="module")
def demo_identity(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[set[frozenset[Record]], set[frozenset[Record]]]:
    """(true pairs, found pairs) after one demo run (its refresh runs identity first)."""
    root = tmp_path_factory.mktemp("demo_identity") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", KeyRing.generate().to_json())
        report = run_demo(root, members=MEMBERS, seed=7)
        with Workspace.open(root) as ws:
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
        frozenset(tuple(r) for r in cluster)  # type: ignore[misc]
        for cluster in report.truth.identity_clusters
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

"""Clustering against a truth we set: three (then four) well-separated groups of buyers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from memberlens import registry
from memberlens.segment._clusters import (
    CLUSTER_MODEL,
    PreviousClusters,
    Scaling,
    cluster,
    compute_clusters,
    name_cluster,
)
from memberlens.workspace import Workspace

FEATURES = ["recency_days", "frequency", "monetary"]
# (size, recency mean/sd, frequency mean/sd, monetary mean/sd)
GROUPS = {
    "lapsed": (500, (300, 30), (1.5, 0.5), (30, 8)),
    "champions": (300, (5, 2), (20, 3), (2000, 200)),
    "middle": (200, (60, 10), (5, 1), (300, 50)),
}
NEWCOMERS = (150, (3, 1), (1, 0.2), (15, 4))


def _members(
    groups: dict[str, tuple[int, tuple[float, float], ...]], seed: int
) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for name, (size, *params) in groups.items():
        cols = [np.abs(rng.normal(mean, sd, size)) for mean, sd in params]
        rows.append(np.column_stack(cols))
        truth += [name] * size
    return np.vstack(rows), truth


def _ids_by_group(labels: np.ndarray, truth: list[str]) -> dict[str, int]:
    found: dict[str, set[int]] = {}
    for label, name in zip(labels.tolist(), truth, strict=True):
        found.setdefault(name, set()).add(label)
    assert all(len(v) == 1 for v in found.values()), found  # each group is one cluster
    return {name: next(iter(v)) for name, v in found.items()}


def test_the_groups_we_made_are_found_named_and_measured() -> None:
    raw, truth = _members(GROUPS, seed=1)
    got = cluster(raw, FEATURES, k_min=2, k_max=6, seed=7, money=raw[:, 2])
    assert got.k == 3
    assert adjusted_rand_score(truth, got.labels) == pytest.approx(1.0)
    ids = _ids_by_group(got.labels, truth)
    assert ids == {"lapsed": 1, "champions": 2, "middle": 3}  # numbered by size
    profiles = {p.cluster_id: p for p in got.profiles}
    champions = profiles[ids["champions"]]
    assert champions.size == 300 and champions.share == pytest.approx(0.3)
    money = raw[:, 2]
    share = money[np.asarray(truth) == "champions"].sum() / money.sum()
    assert champions.value_share == pytest.approx(share)
    assert champions.means["frequency"] == pytest.approx(
        raw[np.asarray(truth) == "champions", 1].mean(), rel=1e-3
    )
    assert {"recent", "frequent", "high-spend"} <= set(champions.name.split(", "))
    assert {"lapsed", "low-spend"} <= set(profiles[ids["lapsed"]].name.split(", "))
    assert got.projection.shape == (1000, 2)


def test_ids_stay_with_their_groups_and_a_new_group_gets_a_new_id() -> None:
    raw, truth = _members(GROUPS, seed=1)
    first = cluster(raw, FEATURES, k_min=2, k_max=6, seed=7)
    before = _ids_by_group(first.labels, truth)
    previous = PreviousClusters(
        ids=tuple(p.cluster_id for p in first.profiles),
        centroids=np.asarray([p.centroid for p in first.profiles]),
    )
    # Next month: other members drawn from the same groups, in another order, and a
    # fourth group of newcomers bigger than "middle".
    later, later_truth = _members({**GROUPS, "newcomers": NEWCOMERS}, seed=2)
    order = np.random.default_rng(3).permutation(len(later_truth))
    second = cluster(later[order], FEATURES, k_min=2, k_max=6, seed=7, previous=previous)
    assert second.k == 4
    after = _ids_by_group(second.labels, [later_truth[i] for i in order])
    assert {g: after[g] for g in GROUPS} == before
    assert after["newcomers"] == 4


def test_names_come_from_the_most_distinctive_features() -> None:
    assert name_cluster({"coupon_share": 1.4, "monetary": -0.7, "tenure_days": 0.2}) == (
        "deal-seeking, low-spend"
    )
    assert name_cluster({"view_to_buy": 2.0}) == "high view_to_buy"
    assert name_cluster({"monetary": 0.3}, "baby care") == "baby care"


def test_too_few_or_identical_members_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="too few to cluster"):
        cluster(np.ones((2, 3)), FEATURES, k_min=2, k_max=4, seed=1)
    with pytest.raises(ValueError, match="do not separate"):
        cluster(np.ones((50, 3)), FEATURES, k_min=2, k_max=4, seed=1)


def _store_features(ws: Workspace, day: date, raw: np.ndarray) -> list[str]:
    """A member_features snapshot holding ``raw`` (members × FEATURES); their ids."""
    ids = [f"m{i:05d}" for i in range(len(raw))]
    table = pa.table(
        {
            "snapshot_date": pa.array([day] * len(raw), pa.date32()),
            "member_id": ids,
            **{name: pa.array(raw[:, j]) for j, name in enumerate(FEATURES)},
            "favourite_category": pa.array([None] * len(raw), pa.string()),
        }
    )
    ws.warehouse.native.register("_features", table)
    try:
        ws.warehouse.execute(
            "CREATE TABLE IF NOT EXISTS member_features AS SELECT * FROM _features LIMIT 0"
        )
        ws.warehouse.execute("INSERT INTO member_features SELECT * FROM _features")
    finally:
        ws.warehouse.native.unregister("_features")
    return ids


def _clusters_of(ws: Workspace, day: date) -> str:
    run = compute_clusters(ws.warehouse, day, features=FEATURES, k_min=2, k_max=6, seed=7,
                           registry=(ws.state, ws.root))  # fmt: skip
    return run["model"]


@pytest.mark.slow
def test_each_clustering_is_registered_and_its_artifact_assigns_the_members(
    workspace: Workspace,
) -> None:
    first, second = date(2025, 6, 1), date(2025, 7, 1)
    ids = _store_features(workspace, first, _members(GROUPS, seed=1)[0])
    assert _clusters_of(workspace, first) == "clusters:1"
    assert _clusters_of(workspace, first) == "clusters:1"  # the same clustering: not again
    entry = registry.get_model(workspace.state, CLUSTER_MODEL)
    assert (entry.version, entry.stage, entry.training_window_end) == (1, "production", first)
    assert entry.metrics["k"] == 3 and entry.metrics["members"] == len(ids)
    assert sorted(c["size"] for c in entry.metrics["clusters"]) == [200, 300, 500]

    # The artifact alone puts every member where the refresh did: scale, nearest centroid.
    artifact = registry.read_artifact(workspace.root, entry)
    scaling = Scaling(**{k: tuple(v) for k, v in artifact["scaling"].items()})
    raw = np.asarray(
        workspace.warehouse.fetch_all(
            f"SELECT {', '.join(FEATURES)} FROM member_features WHERE snapshot_date = ? "
            "ORDER BY member_id",
            [first],
        ),
        dtype=np.float64,
    )
    centroids = np.asarray([c["centroid"] for c in artifact["clusters"]])
    z_centroids = (centroids - np.asarray(scaling.means)) / np.asarray(scaling.stds)
    distance = ((scaling.apply(raw)[:, None, :] - z_centroids[None, :, :]) ** 2).sum(axis=2)
    assigned = np.asarray([c["cluster_id"] for c in artifact["clusters"]])[distance.argmin(1)]
    stored = dict(
        workspace.warehouse.fetch_all(
            "SELECT member_id, cluster_id FROM member_clusters WHERE snapshot_date = ?", [first]
        )
    )
    assert assigned.tolist() == [stored[m] for m in ids]

    # A month later with a fourth group: a new version serves, the old one is retired.
    _store_features(workspace, second, _members({**GROUPS, "newcomers": NEWCOMERS}, seed=2)[0])
    assert _clusters_of(workspace, second) == "clusters:2"
    stages = {m.version: m.stage for m in registry.list_models(workspace.state, name="clusters")}
    assert stages == {1: "retired", 2: "production"}

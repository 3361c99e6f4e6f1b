"""Clustering: K-Means on standardised features, k by silhouette, readable profiles.

The members who bought before the cut-off are clustered on ``[segments]
cluster_features``. Each feature is prepared the same way every time: missing values
take the column's median; a column outside [0, 1] (counts, days, money: long-tailed)
is log1p-transformed (negative values are clipped to 0 first); every column is then
standardised (z-scores). K-Means runs for every k in ``cluster_k_min..cluster_k_max``
(fitted on at most :data:`FIT_ROWS` members, seeded) and the k with the best mean
silhouette (on at most :data:`SILHOUETTE_ROWS` members; ties to the smaller k) wins.

Each cluster gets a profile — size, share of members and of money, each feature's mean
and its z-score against everyone — and a plain-language name from its most distinctive
features ("recent, frequent, high-spend") and its dominant favourite category.

Cluster ids stay put when the structure does: the new centroids are matched to the
previous snapshot's (moved into today's standardised space) by the assignment of least
total distance; a pair closer than :data:`SAME_CLUSTER` keeps its id, anything else gets
a new one.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from memberlens import registry
from memberlens.core import i18n
from memberlens.store import StateStore, Warehouse

FIT_ROWS = 50_000
SILHOUETTE_ROWS = 5_000
SAME_CLUSTER = 1.0  # z-units between matched centroids
DISTINCT = 0.5  # |z| from which a feature names a cluster
PROJECTION_ROWS = 2_000  # members drawn on the console's scatter

# feature -> (word when high, word when low)
WORDS: dict[str, tuple[str, str]] = {
    "recency_days": ("lapsed", "recent"),
    "frequency": ("frequent", "one-off"),
    "monetary": ("high-spend", "low-spend"),
    "avg_order_value": ("big-basket", "small-basket"),
    "coupon_share": ("deal-seeking", "full-price"),
    "active_days_90d": ("active", "quiet"),
    "active_days_30d": ("active", "quiet"),
    "favourite_category_share": ("focused", "varied"),
    "tenure_days": ("long-standing", "newer"),
    "refund_rate": ("returning", "keeping"),
    "orders_365d": ("frequent", "occasional"),
    "spend_365d": ("high-spend", "low-spend"),
    "complaints": ("complaining", "content"),
}


@dataclass(frozen=True)
class Scaling:
    """How raw features became z-scores (kept so later snapshots can compare)."""

    features: tuple[str, ...]
    logged: tuple[bool, ...]
    medians: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    def apply(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x = np.where(np.isnan(raw), np.asarray(self.medians), raw)
        logged = np.asarray(self.logged)
        x[:, logged] = np.log1p(np.clip(x[:, logged], 0, None))
        z: npt.NDArray[np.float64] = (x - np.asarray(self.means)) / np.asarray(self.stds)
        return z

    def undo(self, z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Back to the transformed (logged) space, before standardising."""
        back: npt.NDArray[np.float64] = z * np.asarray(self.stds) + np.asarray(self.means)
        return back

    @classmethod
    def fit(cls, features: Sequence[str], raw: npt.NDArray[np.float64]) -> Scaling:
        with warnings.catch_warnings():  # an all-missing column is fine: median 0
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(raw, axis=0)
        medians = np.where(np.isnan(medians), 0.0, medians)
        x = np.where(np.isnan(raw), medians, raw)
        logged = ~((x.min(axis=0) >= 0) & (x.max(axis=0) <= 1))
        x[:, logged] = np.log1p(np.clip(x[:, logged], 0, None))
        stds = x.std(axis=0)
        return cls(
            features=tuple(features),
            logged=tuple(bool(v) for v in logged),
            medians=tuple(float(v) for v in medians),
            means=tuple(float(v) for v in x.mean(axis=0)),
            stds=tuple(float(v) if v > 0 else 1.0 for v in stds),
        )


@dataclass(frozen=True)
class ClusterProfile:
    cluster_id: int
    name: str
    size: int
    share: float  # of the members clustered
    value_share: float  # of their money
    means: dict[str, float]  # raw feature means
    zscores: dict[str, float]  # cluster mean of each standardised feature
    top_category: str | None  # favourite category of at least 40% of the cluster
    centroid: tuple[float, ...] = field(repr=False, default=())  # in the transformed space

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "name": self.name,
            "size": self.size,
            "share": self.share,
            "value_share": self.value_share,
            "means": self.means,
            "zscores": self.zscores,
            "top_category": self.top_category,
        }


@dataclass(frozen=True)
class Clustering:
    """One snapshot's clusters: who is where, and what each cluster is like."""

    k: int
    silhouettes: dict[int, float]
    labels: npt.NDArray[np.int64]  # cluster id per input row
    profiles: tuple[ClusterProfile, ...]
    scaling: Scaling
    projection: npt.NDArray[np.float64]  # 2-D coordinates of every input row

    def summary(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "silhouette": round(self.silhouettes[self.k], 4),
            "clusters": {p.name: p.size for p in self.profiles},
        }


@dataclass(frozen=True)
class PreviousClusters:
    """The previous snapshot's centroids, to keep cluster ids stable."""

    ids: tuple[int, ...]
    centroids: npt.NDArray[np.float64]  # in that snapshot's transformed space
    snapshot_date: date | None = None


def cluster(
    raw: npt.NDArray[np.float64],
    features: Sequence[str],
    *,
    k_min: int,
    k_max: int,
    seed: int,
    money: npt.NDArray[np.float64] | None = None,
    categories: Sequence[str | None] | None = None,
    previous: PreviousClusters | None = None,
) -> Clustering:
    """Cluster the rows of ``raw`` (members × ``features``); see the module text."""
    from sklearn.cluster import KMeans  # imported here: every CLI start would pay for it
    from sklearn.metrics import silhouette_score

    n = raw.shape[0]
    if n < max(3, k_min + 1):
        raise ValueError(f"{n} members are too few to cluster into {k_min} or more groups")
    scaling = Scaling.fit(features, raw.astype(np.float64))
    z = scaling.apply(raw.astype(np.float64))
    rng = np.random.default_rng(seed)
    fit_rows = rng.choice(n, size=min(n, FIT_ROWS), replace=False)
    sil_rows = fit_rows[: min(len(fit_rows), SILHOUETTE_ROWS)]
    distinct = len(np.unique(z[fit_rows], axis=0))
    silhouettes: dict[int, float] = {}
    models: dict[int, Any] = {}
    for k in range(k_min, min(k_max, len(fit_rows) - 1, distinct) + 1):
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z[fit_rows])
        labels = model.predict(z[sil_rows])
        if len(set(labels.tolist())) < 2:
            continue
        silhouettes[k] = float(silhouette_score(z[sil_rows], labels))
        models[k] = model
    if not silhouettes:
        raise ValueError("the members do not separate into clusters (every feature is constant)")
    best = max(silhouettes, key=lambda k: (round(silhouettes[k], 6), -k))
    model = models[best]
    raw_labels = model.predict(z)
    centroids = scaling.undo(model.cluster_centers_)
    ids = _stable_ids(centroids, scaling, raw_labels, previous)
    labels = np.asarray([ids[label] for label in raw_labels], dtype=np.int64)
    profiles = _profiles(raw, z, labels, ids, centroids, scaling, money, categories)
    return Clustering(best, silhouettes, labels, profiles, scaling, _project(z))


def _stable_ids(
    centroids: npt.NDArray[np.float64],
    scaling: Scaling,
    labels: npt.NDArray[np.int64],
    previous: PreviousClusters | None,
) -> dict[int, int]:
    """Model label -> cluster id: the previous id of a close centroid, else a new one."""
    sizes = np.bincount(labels, minlength=len(centroids))
    by_size = sorted(range(len(centroids)), key=lambda c: (-sizes[c], c))
    if previous is None or len(previous.ids) == 0:
        return {label: rank + 1 for rank, label in enumerate(by_size)}
    from scipy.optimize import linear_sum_assignment

    means, stds = np.asarray(scaling.means), np.asarray(scaling.stds)
    now = (centroids - means) / stds
    before = (previous.centroids - means) / stds
    cost = np.linalg.norm(now[:, None, :] - before[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    ids: dict[int, int] = {}
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if cost[r, c] < SAME_CLUSTER:
            ids[r] = previous.ids[c]
    fresh = max(previous.ids) + 1
    for label in by_size:
        if label not in ids:
            ids[label] = fresh
            fresh += 1
    return ids


def _profiles(
    raw: npt.NDArray[np.float64],
    z: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    ids: dict[int, int],
    centroids: npt.NDArray[np.float64],
    scaling: Scaling,
    money: npt.NDArray[np.float64] | None,
    categories: Sequence[str | None] | None,
) -> tuple[ClusterProfile, ...]:
    n = len(labels)
    spend = np.nan_to_num(money, nan=0.0) if money is not None else None
    total = float(spend.sum()) if spend is not None else 0.0
    made = []
    for label, cid in sorted(ids.items(), key=lambda item: item[1]):
        inside = labels == cid
        size = int(inside.sum())
        if size == 0:
            continue
        zs = z[inside].mean(axis=0)
        with warnings.catch_warnings():  # an all-missing column has no mean: None
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(raw[inside], axis=0)
        top = _top_category(categories, inside)
        zscores = {f: round(float(v), 4) for f, v in zip(scaling.features, zs, strict=True)}
        made.append(
            ClusterProfile(
                cluster_id=cid,
                name=name_cluster(zscores, top),
                size=size,
                share=size / n,
                value_share=float(spend[inside].sum()) / total
                if spend is not None and total
                else 0.0,
                means={
                    f: (None if np.isnan(v) else round(float(v), 4))  # type: ignore[misc]
                    for f, v in zip(scaling.features, means, strict=True)
                },
                zscores=zscores,
                top_category=top,
                centroid=tuple(float(v) for v in centroids[label]),
            )
        )
    return tuple(made)


def _top_category(
    categories: Sequence[str | None] | None, inside: npt.NDArray[np.bool_]
) -> str | None:
    if categories is None:
        return None
    chosen = [c for c, keep in zip(categories, inside.tolist(), strict=True) if keep and c]
    if not chosen:
        return None
    values, counts = np.unique(np.asarray(chosen, dtype=object), return_counts=True)
    best = int(np.argmax(counts))
    return str(values[best]) if counts[best] >= 0.4 * int(inside.sum()) else None


def name_cluster(
    zscores: dict[str, float], top_category: str | None = None, locale: str = "en"
) -> str:
    """A plain-language name from the three most distinctive features and the category,
    in ``locale`` (the words of the catalogue's ``cluster_trait`` labels, the category's
    label). The English name is what the refresh stores; pages name a cluster again in
    their reader's language from its stored z-scores.

    >>> name_cluster({"recency_days": -1.2, "monetary": 1.6, "frequency": 0.9}, "baby care")
    'high-spend, recent, frequent, baby care'
    >>> name_cluster({"recency_days": -1.2, "monetary": 1.6, "frequency": 0.9}, "baby", "zh-CN")
    '高消费、近期购买、高频、母婴'
    >>> name_cluster({"monetary": 0.1}), name_cluster({"monetary": 0.1}, None, "zh-CN")
    ('typical', '普通')
    """
    zh = i18n.locale_of(locale) == "zh-CN"
    ranked = sorted(zscores.items(), key=lambda item: (-abs(item[1]), item[0]))
    words: list[str] = []
    for feature, value in ranked:
        if abs(value) < DISTINCT or len(words) == 3:
            break
        high, low = WORDS.get(feature, (f"high {feature}", f"low {feature}"))
        trait = f"{feature}.{'high' if value > 0 else 'low'}"
        if zh:
            word = i18n.label("cluster_trait", trait, locale)
            word = word if word != trait else f"{feature}{'高' if value > 0 else '低'}"
        else:
            word = high if value > 0 else low
        if word not in words:
            words.append(word)
    if top_category:
        words.append(i18n.label("category", top_category, locale) if zh else top_category)
    if not words:
        return i18n.label("cluster_trait", "typical", locale)
    return ("、" if zh else ", ").join(words)


def _project(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The first two principal components of the standardised features."""
    centred = z - z.mean(axis=0)
    if centred.shape[1] < 2:
        return np.column_stack([centred[:, 0], np.zeros(len(centred))])
    _, _, vt = np.linalg.svd(centred[: min(len(centred), FIT_ROWS)], full_matrices=False)
    projected: npt.NDArray[np.float64] = centred @ vt[:2].T
    return projected


def profiles_json(clustering: Clustering) -> str:
    """What the profile table stores per snapshot (the scaling too, for the next match)."""
    scaling = clustering.scaling
    return json.dumps(
        {
            "k": clustering.k,
            "silhouettes": {str(k): v for k, v in clustering.silhouettes.items()},
            "scaling": {
                "features": list(scaling.features),
                "logged": list(scaling.logged),
                "medians": list(scaling.medians),
                "means": list(scaling.means),
                "stds": list(scaling.stds),
            },
            "clusters": [
                {**p.to_json(), "centroid": list(p.centroid)} for p in clustering.profiles
            ],
        },
        sort_keys=True,
    )


CLUSTERS_TABLE = "member_clusters"
CLUSTER_MODEL = "clusters"  # its name in the model registry
CLUSTER_FORMAT = "memberlens.clusters/1"
PROFILES_TABLE = "cluster_profiles"
PROJECTION_TABLE = "cluster_projection"


def ensure_cluster_tables(warehouse: Warehouse) -> None:
    for ddl in (
        f"CREATE TABLE IF NOT EXISTS {CLUSTERS_TABLE} (snapshot_date DATE NOT NULL, "
        "member_id VARCHAR NOT NULL, cluster_id INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {PROFILES_TABLE} (snapshot_date DATE NOT NULL, "
        "profile VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {PROJECTION_TABLE} (snapshot_date DATE NOT NULL, "
        "member_id VARCHAR NOT NULL, cluster_id INTEGER NOT NULL, x DOUBLE, y DOUBLE)",
    ):
        warehouse.execute(ddl)


def _previous(warehouse: Warehouse, snapshot: date) -> PreviousClusters | None:
    row = warehouse.fetch_all(
        f"SELECT snapshot_date, profile FROM {PROFILES_TABLE} WHERE snapshot_date < ? "
        "ORDER BY snapshot_date DESC LIMIT 1",
        [snapshot],
    )
    if not row:
        return None
    stored = json.loads(row[0][1])
    clusters = stored.get("clusters", [])
    if not clusters:
        return None
    return PreviousClusters(
        ids=tuple(int(c["cluster_id"]) for c in clusters),
        centroids=np.asarray([c["centroid"] for c in clusters], dtype=np.float64),
        snapshot_date=row[0][0],
    )


def compute_clusters(
    warehouse: Warehouse,
    snapshot: date,
    *,
    features: Sequence[str],
    k_min: int,
    k_max: int,
    seed: int,
    registry: tuple[StateStore, Path] | None = None,
) -> dict[str, Any]:
    """Cluster the snapshot's buyers and store members, profiles and a 2-D sample.

    With ``registry`` (the state DB and the workspace root) the clustering is recorded
    in the model registry as :data:`CLUSTER_MODEL` (see :func:`register_clustering`).
    Returns the step summary; with too few buyers nothing is clustered (``k`` 0).
    """
    ensure_cluster_tables(warehouse)
    columns = ", ".join(f'"{f}"' for f in features)
    cursor = warehouse.execute(
        f"SELECT member_id, {columns}, monetary AS _money, favourite_category AS _category "
        "FROM member_features "
        "WHERE snapshot_date = ? AND frequency > 0 ORDER BY member_id",
        [snapshot],
    )
    table = cursor.to_arrow_table()
    with warehouse.transaction():
        for name in (CLUSTERS_TABLE, PROFILES_TABLE, PROJECTION_TABLE):
            warehouse.execute(f"DELETE FROM {name} WHERE snapshot_date = ?", [snapshot])
    if table.num_rows < max(3, k_min + 1):
        return {"k": 0, "members": 0}
    raw = np.column_stack(
        [np.asarray(table.column(f).cast("double").to_numpy(zero_copy_only=False), dtype=np.float64)
         for f in features]
    )  # fmt: skip
    money = np.asarray(
        table.column("_money").cast("double").to_numpy(zero_copy_only=False), dtype=np.float64
    )
    try:
        found = cluster(
            raw,
            features,
            k_min=k_min,
            k_max=k_max,
            seed=seed,
            money=money,
            categories=table.column("_category").to_pylist(),
            previous=_previous(warehouse, snapshot),
        )
    except ValueError as why:  # too few or indistinguishable buyers: no clusters today
        return {"k": 0, "members": table.num_rows, "reason": str(why)}
    members = pa.table(
        {
            "snapshot_date": pa.array([snapshot] * table.num_rows, pa.date32()),
            "member_id": table.column("member_id"),
            "cluster_id": pa.array(found.labels, pa.int32()),
        }
    )
    rng = np.random.default_rng(seed)
    shown = np.sort(
        rng.choice(table.num_rows, size=min(table.num_rows, PROJECTION_ROWS), replace=False)
    )
    projection = pa.table(
        {
            "snapshot_date": pa.array([snapshot] * len(shown), pa.date32()),
            "member_id": table.column("member_id").take(pa.array(shown)),
            "cluster_id": pa.array(found.labels[shown], pa.int32()),
            "x": pa.array(found.projection[shown, 0]),
            "y": pa.array(found.projection[shown, 1]),
        }
    )
    with warehouse.transaction():
        for name, rows in ((CLUSTERS_TABLE, members), (PROJECTION_TABLE, projection)):
            warehouse.native.register("_new_clusters", rows)
            try:
                warehouse.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _new_clusters")
            finally:
                warehouse.native.unregister("_new_clusters")
        warehouse.execute(
            f"INSERT INTO {PROFILES_TABLE} VALUES (?, ?)", [snapshot, profiles_json(found)]
        )
    summary = {**found.summary(), "members": table.num_rows}
    if registry is not None:
        ids = table.column("member_id").to_pylist()
        entry = register_clustering(
            *registry, snapshot, found, ids, k_range=(k_min, k_max), seed=seed
        )
        summary["model"] = f"{entry.name}:{entry.version}"
    return summary


def register_clustering(
    state: StateStore,
    root: Path,
    snapshot: date,
    clustering: Clustering,
    member_ids: Sequence[str],
    *,
    k_range: tuple[int, int],
    seed: int,
) -> registry.RegisteredModel:
    """Record a refresh's clustering as the production version of :data:`CLUSTER_MODEL`.

    The artifact is what assigns a member to a cluster — the scaling and each
    cluster's centroid, id and name — as JSON. The refresh uses its clustering at
    once, so the new version is promoted (the previous one retired); a clustering
    identical to the production version's (same artifact, same members) is not
    recorded twice.
    """
    artifact = {"format": CLUSTER_FORMAT, **json.loads(profiles_json(clustering))}
    fingerprint = hashlib.sha256()
    for member_id, label in zip(member_ids, clustering.labels.tolist(), strict=True):
        fingerprint.update(f"{member_id}\t{label}\n".encode())
    return registry.register_production(
        state,
        root,
        name=CLUSTER_MODEL,
        artifact=artifact,
        params={
            "features": list(clustering.scaling.features),
            "k_min": k_range[0],
            "k_max": k_range[1],
            "seed": seed,
        },
        metrics={
            "k": clustering.k,
            "silhouette": round(clustering.silhouettes[clustering.k], 4),
            "silhouettes": {str(k): round(v, 4) for k, v in clustering.silhouettes.items()},
            "members": len(member_ids),
            "clusters": [
                {
                    "cluster_id": p.cluster_id,
                    "name": p.name,
                    "size": p.size,
                    "share": p.share,
                    "value_share": p.value_share,
                    # what names the cluster again in a reader's language
                    "zscores": {f: round(z, 4) for f, z in p.zscores.items()},
                    "top_category": p.top_category,
                }
                for p in clustering.profiles
            ],
        },
        window=(None, snapshot),
        data_fingerprint=fingerprint.hexdigest(),
    )

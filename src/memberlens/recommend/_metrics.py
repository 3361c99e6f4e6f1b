"""Top-k recommendation metrics, and bootstrap intervals over users.

Every list is a user's recommendations, best first, at most ``k`` long; ``relevant``
is the set of items the user interacted with in the test part. Per user:

- ``precision`` — hits in the list over ``k`` (a list shorter than k is not excused);
- ``recall`` — hits over the number of relevant items;
- ``f1`` — their harmonic mean (0 when both are 0);
- ``ndcg`` — ``Σ hit_i / log2(i + 2)`` over the list, divided by the same sum for an
  ideal list, which has ``min(k, |relevant|)`` hits on top;
- ``map`` — average precision: ``Σ precision@i · hit_i / min(k, |relevant|)``;
- ``hit_rate`` — 1 when the list holds any relevant item;
- ``diversity`` — intra-list diversity: the share of pairs of listed items whose
  categories differ (a one-item list counts 0);
- ``novelty`` — mean self-information ``-log2(p_i)`` of the listed items, ``p_i`` the
  share of training users who interacted with item ``i`` (undefined for an empty
  list: averaged over the users with a list).

Over all users: the mean of each of the above; ``coverage`` — distinct items
recommended to anyone over the catalogue; ``personalization`` — one minus the mean
cosine similarity of two users' lists (1: no two users see a common item).

Intervals: 95% percentile bootstrap over users (the same resampled users for every
metric; coverage's interval is re-centred on the estimate, since a union of lists
shrinks when users are drawn twice); :func:`paired_difference` resamples the users
two algorithms share to bound the difference of a metric between them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

PER_USER = ("precision", "recall", "f1", "ndcg", "map", "hit_rate", "diversity", "novelty")
METRICS = (*PER_USER[:6], "coverage", "diversity", "novelty", "personalization")
BOOTSTRAP_ROUNDS = 1000
# Personalisation compares every pair of users; above this many, a seeded sample.
PAIR_USERS = 2000

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scored:
    """Per-user metric values (rows in the order of the lists given) and the lists."""

    per_user: dict[str, Floats]
    lists: list[npt.NDArray[np.int64]]
    catalogue: int
    k: int


def score_lists(
    lists: Sequence[Sequence[int] | npt.NDArray[np.int64]],
    relevant: Sequence[set[int] | frozenset[int]],
    *,
    k: int,
    catalogue: int,
    categories: npt.NDArray[np.int64] | None = None,
    popularity: Floats | None = None,
) -> Scored:
    """Per-user metrics of ``lists`` (item indices) against ``relevant`` (index sets).

    ``categories`` (one code per item; -1 unknown) gives diversity, ``popularity``
    (share of training users per item) novelty; without them those metrics are NaN.
    """
    if len(lists) != len(relevant):
        raise ValueError(f"{len(lists)} lists but {len(relevant)} relevant sets")
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    out = {name: np.full(len(lists), np.nan) for name in PER_USER}
    kept = []
    for u, (items, wanted) in enumerate(zip(lists, relevant, strict=True)):
        ranked = np.asarray(list(items)[:k], dtype=np.int64)
        kept.append(ranked)
        hits = np.fromiter((i in wanted for i in ranked.tolist()), dtype=bool, count=len(ranked))
        n_hits = int(hits.sum())
        precision = n_hits / k
        recall = n_hits / len(wanted) if wanted else 0.0
        ideal = min(k, len(wanted))
        out["precision"][u] = precision
        out["recall"][u] = recall
        out["f1"][u] = 2 * precision * recall / (precision + recall) if n_hits else 0.0
        out["ndcg"][u] = (
            float(discount[: len(ranked)][hits].sum() / discount[:ideal].sum()) if ideal else 0.0
        )
        at_hit = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1.0)
        out["map"][u] = float(at_hit.sum() / ideal) if ideal else 0.0
        out["hit_rate"][u] = float(n_hits > 0)
        if categories is not None:
            out["diversity"][u] = _intra_list_diversity(categories[ranked])
        if popularity is not None and len(ranked):
            share = np.maximum(popularity[ranked], 1e-12)
            out["novelty"][u] = float(-np.log2(share).mean())
    return Scored(out, kept, catalogue, k)


def _intra_list_diversity(codes: npt.NDArray[np.int64]) -> float:
    n = len(codes)
    if n < 2:
        return 0.0
    _, counts = np.unique(codes, return_counts=True)
    same = float((counts * (counts - 1)).sum()) / 2.0
    pairs = n * (n - 1) / 2.0
    return 1.0 - same / pairs


def _incidence(scored: Scored) -> sparse.csr_matrix:
    """Users × items, 1 where the item is in the user's list."""
    rows = np.repeat(np.arange(len(scored.lists)), [len(x) for x in scored.lists])
    cols = np.concatenate(scored.lists) if scored.lists else np.empty(0, dtype=np.int64)
    data = np.ones(len(cols))
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(scored.lists), scored.catalogue))


def _pair_similarity(scored: Scored, seed: int) -> tuple[Floats, npt.NDArray[np.int64]]:
    """Cosine similarity between the lists of (a sample of) users, and who they are."""
    n = len(scored.lists)
    chosen = np.arange(n)
    if n > PAIR_USERS:
        chosen = np.sort(np.random.default_rng(seed).choice(n, PAIR_USERS, replace=False))
    m = _incidence(scored)[chosen]
    lengths = np.sqrt(np.asarray(m.sum(axis=1)).ravel())
    overlap = (m @ m.T).toarray()
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = overlap / np.outer(lengths, lengths)
    return np.nan_to_num(cosine, nan=0.0), chosen


def summarise(
    scored: Scored, *, seed: int = 42, rounds: int = BOOTSTRAP_ROUNDS
) -> dict[str, object]:
    """Mean of each metric over users and its 95% bootstrap interval (none with
    ``rounds`` 0).

    Returns ``{METRIC: value, ..., "ci": {METRIC: [low, high]}}``; a metric without
    data (no categories, say) is None with no interval.
    """
    n = len(scored.lists)
    if n == 0:
        return {**{name: None for name in METRICS}, "ci": {}}
    measured = [name for name in PER_USER if not np.isnan(scored.per_user[name]).all()]
    values: dict[str, float | None] = {name: None for name in METRICS}
    for name in measured:
        values[name] = float(np.nanmean(scored.per_user[name]))
    incidence = _incidence(scored)
    values["coverage"] = float(
        (np.asarray(incidence.sum(axis=0)).ravel() > 0).sum() / scored.catalogue
    )
    cosine, chosen = _pair_similarity(scored, seed)
    values["personalization"] = float(_personalization(cosine, np.ones((len(chosen), 1)))[0])
    draws: dict[str, list[Floats]] = {
        name: [] for name in [*measured, "coverage", "personalization"]
    }
    for w in _resampled(n, rounds, seed):  # users × rounds: how often each was drawn
        for name in measured:
            column = scored.per_user[name]
            present = ~np.isnan(column)  # novelty: users with an empty list have none
            # a draw of no user with the figure has none either (NaN, left out below)
            with np.errstate(invalid="ignore", divide="ignore"):
                draws[name].append((np.where(present, column, 0.0) @ w) / (present @ w))
        listed = np.asarray(incidence.T @ w)  # items × rounds
        draws["coverage"].append((listed > 0).sum(axis=0) / scored.catalogue)
        draws["personalization"].append(_personalization(cosine, w[chosen]))
    ci = {name: _interval(np.concatenate(parts)) for name, parts in draws.items() if parts}
    if draws["coverage"]:
        # A union shrinks under resampling with replacement (a user drawn twice adds no
        # item), so coverage's draws sit below the estimate: keep their spread, centred
        # on the estimate.
        shift = float(values["coverage"] or 0.0) - float(np.concatenate(draws["coverage"]).mean())
        ci["coverage"] = [ci["coverage"][0] + shift, ci["coverage"][1] + shift]
    return {**values, "ci": ci}


def _resampled(n: int, rounds: int, seed: int, chunk: int = 100) -> Iterator[Floats]:
    """Bootstrap draws of ``n`` users as counts per user, ``chunk`` rounds at a time
    (so memory stays users × chunk)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < rounds:
        size = min(chunk, rounds - done)
        yield rng.multinomial(n, np.full(n, 1.0 / n), size=size).T.astype(np.float64)
        done += size


def _personalization(cosine: Floats, w: Floats) -> Floats:
    """Per column of draw counts ``w``: 1 - the mean similarity over pairs of distinct
    draws (a user drawn twice is not compared with themself)."""
    total = w.sum(axis=0)
    pairs = total * total - (w * w).sum(axis=0)
    similar = (w * (cosine @ w)).sum(axis=0) - (w * w * np.diag(cosine)[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: Floats = np.where(pairs > 0, 1.0 - similar / pairs, np.nan)
    return result


def paired_difference(
    a: Floats, b: Floats, *, seed: int = 42, rounds: int = BOOTSTRAP_ROUNDS
) -> dict[str, float]:
    """Mean of ``a - b`` over the same users and its 95% bootstrap interval."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = len(diff)
    if n == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan")}
    resampled = np.concatenate([(diff @ w) / n for w in _resampled(n, rounds, seed)])
    low, high = _interval(resampled)
    return {"mean": float(diff.mean()), "low": low, "high": high}


def _interval(samples: npt.ArrayLike) -> list[float]:
    """The 95% percentile interval of the bootstrap draws that have a figure."""
    drawn = np.asarray(samples, dtype=np.float64)
    drawn = drawn[~np.isnan(drawn)]
    if not len(drawn):
        return [float("nan"), float("nan")]
    low, high = np.percentile(drawn, [2.5, 97.5])
    return [float(low), float(high)]

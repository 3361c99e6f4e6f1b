"""Offline evaluation splits: what a recommender may learn from, and what it must find.

- ``stratified``: per user with at least two distinct items, a seeded random
  ``test_ratio`` of their items (at least one, never all) is held out; every record
  of a held-out (user, item) pair leaves the training part.
- ``last``: per user with at least two distinct items, the item of their newest
  record (ties: the smallest item id) is held out.
- ``time``: records before the cut-off day train; a user with records on both sides
  is tested on the items of their later records — those not already seen in training,
  unless ``keep_seen``.

The same functions carve a validation split from a training part, so defaults can be
chosen without looking at the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from memberlens.core.errors import InputError
from memberlens.recommend._interactions import Interactions

SPLITS = ("stratified", "last", "time")
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Split:
    """Training records, and per test user the items they must be recommended."""

    name: str
    train: Interactions
    users: Ints  # test users (indices into train.users), ascending
    relevant: list[frozenset[int]]  # per test user: held-out items

    def describe(self) -> dict[str, int]:
        return {
            "train_records": len(self.train),
            "test_users": len(self.users),
            "test_items": sum(len(r) for r in self.relevant),
        }

    def tested_on(self, users: int, *, seed: int) -> Split:
        """This split with at most ``users`` of its test users (drawn at random, kept in
        ascending order) and the same training part."""
        if len(self.users) <= users:
            return self
        rng = np.random.default_rng(seed)
        kept = np.sort(rng.choice(len(self.users), size=users, replace=False))
        return Split(self.name, self.train, self.users[kept], [self.relevant[i] for i in kept])


def _pairs(data: Interactions) -> tuple[Ints, Ints, Ints]:
    """Distinct (user, item) pairs, sorted, and each record's pair index."""
    key = data.user * len(data.items) + data.item
    unique, inverse = np.unique(key, return_inverse=True)
    return unique // len(data.items), unique % len(data.items), inverse.astype(np.int64)


def _held_out(name: str, data: Interactions, held: npt.NDArray[np.bool_]) -> Split:
    """A split holding out the pairs (in :func:`_pairs` order) where ``held`` is true."""
    user_of, item_of, record_pair = _pairs(data)
    users = np.unique(user_of[held])
    if len(users) == 0:
        raise InputError(
            f"the {name} split holds nothing out: no user has two or more distinct items"
        )
    train = data.subset(~held[record_pair])
    return Split(name, train, users, _grouped(user_of[held], item_of[held], users))


def _grouped(user: Ints, item: Ints, users: Ints) -> list[frozenset[int]]:
    order = np.argsort(user, kind="stable")
    user, item = user[order], item[order]
    starts = np.searchsorted(user, users, side="left")
    ends = np.searchsorted(user, users, side="right")
    return [frozenset(item[a:b].tolist()) for a, b in zip(starts, ends, strict=True)]


def stratified(data: Interactions, *, test_ratio: float = 0.25, seed: int = 42) -> Split:
    """Hold out ``test_ratio`` of each user's distinct items (seeded)."""
    if not 0 < test_ratio < 1:
        raise InputError(f"--test-ratio {test_ratio} must lie strictly between 0 and 1")
    user_of, _, _ = _pairs(data)
    rng = np.random.default_rng(seed)
    draw = rng.random(len(user_of))
    # Rank each user's pairs by a random draw; the lowest ranks are held out.
    order = np.lexsort((draw, user_of))
    first = np.searchsorted(user_of[order], user_of[order], side="left")
    rank = np.empty(len(user_of), dtype=np.int64)
    rank[order] = np.arange(len(user_of)) - first
    per_user = np.bincount(user_of, minlength=len(data.users))
    n = per_user[user_of]
    take = np.where(n >= 2, np.clip(np.rint(test_ratio * n), 1, n - 1), 0).astype(np.int64)
    return _held_out("stratified", data, rank < take)


def leave_last_out(data: Interactions) -> Split:
    """Hold out each user's most recent item (users with two or more items)."""
    user_of, item_of, record_pair = _pairs(data)
    newest = np.full(len(user_of), -1, dtype=np.int64)
    np.maximum.at(newest, record_pair, data.day)
    per_user = np.bincount(user_of, minlength=len(data.users))
    # Per user: the pair with the newest day, ties to the smallest item index.
    order = np.lexsort((item_of, -newest, user_of))
    is_first = np.r_[True, user_of[order][1:] != user_of[order][:-1]]
    held = np.zeros(len(user_of), dtype=bool)
    held[order[is_first]] = True
    held &= per_user[user_of] >= 2
    return _held_out("last", data, held)


def by_time(data: Interactions, *, cutoff_day: int, keep_seen: bool = False) -> Split:
    """Train on records before ``cutoff_day``; test on what users did from it on."""
    before = data.day < cutoff_day
    train = data.subset(before)
    if len(train) == 0 or before.all():
        raise InputError(
            "the time split needs records on both sides of --cutoff; pick a day inside "
            "the data's range"
        )
    seen = set((train.user * len(data.items) + train.item).tolist())
    later = ~before
    users_later, items_later = data.user[later], data.item[later]
    known = np.isin(users_later, np.unique(train.user))
    users_later, items_later = users_later[known], items_later[known]
    if not keep_seen:
        fresh = np.asarray(
            [k not in seen for k in (users_later * len(data.items) + items_later).tolist()],
            dtype=bool,
        )
        users_later, items_later = users_later[fresh], items_later[fresh]
    users = np.unique(users_later)
    if len(users) == 0:
        raise InputError(
            "no user active before --cutoff came back after it with a new item; pick an "
            "earlier cut-off"
        )
    return Split("time", train, users, _grouped(users_later, items_later, users))

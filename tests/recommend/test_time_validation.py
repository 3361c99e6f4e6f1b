"""The validation split of a time split, carved from its training part by records.

README's tour puts CDNOW's 1997 purchases, Groceries' 2014 baskets and Taobao's 2017
clicks beside the demo's last two years: `recommend evaluate --split time --cutoff
2025-10-01` then refused with "no user active before --cutoff came back after it",
though 463 members did. The validation split held out the last tenth of the training
*days* — from 1997 on, every day since late 2022, when nobody in the tour was active.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from memberlens.recommend._evaluate import _validation
from memberlens.recommend._interactions import Interactions, day_number
from memberlens.recommend._split import by_time


def _records(rows: list[tuple[int, int, date]]) -> Interactions:
    users = sorted({u for u, _, _ in rows})
    items = sorted({i for _, i, _ in rows})
    return Interactions(
        users=np.asarray([f"m{u:03d}" for u in users]),
        items=np.asarray([f"p{i:03d}" for i in items]),
        user=np.asarray([users.index(u) for u, _, _ in rows], dtype=np.int64),
        item=np.asarray([items.index(i) for _, i, _ in rows], dtype=np.int64),
        kind=np.full(len(rows), "purchase"),
        day=np.asarray([day_number(d) for _, _, d in rows], dtype=np.int64),
        weight=np.ones(len(rows)),
        category=np.full(len(items), -1, dtype=np.int64),
        categories=(),
    )


def test_a_time_split_validates_on_the_last_tenth_of_its_records_not_of_its_days() -> None:
    old = [(100 + u, u % 7, date(1997, 3, 1 + u % 28)) for u in range(30)]  # one era
    # today's shop: 20 members buying one product a month for the two years to the cut-off
    recent = [
        (u, (u + month) % 40, date(2024 + month // 12, 1 + month % 12, 1 + u % 28))
        for u in range(20)
        for month in range(24)
    ]
    data = _records(old + recent)
    split = by_time(data, cutoff_day=day_number(date(2025, 10, 1)))
    validation = _validation(split, "time", test_ratio=0.25, seed=0, keep_seen=False)
    # the validation's test users are today's members, tested on the training part's
    # last months (by calendar, its last tenth would start in 2023: nobody came back)
    assert len(validation.users) == 20
    cut = validation.train.day.max() + 1
    assert date(2025, 1, 1) <= date.fromordinal(date(1970, 1, 1).toordinal() + int(cut))


def test_the_refresh_choice_scores_a_sample_of_the_validation_users_with_their_items() -> None:
    rows = [(u, (u * 3 + j) % 25, date(2025, 1, 1 + j)) for u in range(40) for j in range(4)]
    split = by_time(_records(rows), cutoff_day=day_number(date(2025, 1, 3)))
    assert split.tested_on(len(split.users), seed=1) is split
    sample = split.tested_on(10, seed=1)
    assert len(sample.users) == 10 and list(sample.users) == sorted(sample.users)
    assert set(sample.users) <= set(split.users) and sample.train is split.train
    wanted = dict(zip(split.users.tolist(), split.relevant, strict=True))
    assert all(wanted[u] == r for u, r in zip(sample.users.tolist(), sample.relevant, strict=True))
    assert list(split.tested_on(10, seed=1).users) == list(sample.users)  # seeded

"""Every recommender by name, simplest first (validation ties go to the simpler)."""

from __future__ import annotations

from memberlens.recommend._algorithms import (
    Blend,
    CategoryAffinity,
    ItemKnn,
    Popularity,
    RankFusion,
    Recommender,
    UserKnn,
)
from memberlens.recommend._factors import Als, Bpr

ALGORITHMS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (Popularity, CategoryAffinity, ItemKnn, UserKnn, Als, Bpr, Blend, RankFusion)
}

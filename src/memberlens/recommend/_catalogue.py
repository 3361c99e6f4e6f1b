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
from memberlens.recommend._association import Association
from memberlens.recommend._content import Content
from memberlens.recommend._factors import Als, Bpr

# Association is popularity given an item the member has (pair counts, no weights), so
# it follows category affinity; content is item-kNN's cosine over catalogue text instead
# of members, so it comes just before item-kNN.
ALGORITHMS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (
        Popularity,
        CategoryAffinity,
        Association,
        Content,
        ItemKnn,
        UserKnn,
        Als,
        Bpr,
        Blend,
        RankFusion,
    )
}

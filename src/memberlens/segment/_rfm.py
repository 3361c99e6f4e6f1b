"""RFM: recency, frequency and monetary scores, and the eleven named RFM segments.

Scores run 1..bins over the members who bought before the cut-off: ``r`` is highest
for the most recent buyers, ``f`` and ``m`` for the most orders and the most money.
Bins are equal-count (``ntile``) and ties are broken by ``member_id``, so every engine
gives every member the same scores. The named segments read ``r`` and ``fm`` (the mean
of ``f`` and ``m``, halves rounded up) on a 1-5 scale (scores of other bin counts are
scaled: ``ceil(score * 5 / bins)``); the first segment of :data:`RFM_SEGMENTS` whose
ranges hold both is the member's. Every one of the 25 cells has exactly one segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

RFM_TABLE = "member_rfm"


@dataclass(frozen=True)
class RfmSegment:
    name: str
    r: tuple[int, int]  # inclusive range of the 1-5 recency score
    fm: tuple[int, int]  # inclusive range of the 1-5 frequency-and-monetary score
    description: str

    def holds(self, r: int, fm: int) -> bool:
        return self.r[0] <= r <= self.r[1] and self.fm[0] <= fm <= self.fm[1]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "r": list(self.r),
            "fm": list(self.fm),
            "description": self.description,
        }


RFM_SEGMENTS: tuple[RfmSegment, ...] = (
    RfmSegment("Champions", (4, 5), (4, 5), "Bought recently, buy often and spend the most."),
    RfmSegment("Loyal", (3, 5), (3, 5), "Buy regularly and spend well."),
    RfmSegment(
        "Can't Lose Them", (1, 1), (4, 5), "Bought often and spent big, but not for a long time."
    ),
    RfmSegment("At Risk", (1, 2), (3, 5), "Bought often and spent well, but some time ago."),
    RfmSegment("New", (5, 5), (1, 1), "Bought for the first time, very recently."),
    RfmSegment("Promising", (4, 4), (1, 1), "Bought recently, but little so far."),
    RfmSegment(
        "Potential Loyalist", (4, 5), (2, 2), "Bought recently, with some orders and spend."
    ),
    RfmSegment("Need Attention", (3, 3), (2, 2), "Middling recency, frequency and spend."),
    RfmSegment("About to Sleep", (3, 3), (1, 1), "Middling recency, few orders and low spend."),
    RfmSegment("Hibernating", (2, 2), (1, 2), "Last bought long ago, with few orders."),
    RfmSegment("Lost", (1, 1), (1, 2), "Bought longest ago, least often, for the least."),
)


def segment_of(r: int, fm: int) -> str:
    """The named segment of 1-5 scores ``r`` and ``fm``.

    >>> segment_of(5, 5), segment_of(1, 5), segment_of(5, 1), segment_of(1, 1)
    ('Champions', "Can't Lose Them", 'New', 'Lost')
    """
    return next(s.name for s in RFM_SEGMENTS if s.holds(r, fm))


def rfm_scores(features: ir.Table, bins: int) -> ir.Table:
    """Scores and segment per member with at least one order in ``features``.

    ``features`` has ``member_id``, ``recency_days``, ``frequency`` and ``monetary``
    (one snapshot). A null ``monetary`` (orders without amounts) scores as 0.
    """
    buyers = features.filter(features.frequency > 0)
    money = buyers.monetary.cast("float64").fill_null(0)
    buyers = buyers.select(
        "member_id", "recency_days", "frequency", monetary=buyers.monetary, _money=money
    )

    def score(*order: ir.Value) -> ir.IntegerValue:
        window = ibis.window(order_by=[*order, buyers.member_id])
        return (ibis.ntile(bins).over(window) + 1).cast("int32")

    scored = buyers.mutate(
        r_score=score(ibis.desc(buyers.recency_days)),
        f_score=score(buyers.frequency),
        m_score=score(buyers._money),
    ).drop("_money")
    r5 = _five(scored.r_score, bins)
    fm5 = _five((scored.f_score + scored.m_score + 1) // 2, bins)
    scored = scored.mutate(fm_score=((scored.f_score + scored.m_score + 1) // 2).cast("int32"))
    cases = [
        ((r5.between(*s.r)) & (fm5.between(*s.fm)), ibis.literal(s.name)) for s in RFM_SEGMENTS
    ]
    return scored.mutate(segment=ibis.cases(*cases))


def _five(score: ir.IntegerValue, bins: int) -> ir.IntegerValue:
    """A 1..bins score on the 1-5 scale the named segments use."""
    if bins == 5:
        return score
    return (score * 5 / bins).ceil().cast("int32")

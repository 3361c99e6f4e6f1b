"""NPS and CSAT statistics against hand-computed answers and a coverage simulation.

z = 1.959964 (95 %) throughout; every interval below is worked out in the comments.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest

from memberlens.core.errors import UsageError
from memberlens.text._surveys import (
    NO_GROUP,
    csat,
    csat_by,
    csat_from_counts,
    csat_trend,
    nps,
    nps_by,
    nps_difference,
    nps_from_counts,
    nps_trend,
)

TEN = [10, 10, 9, 8, 7, 6, 5, 0, 10, 9]  # promoters 5, passives 2, detractors 3


# ---- NPS -----------------------------------------------------------------------------


def test_nps_counts_and_plain_wald_interval_match_the_formula() -> None:
    r = nps(TEN, method="wald")
    assert (r.n, r.promoters, r.passives, r.detractors) == (10, 5, 2, 3)
    assert r.nps == 20.0  # 100 · (5 − 3) / 10
    # p_P = 0.5, p_D = 0.3; V = 0.5 + 0.3 − 0.2² = 0.76; SE = √(0.76/10) = 0.275681
    # half = 1.959964 · 0.275681 = 0.540325 → 100 · (0.2 ∓ 0.540325)
    assert r.low == pytest.approx(-34.0325, abs=1e-3)
    assert r.high == pytest.approx(74.0325, abs=1e-3)
    assert r.method == "wald" and r.level == 0.95


def test_nps_default_is_the_adjusted_wald_interval() -> None:
    r = nps(TEN)
    assert r.method == "adjusted_wald"
    assert r.nps == 20.0  # the reported score stays the observed one
    # n' = 13; p_P' = 5.75/13 = 0.442308, p_D' = 3.75/13 = 0.288462, centre = 2/13 = 0.153846
    # V' = 0.730769 − 0.153846² = 0.707101; SE = √(0.707101/13) = 0.233222
    # half = 1.959964 · 0.233222 = 0.457106 → 100 · (0.153846 ∓ 0.457106)
    assert r.low == pytest.approx(-30.326, abs=1e-3)
    assert r.high == pytest.approx(61.095, abs=1e-3)


def test_nps_from_counts_agrees_with_nps_of_the_answers() -> None:
    assert nps_from_counts(5, 2, 3) == nps(TEN)
    assert nps_from_counts(5, 2, 3, level=0.9, method="wald") == nps(TEN, level=0.9, method="wald")


def test_all_promoters_score_100_with_the_upper_bound_clipped() -> None:
    r = nps([10] * 20)
    assert r.nps == 100.0
    # n' = 23; p_P' = 20.75/23 = 0.902174, p_D' = 0.75/23 = 0.032609, centre = 0.869565
    # V' = 0.934783 − 0.869565² = 0.178639; SE = √(0.178639/23) = 0.088130
    # half = 0.172731 → low 0.696834, high 1.042296 → clipped to 1
    assert r.low == pytest.approx(69.683, abs=1e-3)
    assert r.high == 100.0
    # Plain Wald collapses to a zero-width interval here: why it is not the default.
    wald = nps([10] * 20, method="wald")
    assert (wald.low, wald.high) == (100.0, 100.0)


def test_all_detractors_clip_at_minus_100() -> None:
    r = nps([0, 3, 6])
    assert r.nps == -100.0
    # n' = 6; p_P' = 0.75/6 = 0.125, p_D' = 3.75/6 = 0.625, centre = −0.5
    # V' = 0.75 − 0.25 = 0.5; SE = √(0.5/6) = 0.288675; half = 0.565792
    # → low −1.065792 clipped to −1, high 0.065792 (three answers say little)
    assert r.low == -100.0
    assert r.high == pytest.approx(6.579, abs=1e-3)


def test_empty_input_gives_n_zero_and_no_score() -> None:
    for r in (nps([]), nps([None, None]), nps_from_counts(0, 0, 0)):
        assert (r.n, r.promoters, r.passives, r.detractors) == (0, 0, 0, 0)
        assert (r.nps, r.low, r.high) == (None, None, None)


def test_missing_answers_are_skipped() -> None:
    # NaN is how a nullable integer column arrives through pandas.
    assert nps([*TEN, None, math.nan]) == nps(TEN)  # type: ignore[list-item]


def test_integral_floats_and_numpy_integers_are_accepted() -> None:
    assert nps([float(s) for s in TEN]) == nps(TEN)  # type: ignore[misc]
    assert nps(list(np.array(TEN, dtype=np.int64))) == nps(TEN)


@pytest.mark.parametrize("bad", [11, -1, 8.5, "9", True, math.inf])
def test_an_out_of_range_answer_raises_naming_value_and_position(bad: object) -> None:
    with pytest.raises(UsageError, match=r"NPS answer at position 2 is") as caught:
        nps([10, None, bad])  # type: ignore[list-item]
    assert repr(bad) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "SURVEY_VALUE_OUT_OF_RANGE"


def test_bad_options_raise() -> None:
    with pytest.raises(UsageError, match="level"):
        nps(TEN, level=95)
    with pytest.raises(UsageError, match="method"):
        nps(TEN, method="exact")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="level"):
        nps_by([], [], level=0)  # checked even when there is nothing to compute
    with pytest.raises(UsageError, match="detractors"):
        nps_from_counts(1, 1, -1)


# ---- NPS difference ------------------------------------------------------------------


def test_nps_difference_matches_the_hand_computed_interval() -> None:
    a = nps_from_counts(60, 20, 20)  # NPS 40
    b = nps_from_counts(40, 30, 30)  # NPS 10
    diff, low, high = nps_difference(a, b, method="wald")
    assert diff == 30.0
    # V_a = 0.6 + 0.2 − 0.4² = 0.64; V_b = 0.4 + 0.3 − 0.1² = 0.69
    # SE = √(0.64/100 + 0.69/100) = √0.0133 = 0.115326; half = 0.226034
    assert low == pytest.approx(7.397, abs=1e-3)
    assert high == pytest.approx(52.603, abs=1e-3)

    diff, low, high = nps_difference(a, b)  # adjusted Wald: 3 pseudo-answers each
    assert diff == 30.0
    # a: p_P' = 60.75/103 = 0.589806, p_D' = 20.75/103 = 0.201456, centre 0.388350
    #    V' = 0.791262 − 0.388350² = 0.640447 → V'/103 = 0.0062179
    # b: p_P' = 40.75/103 = 0.395631, p_D' = 30.75/103 = 0.298544, centre 0.097087
    #    V' = 0.694175 − 0.097087² = 0.684749 → V'/103 = 0.0066481
    # SE = √0.0128660 = 0.113428; half = 0.222315; centre 0.291262
    assert low == pytest.approx(6.895, abs=1e-3)
    assert high == pytest.approx(51.358, abs=1e-3)


def test_nps_difference_is_antisymmetric_and_refuses_an_empty_side() -> None:
    a, b = nps(TEN), nps([10, 9, 9, 7, 3])
    diff, low, high = nps_difference(a, b)
    assert nps_difference(b, a) == pytest.approx((-diff, -high, -low))
    with pytest.raises(UsageError, match="both sides"):
        nps_difference(a, nps([]))


# ---- CSAT ----------------------------------------------------------------------------


def test_wilson_interval_for_8_of_10_matches_the_textbook_value() -> None:
    r = csat_from_counts(10, 8)
    assert r.csat == 80.0
    # k = z²/n = 0.384146; centre = (0.8 + 0.192073)/1.384146 = 0.716739
    # half = 1.959964 · √(0.016 + 0.0096037)/1.384146 = 0.226577 → (0.4902, 0.9433)
    assert r.low == pytest.approx(49.02, abs=5e-3)
    assert r.high == pytest.approx(94.33, abs=5e-3)
    assert (r.mean, r.mean_low, r.mean_high) == (None, None, None)  # only counts given


def test_csat_of_ratings_has_the_mean_with_a_t_interval() -> None:
    r = csat([5, 5, 4, 4, 4, 4, 4, 4, 3, 2, None])
    assert (r.n, r.satisfied, r.csat) == (10, 8, 80.0)
    assert r == csat_from_counts(10, 8, rating_sum=39, rating_sum_squares=159)
    # mean 39/10 = 3.9; s² = (159 − 39²/10)/9 = 6.9/9 = 0.766667; s = 0.875595
    # t(9, 0.975) = 2.262157; half = 2.262157 · 0.875595/√10 = 0.626363
    assert r.mean == pytest.approx(3.9)
    assert r.mean_low == pytest.approx(3.2736, abs=1e-3)
    assert r.mean_high == pytest.approx(4.5264, abs=1e-3)


def test_csat_threshold_and_scale_edges() -> None:
    ratings = [5, 4, 3, 3, 1]
    assert csat(ratings).satisfied == 2
    assert csat(ratings, satisfied_from=3).satisfied == 4
    r = csat([5, 5, 5, 4])
    # mean 4.75, s = 0.5, t(3) = 3.182446 → 4.75 ± 0.795612: upper clipped to the scale
    assert r.mean_high == 5.0
    assert r.mean_low == pytest.approx(3.9544, abs=1e-3)
    one = csat([4])
    assert (one.mean, one.mean_low, one.mean_high) == (4.0, None, None)
    assert one.low is not None and one.low > 0.0 and one.high == 100.0


def test_csat_of_nothing_and_bad_ratings() -> None:
    r = csat([None])
    assert (r.n, r.csat, r.low, r.high, r.mean) == (0, None, None, None, None)
    with pytest.raises(UsageError, match=r"rating at position 1 is 0"):
        csat([5, 0])
    with pytest.raises(UsageError, match="satisfied_from"):
        csat([5], satisfied_from=6)
    with pytest.raises(UsageError, match="cannot exceed"):
        csat_from_counts(3, 4)
    with pytest.raises(UsageError, match="both"):
        csat_from_counts(3, 2, rating_sum=12)


# ---- by group ------------------------------------------------------------------------

GROUPS = ["gold", None, "silver", "gold", None, "silver", "gold", "bronze", "bronze"]
SCORES = [10, 9, 7, 0, None, 6, 9, 10, 3]


def test_nps_by_group_orders_by_size_then_name_and_names_the_missing_group() -> None:
    rows = nps_by(GROUPS, SCORES)
    # gold 10, 0, 9 → 2P 1D: 33.3; bronze 10, 3 → 0; silver 7, 6 → −50; (none) 9 → 100
    assert [(g.group, g.result.n, g.result.nps) for g in rows] == [
        ("gold", 3, pytest.approx(100 / 3)),
        ("bronze", 2, 0.0),
        ("silver", 2, -50.0),
        (NO_GROUP, 1, 100.0),
    ]
    assert rows[0].result == nps([10, 0, 9])


def test_nps_by_group_leaves_out_small_groups() -> None:
    assert [g.group for g in nps_by(GROUPS, SCORES, min_n=2)] == ["gold", "bronze", "silver"]
    rows = nps_by(["a", "b"], [9, None], min_n=0)  # min_n=0 keeps an unanswered group
    assert [(g.group, g.result.n, g.result.nps) for g in rows] == [("a", 1, 100.0), ("b", 0, None)]


def test_csat_by_group() -> None:
    rows = csat_by(["web", "store", "web", None], [5, 2, 3, 4])
    assert [(g.group, g.result.n, g.result.csat) for g in rows] == [
        ("web", 2, 50.0),
        (NO_GROUP, 1, 100.0),
        ("store", 1, 0.0),
    ]


def test_grouping_errors_name_the_position_in_the_whole_input() -> None:
    with pytest.raises(UsageError, match="position 3 is 12"):
        nps_by(["a", "b", "a", "b"], [1, 2, 3, 12])
    with pytest.raises(UsageError, match="groups has 2 values but there are 3 answers"):
        nps_by(["a", "b"], [1, 2, 3])


# ---- over time -----------------------------------------------------------------------


def test_weekly_trend_splits_sunday_from_the_following_monday() -> None:
    days = [date(2024, 4, 1), date(2024, 3, 31), date(2024, 3, 25), date(2024, 4, 7)]
    rows = nps_trend(days, [0, 10, 9, 7], period="week")  # Mon, Sun, Mon, Sun
    # week of Mon 25 March: 10 (Sun 31) and 9 (Mon 25); week of Mon 1 April: 0 and 7
    assert [(p.start, p.result.n, p.result.nps) for p in rows] == [
        (date(2024, 3, 25), 2, 100.0),
        (date(2024, 4, 1), 2, -50.0),
    ]


def test_monthly_and_quarterly_trend_boundaries() -> None:
    whens = [datetime(2024, 1, 31, 23, 59), datetime(2024, 2, 1, 0, 0), date(2024, 4, 1)]
    monthly = nps_trend(whens, [10, 0, 8])
    assert [(p.start, p.result.nps) for p in monthly] == [
        (date(2024, 1, 1), 100.0),
        (date(2024, 2, 1), -100.0),
        (date(2024, 4, 1), 0.0),
    ]
    quarterly = nps_trend(whens, [10, 0, 8], period="quarter")
    assert [(p.start, p.result.n) for p in quarterly] == [
        (date(2024, 1, 1), 2),
        (date(2024, 4, 1), 1),
    ]


def test_trend_omits_periods_without_answers() -> None:
    whens = [date(2024, 1, 5), date(2024, 2, 5), date(2024, 3, 5)]
    rows = csat_trend(whens, [5, None, 2])
    assert [(p.start, p.result.csat) for p in rows] == [
        (date(2024, 1, 1), 100.0),
        (date(2024, 3, 1), 0.0),
    ]


def test_trend_errors() -> None:
    with pytest.raises(UsageError, match="period 'day'"):
        nps_trend([date(2024, 1, 1)], [5], period="day")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="date at position 0 is '2024-01-01'"):
        nps_trend(["2024-01-01"], [5])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="dates has 1 values but there are 2 answers"):
        csat_trend([date(2024, 1, 1)], [5, 4])


# ---- coverage ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["adjusted_wald", "wald"])
def test_95_percent_interval_covers_the_true_nps_about_95_percent_of_the_time(
    method: str,
) -> None:
    # Truth we set: 50 % promoters, 30 % passives, 20 % detractors → NPS 30.
    rng = np.random.default_rng(20240609)
    samples = rng.choice(np.array([10, 8, 3]), p=[0.5, 0.3, 0.2], size=(2000, 200))
    covered = 0
    for row in samples:
        r = nps(row.tolist(), method=method)  # type: ignore[arg-type]
        assert r.low is not None and r.high is not None
        covered += r.low <= 30.0 <= r.high
    # 2,000 draws: a 95 % interval covers 95 % ± 1 % (one standard error ≈ 0.49 %).
    assert 0.93 <= covered / 2000 <= 0.97

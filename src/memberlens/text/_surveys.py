"""Survey statistics: NPS and CSAT with confidence intervals, by group and over time.

Issue 9 asks how loyal and how satisfied members are, per segment, tier, channel and
period, and whether a difference is more than noise. These are pure functions over
answers that ingest has already validated; the warehouse may instead aggregate the
counts and call :func:`nps_from_counts` / :func:`csat_from_counts` on tiny totals.

**NPS** (answers 0–10): promoters answer 9–10, passives 7–8, detractors 0–6, and
``NPS = 100 · (P − D) / n``. With ``p_P = P/n`` and ``p_D = D/n`` the multinomial
variance of one answer's score (+1, 0, −1) is ``V = p_P + p_D − (p_P − p_D)²`` and the
interval is ``100 · (p_P − p_D ± z·√(V/n))``, clipped to [−100, 100].

- ``"adjusted_wald"`` (the default) first adds pseudo-answers: 3/4 promoter, 3/4
  detractor and 3/2 passive (``n + 3``), then applies the formula above, so the
  interval is centred on the slightly shrunk adjusted score while ``nps`` stays the
  observed one. Rocks (2016), "Interval Estimation for the 'Net Promoter Score'",
  *The American Statistician* 70(4), found adjusted-Wald variants to cover best; this
  variant is the one Lewis & Sauro evaluated (MeasuringU, "Confidence Intervals for
  Net Promoter Scores", 2021).
- ``"wald"``: the plain formula, for matching other tools.

Why adjusted by default at every n rather than only below 30 answers: the plain Wald
interval collapses to zero width whenever the answers fall in a single category (20
promoters give "100 [100, 100]", at any n) and undercovers for small n or scores near
±100; the adjustment fixes both and converges to Wald as n grows (at n = 200 the bounds
move by about half a point, 1–2 points near ±100, where Wald is the one that is off),
and one method for every n avoids a jump when a group crosses a threshold.

**CSAT** (ratings 1–5): ``CSAT = 100 · S / n`` where ``S`` counts ratings ≥
``satisfied_from`` (4 by default). Its interval is the Wilson score interval (Wilson
1927), with ``p = S/n`` and ``z²/n`` written ``k``::

    (p + k/2 ± z·√(p(1 − p)/n + k/(4n))) / (1 + k)

which stays inside [0, 100] and keeps a width at 0 % and 100 %, where Wald does not.
The mean rating comes with a Student t interval ``mean ± t(n−1)·s/√n``, clipped to the
1–5 scale (None below two answers).

**Empty input**: a result with ``n = 0`` has ``None`` score and bounds (not NaN): it
serialises to JSON null and mypy makes every caller decide what to show.

**Bad values raise** :class:`~memberlens.core.errors.UsageError` (a ``ValueError``)
naming the value and its position rather than being skipped: ingest already validated
the answers, so one out of range means the caller passed the wrong column, and
counting it quietly would publish a wrong score. ``None`` (and NaN, which is how a
nullable integer column arrives through pandas) means "no answer" and is skipped;
integral floats such as ``9.0`` are accepted for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from numbers import Integral
from statistics import NormalDist
from typing import Literal, TypeVar

from memberlens.core.errors import UsageError

NpsMethod = Literal["adjusted_wald", "wald"]
Period = Literal["week", "month", "quarter"]
NO_GROUP = "(none)"
RATING_MIN, RATING_MAX = 1, 5
_R = TypeVar("_R")


@dataclass(frozen=True)
class NpsResult:
    """NPS of ``n`` answers in points (−100…100) with its interval at ``level``."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    low: float | None
    high: float | None
    level: float = 0.95
    method: NpsMethod = "adjusted_wald"


@dataclass(frozen=True)
class CsatResult:
    """CSAT of ``n`` ratings in percent with its Wilson interval; mean rating with its
    t interval (``None`` where undefined: no ratings, or fewer than two for the
    interval, or only counts given)."""

    n: int
    satisfied: int
    csat: float | None
    low: float | None
    high: float | None
    mean: float | None = None
    mean_low: float | None = None
    mean_high: float | None = None
    level: float = 0.95


@dataclass(frozen=True)
class GroupNps:
    group: str
    result: NpsResult


@dataclass(frozen=True)
class GroupCsat:
    group: str
    result: CsatResult


@dataclass(frozen=True)
class PeriodNps:
    start: date  # first day of the period (weeks start on Monday)
    result: NpsResult


@dataclass(frozen=True)
class PeriodCsat:
    start: date
    result: CsatResult


# ---- single samples ------------------------------------------------------------------


def nps_from_counts(
    promoters: int,
    passives: int,
    detractors: int,
    *,
    level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
) -> NpsResult:
    """NPS and its interval from the three counts (see the module docstring).

    Examples
    --------
    >>> r = nps_from_counts(5, 2, 3, method="wald")
    >>> r.nps, round(r.low, 2), round(r.high, 2)
    (20.0, -34.03, 74.03)
    """
    for name, count in (
        ("promoters", promoters),
        ("passives", passives),
        ("detractors", detractors),
    ):
        _check_count(name, count)
    z = _z(level)
    _check_method(method)
    n = promoters + passives + detractors
    if n == 0:
        return NpsResult(0, 0, 0, 0, None, None, None, level, method)
    centre, variance = _nps_moments(promoters, detractors, n, method)
    half = z * math.sqrt(variance)
    return NpsResult(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=100.0 * (promoters - detractors) / n,
        low=max(-100.0, 100.0 * (centre - half)),
        high=min(100.0, 100.0 * (centre + half)),
        level=level,
        method=method,
    )


def nps(
    scores: Sequence[int | None], *, level: float = 0.95, method: NpsMethod = "adjusted_wald"
) -> NpsResult:
    """NPS of the answers (0–10; ``None`` = no answer, skipped).

    Examples
    --------
    >>> r = nps([10, 10, 9, 8, 7, 6, 5, 0, 10, 9, None])
    >>> r.n, r.promoters, r.passives, r.detractors, r.nps
    (10, 5, 2, 3, 20.0)
    >>> round(r.low, 2), round(r.high, 2)
    (-30.33, 61.1)
    """
    answers = [s for s in _whole_numbers(scores, 0, 10, "NPS answer") if s is not None]
    return _nps_of(answers, level, method)


def csat_from_counts(
    n: int,
    satisfied: int,
    *,
    rating_sum: int | None = None,
    rating_sum_squares: int | None = None,
    level: float = 0.95,
) -> CsatResult:
    """CSAT from ``satisfied`` of ``n`` ratings; the mean rating too when the sum and
    sum of squares of the ratings are given (what a warehouse query returns cheaply).

    Examples
    --------
    >>> r = csat_from_counts(10, 8)
    >>> r.csat, round(r.low, 2), round(r.high, 2)
    (80.0, 49.02, 94.33)
    """
    _check_count("n", n)
    _check_count("satisfied", satisfied)
    if satisfied > n:
        raise UsageError(f"satisfied ({satisfied}) cannot exceed the number of ratings ({n})")
    if (rating_sum is None) != (rating_sum_squares is None):
        raise UsageError("pass both rating_sum and rating_sum_squares, or neither")
    z = _z(level)
    if n == 0:
        return CsatResult(0, 0, None, None, None, level=level)
    low, high = _wilson(satisfied, n, z)
    mean = mean_low = mean_high = None
    if rating_sum is not None and rating_sum_squares is not None:
        mean, mean_low, mean_high = _mean_interval(n, rating_sum, rating_sum_squares, level)
    return CsatResult(
        n=n,
        satisfied=satisfied,
        csat=100.0 * satisfied / n,
        low=100.0 * low,
        high=100.0 * high,
        mean=mean,
        mean_low=mean_low,
        mean_high=mean_high,
        level=level,
    )


def csat(
    ratings: Sequence[int | None], *, satisfied_from: int = 4, level: float = 0.95
) -> CsatResult:
    """CSAT and mean rating of the ratings (1–5; ``None`` = no rating, skipped).

    Examples
    --------
    >>> r = csat([5, 4, 4, 3, 1, None])
    >>> r.n, r.satisfied, r.csat, r.mean
    (5, 3, 60.0, 3.4)
    """
    _check_csat_options(level, satisfied_from)
    answers = [
        r for r in _whole_numbers(ratings, RATING_MIN, RATING_MAX, "rating") if r is not None
    ]
    return _csat_of(answers, satisfied_from, level)


def nps_difference(
    a: NpsResult, b: NpsResult, *, level: float = 0.95, method: NpsMethod = "adjusted_wald"
) -> tuple[float, float, float]:
    """``a.nps − b.nps`` in points with its interval, for independent samples.

    The variances of the two scores add: ``SE = √(V_a/n_a + V_b/n_b)``; with
    ``"adjusted_wald"`` each group gets its pseudo-answers first (Lewis & Sauro,
    MeasuringU, "How to Statistically Compare Two Net Promoter Scores", 2021). An
    interval that excludes 0 says the groups differ at ``level``. Clipped to
    [−200, 200].

    Examples
    --------
    >>> a, b = nps_from_counts(60, 20, 20), nps_from_counts(40, 30, 30)
    >>> [round(x, 2) for x in nps_difference(a, b, method="wald")]
    [30.0, 7.4, 52.6]
    """
    z = _z(level)
    _check_method(method)
    if a.n == 0 or b.n == 0:
        raise UsageError(
            "nps_difference needs answers on both sides (got "
            f"n={a.n} and n={b.n}); skip the comparison for an empty group"
        )
    centre_a, var_a = _nps_moments(a.promoters, a.detractors, a.n, method)
    centre_b, var_b = _nps_moments(b.promoters, b.detractors, b.n, method)
    half = z * math.sqrt(var_a + var_b)
    centre = centre_a - centre_b
    # one division of whole numbers, so 40 − 10 comes out as exactly 30.0
    net = (a.promoters - a.detractors) * b.n - (b.promoters - b.detractors) * a.n
    difference = 100.0 * net / (a.n * b.n)
    return difference, max(-200.0, 100.0 * (centre - half)), min(200.0, 100.0 * (centre + half))


# ---- by group and over time ----------------------------------------------------------


def nps_by(
    groups: Sequence[str | None],
    scores: Sequence[int | None],
    *,
    level: float = 0.95,
    min_n: int = 1,
    method: NpsMethod = "adjusted_wald",
) -> list[GroupNps]:
    """NPS per group (``None`` group → ``"(none)"``), largest group first, then by name;
    groups with fewer than ``min_n`` answers are left out (``min_n=0`` keeps groups
    whose answers are all ``None``, with ``n = 0``).

    Examples
    --------
    >>> [(g.group, g.result.nps) for g in nps_by(["gold", "gold", None], [10, 3, 9])]
    [('gold', 0.0), ('(none)', 100.0)]
    """
    _check_nps_options(level, method)
    values = _whole_numbers(scores, 0, 10, "NPS answer")
    return [GroupNps(g, _nps_of(a, level, method)) for g, a in _by_group(groups, values, min_n)]


def csat_by(
    groups: Sequence[str | None],
    ratings: Sequence[int | None],
    *,
    satisfied_from: int = 4,
    level: float = 0.95,
    min_n: int = 1,
) -> list[GroupCsat]:
    """CSAT per group, ordered and filtered like :func:`nps_by`.

    Examples
    --------
    >>> [(g.group, g.result.csat) for g in csat_by(["a", "b", "a"], [5, 2, 3])]
    [('a', 50.0), ('b', 0.0)]
    """
    _check_csat_options(level, satisfied_from)
    values = _whole_numbers(ratings, RATING_MIN, RATING_MAX, "rating")
    return [
        GroupCsat(g, _csat_of(a, satisfied_from, level))
        for g, a in _by_group(groups, values, min_n)
    ]


def nps_trend(
    dates: Sequence[date | datetime],
    scores: Sequence[int | None],
    *,
    period: Period = "month",
    level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
) -> list[PeriodNps]:
    """NPS per week (from Monday), month or quarter, oldest first; periods without
    answers are omitted. A datetime counts on its own calendar date: convert to the
    reporting time zone first.

    Examples
    --------
    >>> days = [date(2024, 3, 31), date(2024, 4, 1)]  # a Sunday, then a Monday
    >>> [(p.start.isoformat(), p.result.nps) for p in nps_trend(days, [10, 0], period="week")]
    [('2024-03-25', 100.0), ('2024-04-01', -100.0)]
    """
    _check_nps_options(level, method)
    values = _whole_numbers(scores, 0, 10, "NPS answer")
    return [PeriodNps(s, _nps_of(a, level, method)) for s, a in _by_period(dates, values, period)]


def csat_trend(
    dates: Sequence[date | datetime],
    ratings: Sequence[int | None],
    *,
    period: Period = "month",
    satisfied_from: int = 4,
    level: float = 0.95,
) -> list[PeriodCsat]:
    """CSAT per period, like :func:`nps_trend`.

    Examples
    --------
    >>> days = [date(2024, 1, 31), date(2024, 2, 1)]
    >>> [(p.start.isoformat(), p.result.csat) for p in csat_trend(days, [5, 1])]
    [('2024-01-01', 100.0), ('2024-02-01', 0.0)]
    """
    _check_csat_options(level, satisfied_from)
    values = _whole_numbers(ratings, RATING_MIN, RATING_MAX, "rating")
    return [
        PeriodCsat(s, _csat_of(a, satisfied_from, level))
        for s, a in _by_period(dates, values, period)
    ]


# ---- helpers -------------------------------------------------------------------------


def _nps_of(answers: Sequence[int], level: float, method: NpsMethod) -> NpsResult:
    promoters = sum(1 for s in answers if s >= 9)
    detractors = sum(1 for s in answers if s <= 6)
    passives = len(answers) - promoters - detractors
    return nps_from_counts(promoters, passives, detractors, level=level, method=method)


def _csat_of(answers: Sequence[int], satisfied_from: int, level: float) -> CsatResult:
    return csat_from_counts(
        len(answers),
        sum(1 for r in answers if r >= satisfied_from),
        rating_sum=sum(answers),
        rating_sum_squares=sum(r * r for r in answers),
        level=level,
    )


def _nps_moments(promoters: int, detractors: int, n: int, method: NpsMethod) -> tuple[float, float]:
    """Centre of the interval (a −1…1 score) and the variance of that estimate."""
    if method == "adjusted_wald":
        # 3/4 promoter + 3/4 detractor + 3/2 passive pseudo-answers (Lewis & Sauro).
        p_p, p_d, size = (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3), n + 3.0
    else:
        p_p, p_d, size = promoters / n, detractors / n, float(n)
    centre = p_p - p_d
    return centre, max(0.0, p_p + p_d - centre**2) / size


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    k = z * z / n
    centre = p + k / 2
    half = z * math.sqrt(p * (1 - p) / n + k / (4 * n))
    return max(0.0, (centre - half) / (1 + k)), min(1.0, (centre + half) / (1 + k))


def _mean_interval(
    n: int, total: int, total_squares: int, level: float
) -> tuple[float, float | None, float | None]:
    mean = total / n
    if n < 2:
        return mean, None, None
    from scipy.special import stdtrit  # scipy costs half a second to import; only here

    variance = max(0.0, (total_squares - total * total / n) / (n - 1))
    half = float(stdtrit(n - 1, 0.5 + level / 2)) * math.sqrt(variance / n)
    return mean, max(float(RATING_MIN), mean - half), min(float(RATING_MAX), mean + half)


def _whole_numbers(values: Sequence[object], low: int, high: int, what: str) -> list[int | None]:
    """The values as ints (None for no answer), or UsageError naming the first bad one."""
    out: list[int | None] = []
    for position, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
            continue
        number: int | None = None
        if isinstance(value, float):
            number = int(value) if value.is_integer() else None
        elif isinstance(value, Integral) and not isinstance(value, bool):
            number = int(value)
        if number is None or not low <= number <= high:
            raise UsageError(
                f"{what} at position {position} is {value!r}; expected a whole number from "
                f"{low} to {high} or None. Ingest validates these, so pass the validated "
                "column (a wrong column or scale is the usual cause).",
                code="SURVEY_VALUE_OUT_OF_RANGE",
            )
        out.append(number)
    return out


def _by_group(
    groups: Sequence[str | None], values: Sequence[int | None], min_n: int
) -> list[tuple[str, list[int]]]:
    """Answers per group, largest group first then by name, without groups under min_n."""
    buckets: dict[str, list[int]] = {}
    for group, value in zip(_same_length(groups, values, "groups"), values, strict=True):
        answers = buckets.setdefault(NO_GROUP if group is None else group, [])
        if value is not None:
            answers.append(value)
    ordered = sorted(buckets.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(group, answers) for group, answers in ordered if len(answers) >= min_n]


def _by_period(
    dates: Sequence[date | datetime], values: Sequence[int | None], period: Period
) -> list[tuple[date, list[int]]]:
    """Answers per period start, oldest first, without periods that have none."""
    start_of = _PERIOD_START.get(period)
    if start_of is None:
        raise UsageError(f"period {period!r} is unknown; use 'week', 'month' or 'quarter'")
    buckets: dict[date, list[int]] = {}
    for position, (when, value) in enumerate(
        zip(_same_length(dates, values, "dates"), values, strict=True)
    ):
        if not isinstance(when, date):
            raise UsageError(f"date at position {position} is {when!r}; expected a date")
        if value is not None:
            day = when.date() if isinstance(when, datetime) else when
            buckets.setdefault(start_of(day), []).append(value)
    return sorted(buckets.items())


_PERIOD_START: dict[str, Callable[[date], date]] = {
    "week": lambda d: d - timedelta(days=d.weekday()),
    "month": lambda d: d.replace(day=1),
    "quarter": lambda d: date(d.year, 3 * ((d.month - 1) // 3) + 1, 1),
}


def _same_length(keys: Sequence[_R], values: Sequence[object], name: str) -> Sequence[_R]:
    if len(keys) != len(values):
        raise UsageError(
            f"{name} has {len(keys)} values but there are {len(values)} answers; "
            f"pass one entry of {name} per answer"
        )
    return keys


def _check_count(name: str, count: int) -> None:
    if not isinstance(count, Integral) or isinstance(count, bool) or count < 0:
        raise UsageError(f"{name} must be a whole number ≥ 0, got {count!r}")


def _check_method(method: str) -> None:
    if method not in ("adjusted_wald", "wald"):
        raise UsageError(
            f"NPS interval method {method!r} is unknown; use 'adjusted_wald' or 'wald'"
        )


def _check_nps_options(level: float, method: str) -> None:
    _z(level)
    _check_method(method)


def _check_csat_options(level: float, satisfied_from: int) -> None:
    _z(level)
    _check_satisfied_from(satisfied_from)


def _check_satisfied_from(satisfied_from: int) -> None:
    if isinstance(satisfied_from, bool) or satisfied_from not in range(RATING_MIN, RATING_MAX + 1):
        raise UsageError(f"satisfied_from must be a rating from 1 to 5, got {satisfied_from!r}")


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise UsageError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return NormalDist().inv_cdf(0.5 + level / 2)

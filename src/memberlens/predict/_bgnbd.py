"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005).

P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the
Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275–284;
equation numbers below refer to that paper and to Fader, Hardie & Lee (2007), "Computing
P(alive) Using the BG/NBD Model" (note at brucehardie.com).

While alive a member buys as a Poisson process with rate λ ~ Gamma(r, α); after
each purchase they drop out with probability p ~ Beta(a, b). A member is summarised
by ``x`` repeat purchases (frequency), the time of the last one ``t_x`` (recency)
and their age ``T``, all measured from the first purchase.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln, hyp2f1

from memberlens.core.errors import InputError
from memberlens.predict._base import (
    FloatArray,
    as_column,
    check_fitted,
    check_rfm,
    collapse,
    intervals,
    maximise,
    not_converged,
)

NAMES = ("r", "alpha", "a", "b")


def bgnbd_loglik(
    theta: FloatArray, data: tuple[FloatArray, ...], weights: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted log-likelihood and its gradient over log-parameters (FHL 2005, eq. 6).

    ``L = A1·A2·(A3 + δ(x>0)·A4)`` with ``A1 = Γ(r+x)α^r/Γ(r)``,
    ``A2 = B(a, b+x)/B(a, b)``, ``A3 = (α+T)^-(r+x)`` and
    ``A4 = a/(b+x-1)·(α+t_x)^-(r+x)``; the last factor is taken through log-sum-exp.
    """
    r, alpha, a, b = np.exp(theta)
    x, t_x, t_age = data
    # Functions of x alone are computed once per distinct x (a few dozen values, not
    # one per member) and spread back: the same numbers, a fraction of the work.
    xs, at = np.unique(x, return_inverse=True)
    repeat = x > 0
    log_age, log_last = np.log(alpha + t_age), np.log(alpha + t_x)
    log_a3 = -(r + x) * log_age
    # b + x - 1 > 0 whenever x > 0; the guard keeps x = 0 rows out of the logarithm.
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    log_a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * log_last, -np.inf)
    last = np.logaddexp(log_a3, log_a4)
    per_x = (gammaln(r + xs) + betaln(a, b + xs))[at]
    ll = per_x - gammaln(r) + r * np.log(alpha) - betaln(a, b) + last
    w3, w4 = np.exp(log_a3 - last), np.exp(log_a4 - last)
    dg_r, dg_abx, dg_bx = (digamma(v)[at] for v in (r + xs, a + b + xs, b + xs))
    d_r = dg_r - digamma(r) + np.log(alpha) - w3 * log_age - w4 * log_last
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + t_age) + w4 / (alpha + t_x))
    d_a = digamma(a + b) - dg_abx + w4 / a
    d_b = dg_bx - dg_abx - digamma(b) + digamma(a + b) - w4 / b_x1
    grads = np.array([d_r @ weights, d_alpha @ weights, d_a @ weights, d_b @ weights])
    return float(ll @ weights), grads * np.array([r, alpha, a, b])


class BetaGeoModel:
    """BG/NBD: repeat purchases and P(alive) per member, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the natural parameters (``penalizer·Σ p²`` added to the mean
        negative log-likelihood); 0 is plain maximum likelihood.

    Examples
    --------
    >>> m = BetaGeoModel().fit([0, 2, 1, 4, 0, 3], [0, 20, 5, 30, 0, 35], [40, 38, 39, 36, 30, 39])
    >>> sorted(m.params_)
    ['a', 'alpha', 'b', 'r']
    >>> bool(0 < m.p_alive(2, 20, 38)[0] <= 1)
    True
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer
        self.params_: dict[str, float] | None = None
        self.loglik_: float | None = None
        self.fit_seconds_: float | None = None
        self.standard_errors_: dict[str, float] | None = None
        self.confidence_intervals_: dict[str, tuple[float, float]] | None = None
        self.n_members_: int | None = None
        self.converged_: bool | None = None

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeoModel:
        """Estimate ``r, α, a, b`` from per-member (x, t_x, T); return ``self``."""
        x = as_column(frequency, "frequency")
        t_x = as_column(recency, "recency")
        t_age = as_column(T, "T")
        check_rfm(x, t_x, t_age)
        if len(x) < 4:
            raise _too_few(len(x))
        data, weights = collapse(x, t_x, t_age)
        # Start where the purchase rate r/α matches the observed repeat rate.
        rate = max(float(x.mean()) / max(float(t_age.mean()), 1e-9), 1e-3)
        start = np.array([1.0, 1.0 / rate, 1.0, 1.0])
        report = maximise(bgnbd_loglik, start, data, weights, penalizer=self.penalizer)
        if not report["converged"] and not np.isfinite(report["loglik"]):
            raise not_converged("BG/NBD", report)
        self._store(report, len(x))
        return self

    def _store(self, report: dict[str, Any], n: int) -> None:
        params = report["params"]
        self.params_ = dict(zip(NAMES, map(float, params), strict=True))
        self.loglik_ = report["loglik"]
        self.fit_seconds_ = report["seconds"]
        self.standard_errors_, self.confidence_intervals_ = intervals(
            NAMES, params, report["cov_log"]
        )
        self.n_members_ = n
        self.converged_ = report["converged"]

    def _params(self) -> tuple[float, float, float, float]:
        check_fitted(self)
        assert self.params_ is not None
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(alive | x, t_x, T) (FHL 2005, eq. 11)."""
        r, alpha, a, b = self._params()
        x, t_x, t_age = _inputs(frequency, recency, T)
        return 1.0 / (1.0 + _dropout_odds(r, alpha, a, b, x, t_x, t_age))

    def expected_purchases(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` units (FHL 2005, eq. 10).

        ``(a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ·
        ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))] / (1 + δ(x>0)·a/(b+x-1)·((α+T)/(α+t_x))^(r+x))``
        """
        r, alpha, a, b = self._params()
        x, t_x, t_age = _inputs(frequency, recency, T)
        return _conditional(r, alpha, a, b, x, t_x, t_age, float(t))

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] for a member just acquired (FHL 2005, eq. 9)."""
        r, alpha, a, b = self._params()
        span = np.asarray(t, dtype=np.float64)
        z = span / (alpha + span)
        head = (a + b - 1) / (a - 1)
        result: FloatArray = head * (1 - (alpha / (alpha + span)) ** r * hyp2f1(r, b, a + b - 1, z))
        return result

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain JSON-ready data (see :meth:`from_dict`)."""
        check_fitted(self)
        return {
            "model": "BetaGeoModel",
            "penalizer": self.penalizer,
            "params": self.params_,
            "loglik": self.loglik_,
            "standard_errors": self.standard_errors_,
            "confidence_intervals": {
                k: list(v) for k, v in (self.confidence_intervals_ or {}).items()
            },
            "n_members": self.n_members_,
            "converged": self.converged_,
            "fit_seconds": self.fit_seconds_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BetaGeoModel:
        model = cls(penalizer=float(data.get("penalizer", 0.0)))
        model.params_ = {k: float(data["params"][k]) for k in NAMES}
        model.loglik_ = data.get("loglik")
        model.standard_errors_ = data.get("standard_errors")
        cis = data.get("confidence_intervals") or {}
        model.confidence_intervals_ = {k: (float(v[0]), float(v[1])) for k, v in cis.items()}
        model.n_members_ = data.get("n_members")
        model.converged_ = data.get("converged")
        model.fit_seconds_ = data.get("fit_seconds")
        return model


def _inputs(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x, t_x, t_age = (
        as_column(frequency, "frequency"),
        as_column(recency, "recency"),
        as_column(T, "T"),
    )
    check_rfm(x, t_x, t_age)
    return x, t_x, t_age


def _dropout_odds(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, t_age: FloatArray
) -> FloatArray:
    """δ(x>0)·a/(b+x-1)·((α+T)/(α+t_x))^(r+x), in logs so long histories cannot overflow."""
    repeat = x > 0
    log_odds = (
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + t_age) - np.log(alpha + t_x))
    )
    odds: FloatArray = np.where(repeat, np.exp(np.minimum(log_odds, 700.0)), 0.0)
    return odds


def _conditional(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: FloatArray,
    t_x: FloatArray,
    t_age: FloatArray,
    t: float,
) -> FloatArray:
    head = (a + b + x - 1) / (a - 1)
    z = t / (alpha + t_age + t)
    ratio = ((alpha + t_age) / (alpha + t_age + t)) ** (r + x)
    body = head * (1 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z))
    result: FloatArray = body / (1 + _dropout_odds(r, alpha, a, b, x, t_x, t_age))
    return result


def _too_few(n: int) -> InputError:
    return InputError(
        f"BG/NBD needs purchase histories of several members to estimate 4 parameters; "
        f"got {n}. Load more orders or choose an earlier calibration end."
    )

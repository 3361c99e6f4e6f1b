"""The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013).

P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
(note at brucehardie.com), building on Colombo & Jiang (1999). A member's order
values are Gamma(p, ν) around their own mean p/ν, and ν ~ Gamma(q, γ) across members.
Only members with at least one repeat transaction enter the fit, each summarised by
``x`` repeat transactions and their mean value ``m_x``. The model assumes spend is
independent of the purchase process (check: the correlation of x and m_x is small).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from memberlens.core.errors import InputError
from memberlens.predict._base import (
    FloatArray,
    as_column,
    check_fitted,
    collapse,
    intervals,
    maximise,
    not_converged,
)

NAMES = ("p", "q", "gamma")


def gamma_gamma_loglik(
    theta: FloatArray, data: tuple[FloatArray, ...], weights: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted log-likelihood and gradient over log-parameters (Fader & Hardie 2013, eq. 3).

    ``f(m_x | x) = Γ(px+q)/(Γ(px)Γ(q)) · γ^q (m_x x)^(px-1) x / (γ + m_x x)^(px+q)``
    """
    p, q, gamma = np.exp(theta)
    x, m = data
    spent = m * x
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(spent)
        + np.log(x)
        - (p * x + q) * np.log(gamma + spent)
    )
    common = digamma(p * x + q)
    d_p = x * (common - digamma(p * x) + np.log(spent) - np.log(gamma + spent))
    d_q = common - digamma(q) + np.log(gamma) - np.log(gamma + spent)
    d_gamma = q / gamma - (p * x + q) / (gamma + spent)
    grads = np.array([d_p @ weights, d_q @ weights, d_gamma @ weights])
    return float(ll @ weights), grads * np.array([p, q, gamma])


class GammaGammaModel:
    """Gamma-Gamma: expected value of a member's future orders, by maximum likelihood.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the natural parameters (``penalizer·Σ p²`` added to the mean
        negative log-likelihood); 0 is plain maximum likelihood.

    Examples
    --------
    >>> m = GammaGammaModel().fit([1, 2, 3, 1, 5, 2], [20.0, 35.5, 18.0, 60.0, 25.0, 30.0])
    >>> sorted(m.params_)
    ['gamma', 'p', 'q']
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

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaModel:
        """Estimate ``p, q, γ`` from members with ``frequency > 0``; return ``self``.

        Members without a repeat transaction carry no information on spend variation
        and are left out, as in the paper; their monetary value is ignored.
        """
        x = as_column(frequency, "frequency")
        m = as_column(monetary_value, "monetary_value")
        if len(x) != len(m):
            raise InputError(f"frequency and monetary_value differ in length ({len(x)}, {len(m)})")
        keep = x > 0
        if (m[keep] <= 0).any():
            raise InputError(
                "some members with repeat purchases have a mean order value of 0; "
                "Gamma-Gamma needs positive values (drop free orders or those members)"
            )
        x, m = x[keep], m[keep]
        if len(x) < 3:
            raise InputError(
                f"Gamma-Gamma needs several members with repeat purchases and order "
                f"values; got {len(x)}. Load orders with total_amount."
            )
        data, weights = collapse(x, m)
        # Start from a population mean p·γ/(q-1) equal to the observed mean spend.
        start = np.array([1.0, 2.0, float(m.mean())])
        report = maximise(gamma_gamma_loglik, start, data, weights, penalizer=self.penalizer)
        if not np.isfinite(report["loglik"]):
            raise not_converged("Gamma-Gamma", report)
        params = report["params"]
        self.params_ = dict(zip(NAMES, map(float, params), strict=True))
        self.loglik_ = report["loglik"]
        self.fit_seconds_ = report["seconds"]
        self.standard_errors_, self.confidence_intervals_ = intervals(
            NAMES, params, report["cov_log"]
        )
        self.n_members_ = len(x)
        self.converged_ = report["converged"]
        return self

    def expected_order_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[M | p, q, γ, m_x, x] (Fader & Hardie 2013, eq. 5).

        ``(γ + m_x·x)·p / (p·x + q - 1)``: a weighted mean of the population mean
        ``p·γ/(q-1)`` and the member's own ``m_x``; for ``x = 0`` the population mean.
        """
        check_fitted(self)
        assert self.params_ is not None
        p, q, gamma = (self.params_[k] for k in NAMES)
        x = as_column(frequency, "frequency")
        m = np.where(x > 0, as_column(monetary_value, "monetary_value"), 0.0)
        result: FloatArray = (gamma + m * x) * p / (p * x + q - 1)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain JSON-ready data (see :meth:`from_dict`)."""
        check_fitted(self)
        return {
            "model": "GammaGammaModel",
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
    def from_dict(cls, data: dict[str, Any]) -> GammaGammaModel:
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
